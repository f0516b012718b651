//! Integration tests of bot-kit.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]

mod ai;
mod bot;
mod config_files;
mod notify;
mod redis_store;
mod stream;
mod support;
mod tokens;
mod whatsapp;
mod whatsapp_token;
