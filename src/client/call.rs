//! One Graph API call: local checks, the HTTP exchange, classification and retries.

use std::error::Error as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, Method, StatusCode};

use crate::payload::AccountId;
use crate::secret::AccessToken;

use super::config::Clock;
use super::error::{
    DecodeFailure, GraphError, GraphErrorBody, GraphErrorKind, GraphFailure, MessageError,
    OutcomeUnknown, StatusFailure, TransportFailure, TransportStage, UnknownReason,
};
use super::retry::RetryPolicy;
use super::state::Accounts;
use super::usage::Usage;

/// The body of a request.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    Empty,
    Json(Bytes),
    Form(Bytes),
    /// `multipart/form-data`, rebuilt for every attempt (a reqwest form is consumed by a send).
    Multipart(Arc<Multipart>),
}

/// The parts of a `multipart/form-data` body: text fields, then one file.
#[derive(Clone)]
pub(crate) struct Multipart {
    pub(crate) fields: Vec<(&'static str, String)>,
    pub(crate) file_field: &'static str,
    pub(crate) file_name: String,
    pub(crate) mime_type: String,
    pub(crate) bytes: Bytes,
}

impl std::fmt::Debug for Multipart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Multipart")
            .field("fields", &self.fields)
            .field("file_name", &self.file_name)
            .field("mime_type", &self.mime_type)
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

impl Multipart {
    fn to_form(&self) -> Result<reqwest::multipart::Form, reqwest::Error> {
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in &self.fields {
            form = form.text(*name, value.clone());
        }
        let length = u64::try_from(self.bytes.len()).unwrap_or(u64::MAX);
        let file = reqwest::multipart::Part::stream_with_length(self.bytes.clone(), length)
            .file_name(self.file_name.clone())
            .mime_str(&self.mime_type)?;
        Ok(form.part(self.file_field, file))
    }
}

/// A prepared request, relative to the API root (`https://host/vNN.N`).
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: Method,
    /// Validated path segments joined by `/`, e.g. `17841400000000000/messages`.
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) body: Body,
    /// `true` for requests that act (sends, replies): their ambiguous failures are
    /// "outcome unknown" and never retried.
    pub(crate) write: bool,
}

/// How a call authenticates, and which account's state it reads and updates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Auth<'a> {
    /// The account whose pause, rejected token and usage the call checks and records;
    /// `None` for calls made for no account (e.g. with an app token).
    pub(crate) account: Option<&'a AccountId>,
    /// Sent as `Authorization: Bearer`.
    pub(crate) bearer: Option<&'a AccessToken>,
    /// A token Meta takes only in the query string, as `name=token` (`debug_token`'s
    /// `input_token`, Instagram's `refresh_access_token`). The URL of such a request is never
    /// logged and never put in an error.
    pub(crate) query_token: Option<(&'static str, &'a AccessToken)>,
}

impl<'a> Auth<'a> {
    /// An account's own call: its token as the bearer, its state checked and recorded.
    pub(crate) fn account(account: &'a AccountId, token: &'a AccessToken) -> Self {
        Self {
            account: Some(account),
            bearer: Some(token),
            query_token: None,
        }
    }

    /// The tokens of the call, to scrub from anything that could reach an error.
    fn secrets(&self) -> impl Iterator<Item = &'a str> {
        self.bearer
            .into_iter()
            .chain(self.query_token.map(|(_, token)| token))
            .map(AccessToken::expose)
    }

    /// The token whose rejection (code 190/102) marks the account.
    fn account_token(&self) -> Option<(&'a AccountId, &'a AccessToken)> {
        let token = self.bearer.or(self.query_token.map(|(_, token)| token))?;
        Some((self.account?, token))
    }
}

#[derive(Debug)]
pub(crate) struct Inner {
    http: reqwest::Client,
    pub(crate) api_root: String,
    retry: RetryPolicy,
    throttle_pause: Duration,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) accounts: Accounts,
    pub(crate) outcome_unknown: AtomicU64,
    pub(crate) retries: AtomicU64,
}

