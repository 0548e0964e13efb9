//! [`query`]: the events of the trail that match a filter, in order,
//! streamed one line at a time.
//!
//! Querying reads files the writer may be appending to; an incomplete last
//! line is simply not there yet. It does not verify the trail (that is
//! [`crate::verify`]); a line that is not a valid record is yielded as an
//! error and the iteration goes on. Reading is blocking: from async code,
//! drive the iterator inside `spawn_blocking`.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::Value;

use crate::clock::system_time_to_ms;
use crate::digest::read_digest;
use crate::naming::{self, Entry};
use crate::record::decode_event;
use crate::scan::LineReader;
use crate::times::parse_rfc3339;
use crate::{AuditError, AuditEvent};

/// Which events to return; every field set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryFilter {
    /// A key id or key ARN: matches an event whose `resources[].ARN` or
    /// `requestParameters.keyId` is that key (as id or ARN). An alias
    /// (`alias/name`, or its ARN) matches `requestParameters.keyId` exactly.
    pub key_id: Option<String>,
    /// Matches `userIdentity.arn` exactly.
    pub principal: Option<String>,
    /// Matches `eventName` exactly, e.g. `Decrypt`.
    pub event_name: Option<String>,
    /// Keeps events whose `eventTime` is at or after this instant (events
    /// without a readable time are left out).
    pub since: Option<SystemTime>,
}

/// One matching event and where it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// Log file name.
    pub file: String,
    /// 1-based line number in that file.
    pub line: u64,
    /// The record's sequence number in the trail.
    pub seq: u64,
    /// The record's hash, lowercase hex.
    pub hash: String,
    /// The event.
    pub event: AuditEvent,
}

/// Starts a query over the audit directory `dir`. The files present now
/// are read in order; the iterator holds one file open at a time.
pub fn query(dir: &Path, filter: QueryFilter) -> Result<QueryIter, AuditError> {
    let since_ms = filter.since.map(system_time_to_ms);
    let mut files: Vec<Entry> = naming::list(dir)?
        .entries
        .into_iter()
        .filter(|e| e.has_log)
        .collect();
    if let Some(since) = since_ms {
        // A closed file whose latest event is before `since` has nothing to give.
        files.retain(|e| !ends_before(dir, e, since));
    }
    files.reverse();
    Ok(QueryIter {
        dir: dir.to_path_buf(),
        files,
        current: None,
        buf: Vec::new(),
        matcher: Matcher {
            key: filter.key_id.as_deref().map(KeyRef::parse),
            filter,
            since_ms,
        },
    })
}

fn ends_before(dir: &Path, entry: &Entry, since_ms: i64) -> bool {
    entry.has_digest
        && read_digest(dir, entry).is_ok_and(|d| {
            d.digest
                .latest_event_time
                .as_deref()
                .and_then(parse_rfc3339)
                .is_some_and(|latest| latest < since_ms)
        })
}

/// Iterator over the matching events of [`query`].
pub struct QueryIter {
    dir: PathBuf,
    /// Files still to read, last first.
    files: Vec<Entry>,
    current: Option<(String, LineReader<BufReader<File>>)>,
    buf: Vec<u8>,
    matcher: Matcher,
}

/// The filter, prepared for matching.
struct Matcher {
    key: Option<KeyRef>,
    filter: QueryFilter,
    since_ms: Option<i64>,
}

impl Iterator for QueryIter {
    type Item = Result<AuditRecord, AuditError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let Some((name, reader)) = self.current.as_mut() else {
                let entry = self.files.pop()?;
                let name = entry.log_name();
                let path = self.dir.join(&name);
                match File::open(&path) {
                    Ok(f) => self.current = Some((name, LineReader::new(BufReader::new(f), false))),
                    // Removed since listing (retention): skip it.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Some(Err(AuditError::io(path, e))),
                }
                continue;
            };
            let line = match reader.next_line(&mut self.buf) {
                Ok(Some(line)) if line.complete => line,
                Ok(_) => {
                    self.current = None;
                    continue;
                }
                Err(e) => {
                    let path = self.dir.join(name.as_str());
                    self.current = None;
                    return Some(Err(AuditError::io(path, e)));
                }
            };
            let (seq, hash, event) = match decode_event(&self.buf) {
                Ok(decoded) => decoded,
                Err(defect) => {
                    return Some(Err(AuditError::Corrupt {
                        file: name.clone(),
                        reason: format!("line {}: {}", line.no, defect.reason),
                    }))
                }
            };
            if self.matcher.matches(&event) {
                return Some(Ok(AuditRecord {
                    file: name.clone(),
                    line: line.no,
                    seq,
                    hash: hex::encode(hash),
                    event,
                }));
            }
        }
    }
}

impl Matcher {
    fn matches(&self, event: &AuditEvent) -> bool {
        let f = &self.filter;
        if f.event_name
            .as_ref()
            .is_some_and(|n| *n != event.event_name)
        {
            return false;
        }
        if f.principal
            .as_ref()
            .is_some_and(|p| *p != event.user_identity.arn)
        {
            return false;
        }
        if let Some(since) = self.since_ms {
            if parse_rfc3339(&event.event_time).is_none_or(|t| t < since) {
                return false;
            }
        }
        match &self.key {
            None => true,
            Some(key) => {
                let param = event
                    .request_parameters
                    .as_ref()
                    .and_then(|p| p.get("keyId"))
                    .and_then(Value::as_str);
                event.resources.iter().any(|r| key.matches(&r.arn))
                    || param.is_some_and(|p| key.matches(p))
            }
        }
    }
}

/// A key reference from the filter: its text and, for key ids and key
/// ARNs, the bare key id.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KeyRef {
    text: String,
    key_id: Option<String>,
}

impl KeyRef {
    fn parse(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            key_id: bare_key_id(text).map(str::to_owned),
        }
    }

    fn matches(&self, candidate: &str) -> bool {
        candidate == self.text
            || self
                .key_id
                .as_deref()
                .is_some_and(|id| bare_key_id(candidate) == Some(id))
    }
}

/// `1234…` for `1234…` or `arn:…:key/1234…`; `None` for aliases.
fn bare_key_id(text: &str) -> Option<&str> {
    if text.starts_with("arn:") {
        let (_, resource) = text.rsplit_once(':')?;
        resource.strip_prefix("key/")
    } else if text.starts_with("alias/") || text.is_empty() {
        None
    } else {
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_references_match_ids_and_arns_but_aliases_only_exactly() {
        let arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd";
        let by_id = KeyRef::parse("1234abcd");
        assert!(by_id.matches(arn));
        assert!(by_id.matches("1234abcd"));
        assert!(!by_id.matches("arn:aws:kms:eu-west-1:111122223333:key/5678"));
        assert!(KeyRef::parse(arn).matches("1234abcd"));
        let alias = KeyRef::parse("alias/app");
        assert!(alias.matches("alias/app"));
        assert!(!alias.matches("app"));
        assert!(!KeyRef::parse("alias/app").matches("arn:aws:kms:eu-west-1:111122223333:alias/app"));
    }
}
