//! AWS KMS request quotas: requests per second per account, Region and quota, past which a
//! request is refused with ThrottlingException, as AWS's "Request quotas" page describes them.
//!
//! Cryptographic operations share one quota per kind of key (symmetric and HMAC keys, RSA, ECC
//! and SM2, ML-DSA and ML-KEM); the other operations each have their own. The quota is charged to
//! the caller's account and Region, not the key owner's ("For cross-account requests, AWS KMS
//! throttles the account that makes the requests"). Which quota an operation uses is the
//! operation's `Operation::quota`.
//!
//! Each quota is a token bucket holding up to one second of requests and refilled continuously
//! at the quota's rate, read from the injected clock so tests never sleep. Buckets live in
//! memory, one process each: a cluster of N nodes behind a load balancer admits up to N times a
//! quota. Only authenticated callers reach the limiter, so the map grows with real accounts, and
//! it is bounded anyway (`MAX_BUCKETS`).

use crate::authz::AuthorizedKey;
use crate::clock::Clock;
use ferrokms_types::enums::KeySpec;
use ferrokms_types::KmsError;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// AWS's message for a throttled request (its developer guide, "Throttling AWS KMS requests").
pub const THROTTLING_MESSAGE: &str =
    "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.";

/// The shared quotas of cryptographic operations, by kind of key.
pub const SYMMETRIC: &str = "symmetric";
pub const RSA: &str = "rsa";
pub const ECC: &str = "ecc";
pub const POST_QUANTUM: &str = "ml";

/// Every quota and its default rate (requests per second). The shared cryptographic quotas come
/// first; then the per-operation quotas of AWS's table. AWS's symmetric quota is 5,500 in most
/// Regions and higher in a few (10,000, and more in us-east-1, us-west-2 and eu-west-1); one
/// number for every Region keeps this simple, and `--quota` changes it. AWS lists no ML-DSA or
/// ML-KEM figure we could confirm; they share the ECC figure. RSA and ECC (with SM2) are 1,000
/// each in AWS's current table (older versions said 500 and 300). Operations absent here
/// (GetKeyLastUsage, ListKeyRotations, RotateKeyOnDemand...) are not rate limited.
pub const DEFAULTS: &[(&str, f64)] = &[
    (SYMMETRIC, 5500.0),
    (RSA, 1000.0),
    (ECC, 1000.0),
    (POST_QUANTUM, 1000.0),
    ("CancelKeyDeletion", 5.0),
    ("CreateAlias", 5.0),
    ("CreateGrant", 50.0),
    ("CreateKey", 50.0),
    ("DeleteAlias", 15.0),
    ("DeleteImportedKeyMaterial", 5.0),
    ("DescribeKey", 2000.0),
    ("DisableKey", 5.0),
    ("DisableKeyRotation", 5.0),
    ("EnableKey", 5.0),
    ("EnableKeyRotation", 15.0),
    ("GetKeyPolicy", 1000.0),
    ("GetKeyRotationStatus", 1000.0),
    ("GetParametersForImport", 0.25),
    ("GetPublicKey", 2000.0),
    ("ImportKeyMaterial", 5.0),
    ("ListAliases", 500.0),
    ("ListGrants", 100.0),
    ("ListKeyPolicies", 100.0),
    ("ListKeys", 500.0),
    ("ListResourceTags", 2000.0),
    ("ListRetirableGrants", 100.0),
    ("PutKeyPolicy", 15.0),
    ("ReplicateKey", 5.0),
    ("RetireGrant", 30.0),
    ("RevokeGrant", 30.0),
    ("ScheduleKeyDeletion", 15.0),
    ("TagResource", 10.0),
    ("UntagResource", 5.0),
    ("UpdateAlias", 5.0),
    ("UpdateKeyDescription", 5.0),
    ("UpdatePrimaryRegion", 5.0),
];

/// Buckets kept at most. Past it, buckets idle long enough to be full again are dropped (a full
/// bucket is the same as none); if none is, requests of new (account, Region) pairs go
/// unmetered rather than refused, so a crowd of accounts cannot lock out the next one.
const MAX_BUCKETS: usize = 100_000;

/// The quota a request is charged to: a name from `DEFAULTS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota(pub &'static str);

impl Quota {
    /// The shared quota of a cryptographic operation on `keys`: by the kind of the first key (the
    /// one the operation uses; ReEncrypt's source). GenerateRandom names no key and uses the
    /// symmetric quota, as AWS's table lists it.
    pub fn cryptographic(keys: &[AuthorizedKey]) -> Quota {
        Quota(match keys.first().map(|k| k.key.spec) {
            None => SYMMETRIC,
            Some(spec) => crypto_class(spec),
        })
    }
}

