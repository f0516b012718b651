//! Reading and fixing how a Meta app is wired to its accounts: the app's webhook
//! subscriptions, each account's own `subscribed_apps`, and the account lookups that tell
//! whether an id and a token belong together.
//!
//! | Call | Request | Token |
//! |---|---|---|
//! | [`GraphClient::app_subscriptions`] | `GET /{app-id}/subscriptions` | app token ([`AppToken`]) |
//! | [`GraphClient::subscribe_app`] | `POST /{app-id}/subscriptions` (form) | app token |
//! | [`Account::subscribed_apps`] | `GET /{id}/subscribed_apps` | Page, Instagram User or WhatsApp token |
//! | [`Account::subscribe_app`] | `POST /{id}/subscribed_apps?subscribed_fields=…` | same |
//! | [`Account::page_link`] | `GET /{page-id}?fields=`[`PAGE_LINK_FIELDS`] | Page token |
//! | [`Account::instagram_login_account`] | `GET /me?fields=`[`INSTAGRAM_LOGIN_FIELDS`] | Instagram User token (`graph.instagram.com`) |
//! | [`Account::whatsapp_phone_number`] | `GET /{phone-number-id}?fields=`[`PHONE_NUMBER_FIELDS`] | WhatsApp token |
//!
//! The node a `subscribed_apps` call goes to is the [`Account`]'s id: a Page id (Facebook
//! Login), an Instagram professional account id or `me` (Instagram Login, on
//! `graph.instagram.com`), or a WhatsApp Business Account id. As everywhere in the client,
//! tokens travel only in the `Authorization` header.
//!
//! ```no_run
//! use meta_webhooks::AccessToken;
//! use meta_webhooks::client::GraphClient;
//! use meta_webhooks::payload::AccountId;
//!
//! # async fn check() -> Result<(), Box<dyn std::error::Error>> {
//! let client = GraphClient::builder().facebook_login().build()?;
//! let page = client.account(AccountId::new("me"), AccessToken::new("EAAG…")?);
//! let link = page.page_link().await?;
//! match link.instagram_business_account {
//!     Some(ig) => println!("Page {} is linked to Instagram account {}", link.id, ig.id),
//!     None => println!("Page {} has no Instagram professional account linked", link.id),
//! }
//! let page = client.account(link.id.clone(), AccessToken::new("EAAG…")?);
//! for app in page.subscribed_apps().await? {
//!     println!("{:?}: {:?}", app.app_id(), app.subscribed_fields);
//! }
//! # Ok(())
//! # }
//! ```

use bytes::Bytes;
use http::{Method, StatusCode};
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny};
use serde_json::Value;

use crate::payload::{AccountId, AppId};
use crate::secret::VerifyToken;

use super::GraphClient;
use super::account::{Account, decode, node};
use super::call::{Auth, Body, Request};
use super::error::{DecodeFailure, GraphError, MessageError};
use super::token::AppToken;

/// The fields [`Account::page_link`] requests.
pub const PAGE_LINK_FIELDS: &str = "id,name,instagram_business_account";

/// The fields [`Account::instagram_login_account`] requests.
pub const INSTAGRAM_LOGIN_FIELDS: &str = "id,user_id,username,name,account_type";

/// The fields [`Account::whatsapp_phone_number`] requests. The messaging limit is read from
/// `whatsapp_business_manager_messaging_limit` (Meta deprecated `messaging_limit_tier`
/// when limits moved to the business portfolio).
pub const PHONE_NUMBER_FIELDS: &str = "id,display_phone_number,verified_name,quality_rating,whatsapp_business_manager_messaging_limit,throughput,code_verification_status,name_status,platform_type";

/// One object the app receives webhooks for (`GET /{app-id}/subscriptions`, one `data`
/// item): where Meta sends them and which fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct AppSubscription {
    /// The object type, verbatim: `page`, `instagram`, `whatsapp_business_account`,
    /// `user`, `permissions`…
    pub object: String,
    /// The callback URL Meta posts to.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// Whether the subscription is active.
    #[serde(default)]
    pub active: Option<bool>,
    /// The subscribed fields.
    #[serde(default, deserialize_with = "fields")]
    pub fields: Vec<SubscribedField>,
}

impl AppSubscription {
    /// `true` when `name` is among the subscribed fields.
    pub fn has_field(&self, name: &str) -> bool {
        self.fields.iter().any(|f| f.name == name)
    }

