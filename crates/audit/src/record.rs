//! The record line: one event, its place in the chain, and its hash.
//!
//! Every line of a log file is exactly
//!
//! ```text
//! {"seq":<n>,"prev":"<64 hex>","event":<event JSON>,"hash":"<64 hex>"}\n
//! ```
//!
//! `hash` is the SHA-256 of the line's bytes before `,"hash":"` (that is,
//! the line without its last 75 bytes and the newline), so it covers the
//! sequence number, the previous record's hash and the event exactly as
//! stored, with no canonicalisation to agree on. `prev` is the `hash` of the
//! record before (64 zeros for the very first record of the trail) and `seq`
//! counts records from 1 across all files. A record whose own hash does not
//! match is *altered*; a record whose `prev` is not the hash of the line
//! before is a *break* in the chain.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::times::parse_rfc3339;
use crate::AuditEvent;

/// A SHA-256 value.
pub(crate) type Hash = [u8; 32];

/// `prev` of the first record of the trail.
pub(crate) const GENESIS_PREV: Hash = [0u8; 32];

/// Bytes of `,"hash":"<64 hex>"}` at the end of every line.
const HASH_SUFFIX_LEN: usize = HASH_TAG.len() + 64 + 2;
const HASH_TAG: &[u8] = b",\"hash\":\"";
const LINE_START: &[u8] = b"{\"seq\":";

/// Appends the record line (with its newline) for `event_json` to `out` and
/// returns the record's hash. `event_json` must be compact JSON (no raw
/// newline), as `serde_json::to_vec` writes it.
pub(crate) fn encode_record(seq: u64, prev: &Hash, event_json: &[u8], out: &mut Vec<u8>) -> Hash {
    let start = out.len();
    out.extend_from_slice(LINE_START);
    out.extend_from_slice(seq.to_string().as_bytes());
    out.extend_from_slice(b",\"prev\":\"");
    out.extend_from_slice(hex::encode(prev).as_bytes());
    out.extend_from_slice(b"\",\"event\":");
    out.extend_from_slice(event_json);
    let hash = ferrokms_crypto::sha256(&out[start..]);
    out.extend_from_slice(HASH_TAG);
    out.extend_from_slice(hex::encode(hash).as_bytes());
    out.extend_from_slice(b"\"}\n");
    hash
}

/// What the chain needs from a valid record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecordHead {
    pub seq: u64,
    pub prev: Hash,
    pub hash: Hash,
    /// `eventTime` in epoch milliseconds, if present and RFC 3339.
    pub event_ms: Option<i64>,
}

/// Why a line is not a valid record, with whatever could still be read
/// from it (to keep following the chain past it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecordDefect {
    pub reason: &'static str,
    /// The `hash` the line declares, if it has a well-formed one.
    pub declared_hash: Option<Hash>,
}

/// Checks one line (without its newline) and reads its chain fields.
pub(crate) fn decode_head(line: &[u8]) -> Result<RecordHead, RecordDefect> {
    let (seq, prev, hash, event) = decode::<EventTimeOnly>(line)?;
    let event_ms = event.event_time.as_deref().and_then(parse_rfc3339);
    Ok(RecordHead {
        seq,
        prev,
        hash,
        event_ms,
    })
}

/// Checks one line and returns its sequence number and event.
pub(crate) fn decode_event(line: &[u8]) -> Result<(u64, Hash, AuditEvent), RecordDefect> {
    let (seq, _, hash, event) = decode::<AuditEvent>(line)?;
    Ok((seq, hash, event))
}

