//! Helpers shared by this crate's unit tests.

/// Decodes lowercase or uppercase hex; panics on bad input (tests only).
pub(crate) fn hex(s: &str) -> Vec<u8> {
    s.as_bytes()
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).expect("ascii");
            assert_eq!(pair.len(), 2, "odd hex length");
            u8::from_str_radix(pair, 16).expect("hex digit")
        })
        .collect()
}