fn crypto_class(spec: KeySpec) -> &'static str {
    use KeySpec::*;
    match spec {
        SymmetricDefault | Hmac224 | Hmac256 | Hmac384 | Hmac512 => SYMMETRIC,
        Rsa2048 | Rsa3072 | Rsa4096 => RSA,
        EccNistP256 | EccNistP384 | EccNistP521 | EccSecgP256k1 | EccNistEdwards25519 | Sm2 => ECC,
        MlDsa44 | MlDsa65 | MlDsa87 | MlKem512 | MlKem768 | MlKem1024 => POST_QUANTUM,
    }
}

/// Rates per quota name, AWS's defaults unless changed; a quota without a rate is unlimited.
#[derive(Debug, Clone)]
pub struct QuotaConfig {
    rates: HashMap<&'static str, f64>,
}

impl Default for QuotaConfig {
    fn default() -> Self {
        QuotaConfig {
            rates: DEFAULTS.iter().copied().collect(),
        }
    }
}

impl QuotaConfig {
    /// No quota at all (`--quotas off`), as `Kms::new` starts.
    pub fn off() -> Self {
        QuotaConfig {
            rates: HashMap::new(),
        }
    }

    /// Sets one quota from `NAME=N` (N requests per second, a positive number).
    pub fn set(&mut self, assignment: &str) -> Result<(), String> {
        let (name, rate) = assignment
            .split_once('=')
            .ok_or_else(|| format!("quota {assignment:?} is not NAME=N"))?;
        let Some(&(known, _)) = DEFAULTS.iter().find(|(n, _)| *n == name) else {
            let names: Vec<&str> = DEFAULTS.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "unknown quota {name:?}; known: {}",
                names.join(", ")
            ));
        };
        let rate: f64 = rate
            .parse()
            .ok()
            .filter(|r: &f64| r.is_finite() && *r > 0.0)
            .ok_or_else(|| format!("quota {name}: {rate:?} is not a positive number"))?;
        self.rates.insert(known, rate);
        Ok(())
    }

    pub fn rate(&self, quota: &str) -> Option<f64> {
        self.rates.get(quota).copied()
    }
}

struct Bucket {
    tokens: f64,
    updated_ms: i64,
}

