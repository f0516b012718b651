//! Envelope-level tests: whole-body rejects, per-item isolation, depth.