    /// The subscribed field names, in Meta's order.
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.name.as_str())
    }
}

/// A field of an [`AppSubscription`] and the Graph API version its payloads follow.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SubscribedField {
    /// The field name, e.g. `messages`.
    pub name: String,
    /// The payload version, e.g. `v25.0`.
    #[serde(default)]
    pub version: Option<String>,
}

/// A field list as Meta writes it: objects with a `name` (app subscriptions) or bare strings.
fn fields<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<SubscribedField>, D::Error> {
    let items = Option::<Vec<Value>>::deserialize(deserializer)?.unwrap_or_default();
    Ok(items
        .into_iter()
        .filter_map(|item| match item {
            Value::String(name) => Some(SubscribedField {
                name,
                version: None,
            }),
            Value::Object(map) => {
                let name = map.get("name")?.as_str()?.to_owned();
                let version = map
                    .get("version")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                Some(SubscribedField { name, version })
            }
            _ => None,
        })
        .collect())
}

/// Field names as bare strings, or as objects with a `name`.
fn field_names<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    Ok(fields(deserializer)?.into_iter().map(|f| f.name).collect())
}

/// What [`GraphClient::subscribe_app`] sends: `object`, `callback_url`, `fields`,
/// `verify_token` (and `include_values` when set), as a form body.
///
/// Meta answers a new callback URL with a handshake to it first, so the endpoint must be up
/// and answer with the same verify token. Meta does not accept this call for every object:
/// `instagram` webhooks of the Messenger Platform are set up in the App Dashboard only.
#[derive(Debug, Clone)]
pub struct AppSubscriptionRequest {
    object: String,
    callback_url: String,
    fields: Vec<String>,
    verify_token: VerifyToken,
    include_values: Option<bool>,
}

impl AppSubscriptionRequest {
    /// A subscription of `object` (e.g. `page`) at `callback_url` for `fields`.
    ///
    /// # Errors
    ///
    /// [`MessageError::InvalidUrl`] when `callback_url` is not an absolute `https` URL
    /// (Meta requires TLS); [`MessageError::Empty`] when `object` or the field list is
    /// empty; [`MessageError::InvalidId`] when the object or a field name has characters
    /// other than ASCII lower-case letters, digits and `_`.
    pub fn new<I, S>(
        object: &str,
        callback_url: &str,
        fields: I,
        verify_token: VerifyToken,
    ) -> Result<Self, MessageError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        if object.is_empty() {
            return Err(MessageError::Empty("object"));
        }
        if !is_field_name(object) {
            return Err(MessageError::InvalidId("object"));
        }
        let url = callback_url.trim();
        if !url.starts_with("https://") || url.len() <= "https://".len() {
            return Err(MessageError::InvalidUrl("callback URL"));
        }
        let fields = field_list(fields)?;
        if fields.is_empty() {
            return Err(MessageError::Empty("field list"));
        }
        Ok(Self {
            object: object.to_owned(),
            callback_url: url.to_owned(),
            fields,
            verify_token,
            include_values: None,
        })
    }

    /// Sets `include_values` (whether change notifications carry the new values).
    #[must_use]
    pub fn include_values(mut self, include: bool) -> Self {
        self.include_values = Some(include);
        self
    }

    /// The form body.
    fn to_form(&self) -> String {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("object", &self.object)
            .append_pair("callback_url", &self.callback_url)
            .append_pair("fields", &self.fields.join(","))
            .append_pair("verify_token", self.verify_token.expose());
        if let Some(include) = self.include_values {
            form.append_pair("include_values", if include { "true" } else { "false" });
        }
        form.finish()
    }
}

/// One app subscribed to an account's webhooks (`GET /{id}/subscribed_apps`, one `data`
/// item).
///
/// Pages and Instagram accounts list the app's `id`, `name`, `link`, `category` and
/// `subscribed_fields`; a WhatsApp Business Account nests the app under
/// `whatsapp_business_api_data` and may carry an `override_callback_uri`.
/// [`app_id`](Self::app_id) reads either.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SubscribedApp {
    /// The app id (Pages, Instagram accounts).
    #[serde(default)]
    pub id: Option<AppId>,
    /// The app name.
    #[serde(default)]
    pub name: Option<String>,
    /// The app's link.
    #[serde(default)]
    pub link: Option<String>,
    /// The app's category.
    #[serde(default)]
    pub category: Option<String>,
    /// The fields this account sends the app.
    #[serde(default, deserialize_with = "field_names")]
    pub subscribed_fields: Vec<String>,
    /// The app, as a WhatsApp Business Account lists it.
    #[serde(default)]
    pub whatsapp_business_api_data: Option<WhatsAppApiApp>,
    /// A callback URL this WhatsApp Business Account uses instead of the app's.
    #[serde(default)]
    pub override_callback_uri: Option<String>,
}

