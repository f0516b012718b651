//! Fault injection: the real `actix-bot` binary as receivers and workers on one real
//! `redis-server`, against a scripted Graph API mock. The scenarios live in
//! `bot_kit::testing::faults`, shared with the other bot.

bot_kit::faults_suite!(env!("CARGO_BIN_EXE_actix-bot"));
