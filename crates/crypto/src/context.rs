//! Canonical encoding of an encryption context.
//!
//! The encryption context is authenticated, not encrypted: its encoding goes
//! into the AEAD associated data of every ciphertext. It must therefore be
//! injective — two different maps must never encode to the same bytes — so
//! every string is length-prefixed and the pair count comes first.
//!
//! Layout: pair count (u32 big-endian), then for each pair in ascending byte
//! order of keys: key length (u32 BE), key bytes (UTF-8), value length
//! (u32 BE), value bytes. An empty context is the four bytes `00 00 00 00`.

use std::collections::BTreeMap;

/// Encodes `ctx` canonically (see the module docs).
///
/// `BTreeMap<String, _>` iterates in `str` order, which is exactly byte-wise
/// order of the UTF-8 keys, so the order needs no extra sort.
pub fn encode_encryption_context(ctx: &BTreeMap<String, String>) -> Vec<u8> {
    let size = 4 + ctx
        .iter()
        .map(|(k, v)| 8 + k.len() + v.len())
        .sum::<usize>();
    let mut out = Vec::with_capacity(size);
    push_len(&mut out, ctx.len());
    for (key, value) in ctx {
        push_len(&mut out, key.len());
        out.extend_from_slice(key.as_bytes());
        push_len(&mut out, value.len());
        out.extend_from_slice(value.as_bytes());
    }
    out
}

/// Appends `n` as a u32 big-endian.
///
/// Invariant: contexts come from request bodies capped far below 4 GiB
/// (AWS limits a whole context to 8 KiB), so `n` always fits; saturating
/// instead of panicking keeps this function total.
fn push_len(out: &mut Vec<u8>, n: usize) {
    let n = u32::try_from(n).unwrap_or(u32::MAX);
    out.extend_from_slice(&n.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn empty_context_is_a_zero_count() {
        assert_eq!(
            encode_encryption_context(&BTreeMap::new()),
            vec![0, 0, 0, 0]
        );
    }

    #[test]
    fn exact_bytes_of_a_two_pair_context() {
        let got = encode_encryption_context(&ctx(&[("b", "xy"), ("a", "")]));
        let want: Vec<u8> = [
            &[0, 0, 0, 2][..],
            &[0, 0, 0, 1],
            b"a",
            &[0, 0, 0, 0],
            &[0, 0, 0, 1],
            b"b",
            &[0, 0, 0, 2],
            b"xy",
        ]
        .concat();
        assert_eq!(got, want);
    }

    #[test]
    fn splitting_strings_differently_changes_the_encoding() {
        let a = encode_encryption_context(&ctx(&[("a", "bc")]));
        let b = encode_encryption_context(&ctx(&[("ab", "c")]));
        assert_ne!(a, b);
        let merged = encode_encryption_context(&ctx(&[("a", "b"), ("c", "d")]));
        let joined = encode_encryption_context(&ctx(&[("a", "bcd")]));
        assert_ne!(merged, joined);
    }

    #[test]
    fn empty_pair_differs_from_no_pair() {
        assert_ne!(
            encode_encryption_context(&ctx(&[("", "")])),
            encode_encryption_context(&BTreeMap::new())
        );
    }

    #[test]
    fn keys_are_in_byte_order() {
        // "Z" (0x5a) sorts before "a" (0x61), and "é" (0xc3 0xa9) after both.
        let got = encode_encryption_context(&ctx(&[("é", "1"), ("a", "2"), ("Z", "3")]));
        let z = got.windows(1).position(|w| w == b"Z").expect("Z");
        let a = got.windows(1).position(|w| w == b"a").expect("a");
        let e = got.windows(2).position(|w| w == "é".as_bytes()).expect("é");
        assert!(z < a && a < e);
    }
}