impl SubscribedApp {
    /// The app id, wherever Meta put it.
    pub fn app_id(&self) -> Option<&AppId> {
        self.id.as_ref().or_else(|| {
            self.whatsapp_business_api_data
                .as_ref()
                .and_then(|a| a.id.as_ref())
        })
    }

    /// `true` when `field` is among [`subscribed_fields`](Self::subscribed_fields).
    pub fn has_field(&self, field: &str) -> bool {
        self.subscribed_fields.iter().any(|f| f == field)
    }
}

/// `whatsapp_business_api_data` of a [`SubscribedApp`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct WhatsAppApiApp {
    /// The app id.
    #[serde(default)]
    pub id: Option<AppId>,
    /// The app name.
    #[serde(default)]
    pub name: Option<String>,
    /// The app's link.
    #[serde(default)]
    pub link: Option<String>,
}

/// A Page and the Instagram professional account linked to it ([`Account::page_link`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct PageLink {
    /// The Page id.
    pub id: AccountId,
    /// The Page name.
    #[serde(default)]
    pub name: Option<String>,
    /// The linked Instagram professional account; `None` when the Page has none.
    #[serde(default)]
    pub instagram_business_account: Option<NodeRef>,
}

/// A reference to another node: its id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct NodeRef {
    /// The node id.
    pub id: AccountId,
}

/// The Instagram professional account an Instagram User token belongs to
/// ([`Account::instagram_login_account`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct InstagramLoginAccount {
    /// The app-scoped id of the user.
    #[serde(default)]
    pub id: Option<String>,
    /// The Instagram professional account id: the webhook's `entry[].id` and the id
    /// messages are sent from.
    #[serde(default)]
    pub user_id: Option<AccountId>,
    /// The username.
    #[serde(default)]
    pub username: Option<String>,
    /// The profile name.
    #[serde(default)]
    pub name: Option<String>,
    /// `Business` or `Media_Creator`, verbatim.
    #[serde(default)]
    pub account_type: Option<String>,
}

/// A WhatsApp business phone number ([`Account::whatsapp_phone_number`]). Enumerated values
/// are kept verbatim (Meta adds values over time).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct PhoneNumber {
    /// The phone number id.
    pub id: AccountId,
    /// The number as shown to people, e.g. `+1 555-010-0000`.
    #[serde(default)]
    pub display_phone_number: Option<String>,
    /// The verified business name.
    #[serde(default)]
    pub verified_name: Option<String>,
    /// `GREEN`, `YELLOW`, `RED` or `UNKNOWN`.
    #[serde(default)]
    pub quality_rating: Option<String>,
    /// The business portfolio's messaging limit, e.g. `TIER_2K`, `TIER_UNLIMITED`
    /// (`whatsapp_business_manager_messaging_limit`, or the older `messaging_limit_tier`
    /// when only that is present).
    #[serde(default, deserialize_with = "lenient_text")]
    pub whatsapp_business_manager_messaging_limit: Option<String>,
    /// The older per-number limit field, when Meta sends it.
    #[serde(default, deserialize_with = "lenient_text")]
    pub messaging_limit_tier: Option<String>,
    /// The throughput level (`STANDARD`, `HIGH`…).
    #[serde(default)]
    pub throughput: Option<Throughput>,
    /// `VERIFIED`, `NOT_VERIFIED`, `EXPIRED`…
    #[serde(default)]
    pub code_verification_status: Option<String>,
    /// The display name review status (`APPROVED`, `PENDING_REVIEW`, `DECLINED`…).
    #[serde(default)]
    pub name_status: Option<String>,
    /// `CLOUD_API`, `ON_PREMISE` or `NOT_APPLICABLE`.
    #[serde(default)]
    pub platform_type: Option<String>,
}

