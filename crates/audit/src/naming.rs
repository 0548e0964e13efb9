//! File names of the audit directory and how to list them in order.
//!
//! Each log file and its digest share a *stem*,
//! `audit-<10-digit file number>-<UTC creation stamp>`:
//!
//! - `<stem>.jsonl`: the records;
//! - `<stem>.digest.json`: the digest, written when the file is closed;
//! - `<stem>.digest.sig`: the Ed25519 signature of the digest's bytes.
//!
//! File numbers count from 1 with no gaps; the order of the trail is the
//! order of the numbers, so a missing number is a missing file. Names
//! ending in `.tmp` are unfinished writes, removed when the log opens.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use crate::error::IoContext;
use crate::times::file_stamp;
use crate::AuditError;

pub(crate) const LOG_SUFFIX: &str = ".jsonl";
pub(crate) const DIGEST_SUFFIX: &str = ".digest.json";
pub(crate) const SIG_SUFFIX: &str = ".digest.sig";
pub(crate) const TMP_SUFFIX: &str = ".tmp";
const PREFIX: &str = "audit-";

/// The stem of file `number`, created at `created_ms`.
pub(crate) fn stem(number: u64, created_ms: i64) -> String {
    format!("{PREFIX}{number:010}-{}", file_stamp(created_ms))
}

/// One stem found in the directory, and which of its files exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub number: u64,
    pub stem: String,
    pub has_log: bool,
    pub has_digest: bool,
    pub has_sig: bool,
}

impl Entry {
    pub fn log_name(&self) -> String {
        format!("{}{LOG_SUFFIX}", self.stem)
    }
    pub fn digest_name(&self) -> String {
        format!("{}{DIGEST_SUFFIX}", self.stem)
    }
    pub fn sig_name(&self) -> String {
        format!("{}{SIG_SUFFIX}", self.stem)
    }
}

/// The audit files of a directory, ordered by file number (then stem).
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub entries: Vec<Entry>,
    /// Leftover `*.tmp` files (names only).
    pub temp_files: Vec<String>,
}

/// Lists `dir`. Names that are not audit files are ignored.
pub(crate) fn list(dir: &Path) -> Result<Listing, AuditError> {
    let mut listing = Listing::default();
    let mut by_stem: HashMap<String, Entry> = HashMap::new();
    for item in fs::read_dir(dir).at(dir)? {
        let item = item.at(dir)?;
        let Ok(name) = item.file_name().into_string() else {
            continue;
        };
        if name.starts_with(PREFIX) && name.ends_with(TMP_SUFFIX) {
            listing.temp_files.push(name);
            continue;
        }
        let Some((stem, kind)) = split_name(&name) else {
            continue;
        };
        let Some(number) = parse_stem(stem) else {
            continue;
        };
        let entry = by_stem.entry(stem.to_owned()).or_insert_with(|| Entry {
            number,
            stem: stem.to_owned(),
            has_log: false,
            has_digest: false,
            has_sig: false,
        });
        match kind {
            Kind::Log => entry.has_log = true,
            Kind::Digest => entry.has_digest = true,
            Kind::Sig => entry.has_sig = true,
        }
    }
    listing.entries = by_stem.into_values().collect();
    listing
        .entries
        .sort_by(|a, b| (a.number, &a.stem).cmp(&(b.number, &b.stem)));
    listing.temp_files.sort();
    Ok(listing)
}

enum Kind {
    Log,
    Digest,
    Sig,
}

fn split_name(name: &str) -> Option<(&str, Kind)> {
    if let Some(stem) = name.strip_suffix(DIGEST_SUFFIX) {
        Some((stem, Kind::Digest))
    } else if let Some(stem) = name.strip_suffix(SIG_SUFFIX) {
        Some((stem, Kind::Sig))
    } else {
        name.strip_suffix(LOG_SUFFIX).map(|stem| (stem, Kind::Log))
    }
}

/// The file number of a well-formed stem.
pub(crate) fn parse_stem(stem: &str) -> Option<u64> {
    let rest = stem.strip_prefix(PREFIX)?;
    let (digits, stamp) = rest.split_once('-')?;
    let stamp = stamp.as_bytes();
    let stamp_ok = stamp.len() == 16
        && stamp[8] == b'T'
        && stamp[15] == b'Z'
        && stamp[..8]
            .iter()
            .chain(&stamp[9..15])
            .all(u8::is_ascii_digit);
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) || !stamp_ok {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_numbered_and_stamped() {
        let s = stem(42, 1_735_787_045_678);
        assert_eq!(s, "audit-0000000042-20250102T030405Z");
        assert_eq!(parse_stem(&s), Some(42));
        assert_eq!(parse_stem("audit-42-20250102T030405Z"), None);
        assert_eq!(parse_stem("audit-0000000042-2025"), None);
    }

    #[test]
    fn listing_groups_files_by_stem_in_number_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = stem(2, 0);
        let b = stem(10, 0);
        for name in [
            format!("{b}.jsonl"),
            format!("{a}.jsonl"),
            format!("{a}.digest.json"),
            format!("{a}.digest.sig"),
            format!("{b}.digest.json.tmp"),
            "audit-public-key.pem".to_owned(),
            "notes.txt".to_owned(),
        ] {
            fs::write(dir.path().join(name), b"x").expect("write");
        }
        let l = list(dir.path()).expect("list");
        assert_eq!(l.entries.len(), 2);
        assert_eq!(l.entries[0].number, 2);
        assert!(l.entries[0].has_log && l.entries[0].has_digest && l.entries[0].has_sig);
        assert_eq!(l.entries[1].number, 10);
        assert!(l.entries[1].has_log && !l.entries[1].has_digest);
        assert_eq!(l.temp_files, vec![format!("{b}.digest.json.tmp")]);
    }
}
