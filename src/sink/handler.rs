//! [`Handler`]: what a sink's workers call for each event, and [`handler_fn`].

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::event::{Event, EventError};

/// Handles the events a sink accepted (e.g. [`MemorySink`](crate::sink::MemorySink)), one
/// at a time per conversation.
///
/// Implement it for your bot, or wrap an async closure with [`handler_fn`]:
///
/// ```
/// use meta_webhooks::event::{Event, EventError};
/// use meta_webhooks::sink::Handler;
///
/// struct Bot { /* Send API client, rules … */ }
///
/// impl Handler for Bot {
///     type Error = String;
///
///     async fn handle(&self, event: Event) -> Result<(), String> {
///         if let Some(text) = event.text() {
///             // reply through the Send API …
///             let _ = text;
///         }
///         Ok(())
///     }
///
///     async fn handle_invalid(&self, error: EventError) {
///         // Store the raw item for a human to look at.
///         let _ = error.raw();
///     }
/// }
/// ```
///
/// A returned error (or a panic) counts as a failed handling: the event's dedup claim is
/// released so a redelivery is handled, and the error is logged at `warn`. The handler
/// decides about retrying within `handle`; the sink does not call it twice for one
/// accepted event.
pub trait Handler: Send + Sync + 'static {
    /// The handler's error, logged with its `Display`.
    type Error: fmt::Display + Send + 'static;

    /// Handles one event.
    ///
    /// # Errors
    ///
    /// `Self::Error` when handling failed.
    fn handle(&self, event: Event) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Sees an item of the delivery that could not be classified (it keeps the raw item).
    ///
    /// The sink logs each one at `warn` before calling this; the default does nothing
    /// more.
    fn handle_invalid(&self, _error: EventError) -> impl Future<Output = ()> + Send {
        std::future::ready(())
    }
}

impl<H: Handler> Handler for Arc<H> {
    type Error = H::Error;

    fn handle(&self, event: Event) -> impl Future<Output = Result<(), Self::Error>> + Send {
        (**self).handle(event)
    }

    fn handle_invalid(&self, error: EventError) -> impl Future<Output = ()> + Send {
        (**self).handle_invalid(error)
    }
}

/// A [`Handler`] from an async closure; see [`handler_fn`].
#[derive(Clone, Copy)]
pub struct HandlerFn<F>(F);

impl<F> fmt::Debug for HandlerFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HandlerFn")
    }
}

/// Wraps `f(event) -> impl Future<Output = Result<(), E>>` as a [`Handler`].
///
/// ```
/// use meta_webhooks::sink::handler_fn;
///
/// let handler = handler_fn(|event: meta_webhooks::event::Event| async move {
///     println!("{}", event.kind().as_str());
///     Ok::<(), std::convert::Infallible>(())
/// });
/// # let _ = handler;
/// ```
pub fn handler_fn<F, Fut, E>(f: F) -> HandlerFn<F>
where
    F: Fn(Event) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send,
    E: fmt::Display + Send + 'static,
{
    HandlerFn(f)
}

impl<F, Fut, E> Handler for HandlerFn<F>
where
    F: Fn(Event) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send,
    E: fmt::Display + Send + 'static,
{
    type Error = E;

    fn handle(&self, event: Event) -> impl Future<Output = Result<(), E>> + Send {
        (self.0)(event)
    }
}
