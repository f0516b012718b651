//! Starting the bot: the sink the webhook endpoint hands deliveries to, the workers that
//! call [`Bot::handle`], and their shutdown.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use meta_webhooks::event::Event;
use meta_webhooks::redis::{StreamSink, StreamWorkers, Streams};
use meta_webhooks::sink::{Batch, Handler, MemorySink, Retry, Sink, SinkError};

use super::{Bot, BotError, BotErrorKind};
use crate::config::Accounts;
use crate::state::Backend;
use crate::tokens::{LiveTokens, TokenKeeper, TokenStore};

impl Bot {
    /// Starts what this process' role (`BOT_ROLE`) and backend ask for and returns the
    /// [`Running`] handle, whose [`sink`](Running::sink) the webhook endpoint hands
    /// verified deliveries to. Call from within a Tokio runtime.
    ///
    /// - Without Redis: an in-memory queue ([`MemorySink`]) with workers calling
    ///   [`Bot::handle`] (dedup in memory). Not durable: a crash loses what was queued.
    /// - With Redis: receivers ([`Role::Receiver`], [`Role::All`]) queue in Redis Streams
    ///   ([`StreamSink`]); workers ([`Role::Worker`], [`Role::All`]) run [`StreamWorkers`]
    ///   calling [`Bot::handle_accepted`]. The hand-off's counters show in `/metrics`.
    ///
    /// # Errors
    ///
    /// [`BotError`] outside a Tokio runtime or when Redis cannot be reached.
    ///
    /// [`Role::Receiver`]: crate::config::Role::Receiver
    /// [`Role::Worker`]: crate::config::Role::Worker
    /// [`Role::All`]: crate::config::Role::All
    pub async fn start(&self) -> Result<Running, BotError> {
        let inner = &self.inner;
        let (sink, workers, streams) = match &inner.backend {
            Backend::Memory => {
                let queue = MemorySink::builder()
                    .dedup(inner.dedup.clone())
                    .start(BotHandler { bot: self.clone() })
                    .map_err(|e| BotError::new(BotErrorKind::Config, e.to_string()))?;
                (SinkKind::Memory(queue), None, None)
            }
            Backend::Redis(url) => {
                let stream_error = |e: meta_webhooks::redis::StreamError| {
                    BotError::new(BotErrorKind::Store, e.to_string())
                };
                let streams = Streams::builder(url.expose())
                    .config(inner.stream.clone())
                    .connect()
                    .await
                    .map_err(stream_error)?;
                inner.metrics.observe_stream(streams.clone());
                let sink = if inner.role.receives() {
                    SinkKind::Stream(streams.sink())
                } else {
                    SinkKind::Off
                };
                let workers = if inner.role.works() {
                    Some(
                        streams
                            .start_workers(BotHandler { bot: self.clone() })
                            .await
                            .map_err(stream_error)?,
                    )
                } else {
                    None
                };
                (sink, workers, Some(streams))
            }
        };
        // The process that sends replies keeps the tokens alive; the refreshed tokens it
        // finds in Redis are in use before the first reply.
        let keeper = if inner.role.works() {
            self.token_keeper(meta_webhooks::client::SystemClock)
                .await?
        } else {
            None
        };
        let tokens = match keeper {
            Some(keeper) => {
                keeper.restore().await;
                Some(tokio::spawn(keeper.run()))
            }
            None => None,
        };
        Ok(Running {
            sink: BotSink {
                inner: Arc::new(sink),
                bot: self.clone(),
            },
            workers,
            streams,
            shutdown_timeout: inner.shutdown_timeout,
            tokens,
        })
    }

    /// The [`TokenKeeper`] of this bot's accounts and WhatsApp number, reading `clock`:
    /// `None` when both channels run dry.
    /// [`Bot::start`] runs one with the system clock; tests drive one by hand.
    ///
    /// # Errors
    ///
    /// [`BotError`] ([`BotErrorKind::Store`]) when Redis (`REDIS_URL`) cannot be reached.
    pub async fn token_keeper(
        &self,
        clock: impl meta_webhooks::client::Clock,
    ) -> Result<Option<TokenKeeper>, BotError> {
        let inner = &self.inner;
        let whatsapp = inner.replier.live_whatsapp();
        let (client, accounts, tokens) = match (inner.replier.live_accounts(), whatsapp) {
            (Some((client, accounts, tokens)), _) => {
                (client.clone(), accounts.clone(), tokens.clone())
            }
            // WhatsApp only: no account; `debug_token` goes to graph.facebook.com (or the
            // mock) from either client.
            (None, Some((client, _))) => {
                (client.clone(), Accounts::default(), LiveTokens::default())
            }
            (None, None) => return Ok(None),
        };
        let store = match &inner.backend {
            Backend::Memory => None,
            Backend::Redis(url) => Some(
                TokenStore::connect(url)
                    .await
                    .map_err(|e| BotError::new(BotErrorKind::Store, e.to_string()))?,
            ),
        };
        let keeper = TokenKeeper::new(
            client,
            tokens,
            accounts,
            inner.token_app.clone(),
            store,
            &inner.metrics,
            clock,
        );
        Ok(Some(match whatsapp {
            Some((_, number)) => keeper.with_whatsapp(number.clone(), inner.wa_token_app.clone()),
            None => keeper,
        }))
    }
}

