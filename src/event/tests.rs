//! Event accessor tests.
