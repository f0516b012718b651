//! Per-account state shared by all clones of a client: rate-limit pauses, rejected tokens
//! and the latest usage headers.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use crate::payload::AccountId;
use crate::secret::AccessToken;

use super::error::{AccountPaused, GraphError};
use super::usage::Usage;

/// A snapshot of what the client knows about one account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccountStatus {
    /// Sends fail fast with [`GraphError::AccountPaused`] until then (`None` when not paused).
    pub paused_until: Option<SystemTime>,
    /// Meta rejected the account's token (code 190/102): sends with that token fail fast
    /// with [`GraphError::TokenRejected`] until a different token is used.
    pub needs_new_token: bool,
    /// The usage headers of the latest response for the account.
    pub usage: Option<Usage>,
}

#[derive(Debug, Default)]
struct State {
    paused_until: Option<SystemTime>,
    /// Keyed hash of the rejected token (the token itself is not kept here).
    rejected_token: Option<u64>,
    usage: Option<Usage>,
}

#[derive(Debug, Default)]
pub(crate) struct Accounts {
    map: Mutex<HashMap<AccountId, State>>,
    hasher: RandomState,
}

impl Accounts {
    fn with<R>(&self, f: impl FnOnce(&mut HashMap<AccountId, State>) -> R) -> R {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut map)
    }

    fn fingerprint(&self, token: &AccessToken) -> u64 {
        self.hasher.hash_one(token.expose())
    }

    /// Fails fast when the account is paused or its token was rejected.
    pub(crate) fn check(
        &self,
        account: &AccountId,
        token: &AccessToken,
        now: SystemTime,
    ) -> Result<(), GraphError> {
        let fingerprint = self.fingerprint(token);
        self.with(|map| {
            let Some(state) = map.get_mut(account) else {
                return Ok(());
            };
            if state.rejected_token == Some(fingerprint) {
                return Err(GraphError::TokenRejected(account.clone()));
            }
            if let Some(until) = state.paused_until {
                match until.duration_since(now) {
                    Ok(remaining) if !remaining.is_zero() => {
                        return Err(GraphError::AccountPaused(AccountPaused {
                            account: account.clone(),
                            until,
                            remaining,
                        }));
                    }
                    _ => state.paused_until = None,
                }
            }
            Ok(())
        })
    }

    /// How long the account stays paused from `now`, if it is.
    pub(crate) fn pause_remaining(&self, account: &AccountId, now: SystemTime) -> Option<Duration> {
        self.with(|map| {
            let until = map.get(account)?.paused_until?;
            until.duration_since(now).ok().filter(|d| !d.is_zero())
        })
    }

    /// Records a response's usage headers; pauses the account when they say it is throttled.
    pub(crate) fn record_usage(
        &self,
        account: &AccountId,
        usage: Usage,
        now: SystemTime,
        default_pause: Duration,
    ) {
        let pause = usage
            .is_throttled()
            .then(|| usage.regain_access_after().unwrap_or(default_pause));
        self.with(|map| {
            let state = map.entry(account.clone()).or_default();
            state.usage = Some(usage);
            if let Some(pause) = pause {
                extend_pause(state, now, pause);
            }
        });
    }

    /// Pauses the account for `pause` from `now` (never shortens an existing pause).
    pub(crate) fn pause(&self, account: &AccountId, now: SystemTime, pause: Duration) {
        self.with(|map| extend_pause(map.entry(account.clone()).or_default(), now, pause));
    }

    /// Marks `token` as rejected for the account.
    pub(crate) fn reject_token(&self, account: &AccountId, token: &AccessToken) {
        let fingerprint = self.fingerprint(token);
        self.with(|map| map.entry(account.clone()).or_default().rejected_token = Some(fingerprint));
    }

    /// A success with `token`: clears a rejection recorded for another token.
    pub(crate) fn token_accepted(&self, account: &AccountId) {
        self.with(|map| {
            if let Some(state) = map.get_mut(account) {
                state.rejected_token = None;
            }
        });
    }

    pub(crate) fn status(&self, account: &AccountId, now: SystemTime) -> AccountStatus {
        self.with(|map| {
            map.get(account)
                .map(|state| AccountStatus {
                    paused_until: state.paused_until.filter(|until| *until > now),
                    needs_new_token: state.rejected_token.is_some(),
                    usage: state.usage.clone(),
                })
                .unwrap_or_default()
        })
    }

    pub(crate) fn needing_new_token(&self) -> Vec<AccountId> {
        self.with(|map| {
            let mut ids: Vec<AccountId> = map
                .iter()
                .filter(|(_, state)| state.rejected_token.is_some())
                .map(|(id, _)| id.clone())
                .collect();
            ids.sort();
            ids
        })
    }

    pub(crate) fn reset(&self, account: &AccountId) {
        self.with(|map| map.remove(account));
    }
}

fn extend_pause(state: &mut State, now: SystemTime, pause: Duration) {
    let until = now.checked_add(pause).unwrap_or(now);
    if state.paused_until.is_none_or(|current| current < until) {
        state.paused_until = Some(until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pause_expires_and_is_per_account() {
        let accounts = Accounts::default();
        let a = AccountId::new("1");
        let b = AccountId::new("2");
        let token = AccessToken::new("t").unwrap();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        accounts.pause(&a, t0, Duration::from_secs(60));
        let err = accounts
            .check(&a, &token, t0 + Duration::from_secs(59))
            .unwrap_err();
        assert!(err.kind() == crate::client::GraphErrorKind::RateLimited);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
        assert!(accounts.check(&b, &token, t0).is_ok());
        assert!(
            accounts
                .check(&a, &token, t0 + Duration::from_secs(60))
                .is_ok()
        );
        assert_eq!(
            accounts
                .status(&a, t0 + Duration::from_secs(61))
                .paused_until,
            None
        );
    }

    #[test]
    fn rejected_token_blocks_only_that_token() {
        let accounts = Accounts::default();
        let a = AccountId::new("1");
        let old = AccessToken::new("old").unwrap();
        let new = AccessToken::new("new").unwrap();
        let now = SystemTime::now();
        accounts.reject_token(&a, &old);
        assert!(matches!(
            accounts.check(&a, &old, now),
            Err(GraphError::TokenRejected(_))
        ));
        assert!(accounts.check(&a, &new, now).is_ok());
        assert_eq!(accounts.needing_new_token(), vec![a.clone()]);
        accounts.token_accepted(&a);
        assert!(accounts.needing_new_token().is_empty());
    }
}
