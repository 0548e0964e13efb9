//! The few file-system steps whose order makes the trail crash-safe.
//!
//! A file is durable only when its bytes are synced *and* the directory
//! entry naming it is synced; these helpers do both, so callers cannot
//! forget one.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::error::IoContext;
use crate::naming::TMP_SUFFIX;
use crate::AuditError;

/// Syncs the directory itself, making creations, renames and removals in
/// it durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), AuditError> {
    File::open(dir).and_then(|d| d.sync_all()).at(dir)
}

/// Writes `bytes` to `dir/name` through `name.tmp` and a rename, so a
/// reader sees the old file or the whole new one. The caller syncs the
/// directory afterwards (once for several files).
pub(crate) fn write_replace(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), AuditError> {
    let tmp = dir.join(format!("{name}{TMP_SUFFIX}"));
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .at(&tmp)?;
    f.write_all(bytes).and_then(|()| f.sync_all()).at(&tmp)?;
    let path = dir.join(name);
    fs::rename(&tmp, &path).at(&path)
}

/// Creates `dir/name`, which must not exist, for appending, and makes its
/// directory entry durable.
pub(crate) fn create_append(dir: &Path, name: &str) -> Result<File, AuditError> {
    let path = dir.join(name);
    let f = OpenOptions::new()
        .append(true)
        .create_new(true)
        .open(&path)
        .at(&path)?;
    sync_dir(dir)?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_replace_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_replace(dir.path(), "a", b"one").expect("write");
        write_replace(dir.path(), "a", b"two").expect("rewrite");
        sync_dir(dir.path()).expect("sync");
        assert_eq!(fs::read(dir.path().join("a")).expect("read"), b"two");
        assert!(!dir.path().join("a.tmp").exists());
    }

    #[test]
    fn create_append_refuses_an_existing_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut f = create_append(dir.path(), "log").expect("create");
        f.write_all(b"x").expect("write");
        assert!(create_append(dir.path(), "log").is_err());
    }
}
