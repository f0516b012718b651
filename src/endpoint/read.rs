//! Reading a request body within the body limit and the body deadline.

use std::fmt;
use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_core::Stream;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;

use crate::endpoint::rejection::{BodyError, Reason, Rejection};

/// `true` when a declared length is over `limit`.
pub(crate) fn over(limit: usize, len: u64) -> bool {
    usize::try_from(len).map_or(true, |len| len > limit)
}

/// Reads the whole body within `limit` bytes and, when set, `timeout`.
///
/// A body that is complete at once (the usual case: a small delivery already in the
/// server's buffer) is read without arming a timer.
pub(crate) async fn read<B>(
    body: B,
    limit: usize,
    timeout: Option<Duration>,
) -> Result<Bytes, Rejection>
where
    B: Body,
    B::Error: fmt::Display,
{
    if over(limit, body.size_hint().lower()) {
        return Err(Reason::TooLarge { limit }.into());
    }
    let mut reading = pin!(collect(body, limit));
    let Some(timeout) = timeout else {
        return reading.await;
    };
    let started = tokio::time::Instant::now();
    let first = std::future::poll_fn(|cx| Poll::Ready(reading.as_mut().poll(cx))).await;
    if let Poll::Ready(outcome) = first {
        return outcome;
    }
    // A deadline too far away to represent is no deadline.
    let Some(deadline) = started.checked_add(timeout) else {
        return reading.await;
    };
    tokio::time::timeout_at(deadline, reading)
        .await
        .unwrap_or_else(|_| Err(Reason::Timeout { timeout }.into()))
}

/// Reads the whole body, refusing it as soon as it exceeds `limit`. A body that arrives
/// in one chunk is kept as is; several chunks are copied once into one buffer.
async fn collect<B>(body: B, limit: usize) -> Result<Bytes, Rejection>
where
    B: Body,
    B::Error: fmt::Display,
{
    let capacity = body.size_hint().lower();
    let mut body = pin!(body);
    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    let mut len = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Reason::Body(BodyError::new(e.to_string())))?;
        // Trailers carry nothing a delivery needs.
        let Ok(mut data) = frame.into_data() else {
            continue;
        };
        let chunk_len = data.remaining();
        len = len.saturating_add(chunk_len);
        if len > limit {
            return Err(Reason::TooLarge { limit }.into());
        }
        if chunk_len == 0 {
            continue;
        }
        if let Some(joined) = joined.as_mut() {
            joined.put(data);
        } else if let Some(previous) = first.take() {
            let hint = usize::try_from(capacity).unwrap_or(limit).clamp(len, limit);
            let mut buffer = BytesMut::with_capacity(hint);
            buffer.put(previous);
            buffer.put(data);
            joined = Some(buffer);
        } else {
            first = Some(data.copy_to_bytes(chunk_len));
        }
        // With a known length (HTTP/1.1 `Content-Length`), stop once it has all arrived
        // instead of waiting for the end-of-stream signal: one wake-up less per request.
        if body.is_end_stream() {
            break;
        }
    }
    Ok(match joined {
        Some(joined) => joined.freeze(),
        None => first.unwrap_or_default(),
    })
}

pin_project_lite::pin_project! {
    /// A stream of chunks as a [`Body`], with the declared length as its size hint.
    pub(crate) struct StreamBody<S> {
        #[pin]
        stream: S,
        declared: Option<u64>,
    }
}

impl<S> StreamBody<S> {
    pub(crate) fn new(stream: S, declared: Option<u64>) -> Self {
        Self { stream, declared }
    }
}

impl<S, D, E> Body for StreamBody<S>
where
    S: Stream<Item = Result<D, E>>,
    D: Buf,
{
    type Data = D;
    type Error = E;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<D>, E>>> {
        self.project()
            .stream
            .poll_next(cx)
            .map(|item| item.map(|chunk| chunk.map(Frame::data)))
    }

    fn size_hint(&self) -> SizeHint {
        // Only a lower bound: the declared length is checked against the limit before
        // reading, and the bytes are counted while reading whatever was declared.
        let mut hint = SizeHint::new();
        hint.set_lower(self.declared.unwrap_or(0));
        hint
    }
}
