//! Typed identifiers shared by the payload model, the classifier and the client.
//!
//! Meta sends ids as JSON strings today, but 2016-era Messenger payloads carried them as
//! JSON integers, and Instagram ids exceed 2^53. Every id here therefore deserializes from
//! a string **or** an integer (kept as its exact decimal string, never routed through
//! `f64`) and always serializes as a string.

use std::borrow::Borrow;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

macro_rules! id_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id as received from (or to be sent to) Meta.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Unwraps the inner `String`.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserialize_id(deserializer).map(Self)
            }
        }
    };
}

id_newtype! {
    /// The business's account id, the one `entry[].id` names: the Instagram professional
    /// account id (`IG_ID`) for `object: "instagram"`, the Page id for `object: "page"`, a
    /// WhatsApp business account or phone number id. It is also the `recipient.id` of
    /// inbound messages and the `sender.id` of echoes.
    AccountId
}

id_newtype! {
    /// A person's id as the business account sees it, whatever the channel: the
    /// Instagram-scoped id (IGSID), the Messenger Page-scoped id (PSID) or a WhatsApp
    /// `wa_id`. IGSIDs and PSIDs are unique per (person, business account).
    UserId
}

id_newtype! {
    /// A message id, whatever the channel: an Instagram or Messenger `mid` or a WhatsApp
    /// `wamid`. Instagram mids are long base64-like strings; Messenger mids look like `m_…`
    /// (older: `mid.$cAA…`); WhatsApp ids look like `wamid.…`.
    MessageId
}

id_newtype! {
    /// An Instagram comment id, as in `changes[].value.id` of a `comments` change.
    CommentId
}

id_newtype! {
    /// An Instagram media id (post, reel or story).
    MediaId
}

id_newtype! {
    /// A Meta app id: `app_id` on echoes, the owner app ids of handover events, the keys
    /// of `app_roles`. JSON numbers in Messenger's docs, strings elsewhere.
    AppId
}

id_newtype! {
    /// A Messenger `user_ref`: identifies a chat-plugin or checkbox-plugin user who has no
    /// PSID yet (`sender.user_ref`, `optin.user_ref`).
    UserRef
}

/// Deserializes an id from a JSON string or a JSON integer (kept exactly as its decimal
/// representation).
pub(crate) fn deserialize_id<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<String, D::Error> {
    struct IdVisitor;

    impl Visitor<'_> for IdVisitor {
        type Value = String;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an id as a string or an integer")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }

        fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
            Ok(v)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }

        fn visit_u128<E: de::Error>(self, v: u128) -> Result<String, E> {
            Ok(v.to_string())
        }

        fn visit_i128<E: de::Error>(self, v: i128) -> Result<String, E> {
            Ok(v.to_string())
        }
    }

    deserializer.deserialize_any(IdVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_strings_and_exact_integers() {
        let from_str: UserId = serde_json::from_str(r#""6934581207719432""#).unwrap();
        let from_int: UserId = serde_json::from_str("6934581207719432").unwrap();
        assert_eq!(from_str, from_int);
        // Above 2^53: must stay exact.
        let big: AccountId = serde_json::from_str("17841405793187218").unwrap();
        assert_eq!(big.as_str(), "17841405793187218");
        let max: MessageId = serde_json::from_str("18446744073709551615").unwrap();
        assert_eq!(max, "18446744073709551615");
    }

    #[test]
    fn ids_refuse_other_json_types() {
        assert!(serde_json::from_str::<UserId>("1.5").is_err());
        assert!(serde_json::from_str::<UserId>("true").is_err());
        assert!(serde_json::from_str::<UserId>("null").is_err());
        assert!(serde_json::from_str::<UserId>("{}").is_err());
    }

    #[test]
    fn ids_serialize_as_strings() {
        let id = CommentId::new("17952310476882035");
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            r#""17952310476882035""#
        );
        assert_eq!(format!("{id:?}"), r#"CommentId("17952310476882035")"#);
        assert_eq!(id.to_string(), "17952310476882035");
    }
}
