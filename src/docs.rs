//! Guides that ship with the crate, rendered from the repository's `docs/` folder.

pub mod events {
    #![doc = include_str!("../docs/EVENTS.md")]
}
