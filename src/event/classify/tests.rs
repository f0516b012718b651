//! Classification tests.
