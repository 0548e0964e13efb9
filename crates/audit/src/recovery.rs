//! Opening the audit directory: where the chain continues, and repair of a
//! file left open by a process that died.
//!
//! Only the newest file is looked at. If it has a digest, the chain
//! continues from that digest (whose signature must verify). If it has
//! none, the previous process stopped without closing it: its longest valid
//! prefix of records (each well-formed, hashing correctly and linking to
//! the one before) is kept, anything after it is cut off, and the file is
//! closed with its digest before a new file is started.
//!
//! Appends are acknowledged only after `fdatasync`, so whatever follows the
//! valid prefix after a crash was never acknowledged: usually a torn last
//! line. If more than a torn line is cut (complete lines that do not chain,
//! which a crash alone rarely leaves), the cut bytes are kept beside the
//! file as `<stem>.jsonl.<ms>.discarded` and a warning is logged, so
//! evidence of tampering is not destroyed by the repair.
//!
//! Before anything is repaired, the trail is checked against its
//! checkpoint (`checkpoint.rs`): the last acknowledged record must still be
//! there. If it is not (records cut from the end, the file or every file
//! deleted, the checkpoint deleted or forged), opening fails with
//! [`AuditError::TailLost`] and nothing is changed, so the shortened file
//! is not signed as if it were whole; unless the operator accepts the loss.
//! Either way a new checkpoint of where the chain continues is written.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use ferrokms_crypto::{verify_audit_signature, AuditSigningKey, Sha256Hasher};
use tracing::warn;

use crate::checkpoint::{
    checkpoint_path, read_checkpoint, Checkpoint, CheckpointReadError, CheckpointWriter,
};
use crate::digest::{read_digest, read_signature, write_digest, DigestLink, SummaryBuilder};
use crate::error::IoContext;
use crate::fsutil::{sync_dir, write_replace};
use crate::log::CheckpointExpectation;
use crate::naming::{self, Entry, Listing, DIGEST_SUFFIX, LOG_SUFFIX};
use crate::pem::{public_key_from_pem, public_key_to_pem, PUBLIC_KEY_FILE};
use crate::record::{decode_head, parse_hex_hash, Hash, GENESIS_PREV};
use crate::scan::LineReader;
use crate::segment::Chain;
use crate::AuditError;

/// Where the chain continues, and what was lost if a loss was accepted.
#[derive(Debug)]
pub(crate) struct Recovered {
    pub chain: Chain,
    pub loss: Option<String>,
}

/// Prepares `dir` for writing and returns where the chain continues.
/// Refuses a trail that ends before its checkpoint unless `accept_loss`.
pub(crate) fn recover(
    dir: &Path,
    signer: &AuditSigningKey,
    now_ms: i64,
    accept_loss: bool,
    expectation: CheckpointExpectation,
) -> Result<Recovered, AuditError> {
    let mut loss = None;
    let chain = recover_chain(dir, signer, now_ms, expectation, &mut |detail: String| {
        if !accept_loss {
            return Err(AuditError::TailLost(detail));
        }
        warn!(loss = %detail, "audit trail lost acknowledged records; continuing as the operator accepted");
        loss = Some(detail);
        Ok(())
    })?;
    let head = Checkpoint {
        log_file: chain
            .prev_digest
            .as_ref()
            .and_then(|l| l.file.strip_suffix(DIGEST_SUFFIX))
            .map(|stem| format!("{stem}{LOG_SUFFIX}")),
        last_seq: chain.next_seq - 1,
        last_hash: chain.last_hash,
    };
    CheckpointWriter::new(dir, signer).write_durably(&head, signer, now_ms)?;
    Ok(Recovered { chain, loss })
}

/// A found loss: an error, or accepted (and then noted).
type OnLoss<'a> = dyn FnMut(String) -> Result<(), AuditError> + 'a;

