//! Process-wide settings made at start: a file-creation mask that keeps everything the server
//! writes owner-only, and the file-descriptor limit raised as far as the system allows.

/// Sets the umask to 0077, so that every file and directory this process creates (the store and
/// its `-wal`/`-shm` files, audit files, keys) is owner-only, whatever the shell's umask was.
/// Process-wide: set before any file is created, at the start of every command.
pub fn restrict_umask() {
    #[cfg(unix)]
    {
        rustix::process::umask(rustix::fs::Mode::from_bits_truncate(0o077));
    }
}

/// Raises the soft limit on open file descriptors to the hard limit, and returns the limit in
/// force (`None` where unknown or unlimited).
///
/// Why: every connection holds a descriptor, and the usual soft limit (1024) is far below what
/// a server with a connection limit of thousands needs; the hard limit is what the administrator
/// allowed. Refusing connections politely past `--max-connections` only works while descriptors
/// remain to accept them with.
pub fn raise_fd_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
        /// Where the hard limit is "unlimited", ask for this much (some systems refuse more).
        const UNLIMITED_WANTED: u64 = 1 << 20;
        let limit = getrlimit(Resource::Nofile);
        let wanted = limit.maximum.unwrap_or(UNLIMITED_WANTED);
        if limit.current.is_some_and(|current| current < wanted) {
            let raised = Rlimit {
                current: Some(wanted),
                maximum: limit.maximum,
            };
            if let Err(e) = setrlimit(Resource::Nofile, raised) {
                tracing::warn!(error = %e, wanted, "cannot raise the open file limit");
            }
        }
        getrlimit(Resource::Nofile).current
    }
    #[cfg(not(unix))]
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fd_limit_is_at_least_what_it_was() {
        let before = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
        let after = super::raise_fd_limit();
        assert!(after >= before || after.is_none());
    }
}