/// The [`Handler`] the worker queue calls: [`Bot::handle`].
#[derive(Debug, Clone)]
pub struct BotHandler {
    bot: Bot,
}

impl Handler for BotHandler {
    type Error = BotError;

    async fn handle(&self, event: Event) -> Result<(), BotError> {
        self.bot.handle(&event).await
    }

    async fn handle_accepted(&self, event: Event, accepted_at: SystemTime) -> Result<(), BotError> {
        self.bot.handle_accepted(&event, accepted_at).await
    }

    /// The state store being down is not the event's fault: retried without limit. A
    /// retryable Send API failure (rate limit, transient, before the request left) spends
    /// the retry budget; anything else, an unknown outcome above all, is never retried.
    fn retry(&self, error: &BotError) -> Retry {
        if error.is_store() {
            Retry::Unbounded
        } else if error.is_retryable() {
            Retry::Budgeted
        } else {
            Retry::Never
        }
    }
}

/// What [`Bot::start`] started; shut it down with [`Running::shutdown`].
#[derive(Debug)]
pub struct Running {
    sink: BotSink,
    workers: Option<StreamWorkers>,
    streams: Option<Streams>,
    shutdown_timeout: Duration,
    /// The [`TokenKeeper`] task, stopped at shutdown.
    tokens: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// The [`Sink`] for the webhook endpoint.
    pub fn sink(&self) -> BotSink {
        self.sink.clone()
    }

    /// The stream workers, when this process runs them.
    pub fn workers(&self) -> Option<&StreamWorkers> {
        self.workers.as_ref()
    }

    /// The Redis hand-off (settings, counters, health), with `REDIS_URL`.
    pub fn streams(&self) -> Option<&Streams> {
        self.streams.as_ref()
    }

    /// Graceful shutdown, after the HTTP server stopped accepting: the in-memory queue
    /// handles everything it accepted; stream workers finish the entries they are handling
    /// and give their shards back. Bounded by `SHUTDOWN_TIMEOUT_SECS`; returns `false` when
    /// that ran out (unfinished stream entries are then reclaimed by another worker; the
    /// in-memory queue's are lost).
    pub async fn shutdown(self) -> bool {
        if let Some(tokens) = &self.tokens {
            tokens.abort();
        }
        let timeout = self.shutdown_timeout;
        let started = Instant::now();
        let mut clean = true;
        if let SinkKind::Memory(queue) = self.sink.inner.as_ref() {
            clean &= tokio::time::timeout(timeout, queue.shutdown())
                .await
                .is_ok();
        }
        if let Some(workers) = self.workers {
            clean &= workers
                .shutdown(timeout.saturating_sub(started.elapsed()))
                .await;
        }
        clean
    }
}

#[derive(Debug)]
enum SinkKind {
    Memory(MemorySink),
    Stream(StreamSink),
    Off,
}

/// The [`Sink`] the webhook endpoint hands verified deliveries to: counts them and passes
/// them on to the in-memory queue or the Redis stream ([`Bot::start`]). In a
/// `BOT_ROLE=worker` process it refuses every delivery (503): workers are not meant to get
/// webhook traffic. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BotSink {
    inner: Arc<SinkKind>,
    bot: Bot,
}

impl BotSink {
    /// The in-memory queue, when there is one.
    pub fn queue(&self) -> Option<&MemorySink> {
        match self.inner.as_ref() {
            SinkKind::Memory(queue) => Some(queue),
            _ => None,
        }
    }
}

impl Sink for BotSink {
    async fn accept(&self, batch: Batch) -> Result<(), SinkError> {
        self.bot.inner.metrics.record_delivery();
        match self.inner.as_ref() {
            SinkKind::Memory(queue) => queue.accept(batch).await,
            SinkKind::Stream(stream) => stream.accept(batch).await,
            SinkKind::Off => {
                tracing::warn!("delivery sent to a BOT_ROLE=worker process: refused (503)");
                Err(SinkError::failed("this process does not receive webhooks"))
            }
        }
    }
}