impl PhoneNumber {
    /// The messaging limit, from whichever field Meta filled.
    pub fn messaging_limit(&self) -> Option<&str> {
        self.whatsapp_business_manager_messaging_limit
            .as_deref()
            .or(self.messaging_limit_tier.as_deref())
    }
}

/// The `throughput` of a [`PhoneNumber`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Throughput {
    /// The level, verbatim.
    #[serde(default)]
    pub level: Option<String>,
}

/// A string, or any other JSON value as its JSON text.
fn lenient_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Object(map)) => map
            .get("tier")
            .or_else(|| map.get("value"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| Some(Value::Object(map).to_string())),
        Some(other) => Some(other.to_string()),
    })
}

/// An app-token call: made for no account, so no account's pause or token state is touched.
fn app_auth(app_token: &AppToken) -> Auth<'_> {
    Auth {
        account: None,
        bearer: Some(app_token.as_access_token()),
        query_token: None,
    }
}

#[derive(Deserialize)]
struct DataList<T> {
    #[serde(default = "Vec::new")]
    data: Vec<T>,
    #[serde(default, rename = "paging")]
    _paging: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Success {
    #[serde(default)]
    success: Option<Value>,
}

/// Reads Meta's `{"success": true}` (also `"true"`, as some docs show it).
fn expect_success(status: StatusCode, body: &Bytes) -> Result<(), GraphError> {
    let answer: Success = decode(status, body, "a JSON object")?;
    match answer.success {
        Some(Value::Bool(true)) => Ok(()),
        Some(Value::String(s)) if s == "true" => Ok(()),
        other => Err(GraphError::Decode(DecodeFailure {
            status,
            reason: format!("expected {{\"success\": true}}, got success = {other:?}"),
        })),
    }
}

fn is_field_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Checks and de-duplicates field names, keeping their order.
fn field_list<I, S>(fields: I) -> Result<Vec<String>, MessageError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out: Vec<String> = Vec::new();
    for field in fields {
        let field = field.as_ref();
        if !is_field_name(field) {
            return Err(MessageError::InvalidId("webhook field name"));
        }
        if !out.iter().any(|f| f == field) {
            out.push(field.to_owned());
        }
    }
    Ok(out)
}

impl GraphClient {
    /// The app's webhook subscriptions (`GET /{app-id}/subscriptions`), one per object.
    /// Needs the app token ([`AppToken`]); use a client on `graph.facebook.com`.
    ///
    /// # Errors
    ///
    /// Any [`GraphError`]; [`GraphError::Decode`] when the answer is not a `data` list.
    pub async fn app_subscriptions(
        &self,
        app_id: &AppId,
        app_token: &AppToken,
    ) -> Result<Vec<AppSubscription>, GraphError> {
        let request = Request {
            method: Method::GET,
            path: format!("{}/subscriptions", node(app_id.as_str(), "app id")?),
            query: None,
            body: Body::Empty,
            write: false,
        };
        let (status, body) = self
            .inner
            .call_with(&self.inner.api_root, app_auth(app_token), &request)
            .await?;
        let list: DataList<AppSubscription> = decode(status, &body, "a list of app subscriptions")?;
        Ok(list.data)
    }

    /// Creates or updates the app's subscription for one object (`POST
    /// /{app-id}/subscriptions`, form body `object`, `callback_url`, `fields`,
    /// `verify_token`). Needs the app token. Setting the same subscription twice is
    /// harmless, so a failure in transit is safe to retry.
    ///
    /// # Errors
    ///
    /// Any [`GraphError`]: Meta refuses a callback that fails its handshake, and objects
    /// that are set up in the App Dashboard only.
    pub async fn subscribe_app(
        &self,
        app_id: &AppId,
        app_token: &AppToken,
        subscription: &AppSubscriptionRequest,
    ) -> Result<(), GraphError> {
        let request = Request {
            method: Method::POST,
            path: format!("{}/subscriptions", node(app_id.as_str(), "app id")?),
            query: None,
            body: Body::Form(Bytes::from(subscription.to_form())),
            write: false,
        };
        let (status, body) = self
            .inner
            .call_with(&self.inner.api_root, app_auth(app_token), &request)
            .await?;
        expect_success(status, &body)
    }
}