fn recover_chain(
    dir: &Path,
    signer: &AuditSigningKey,
    now_ms: i64,
    expectation: CheckpointExpectation,
    on_loss: &mut OnLoss<'_>,
) -> Result<Chain, AuditError> {
    fs::create_dir_all(dir).at(dir)?;
    ensure_public_key(dir, signer)?;
    let listing = naming::list(dir)?;
    for tmp in &listing.temp_files {
        let path = dir.join(tmp);
        fs::remove_file(&path).at(&path)?;
    }
    if !listing.temp_files.is_empty() {
        sync_dir(dir)?;
    }
    let public_key = signer.public_key_der();
    // The last acknowledged record, when the open file still has to show it.
    let want = check_checkpoint(dir, &listing, &public_key, expectation, on_loss)?;
    let Some(newest) = listing.entries.last() else {
        return Ok(Chain::genesis());
    };
    if newest.has_digest {
        let (link, last_seq, last_hash) = trusted_digest(dir, newest, &public_key)?;
        if let Some((seq, hash)) = want {
            if last_seq < seq || (last_seq == seq && last_hash != hash) {
                on_loss(format!(
                    "{} was signed ending at record seq {last_seq}, but seq {seq} was acknowledged",
                    newest.log_name()
                ))?;
            }
        }
        return Ok(Chain {
            next_seq: last_seq + 1,
            last_hash,
            next_file_number: newest.number + 1,
            prev_digest: Some(link),
        });
    }
    let previous = listing
        .entries
        .iter()
        .rev()
        .find(|e| e.number + 1 == newest.number && e.has_digest);
    let previous = previous
        .map(|e| trusted_digest(dir, e, &public_key))
        .transpose()?;
    repair_and_close(dir, newest, previous, signer, now_ms, want, on_loss)
}

/// Checks the listing against the checkpoint. Returns the last
/// acknowledged record when it is in the newest file (checked there).
fn check_checkpoint(
    dir: &Path,
    listing: &Listing,
    public_key: &[u8],
    expectation: CheckpointExpectation,
    on_loss: &mut OnLoss<'_>,
) -> Result<Option<(u64, Hash)>, AuditError> {
    let checkpoint = match read_checkpoint(dir, public_key) {
        Ok(c) => c,
        Err(CheckpointReadError::Io(e)) => return Err(e),
        Err(CheckpointReadError::Invalid(reason)) => {
            on_loss(format!(
                "checkpoint {} is unusable ({reason})",
                checkpoint_path(dir).display()
            ))?;
            return Ok(None);
        }
    };
    let Some(checkpoint) = checkpoint else {
        let files = listing.entries.len();
        let lost = match expectation {
            CheckpointExpectation::NotYetWritten => false,
            CheckpointExpectation::IfTrailExists => files > 0,
            CheckpointExpectation::Required => true,
        };
        if lost {
            on_loss(format!(
                "checkpoint {} is missing beside a trail of {files} files",
                checkpoint_path(dir).display(),
            ))?;
        }
        return Ok(None);
    };
    let Some(file) = checkpoint.log_file else {
        return Ok(None);
    };
    let (seq, hash) = (checkpoint.last_seq, checkpoint.last_hash);
    let newest = listing.entries.last();
    match listing
        .entries
        .iter()
        .find(|e| e.has_log && e.log_name() == file)
    {
        None => {
            let what = if listing.entries.is_empty() {
                "the trail is empty"
            } else {
                "it is missing"
            };
            on_loss(format!(
                "{file} held the last acknowledged record (seq {seq}), but {what}"
            ))?;
            Ok(None)
        }
        Some(e) if newest.is_some_and(|n| n.stem == e.stem) => Ok(Some((seq, hash))),
        // Later files follow it: the trail goes on past the checkpoint.
        Some(_) => Ok(None),
    }
}

