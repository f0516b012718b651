//! What the bots need from Meta: the webhook fields of each object and the permissions
//! those fields (and the replies) take, after Meta's "Instagram webhook fields and
//! permissions" table and the WhatsApp Cloud API's permissions.

use crate::settings::Login;

/// The app subscription object of Instagram webhooks.
pub const INSTAGRAM_OBJECT: &str = "instagram";
/// The app subscription object of WhatsApp webhooks.
pub const WHATSAPP_OBJECT: &str = "whatsapp_business_account";

/// The Instagram fields the bots handle: messages (text, media, story replies and
/// mentions, quick replies), postbacks, referrals and comments.
pub const INSTAGRAM_FIELDS: [&str; 4] = [
    "messages",
    "messaging_postbacks",
    "messaging_referral",
    "comments",
];

/// The WhatsApp fields the bots handle: messages and their statuses.
pub const WHATSAPP_FIELDS: [&str; 1] = ["messages"];

/// The Page field `--fix` subscribes a Page to with Facebook Login: Instagram webhooks
/// flow once the Page has the app subscribed to any Page field, and Meta's own example
/// uses `feed`.
pub const PAGE_FIELDS: [&str; 1] = ["feed"];

/// The permissions an Instagram account's token needs for [`INSTAGRAM_FIELDS`] and the
/// replies, for each login.
pub fn instagram_permissions(login: Login) -> &'static [&'static str] {
    match login {
        Login::Facebook => &[
            "instagram_basic",
            "instagram_manage_messages",
            "instagram_manage_comments",
            "pages_manage_metadata",
            "pages_read_engagement",
            "pages_show_list",
        ],
        Login::Instagram => &[
            "instagram_business_basic",
            "instagram_business_manage_messages",
            "instagram_business_manage_comments",
        ],
    }
}

/// The permissions the WhatsApp token needs: sending, and reading the number and the
/// WhatsApp Business Account's subscriptions.
pub const WHATSAPP_PERMISSIONS: [&str; 2] = [
    "whatsapp_business_messaging",
    "whatsapp_business_management",
];
