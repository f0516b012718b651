//! Typed, owned model of webhook deliveries.
//!
//! The full model (envelope, entries, messaging events and changes) lands with the payload
//! issue; the id newtypes shared across the crate live here from the start.

mod ids;

pub use ids::{AccountId, CommentId, Igsid, MediaId, Mid};