/// Writes `audit-public-key.pem`, or checks that the one there is ours.
fn ensure_public_key(dir: &Path, signer: &AuditSigningKey) -> Result<(), AuditError> {
    let der = signer.public_key_der();
    let path = dir.join(PUBLIC_KEY_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => {
            if public_key_from_pem(&text)? != der {
                return Err(AuditError::KeyMismatch);
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            write_replace(dir, PUBLIC_KEY_FILE, public_key_to_pem(&der).as_bytes())?;
            sync_dir(dir)
        }
        Err(e) => Err(AuditError::io(path, e)),
    }
}

/// Reads a digest the chain will continue from; it must be well-formed and
/// signed by `public_key`. Returns its link, last seq and last record hash.
fn trusted_digest(
    dir: &Path,
    entry: &Entry,
    public_key: &[u8],
) -> Result<(DigestLink, u64, Hash), AuditError> {
    let corrupt = |reason: String| AuditError::Corrupt {
        file: entry.digest_name(),
        reason,
    };
    let read = read_digest(dir, entry).map_err(|e| match e {
        crate::digest::DigestReadError::Io(e) => e,
        crate::digest::DigestReadError::Invalid(reason) => corrupt(reason),
    })?;
    let signature = read_signature(dir, entry)?.ok_or_else(|| corrupt("no signature".into()))?;
    if !verify_audit_signature(public_key, &read.bytes, &signature) {
        return Err(corrupt("signature does not verify".into()));
    }
    let last_hash = parse_hex_hash(read.digest.last_record_hash.as_bytes())
        .ok_or_else(|| corrupt("lastRecordHash is not a SHA-256".into()))?;
    Ok((
        read.link(entry.digest_name()),
        read.digest.last_seq,
        last_hash,
    ))
}

/// Keeps the valid prefix of the unclosed newest file and signs it.
fn repair_and_close(
    dir: &Path,
    entry: &Entry,
    previous: Option<(DigestLink, u64, Hash)>,
    signer: &AuditSigningKey,
    now_ms: i64,
    want: Option<(u64, Hash)>,
    on_loss: &mut OnLoss<'_>,
) -> Result<Chain, AuditError> {
    let name = entry.log_name();
    let path = dir.join(&name);
    let file = File::open(&path).at(&path)?;
    let file_len = file.metadata().at(&path)?.len();
    let mut reader = LineReader::new(BufReader::new(file), false);
    let mut hasher = Sha256Hasher::new();
    let mut summary = SummaryBuilder::default();
    let mut last: Option<(u64, Hash)> = None;
    let mut valid_end = 0u64;
    let mut reached = want.is_none();
    let mut buf = Vec::new();
    while let Some(line) = reader.next_line(&mut buf).at(&path)? {
        if !line.complete || line.oversize {
            break;
        }
        let Ok(head) = decode_head(&buf) else {
            break;
        };
        if last.is_some_and(|(seq, hash)| head.prev != hash || head.seq != seq + 1) {
            break;
        }
        hasher.update(&buf);
        hasher.update(b"\n");
        summary.add(head.seq, &head.prev, &head.hash, head.event_ms);
        last = Some((head.seq, head.hash));
        reached |= want == last;
        valid_end = line.end;
    }
    drop(reader);
    // Checked before anything is cut or signed: a refused start changes nothing.
    if let (false, Some((seq, _))) = (reached, want) {
        let ends = last.map_or_else(
            || "no valid record".to_owned(),
            |(s, _)| format!("valid records up to seq {s}"),
        );
        on_loss(format!(
            "{name} holds {ends}, but record seq {seq} was acknowledged in it"
        ))?;
    }
    if valid_end < file_len {
        cut_tail(dir, &name, valid_end, now_ms)?;
    }
    let (prev_link, prev_chain) = match previous {
        Some((link, seq, hash)) => (Some(link), (seq + 1, hash)),
        None => (None, (1, GENESIS_PREV)),
    };
    let Some(((last_seq, last_hash), summary)) =
        last.zip(summary.finish(hasher.finish(), valid_end))
    else {
        // Not one record survived: the file never held an acknowledged event.
        fs::remove_file(&path).at(&path)?;
        sync_dir(dir)?;
        return Ok(Chain {
            next_seq: prev_chain.0,
            last_hash: prev_chain.1,
            next_file_number: entry.number,
            prev_digest: prev_link,
        });
    };
    warn!(file = %name, records = summary.records, "audit log file was left open; closed and signed it");
    let link = write_digest(
        dir,
        &entry.stem,
        &summary,
        prev_link.as_ref(),
        signer,
        now_ms,
    )?;
    Ok(Chain {
        next_seq: last_seq + 1,
        last_hash,
        next_file_number: entry.number + 1,
        prev_digest: Some(link),
    })
}

/// Truncates `dir/name` to `keep` bytes, saving the cut bytes aside when
/// they are more than one torn line.
fn cut_tail(dir: &Path, name: &str, keep: u64, now_ms: i64) -> Result<(), AuditError> {
    let path = dir.join(name);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .at(&path)?;
    let mut tail = Vec::new();
    file.seek(SeekFrom::Start(keep))
        .and_then(|_| file.read_to_end(&mut tail))
        .at(&path)?;
    let whole_lines = tail.contains(&b'\n');
    if whole_lines {
        let aside = format!("{name}.{now_ms}.discarded");
        write_replace(dir, &aside, &tail)?;
        warn!(file = %name, bytes = tail.len(), kept_as = %aside,
            "audit log file ends with lines that do not chain; cut them off and kept them aside");
    } else {
        warn!(file = %name, bytes = tail.len(), "audit log file ends with a torn record; cut it off");
    }
    file.set_len(keep)
        .and_then(|()| file.sync_all())
        .at(&path)?;
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::encode_record;

    fn key() -> AuditSigningKey {
        AuditSigningKey::generate().expect("key").0
    }

    #[test]
    fn an_empty_directory_starts_the_chain() {
        let dir = tempfile::tempdir().expect("tempdir");
        let k = key();
        let chain = recover(&dir.path().join("audit"), &k, 0, false, Default::default())
            .map(|r| r.chain)
            .expect("recover");
        assert_eq!(chain, Chain::genesis());
        let pem = fs::read_to_string(dir.path().join("audit").join(PUBLIC_KEY_FILE)).expect("pem");
        assert_eq!(public_key_from_pem(&pem).expect("der"), k.public_key_der());
    }

    #[test]
    fn another_signing_key_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        recover(
            &dir.path().join("audit"),
            &key(),
            0,
            false,
            Default::default(),
        )
        .map(|r| r.chain)
        .expect("first");
        assert!(matches!(
            recover(
                &dir.path().join("audit"),
                &key(),
                0,
                false,
                Default::default()
            )
            .map(|r| r.chain),
            Err(AuditError::KeyMismatch)
        ));
    }

    #[test]
    fn a_torn_line_is_cut_and_the_file_signed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let k = key();
        recover(&dir.path().join("audit"), &k, 0, false, Default::default())
            .map(|r| r.chain)
            .expect("init");
        let stem = naming::stem(1, 0);
        let mut data = Vec::new();
        let h1 = encode_record(1, &GENESIS_PREV, b"{}", &mut data);
        let h2 = encode_record(2, &h1, b"{}", &mut data);
        let keep = data.len();
        encode_record(3, &h2, b"{}", &mut data);
        data.truncate(data.len() - 10);
        fs::write(
            dir.path().join("audit").join(format!("{stem}.jsonl")),
            &data,
        )
        .expect("write");
        let chain = recover(&dir.path().join("audit"), &k, 0, false, Default::default())
            .map(|r| r.chain)
            .expect("recover");
        assert_eq!(
            (chain.next_seq, chain.last_hash, chain.next_file_number),
            (3, h2, 2)
        );
        let on_disk =
            fs::read(dir.path().join("audit").join(format!("{stem}.jsonl"))).expect("read");
        assert_eq!(on_disk.len(), keep);
        assert!(dir
            .path()
            .join("audit")
            .join(format!("{stem}.digest.json"))
            .exists());
        // Opening again continues from the digest now written.
        assert_eq!(
            recover(&dir.path().join("audit"), &k, 0, false, Default::default())
                .map(|r| r.chain)
                .expect("again"),
            chain
        );
    }

    #[test]
    fn non_chaining_lines_are_kept_aside() {
        let dir = tempfile::tempdir().expect("tempdir");
        let k = key();
        recover(&dir.path().join("audit"), &k, 0, false, Default::default())
            .map(|r| r.chain)
            .expect("init");
        let stem = naming::stem(1, 0);
        let mut data = Vec::new();
        encode_record(1, &GENESIS_PREV, b"{}", &mut data);
        encode_record(5, &GENESIS_PREV, b"{}", &mut data);
        fs::write(
            dir.path().join("audit").join(format!("{stem}.jsonl")),
            &data,
        )
        .expect("write");
        recover(&dir.path().join("audit"), &k, 7, false, Default::default())
            .map(|r| r.chain)
            .expect("recover");
        assert!(dir
            .path()
            .join("audit")
            .join(format!("{stem}.jsonl.7.discarded"))
            .exists());
    }

    #[test]
    fn a_file_without_records_is_removed_and_its_number_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let k = key();
        recover(&dir.path().join("audit"), &k, 0, false, Default::default())
            .map(|r| r.chain)
            .expect("init");
        let stem = naming::stem(1, 0);
        fs::write(
            dir.path().join("audit").join(format!("{stem}.jsonl")),
            b"{\"seq\":1,",
        )
        .expect("write");
        let chain = recover(&dir.path().join("audit"), &k, 0, false, Default::default())
            .map(|r| r.chain)
            .expect("recover");
        assert_eq!(chain, Chain::genesis());
        assert!(!dir
            .path()
            .join("audit")
            .join(format!("{stem}.jsonl"))
            .exists());
    }
}
