//! Nesting-depth guard: a body nested deeper than the limit is rejected as a whole, in
//! linear time and constant stack.
//!
//! serde_json enforces its recursion limit (128) only on typed paths: skipping a value —
//! `IgnoredAny` for unknown fields, `RawValue` for captured items — walks nesting of any
//! depth iteratively and accepts it. The parses ignore unknown fields, and the careful
//! parse and the raw-span lookup capture items as `RawValue`, so the limit is enforced
//! here instead, once, over the whole body before any parse: depth > [`MAX_DEPTH`] is
//! rejected, anything up to it accepted, in known and unknown fields alike.

/// Deepest nesting of arrays and objects accepted (the top-level object counts as 1).
pub(crate) const MAX_DEPTH: usize = 128;

/// Whether `body` nests arrays/objects deeper than `max`. Exact for valid JSON (brackets
/// inside strings are skipped); for invalid JSON the answer does not matter because the
/// parse rejects the body anyway. Runs in linear time and constant memory.
pub(crate) fn exceeds(body: &[u8], max: usize) -> bool {
    // Fast path: a body with at most `max` opening brackets (counting those inside
    // strings, an over-estimate) cannot nest deeper than `max`. memchr's SIMD search
    // skips the text between brackets and stops at the first bracket past `max`.
    if memchr::memchr2_iter(b'[', b'{', body).nth(max).is_none() {
        return false;
    }
    let mut depth = 0usize;
    let mut rest = body;
    while let Some((&byte, tail)) = rest.split_first() {
        rest = tail;
        match byte {
            b'"' => rest = skip_string(rest),
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Returns what follows the closing quote of a string whose opening quote was consumed.
fn skip_string(mut rest: &[u8]) -> &[u8] {
    loop {
        let Some(quote) = memchr::memchr(b'"', rest) else {
            return &[];
        };
        let (before, after) = rest.split_at(quote);
        let backslashes = before.iter().rev().take_while(|&&b| b == b'\\').count();
        // `after` starts with the quote itself.
        let after = after.get(1..).unwrap_or_default();
        if backslashes % 2 == 0 {
            return after;
        }
        rest = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn counts_exactly() {
        assert!(!exceeds(nested(128).as_bytes(), 128));
        assert!(exceeds(nested(129).as_bytes(), 128));
        assert!(!exceeds(b"{}", 1));
        assert!(exceeds(b"{\"a\":{}}", 1));
        assert!(!exceeds(b"", 0));
    }

    #[test]
    fn brackets_inside_strings_do_not_count() {
        let body = format!(r#"{{"a":"{}","b":"\"[[[\\","c":[]}}"#, "[".repeat(500));
        assert!(!exceeds(body.as_bytes(), 2));
        assert!(exceeds(body.as_bytes(), 1));
    }

    #[test]
    fn escaped_quotes_and_backslashes() {
        // "x\\" ends at the second quote; the brackets after it are structural.
        let body = br#"["x\\",[[]]]"#;
        assert!(exceeds(body, 2));
        assert!(!exceeds(body, 3));
        // "x\"[[[" is one string.
        let body = br#"["x\"[[[[",[]]"#;
        assert!(!exceeds(body, 2));
    }

    #[test]
    fn bomb_is_linear_and_rejected() {
        let bomb = "[".repeat(100_000);
        assert!(exceeds(bomb.as_bytes(), MAX_DEPTH));
        let unterminated = format!("[\"{}", "[".repeat(1000));
        assert!(!exceeds(unterminated.as_bytes(), MAX_DEPTH));
    }
}
