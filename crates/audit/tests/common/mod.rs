//! Helpers shared by the audit crate's integration tests: a trail in a
//! temporary directory with its signing key, sample events, and file
//! surgery for the tamper tests.

#![allow(dead_code)] // each test binary uses a different subset

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ferrokms_audit::{
    verify, AuditEvent, AuditLog, AuditOptions, AuditSigningKey, ManualClock, Resource,
    UserIdentity, VerifyReport,
};
use ferrokms_crypto::SecretBytes;
use serde_json::json;

/// 2025-01-01T00:00:00Z.
pub const BASE_MS: i64 = 1_735_689_600_000;
pub const HOUR_MS: i64 = 3_600_000;

pub struct Trail {
    pub tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pkcs8: SecretBytes,
    pub public_key: Vec<u8>,
    pub clock: Arc<ManualClock>,
}

impl Trail {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("audit");
        let (key, pkcs8) = AuditSigningKey::generate().expect("key");
        Self {
            tmp,
            dir,
            public_key: key.public_key_der(),
            pkcs8,
            clock: Arc::new(ManualClock::new(BASE_MS)),
        }
    }

    pub fn signer(&self) -> AuditSigningKey {
        AuditSigningKey::from_pkcs8(self.pkcs8.expose()).expect("pkcs8")
    }

    /// Options rolling by time on the manual clock; size limit large.
    pub fn options(&self) -> AuditOptions {
        AuditOptions {
            clock: self.clock.clone(),
            ..AuditOptions::default()
        }
    }

    pub async fn open(&self) -> AuditLog {
        self.open_with(self.options()).await
    }

    pub async fn open_with(&self, options: AuditOptions) -> AuditLog {
        AuditLog::open(&self.dir, self.signer(), options)
            .await
            .expect("open")
    }

    /// Writes `files` files of `per_file` events each (event numbers from
    /// `first`), rolling by age between files. The last file is closed
    /// unless `leave_open`, in which case the log is returned still open.
    pub async fn fill(
        &self,
        first: usize,
        files: usize,
        per_file: usize,
        leave_open: bool,
    ) -> Option<AuditLog> {
        let log = self.open().await;
        let mut n = first;
        for f in 0..files {
            for _ in 0..per_file {
                log.append(&event(n)).await.expect("append");
                n += 1;
            }
            if f + 1 < files {
                self.clock.advance_ms(2 * HOUR_MS);
            }
        }
        if leave_open {
            Some(log)
        } else {
            log.close().await.expect("close");
            None
        }
    }

    pub fn verify(&self) -> VerifyReport {
        verify(&self.dir, &self.public_key, None).expect("verify runs")
    }

    /// Names of files with `suffix`, in name (= trail) order.
    pub fn names(&self, suffix: &str) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(&self.dir)
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name().into_string().expect("utf8"))
            .filter(|n| n.ends_with(suffix))
            .collect();
        v.sort();
        v
    }

    pub fn logs(&self) -> Vec<String> {
        self.names(".jsonl")
    }

    pub fn digests(&self) -> Vec<String> {
        self.names(".digest.json")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The lines of a file, each with its newline.
    pub fn lines(&self, name: &str) -> Vec<Vec<u8>> {
        let data = fs::read(self.path(name)).expect("read");
        data.split_inclusive(|&b| b == b'\n')
            .map(<[u8]>::to_vec)
            .collect()
    }

    pub fn write_lines(&self, name: &str, lines: &[Vec<u8>]) {
        fs::write(self.path(name), lines.concat()).expect("write");
    }
}

/// Event number `n`: one per minute from BASE_MS, three principals, two
/// keys, alternating Encrypt / Decrypt.
pub fn event(n: usize) -> AuditEvent {
    let key = format!("arn:aws:kms:eu-west-1:111122223333:key/key-{}", n % 2);
    AuditEvent {
        user_identity: UserIdentity {
            identity_type: "IAMUser".into(),
            principal_id: format!("AIDA{}", n % 3),
            arn: principal(n % 3),
            account_id: "111122223333".into(),
            access_key_id: Some(format!("AKIA{}", n % 3)),
            invoked_by: None,
        },
        event_time: rfc3339(BASE_MS + n as i64 * 60_000),
        event_name: ["Encrypt", "Decrypt"][n % 2].into(),
        aws_region: "eu-west-1".into(),
        source_ip_address: "127.0.0.1".into(),
        user_agent: "aws-cli/2.0 test".into(),
        request_parameters: Some(json!({"keyId": key, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"})),
        response_elements: None,
        request_id: format!("req-{n}"),
        event_id: format!("evt-{n}"),
        read_only: false,
        resources: vec![Resource::kms_key("111122223333", &key)],
        recipient_account_id: "111122223333".into(),
        ..AuditEvent::default()
    }
}

pub fn principal(i: usize) -> String {
    format!("arn:aws:iam::111122223333:user/user-{i}")
}

pub fn rfc3339(ms: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).expect("time");
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("format")
}

pub fn at_ms(ms: i64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + Duration::from_millis(ms as u64)
}

/// Waits (polling every millisecond, at most 5 s) for `cond`.
pub async fn eventually(mut cond: impl FnMut() -> bool) {
    for _ in 0..5000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("condition not reached in 5 s");
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}
