//! Payload model and classifier, end to end through the public API.
