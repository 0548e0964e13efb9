//! The data directory: the SQLite store, the root key file and the credentials file, created on
//! first start with owner-only permissions and reused afterwards.
//!
//! Everything in it is owner-only (files 0600, directories 0700): the process runs with umask
//! 0077 (see `crate::process`), and at every start [`ensure_dir`] fixes, with a warning, any
//! entry that a copy, a restore or an older version left readable by group or others — fixing
//! rather than refusing, because the fix is never wrong and a refusal would stop a service over
//! what it can repair itself.

use ferrokms_core::iam::principals::Credentials;
use ferrokms_crypto::RootKey;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const STORE_FILE: &str = "ferrokms.db";
pub const ROOT_KEY_FILE: &str = "root.key";
pub const CREDENTIALS_FILE: &str = "credentials";
pub const CONFIG_FILE: &str = "config";

/// Where the root key comes from, in order of precedence.
#[derive(Clone, Debug, Default)]
pub struct RootKeySource {
    /// The key itself (base64), from FERROKMS_ROOT_KEY.
    pub inline: Option<String>,
    /// A file holding it, from --root-key-file.
    pub file: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("{0}")]
    Invalid(String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> DataDirError {
    let what = what.into();
    move |e| DataDirError::Io(what, e)
}

/// Creates the directory if needed, and makes it and everything in it owner-only.
pub fn ensure_dir(dir: &Path) -> Result<(), DataDirError> {
    fs::create_dir_all(dir).map_err(io(format!("cannot create data dir {}", dir.display())))?;
    make_owner_only(dir)
}

/// Sets every directory under `dir` (itself included) to 0700 and every file to 0600 where group
/// or others had any access, warning for each. Symbolic links are left alone, not followed.
#[cfg(unix)]
fn make_owner_only(dir: &Path) -> Result<(), DataDirError> {
    use std::os::unix::fs::PermissionsExt;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            // Gone since it was listed (the store's -shm at a checkpoint): nothing to fix.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(DataDirError::Io(
                    format!("cannot inspect {}", path.display()),
                    e,
                ))
            }
        };
        let wanted = if meta.is_dir() {
            0o700
        } else if meta.is_file() {
            0o600
        } else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{mode:o}"),
                "data dir entry was accessible to group or others; made owner-only"
            );
            set_mode(&path, (mode & 0o700) | wanted)?;
        }
        if meta.is_dir() {
            let entries =
                fs::read_dir(&path).map_err(io(format!("cannot list {}", path.display())))?;
            for entry in entries {
                let entry = entry.map_err(io(format!("cannot list {}", path.display())))?;
                pending.push(entry.path());
            }
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn make_owner_only(_dir: &Path) -> Result<(), DataDirError> {
    Ok(())
}

pub fn store_path(dir: &Path) -> PathBuf {
    dir.join(STORE_FILE)
}

/// Loads the root key, creating `DIR/root.key` (mode 0600) when no key is configured anywhere.
/// Returns the key and whether it was created just now.
pub fn load_or_create_root_key(
    dir: &Path,
    source: &RootKeySource,
) -> Result<(RootKey, bool), DataDirError> {
    let bad = |from: &str| {
        DataDirError::Invalid(format!("the root key in {from} is not base64 of 32 bytes"))
    };
    if let Some(text) = &source.inline {
        return RootKey::from_encoded(text)
            .map(|k| (k, false))
            .map_err(|_| bad("FERROKMS_ROOT_KEY"));
    }
    let path = source
        .file
        .clone()
        .unwrap_or_else(|| dir.join(ROOT_KEY_FILE));
    if path.exists() {
        let text =
            fs::read_to_string(&path).map_err(io(format!("cannot read {}", path.display())))?;
        let key = RootKey::from_encoded(&text).map_err(|_| bad(&path.display().to_string()))?;
        return Ok((key, false));
    }
    if source.file.is_some() {
        return Err(DataDirError::Invalid(format!(
            "root key file {} does not exist",
            path.display()
        )));
    }
    let key = RootKey::generate()
        .map_err(|_| DataDirError::Invalid("cannot generate a root key".into()))?;
    write_private(&path, format!("{}\n", key.encode()).as_bytes())?;
    Ok((key, true))
}

/// Writes the administrator's credentials in the AWS shared-credentials format (profile
/// `default`, mode 0600), and a config file naming a default Region for the AWS CLI.
pub fn write_credentials(
    dir: &Path,
    creds: &Credentials,
    region: &str,
) -> Result<PathBuf, DataDirError> {
    let path = dir.join(CREDENTIALS_FILE);
    let secret = std::str::from_utf8(creds.secret_access_key.expose())
        .map_err(|_| DataDirError::Invalid("secret access key is not text".into()))?;
    let text = zeroize::Zeroizing::new(format!(
        "# ferrokms administrator {}\n[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        creds.arn, creds.access_key_id, secret
    ));
    write_private(&path, text.as_bytes())?;
    write_private(
        &dir.join(CONFIG_FILE),
        format!("[default]\nregion = {region}\n").as_bytes(),
    )?;
    Ok(path)
}

/// Creates a file readable by its owner only; never replaces an existing file.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), DataDirError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(io(format!("cannot create {}", path.display())))?;
    file.write_all(bytes)
        .map_err(io(format!("cannot write {}", path.display())))?;
    file.sync_all()
        .map_err(io(format!("cannot sync {}", path.display())))
}

