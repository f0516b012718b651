//! The names of the variables, as constants.

/// Meta app secret.
pub const IG_APP_SECRET: &str = "IG_APP_SECRET";
/// Handshake verify token.
pub const IG_VERIFY_TOKEN: &str = "IG_VERIFY_TOKEN";
/// Access token of `IG_BUSINESS_ID`.
pub const IG_PAGE_TOKEN: &str = "IG_PAGE_TOKEN";
/// Instagram professional account id.
pub const IG_BUSINESS_ID: &str = "IG_BUSINESS_ID";
/// This bot's Meta app id.
pub const IG_APP_ID: &str = "IG_APP_ID";
/// WhatsApp business phone number id.
pub const WA_PHONE_NUMBER_ID: &str = "WA_PHONE_NUMBER_ID";
/// Access token of `WA_PHONE_NUMBER_ID`.
pub const WA_TOKEN: &str = "WA_TOKEN";
/// App secret of the app with the WhatsApp product, when it differs from `IG_APP_SECRET`.
pub const WA_APP_SECRET: &str = "WA_APP_SECRET";
/// App id of the app with the WhatsApp product, for the `debug_token` check of `WA_TOKEN`.
pub const WA_APP_ID: &str = "WA_APP_ID";
/// Accounts file.
pub const ACCOUNTS_FILE: &str = "ACCOUNTS_FILE";
/// Graph API scheme and host.
pub const GRAPH_API_BASE: &str = "GRAPH_API_BASE";
/// Send API request timeout in seconds.
pub const GRAPH_TIMEOUT_SECS: &str = "GRAPH_TIMEOUT_SECS";
/// OpenAI API key.
pub const OPENAI_API_KEY: &str = "OPENAI_API_KEY";
/// OpenAI base URL.
pub const OPENAI_BASE_URL: &str = "OPENAI_BASE_URL";
/// OpenAI model.
pub const OPENAI_MODEL: &str = "OPENAI_MODEL";
/// OpenAI call timeout in seconds.
pub const OPENAI_TIMEOUT_SECS: &str = "OPENAI_TIMEOUT_SECS";
/// Redis URL.
pub const REDIS_URL: &str = "REDIS_URL";
/// Conversation record lifetime in seconds.
pub const CONVERSATION_TTL_SECS: &str = "CONVERSATION_TTL_SECS";
/// Rules file.
pub const RULES_FILE: &str = "RULES_FILE";
/// Admin bearer token.
pub const BOT_ADMIN_TOKEN: &str = "BOT_ADMIN_TOKEN";
/// Escalation webhook URL.
pub const NOTIFY_WEBHOOK_URL: &str = "NOTIFY_WEBHOOK_URL";
/// Maximum event age in seconds.
pub const MAX_EVENT_AGE_SECS: &str = "MAX_EVENT_AGE_SECS";
/// Listen port.
pub const PORT: &str = "PORT";
/// Listen address.
pub const BIND_ADDR: &str = "BIND_ADDR";
/// Listen address of the admin listener (`/admin`, `/metrics`, `/healthz`).
pub const ADMIN_ADDR: &str = "ADMIN_ADDR";
/// `receiver`, `worker` or `all`.
pub const BOT_ROLE: &str = "BOT_ROLE";
/// Number of stream shards.
pub const STREAM_SHARDS: &str = "STREAM_SHARDS";
/// Entries per shard before receivers refuse.
pub const STREAM_MAX_LEN: &str = "STREAM_MAX_LEN";
/// Bound on a receiver's `XADD`, in milliseconds.
pub const STREAM_ACK_TIMEOUT_MS: &str = "STREAM_ACK_TIMEOUT_MS";
/// Shard lease lifetime, in milliseconds.
pub const STREAM_LEASE_MS: &str = "STREAM_LEASE_MS";
/// Idle time before a pending entry is reclaimed, in milliseconds.
pub const STREAM_RECLAIM_IDLE_MS: &str = "STREAM_RECLAIM_IDLE_MS";
/// Entries per read.
pub const STREAM_BATCH: &str = "STREAM_BATCH";
/// Attempts before an entry is dead-lettered.
pub const STREAM_MAX_DELIVERIES: &str = "STREAM_MAX_DELIVERIES";
/// Graceful shutdown budget, in seconds.
pub const SHUTDOWN_TIMEOUT_SECS: &str = "SHUTDOWN_TIMEOUT_SECS";

/// Every variable the configuration reads.
pub const ALL: [&str; 34] = [
    IG_APP_SECRET,
    IG_VERIFY_TOKEN,
    IG_PAGE_TOKEN,
    IG_BUSINESS_ID,
    IG_APP_ID,
    WA_PHONE_NUMBER_ID,
    WA_TOKEN,
    WA_APP_SECRET,
    WA_APP_ID,
    ACCOUNTS_FILE,
    GRAPH_API_BASE,
    GRAPH_TIMEOUT_SECS,
    OPENAI_API_KEY,
    OPENAI_BASE_URL,
    OPENAI_MODEL,
    OPENAI_TIMEOUT_SECS,
    REDIS_URL,
    CONVERSATION_TTL_SECS,
    RULES_FILE,
    BOT_ADMIN_TOKEN,
    NOTIFY_WEBHOOK_URL,
    MAX_EVENT_AGE_SECS,
    PORT,
    BIND_ADDR,
    ADMIN_ADDR,
    BOT_ROLE,
    STREAM_SHARDS,
    STREAM_MAX_LEN,
    STREAM_ACK_TIMEOUT_MS,
    STREAM_LEASE_MS,
    STREAM_RECLAIM_IDLE_MS,
    STREAM_BATCH,
    STREAM_MAX_DELIVERIES,
    SHUTDOWN_TIMEOUT_SECS,
];
