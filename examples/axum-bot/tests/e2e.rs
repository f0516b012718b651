//! End-to-end: the real `axum-bot` binary against mock Graph/OpenAI servers and a real
//! `redis-server`. The scenarios live in `bot_kit::testing::e2e`, shared with the other bot.

bot_kit::e2e_suite!(env!("CARGO_BIN_EXE_axum-bot"));