/// The limiter: one bucket per (account, Region, quota), and a count of throttled requests per
/// quota for the metrics.
pub struct Quotas {
    config: QuotaConfig,
    clock: Arc<dyn Clock>,
    buckets: Mutex<HashMap<(String, String, &'static str), Bucket>>,
    throttled: Vec<(&'static str, AtomicU64)>,
}

impl Quotas {
    pub fn new(config: QuotaConfig, clock: Arc<dyn Clock>) -> Self {
        Quotas {
            config,
            clock,
            buckets: Mutex::new(HashMap::new()),
            throttled: DEFAULTS
                .iter()
                .map(|(n, _)| (*n, AtomicU64::new(0)))
                .collect(),
        }
    }

    /// Takes one request from `quota` of `account` in `region`, or refuses it.
    pub fn charge(&self, account: &str, region: &str, quota: Quota) -> Result<(), KmsError> {
        let Some(rate) = self.config.rate(quota.0) else {
            return Ok(());
        };
        // A bucket holds one second of requests, and at least one so a quota under 1/s
        // (GetParametersForImport's 0.25) still admits a request once it has refilled.
        let capacity = rate.max(1.0);
        let now = self.clock.now_ms();
        let Ok(mut buckets) = self.buckets.lock() else {
            // A poisoned lock means a panic elsewhere; metering is not worth failing requests.
            return Ok(());
        };
        let id = (account.to_string(), region.to_string(), quota.0);
        if !buckets.contains_key(&id) && buckets.len() >= MAX_BUCKETS {
            // Idle for the time a bucket takes to refill (one second, or longer for a rate under
            // 1/s, which 10 s covers): full again, the same as absent.
            buckets.retain(|_, b| now - b.updated_ms < 10_000);
            if buckets.len() >= MAX_BUCKETS {
                return Ok(());
            }
        }
        let bucket = buckets.entry(id).or_insert(Bucket {
            tokens: capacity,
            updated_ms: now,
        });
        let elapsed_s = (now - bucket.updated_ms).max(0) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed_s * rate).min(capacity);
        bucket.updated_ms = now.max(bucket.updated_ms);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        drop(buckets);
        if let Some((_, n)) = self.throttled.iter().find(|(n, _)| *n == quota.0) {
            n.fetch_add(1, Ordering::Relaxed);
        }
        Err(KmsError::Throttling(THROTTLING_MESSAGE.into()))
    }

    /// Throttled requests so far, per quota (every quota, zeros included).
    pub fn throttled(&self) -> Vec<(&'static str, u64)> {
        self.throttled
            .iter()
            .map(|(n, c)| (*n, c.load(Ordering::Relaxed)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn limiter(assignments: &[&str]) -> (Quotas, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(1_000_000));
        let mut config = QuotaConfig::default();
        for a in assignments {
            config.set(a).unwrap();
        }
        (Quotas::new(config, clock.clone()), clock)
    }

    fn admitted(q: &Quotas, account: &str, quota: &'static str, n: usize) -> usize {
        (0..n)
            .filter(|_| q.charge(account, "us-east-1", Quota(quota)).is_ok())
            .count()
    }

    #[test]
    fn a_burst_past_the_quota_is_throttled_with_aws_message() {
        let (q, _) = limiter(&["CreateAlias=3"]);
        assert_eq!(admitted(&q, "111122223333", "CreateAlias", 3), 3);
        let err = q
            .charge("111122223333", "us-east-1", Quota("CreateAlias"))
            .unwrap_err();
        assert_eq!(err.wire_name(), "ThrottlingException");
        assert_eq!(err.message(), THROTTLING_MESSAGE);
        let counted: HashMap<_, _> = q.throttled().into_iter().collect();
        assert_eq!(counted["CreateAlias"], 1);
        assert_eq!(counted["CreateKey"], 0);
    }

    #[test]
    fn the_bucket_refills_at_the_quota_rate() {
        let (q, clock) = limiter(&["CreateAlias=4"]);
        assert_eq!(admitted(&q, "111122223333", "CreateAlias", 10), 4);
        clock.advance_ms(500);
        assert_eq!(admitted(&q, "111122223333", "CreateAlias", 10), 2);
        clock.advance_ms(10_000);
        // Never more than one second's worth, however long the pause.
        assert_eq!(admitted(&q, "111122223333", "CreateAlias", 10), 4);
    }

    #[test]
    fn quotas_are_per_account_region_and_quota() {
        let (q, _) = limiter(&["CreateAlias=2", "CreateKey=2"]);
        assert_eq!(admitted(&q, "111122223333", "CreateAlias", 5), 2);
        assert_eq!(admitted(&q, "111122223333", "CreateKey", 5), 2);
        assert_eq!(admitted(&q, "444455556666", "CreateAlias", 5), 2);
        assert!(q
            .charge("111122223333", "eu-west-1", Quota("CreateAlias"))
            .is_ok());
    }

    #[test]
    fn a_quota_under_one_per_second_admits_one_request_per_period() {
        let (q, clock) = limiter(&[]);
        let gpi = "GetParametersForImport";
        assert_eq!(admitted(&q, "111122223333", gpi, 3), 1);
        clock.advance_ms(3_000);
        assert_eq!(admitted(&q, "111122223333", gpi, 3), 0);
        clock.advance_ms(1_000);
        assert_eq!(admitted(&q, "111122223333", gpi, 3), 1);
    }

    #[test]
    fn off_and_unlisted_quotas_never_throttle() {
        let q = Quotas::new(QuotaConfig::off(), Arc::new(ManualClock::new(0)));
        assert_eq!(admitted(&q, "111122223333", "CreateAlias", 100), 100);
        let (q, _) = limiter(&[]);
        assert_eq!(admitted(&q, "111122223333", "GetKeyLastUsage", 100), 100);
    }

    #[test]
    fn the_defaults_are_aws_numbers() {
        let config = QuotaConfig::default();
        assert_eq!(config.rate(SYMMETRIC), Some(5500.0));
        assert_eq!(config.rate(RSA), Some(1000.0));
        assert_eq!(config.rate(ECC), Some(1000.0));
        assert_eq!(config.rate("CreateKey"), Some(50.0));
        assert_eq!(config.rate("DescribeKey"), Some(2000.0));
    }

    #[test]
    fn bad_assignments_are_refused() {
        let mut config = QuotaConfig::default();
        assert!(config.set("CreateKey").is_err());
        assert!(config.set("NoSuchQuota=5").is_err());
        assert!(config.set("CreateKey=0").is_err());
        assert!(config.set("CreateKey=-1").is_err());
        assert!(config.set("CreateKey=NaN").is_err());
        assert!(config.set("CreateKey=inf").is_err());
        config.set("CreateKey=0.5").unwrap();
        assert_eq!(config.rate("CreateKey"), Some(0.5));
    }

    #[test]
    fn key_specs_map_to_their_shared_quota() {
        assert_eq!(crypto_class(KeySpec::SymmetricDefault), SYMMETRIC);
        assert_eq!(crypto_class(KeySpec::Hmac256), SYMMETRIC);
        assert_eq!(crypto_class(KeySpec::Rsa4096), RSA);
        assert_eq!(crypto_class(KeySpec::EccSecgP256k1), ECC);
        assert_eq!(crypto_class(KeySpec::Sm2), ECC);
        assert_eq!(crypto_class(KeySpec::MlDsa65), POST_QUANTUM);
        assert_eq!(crypto_class(KeySpec::MlKem768), POST_QUANTUM);
        assert_eq!(Quota::cryptographic(&[]), Quota(SYMMETRIC));
    }
}
