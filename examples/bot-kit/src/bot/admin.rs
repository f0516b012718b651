//! The admin API: resolving a conversation in handoff, behind a bearer token.

use super::{Bot, Reply};
use crate::secret::Secret;
use meta_webhooks::endpoint::LogLimit;

/// Log lines per second about failed admin logins, at most.
const FAILURE_LINES_PER_SECOND: u64 = 5;

/// The process's limit on failed-login log lines.
static FAILURE_LOG: LogLimit = LogLimit::new(FAILURE_LINES_PER_SECOND);
use crate::state::{ConversationKey, ConversationStore as _, ResolveOutcome};

impl Bot {
    /// `POST /admin/conversations/{account}/{igsid}/resolve` with the request's
    /// `Authorization` header: `204` resolved, `200` already active, `404` unknown
    /// conversation, `401` wrong or missing bearer token, `404` when `BOT_ADMIN_TOKEN` is
    /// unset (the route is off), `503` when the store failed.
    pub async fn admin_resolve(
        &self,
        authorization: Option<&str>,
        account: &str,
        igsid: &str,
    ) -> Reply {
        let Some(token) = &self.inner.admin_token else {
            return Reply::text(404, "admin API disabled (BOT_ADMIN_TOKEN unset)\n");
        };
        if !bearer_matches(token, authorization) {
            self.inner.metrics.record_admin_auth_failure();
            if let Some(suppressed) = FAILURE_LOG.check() {
                tracing::warn!(
                    suppressed,
                    "admin request refused: missing or wrong bearer token"
                );
            }
            return Reply::text(401, "unauthorized\n");
        }
        let key = ConversationKey::new(account, igsid);
        match self.inner.store.resolve(&key).await {
            Ok(ResolveOutcome::Resolved) => Reply::text(204, ""),
            Ok(ResolveOutcome::AlreadyActive) => Reply::text(200, "already active\n"),
            Ok(ResolveOutcome::NotFound) => Reply::text(404, "no such conversation\n"),
            Err(error) => {
                tracing::warn!(%error, "resolve failed");
                Reply::text(503, "state store unavailable\n")
            }
        }
    }
}

/// Whether `authorization` is `Bearer <token>` with exactly `token`: compared in constant
/// time over SHA-256 digests ([`Secret::matches`]), so a candidate of the wrong length
/// takes the same path as a wrong one; nothing is trimmed.
///
/// ```
/// use bot_kit::Secret;
/// use bot_kit::bot::bearer_matches;
///
/// let token = Secret::new("admin-token-0123456789");
/// assert!(bearer_matches(&token, Some("Bearer admin-token-0123456789")));
/// assert!(!bearer_matches(&token, Some("Bearer admin-token-0123456789 ")));
/// assert!(!bearer_matches(&token, Some("Bearer x")));
/// assert!(!bearer_matches(&token, None));
/// ```
pub fn bearer_matches(token: &Secret, authorization: Option<&str>) -> bool {
    // Without the scheme the candidate is empty: still compared, so every refusal
    // takes the same path.
    let candidate = authorization
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .unwrap_or("");
    token.matches(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_length_wrong_bytes_and_padding_are_all_refused() {
        let token = Secret::new("admin-token-0123456789");
        assert!(bearer_matches(
            &token,
            Some("Bearer admin-token-0123456789")
        ));
        assert!(bearer_matches(
            &token,
            Some("bearer admin-token-0123456789")
        ));
        for refused in [
            "Bearer admin-token-0123456788",
            "Bearer admin",
            "Bearer admin-token-0123456789-and-more",
            "Bearer  admin-token-0123456789",
            "Bearer admin-token-0123456789 ",
            "Bearer admin-token-0123456789\t",
            "Basic admin-token-0123456789",
            "admin-token-0123456789",
            "Bearer ",
            "",
        ] {
            assert!(!bearer_matches(&token, Some(refused)), "{refused:?}");
        }
        assert!(!bearer_matches(&token, None));
    }
}