/// Replaces a file whole with one readable by its owner only: written beside it, synced,
/// renamed over it, and the directory synced, so a crash leaves the old file or the new one.
pub(crate) fn replace_private(path: &Path, bytes: &[u8]) -> Result<(), DataDirError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    match fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(io(format!("cannot remove {}", tmp.display()))(e))
        }
        _ => {}
    }
    write_private(&tmp, bytes)?;
    fs::rename(&tmp, path).map_err(io(format!("cannot replace {}", path.display())))?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(format!("cannot sync {}", dir.display())))?;
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<(), DataDirError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .map_err(io(format!("cannot set permissions of {}", path.display())))?;
    }
    let _ = mode;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_key_is_created_once_with_owner_only_mode() {
        let dir = tempfile::tempdir().unwrap();
        let (k1, created) = load_or_create_root_key(dir.path(), &RootKeySource::default()).unwrap();
        assert!(created);
        let (k2, created) = load_or_create_root_key(dir.path(), &RootKeySource::default()).unwrap();
        assert!(!created);
        assert_eq!(k1.encode(), k2.encode());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(ROOT_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[cfg(unix)]
    #[test]
    fn loose_modes_in_the_data_dir_are_made_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("audit");
        fs::create_dir(&sub).unwrap();
        fs::write(sub.join("f"), b"x").unwrap();
        fs::write(dir.path().join("g"), b"x").unwrap();
        for (path, mode) in [
            (&sub, 0o755),
            (&sub.join("f"), 0o644),
            (&dir.path().join("g"), 0o664),
        ] {
            fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
        }
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o750)).unwrap();
        ensure_dir(dir.path()).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(dir.path()), 0o700);
        assert_eq!(mode(&sub), 0o700);
        assert_eq!(mode(&sub.join("f")), 0o600);
        assert_eq!(mode(&dir.path().join("g")), 0o600);
    }

    #[test]
    fn inline_root_key_wins_and_bad_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let key = RootKey::generate().unwrap().encode();
        let src = RootKeySource {
            inline: Some(key.clone()),
            file: None,
        };
        let (k, created) = load_or_create_root_key(dir.path(), &src).unwrap();
        assert_eq!(k.encode(), key);
        assert!(!created);
        assert!(!dir.path().join(ROOT_KEY_FILE).exists());
        let src = RootKeySource {
            inline: Some("short".into()),
            file: None,
        };
        assert!(load_or_create_root_key(dir.path(), &src).is_err());
        let src = RootKeySource {
            inline: None,
            file: Some(dir.path().join("missing")),
        };
        assert!(load_or_create_root_key(dir.path(), &src).is_err());
    }
}