impl Account {
    /// The apps subscribed to this account's webhooks (`GET /{id}/subscribed_apps`): a
    /// Page (Page token), an Instagram professional account or `me` (Instagram User token
    /// on `graph.instagram.com`), or a WhatsApp Business Account.
    ///
    /// # Errors
    ///
    /// Any [`GraphError`]; [`GraphError::Decode`] when the answer is not a `data` list.
    pub async fn subscribed_apps(&self) -> Result<Vec<SubscribedApp>, GraphError> {
        let request = Request {
            method: Method::GET,
            path: format!(
                "{}/subscribed_apps",
                node(self.id().as_str(), "account id")?
            ),
            query: None,
            body: Body::Empty,
            write: false,
        };
        let (status, body) = self.run(request).await?;
        let list: DataList<SubscribedApp> = decode(status, &body, "a list of subscribed apps")?;
        Ok(list.data)
    }

    /// Subscribes the token's app to this account's webhooks (`POST
    /// /{id}/subscribed_apps?subscribed_fields=a,b`). Meta replaces the account's field
    /// list with `fields`, so pass every field wanted, not only the missing ones. A
    /// WhatsApp Business Account takes no field list (its fields are set on the app):
    /// pass an empty one. Setting the same fields twice is harmless, so a failure in
    /// transit is safe to retry.
    ///
    /// # Errors
    ///
    /// [`GraphError::Invalid`] for a field name with characters other than ASCII
    /// lower-case letters, digits and `_`; any other [`GraphError`].
    pub async fn subscribe_app<I, S>(&self, fields: I) -> Result<(), GraphError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let fields = field_list(fields)?;
        let request = Request {
            method: Method::POST,
            path: format!(
                "{}/subscribed_apps",
                node(self.id().as_str(), "account id")?
            ),
            query: (!fields.is_empty()).then(|| format!("subscribed_fields={}", fields.join(","))),
            body: Body::Empty,
            write: false,
        };
        let (status, body) = self.run(request).await?;
        expect_success(status, &body)
    }

    /// The Page and its linked Instagram professional account (`GET
    /// /{page-id}?fields=`[`PAGE_LINK_FIELDS`]). With a Page token, an account id of `me`
    /// reads the token's own Page.
    ///
    /// # Errors
    ///
    /// Any [`GraphError`]; [`GraphError::Decode`] when the answer is not a Page object.
    pub async fn page_link(&self) -> Result<PageLink, GraphError> {
        let request = Request {
            method: Method::GET,
            path: node(self.id().as_str(), "page id")?.to_owned(),
            query: Some(format!("fields={PAGE_LINK_FIELDS}")),
            body: Body::Empty,
            write: false,
        };
        let (status, body) = self.run(request).await?;
        decode(status, &body, "a Page object")
    }

    /// The Instagram professional account the token belongs to (`GET
    /// /me?fields=`[`INSTAGRAM_LOGIN_FIELDS`], Instagram Login on `graph.instagram.com`),
    /// whatever this account's id: compare its `user_id` with the id.
    ///
    /// # Errors
    ///
    /// Any [`GraphError`]; [`GraphError::Decode`] when the answer is not a user object.
    pub async fn instagram_login_account(&self) -> Result<InstagramLoginAccount, GraphError> {
        let request = Request {
            method: Method::GET,
            path: "me".to_owned(),
            query: Some(format!("fields={INSTAGRAM_LOGIN_FIELDS}")),
            body: Body::Empty,
            write: false,
        };
        let (status, body) = self.run(request).await?;
        decode(status, &body, "an Instagram user object")
    }

    /// This WhatsApp phone number's status (`GET
    /// /{phone-number-id}?fields=`[`PHONE_NUMBER_FIELDS`]): name, quality rating,
    /// messaging limit, throughput.
    ///
    /// # Errors
    ///
    /// Any [`GraphError`]; [`GraphError::Decode`] when the answer is not a phone number.
    pub async fn whatsapp_phone_number(&self) -> Result<PhoneNumber, GraphError> {
        let request = Request {
            method: Method::GET,
            path: node(self.id().as_str(), "phone number id")?.to_owned(),
            query: Some(format!("fields={PHONE_NUMBER_FIELDS}")),
            body: Body::Empty,
            write: false,
        };
        let (status, body) = self.run(request).await?;
        decode(status, &body, "a WhatsApp phone number object")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_subscriptions_parse_leniently() {
        let list: DataList<AppSubscription> = serde_json::from_str(
            r#"{"data":[{"object":"instagram","callback_url":"https:\/\/bot.example.com\/webhook","active":true,
                "fields":[{"name":"messages","version":"v25.0"},{"name":"comments","version":"v25.0"},"feed",7]}]}"#,
        )
        .unwrap();
        let sub = &list.data[0];
        assert_eq!(sub.object, "instagram");
        assert_eq!(
            sub.callback_url.as_deref(),
            Some("https://bot.example.com/webhook")
        );
        assert_eq!(sub.active, Some(true));
        assert_eq!(
            sub.field_names().collect::<Vec<_>>(),
            ["messages", "comments", "feed"]
        );
        assert_eq!(sub.fields[0].version.as_deref(), Some("v25.0"));
        assert!(sub.has_field("comments") && !sub.has_field("messaging_postbacks"));
    }

    #[test]
    fn subscribed_apps_of_pages_and_wabas() {
        let page: DataList<SubscribedApp> = serde_json::from_str(
            r#"{"data":[{"category":"Business","link":"https:\/\/example.com\/","name":"Shop bot","id":"1234567890","subscribed_fields":["messages","feed"]}]}"#,
        )
        .unwrap();
        assert_eq!(page.data[0].app_id().unwrap(), "1234567890");
        assert!(page.data[0].has_field("feed"));
        let waba: DataList<SubscribedApp> = serde_json::from_str(
            r#"{"data":[{"whatsapp_business_api_data":{"link":"https:\/\/example.com\/","name":"Shop bot","id":1234567890}}]}"#,
        )
        .unwrap();
        assert_eq!(waba.data[0].app_id().unwrap(), "1234567890");
        assert!(waba.data[0].subscribed_fields.is_empty());
    }

    #[test]
    fn phone_number_limit_from_either_field() {
        let p: PhoneNumber = serde_json::from_str(
            r#"{"id":"106540352242922","quality_rating":"GREEN","messaging_limit_tier":"TIER_1K","throughput":{"level":"STANDARD"}}"#,
        )
        .unwrap();
        assert_eq!(p.messaging_limit(), Some("TIER_1K"));
        assert_eq!(p.throughput.unwrap().level.as_deref(), Some("STANDARD"));
        let p: PhoneNumber = serde_json::from_str(
            r#"{"id":"1","whatsapp_business_manager_messaging_limit":"TIER_2K","messaging_limit_tier":"TIER_1K"}"#,
        )
        .unwrap();
        assert_eq!(p.messaging_limit(), Some("TIER_2K"));
    }

    #[test]
    fn field_names_are_checked_and_deduplicated() {
        assert_eq!(
            field_list(["messages", "comments", "messages"]).unwrap(),
            ["messages", "comments"]
        );
        for bad in ["", "Messages", "a,b", "a&b", "a b"] {
            assert_eq!(
                field_list([bad]),
                Err(MessageError::InvalidId("webhook field name")),
                "{bad}"
            );
        }
    }

    #[test]
    fn app_subscription_request_form() {
        let request = AppSubscriptionRequest::new(
            "page",
            "https://bot.example.com/webhook?x=1",
            ["messages", "messaging_postbacks"],
            VerifyToken::new("v t&").unwrap(),
        )
        .unwrap()
        .include_values(true);
        assert_eq!(
            request.to_form(),
            "object=page&callback_url=https%3A%2F%2Fbot.example.com%2Fwebhook%3Fx%3D1&fields=messages%2Cmessaging_postbacks&verify_token=v+t%26&include_values=true"
        );
        assert!(format!("{request:?}").contains("[redacted]"));
        let token = || VerifyToken::new("v").unwrap();
        assert!(AppSubscriptionRequest::new("page", "http://x", ["messages"], token()).is_err());
        assert!(AppSubscriptionRequest::new("page", "https://x", [""; 0], token()).is_err());
        assert!(AppSubscriptionRequest::new("", "https://x", ["messages"], token()).is_err());
    }

    #[test]
    fn success_answers() {
        let ok = StatusCode::OK;
        assert!(expect_success(ok, &Bytes::from_static(br#"{"success":true}"#)).is_ok());
        assert!(expect_success(ok, &Bytes::from_static(br#"{"success":"true"}"#)).is_ok());
        assert!(expect_success(ok, &Bytes::from_static(br#"{"success":false}"#)).is_err());
        assert!(expect_success(ok, &Bytes::from_static(b"{}")).is_err());
    }
}