impl Inner {
    pub(crate) fn new(
        http: reqwest::Client,
        api_root: String,
        retry: RetryPolicy,
        throttle_pause: Duration,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            http,
            api_root,
            retry,
            throttle_pause,
            clock,
            accounts: Accounts::default(),
            outcome_unknown: AtomicU64::new(0),
            retries: AtomicU64::new(0),
        }
    }

    /// Runs `request` for `account`: fails fast on a local pause or rejected token, then
    /// attempts it, retrying only what [`GraphError::is_retryable`] allows, within the policy.
    pub(crate) async fn call(
        &self,
        account: &AccountId,
        token: &AccessToken,
        request: &Request,
    ) -> Result<(StatusCode, Bytes), GraphError> {
        self.call_with(&self.api_root, Auth::account(account, token), request)
            .await
    }

    /// [`call`](Self::call) against another root (e.g. the other Graph host) with any
    /// [`Auth`]: the account checks and records apply only when `auth` names an account.
    pub(crate) async fn call_with(
        &self,
        root: &str,
        auth: Auth<'_>,
        request: &Request,
    ) -> Result<(StatusCode, Bytes), GraphError> {
        if let Some((account, token)) = auth.account_token() {
            self.accounts.check(account, token, self.clock.now())?;
        }
        let started = Instant::now();
        let mut attempt: u32 = 1;
        loop {
            let error = match self.attempt(root, auth, request).await {
                Ok(answer) => return Ok(answer),
                Err(error) => error,
            };
            if !error.is_retryable() || attempt >= self.retry.max_attempts() {
                return Err(error);
            }
            // Wait at least what Meta asked for, and at least until a pause its usage
            // headers just set on the account has passed.
            let paused = auth
                .account
                .and_then(|account| self.accounts.pause_remaining(account, self.clock.now()));
            let hint = match (error.retry_after(), paused) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            let delay = self.retry.delay(attempt, hint);
            if started.elapsed().saturating_add(delay) > self.retry.budget() {
                return Err(error);
            }
            self.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn attempt(
        &self,
        root: &str,
        auth: Auth<'_>,
        request: &Request,
    ) -> Result<(StatusCode, Bytes), GraphError> {
        let mut url = format!("{root}/{}", request.path);
        let mut separator = '?';
        if let Some(query) = &request.query {
            url.push(separator);
            url.push_str(query);
            separator = '&';
        }
        if let Some((name, token)) = auth.query_token {
            // The only tokens ever put in a URL: this URL is never logged, and errors are
            // built without it (`describe` drops reqwest's URL).
            url.push(separator);
            url.push_str(
                &form_urlencoded::Serializer::new(String::new())
                    .append_pair(name, token.expose())
                    .finish(),
            );
        }
        let builder = self
            .http
            .request(request.method.clone(), url)
            .header(ACCEPT, "application/json");
        // `bearer_auth` marks the header sensitive; a bearer token never enters the URL.
        let builder = match auth.bearer {
            Some(token) => builder.bearer_auth(token.expose()),
            None => builder,
        };
        let builder = match &request.body {
            Body::Empty => builder,
            Body::Json(json) => builder
                .header(CONTENT_TYPE, "application/json")
                .body(json.clone()),
            Body::Form(form) => builder
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form.clone()),
            Body::Multipart(parts) => match parts.to_form() {
                Ok(form) => builder.multipart(form),
                // The MIME type is checked when the upload is built; this is a backstop.
                Err(_) => {
                    return Err(GraphError::Invalid(MessageError::InvalidValue("MIME type")));
                }
            },
        };
        let response = match builder.send().await {
            Ok(response) => response,
            Err(error) => return Err(self.transport_error(error, request.write, auth)),
        };

        let status = response.status();
        let now = self.clock.now();
        let retry_after = retry_after_header(response.headers());
        let usage = Usage::from_headers(response.headers());
        let regain = usage.as_ref().and_then(Usage::regain_access_after);
        if let (Some(usage), Some(account)) = (usage, auth.account) {
            self.accounts
                .record_usage(account, usage, now, self.throttle_pause);
        }

        let body = match response.bytes().await {
            Ok(body) => body,
            Err(error) if status.is_success() => {
                let reason = describe_scrubbed(error, auth);
                return Err(if request.write {
                    // Meta answered 2xx: it acted. Never resend.
                    GraphError::Decode(DecodeFailure {
                        status,
                        reason: format!("the body could not be read: {reason}"),
                    })
                } else {
                    GraphError::Transport(TransportFailure {
                        stage: TransportStage::Read,
                        reason,
                    })
                });
            }
            // An error status whose body broke off: classify by the status alone.
            Err(_) => Bytes::new(),
        };

        if status.is_success() {
            if let Some(account) = auth.account {
                self.accounts.token_accepted(account);
            }
            return Ok((status, body));
        }

        let hint = retry_after.or(regain);
        if let Some(mut error) = GraphErrorBody::from_body(&body) {
            for secret in auth.secrets() {
                error.redact(secret);
            }
            let hint = hint.or_else(|| error.default_retry_after());
            if error.kind() == GraphErrorKind::Auth
                && let Some((account, token)) = auth.account_token()
            {
                self.accounts.reject_token(account, token);
            }
            if error.kind() == GraphErrorKind::RateLimited
                && error.limits_whole_account()
                && let (Some(hint), Some(account)) = (hint, auth.account)
            {
                self.accounts.pause(account, now, hint);
            }
            return Err(GraphError::Graph(Box::new(GraphFailure {
                status,
                error,
                retry_after: hint,
            })));
        }

        if status == StatusCode::TOO_MANY_REQUESTS {
            if let (Some(hint), Some(account)) = (hint, auth.account) {
                self.accounts.pause(account, now, hint);
            }
            return Err(GraphError::Status(StatusFailure {
                status,
                kind: GraphErrorKind::RateLimited,
                retry_after: hint,
            }));
        }
        if status.is_server_error() {
            if request.write {
                // No envelope: a gateway or proxy may have answered after Meta acted.
                self.outcome_unknown.fetch_add(1, Ordering::Relaxed);
                return Err(GraphError::OutcomeUnknown(OutcomeUnknown {
                    reason: UnknownReason::ServerError(status),
                }));
            }
            return Err(GraphError::Status(StatusFailure {
                status,
                kind: GraphErrorKind::Transient,
                retry_after: hint,
            }));
        }
        Err(GraphError::Status(StatusFailure {
            status,
            kind: GraphErrorKind::Other,
            retry_after: None,
        }))
    }

    fn transport_error(&self, error: reqwest::Error, write: bool, auth: Auth<'_>) -> GraphError {
        let connect = error.is_connect();
        let timeout = error.is_timeout();
        let reason = describe_scrubbed(error, auth);
        if connect {
            return GraphError::Transport(TransportFailure {
                stage: TransportStage::Connect,
                reason,
            });
        }
        if !write {
            return GraphError::Transport(TransportFailure {
                stage: TransportStage::Read,
                reason,
            });
        }
        self.outcome_unknown.fetch_add(1, Ordering::Relaxed);
        GraphError::OutcomeUnknown(OutcomeUnknown {
            reason: if timeout {
                UnknownReason::Timeout
            } else {
                UnknownReason::ConnectionLost(reason)
            },
        })
    }
}

/// reqwest's description of `error` and its sources, without the URL and without `secret`.
pub(crate) fn describe(error: reqwest::Error, secret: Option<&str>) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    if let Some(secret) = secret.filter(|s| !s.is_empty())
        && text.contains(secret)
    {
        text = text.replace(secret, "[redacted]");
    }
    text
}

/// [`describe`] without any of the call's tokens.
fn describe_scrubbed(error: reqwest::Error, auth: Auth<'_>) -> String {
    let mut text = describe(error, None);
    for secret in auth.secrets() {
        if !secret.is_empty() && text.contains(secret) {
            text = text.replace(secret, "[redacted]");
        }
    }
    text
}

/// `Retry-After` in its delta-seconds form (an HTTP date is ignored).
fn retry_after_header(headers: &HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}
