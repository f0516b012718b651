//! The admin API: resolving a conversation in handoff, behind a bearer token.

use super::{Bot, Reply};
use crate::secret::Secret;
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

/// Whether `authorization` is `Bearer <token>` with exactly `token` (constant time).
pub fn bearer_matches(token: &Secret, authorization: Option<&str>) -> bool {
    authorization
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .is_some_and(|candidate| token.matches(candidate.trim()))
}