fn decode<E: DeserializeOwned>(line: &[u8]) -> Result<(u64, Hash, Hash, E), RecordDefect> {
    let defect = |reason, declared_hash| {
        Err(RecordDefect {
            reason,
            declared_hash,
        })
    };
    if line.len() < LINE_START.len() + HASH_SUFFIX_LEN || !line.starts_with(LINE_START) {
        return defect("not a record line", None);
    }
    let (body, suffix) = line.split_at(line.len() - HASH_SUFFIX_LEN);
    let declared = (suffix.starts_with(HASH_TAG) && suffix.ends_with(b"\"}"))
        .then(|| parse_hex_hash(&suffix[HASH_TAG.len()..HASH_TAG.len() + 64]))
        .flatten();
    let Some(declared) = declared else {
        return defect("the line does not end with its hash", None);
    };
    if ferrokms_crypto::sha256(body) != declared {
        return defect("its hash does not match its contents", Some(declared));
    }
    let envelope: Envelope<E> = match serde_json::from_slice(line) {
        Ok(e) => e,
        Err(_) => return defect("not valid record JSON", Some(declared)),
    };
    let Some(prev) = parse_hex_hash(envelope.prev.as_bytes()) else {
        return defect("its prev is not a SHA-256 in lowercase hex", Some(declared));
    };
    Ok((envelope.seq, prev, declared, envelope.event))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<E> {
    seq: u64,
    prev: String,
    event: E,
    #[allow(dead_code)] // present for `deny_unknown_fields`; checked from the raw bytes
    hash: String,
}

#[derive(Deserialize)]
struct EventTimeOnly {
    #[serde(rename = "eventTime", default)]
    event_time: Option<String>,
}

/// 64 lowercase hex digits as a hash.
pub(crate) fn parse_hex_hash(text: &[u8]) -> Option<Hash> {
    if text.len() != 64 || !text.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(seq: u64, prev: &Hash, event: &str) -> (Vec<u8>, Hash) {
        let mut out = Vec::new();
        let h = encode_record(seq, prev, event.as_bytes(), &mut out);
        assert_eq!(out.pop(), Some(b'\n'));
        (out, h)
    }

    #[test]
    fn encoded_lines_decode_and_hash_their_prefix() {
        let (l, h) = line(7, &GENESIS_PREV, r#"{"eventTime":"2025-01-02T03:04:05Z"}"#);
        let text = std::str::from_utf8(&l).expect("utf8");
        assert!(text.starts_with(r#"{"seq":7,"prev":"0000"#));
        assert_eq!(ferrokms_crypto::sha256(&l[..l.len() - 75]), h);
        let head = decode_head(&l).expect("valid");
        assert_eq!(head.seq, 7);
        assert_eq!(head.prev, GENESIS_PREV);
        assert_eq!(head.hash, h);
        assert_eq!(head.event_ms, Some(1_735_787_045_000));
    }

    #[test]
    fn an_edited_byte_is_an_altered_record_that_still_declares_its_hash() {
        let (mut l, h) = line(1, &GENESIS_PREV, r#"{"eventName":"Encrypt"}"#);
        let at = l.iter().position(|&b| b == b'E').expect("E");
        l[at] = b'D';
        let d = decode_head(&l).expect_err("altered");
        assert_eq!(d.declared_hash, Some(h));
    }

    #[test]
    fn malformed_lines_are_defects() {
        assert!(decode_head(b"").is_err());
        assert!(decode_head(b"{\"seq\":1}").is_err());
        let (l, _) = line(1, &GENESIS_PREV, "{}");
        assert!(decode_head(&l[..l.len() - 1]).is_err());
        // A line that hashes correctly but carries an extra field.
        let body = br#"{"seq":1,"prev":"0000000000000000000000000000000000000000000000000000000000000000","event":{},"x":1"#;
        let mut forged = body.to_vec();
        forged.extend_from_slice(HASH_TAG);
        forged.extend_from_slice(hex::encode(ferrokms_crypto::sha256(body)).as_bytes());
        forged.extend_from_slice(b"\"}");
        assert_eq!(
            decode_head(&forged).expect_err("extra").reason,
            "not valid record JSON"
        );
    }

    #[test]
    fn events_decode_in_full() {
        let (l, _) = line(3, &GENESIS_PREV, r#"{"eventName":"Decrypt"}"#);
        let (seq, _, e) = decode_event(&l).expect("valid");
        assert_eq!(seq, 3);
        assert_eq!(e.event_name, "Decrypt");
    }
}
