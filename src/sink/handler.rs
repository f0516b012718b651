//! [`Handler`]: what a sink's workers call for each event, [`Retry`], and [`handler_fn`].

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::SystemTime;

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
/// released so a redelivery is handled, and the error is logged at `warn`.
///
/// # Retries
///
/// [`MemorySink`](crate::sink::MemorySink) calls `handle` once per accepted event and does
/// not retry. A durable sink may try an event again: it asks [`retry`](Self::retry) how to
/// treat each error. The default, [`Retry::Never`], keeps the one-attempt behaviour;
/// override it to let a durable sink retry what may succeed later:
///
/// ```
/// use meta_webhooks::event::Event;
/// use meta_webhooks::sink::{Handler, Retry};
///
/// #[derive(Debug)]
/// enum BotError { StoreDown, RateLimited, Rejected }
/// # impl std::fmt::Display for BotError {
/// #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { write!(f, "{self:?}") }
/// # }
///
/// struct Bot;
///
/// impl Handler for Bot {
///     type Error = BotError;
///
///     async fn handle(&self, _event: Event) -> Result<(), BotError> {
///         Ok(())
///     }
///
///     fn retry(&self, error: &BotError) -> Retry {
///         match error {
///             // Our state store is down: not the event's fault, wait for it.
///             BotError::StoreDown => Retry::Unbounded,
///             // Meta said "later": try again, a bounded number of times.
///             BotError::RateLimited => Retry::Budgeted,
///             // Acting again would not help (or might act twice).
///             BotError::Rejected => Retry::Never,
///         }
///     }
/// }
/// ```
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

    /// Handles one event of a delivery the service accepted at `accepted_at` (e.g. to
    /// measure the time from acceptance to reply). Sinks that know the acceptance time
    /// call this; the default calls [`handle`](Self::handle).
    ///
    /// # Errors
    ///
    /// As [`handle`](Self::handle).
    fn handle_accepted(
        &self,
        event: Event,
        accepted_at: SystemTime,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        let _ = accepted_at;
        self.handle(event)
    }

    /// How a sink that retries should treat `error` (see [Retries](Self#retries)). The
    /// default is [`Retry::Never`].
    fn retry(&self, error: &Self::Error) -> Retry {
        let _ = error;
        Retry::Never
    }
}

/// Whether a failed handling may be tried again ([`Handler::retry`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Retry {
    /// Do not try again: the event is counted as failed and acknowledged. The default,
    /// and the only safe answer when the handler may already have acted (e.g. a Send API
    /// call whose outcome is unknown).
    #[default]
    Never,
    /// Try again later, in order, within the sink's retry budget (e.g. a rate limit or a
    /// documented transient error); once it is spent, the event is dead-lettered.
    Budgeted,
    /// Try again until it works, without spending the budget: a dependency (e.g. the
    /// state store) is down, which is not the event's fault. The event's conversation
    /// waits meanwhile.
    Unbounded,
}

impl<H: Handler> Handler for Arc<H> {
    type Error = H::Error;

    fn handle(&self, event: Event) -> impl Future<Output = Result<(), Self::Error>> + Send {
        (**self).handle(event)
    }

    fn handle_invalid(&self, error: EventError) -> impl Future<Output = ()> + Send {
        (**self).handle_invalid(error)
    }

    fn handle_accepted(
        &self,
        event: Event,
        accepted_at: SystemTime,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        (**self).handle_accepted(event, accepted_at)
    }

    fn retry(&self, error: &Self::Error) -> Retry {
        (**self).retry(error)
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
