//! Lossless string enums: known wire values get a variant, anything else is kept verbatim
//! in a fallback variant (`Unknown(String)` or, for [`Object`](super::Object), `Other`).

/// Declares a `#[non_exhaustive]` string enum with `as_str`, `Display`, `From<&str>`,
/// `From<String>`, `Serialize` (the wire string) and `Deserialize` (a string; any string
/// is accepted).
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ( $(#[$fmeta:meta])* $fallback:ident ) {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            $(#[$fmeta])*
            $fallback(String),
        }

        impl $name {
            /// The value exactly as Meta sends it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )*
                    Self::$fallback(other) => other,
                }
            }

            /// Maps a wire string to its variant (never fails: unknown values are kept).
            pub fn from_wire(value: &str) -> Self {
                match value {
                    $( $wire => Self::$variant, )*
                    other => Self::$fallback(other.to_owned()),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::from_wire(value)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                match value.as_str() {
                    $( $wire => Self::$variant, )*
                    _ => Self::$fallback(value),
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <::std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Ok(Self::from(value.into_owned()))
            }
        }
    };
}

pub(crate) use wire_enum;
