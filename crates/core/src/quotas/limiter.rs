//! The token buckets behind the request quotas: one per (account, Region, quota), holding up to
//! one second of its rate (at least one request) and refilled continuously at that rate, so an
//! account may send its quota's worth of requests at once and then its rate, as AWS's "requests
//! per second" allow.
//!
//! Buckets exist only for accounts whose requests authenticated, so their number is bounded by
//! the accounts, Regions and quotas in use; it is capped anyway (`MAX_BUCKETS`). A full bucket
//! is the same as none, so full ones are dropped when the cap is reached; if every bucket is in
//! use, a request that would need a new one is let through untracked (and logged) rather than
//! refused for what other accounts do.
//!
//! Each process keeps its own buckets: the nodes of a cluster do not share them, so N nodes
//! admit up to N times a quota.

use super::{Quota, QuotaConfig};
use crate::clock::Clock;
use ferrokms_types::KmsError;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// Most buckets kept at once.
const MAX_BUCKETS: usize = 100_000;

/// How often, at most, a full table is swept for buckets that refilled.
const SWEEP_INTERVAL_MS: i64 = 1_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct BucketKey {
    account: String,
    region: String,
    quota: Quota,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at_ms: i64,
    rate: f64,
}

impl Bucket {
    fn full(rate: f64, now_ms: i64) -> Bucket {
        Bucket {
            tokens: capacity(rate),
            at_ms: now_ms,
            rate,
        }
    }

    /// The bucket as it is at `now_ms`, at `rate` (which a restart of the limiter may change).
    fn refilled(self, rate: f64, now_ms: i64) -> Bucket {
        let elapsed_s = (now_ms - self.at_ms).max(0) as f64 / 1000.0;
        Bucket {
            tokens: (self.tokens + elapsed_s * rate).min(capacity(rate)),
            at_ms: now_ms.max(self.at_ms),
            rate,
        }
    }

    fn is_full(&self) -> bool {
        self.tokens >= capacity(self.rate)
    }
}

/// One second's worth of requests, and at least one (a quota of 0.1 a second admits one request
/// every ten seconds).
fn capacity(rate: f64) -> f64 {
    rate.max(1.0)
}

#[derive(Default)]
struct Buckets {
    map: HashMap<BucketKey, Bucket>,
    last_sweep_ms: Option<i64>,
}

/// The request quotas of one process.
pub struct Limiter {
    config: QuotaConfig,
    clock: Arc<dyn Clock>,
    buckets: Mutex<Buckets>,
    /// Requests throttled, by quota name (a fixed set: see `Quota::name`).
    throttled: Mutex<BTreeMap<&'static str, u64>>,
}

/// A clock that only goes forward, for the buckets (the wall clock may step back).
pub struct MonotonicClock(Instant);

impl Default for MonotonicClock {
    fn default() -> Self {
        MonotonicClock(Instant::now())
    }
}

impl Clock for MonotonicClock {
    fn now_ms(&self) -> i64 {
        i64::try_from(self.0.elapsed().as_millis()).unwrap_or(i64::MAX)
    }
}

/// A poisoned lock only means another request panicked mid-update; the counts stay usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Limiter {
    pub fn new(config: QuotaConfig, clock: Arc<dyn Clock>) -> Self {
        Limiter {
            config,
            clock,
            buckets: Mutex::new(Buckets::default()),
            throttled: Mutex::new(BTreeMap::new()),
        }
    }

    /// No quotas: every request is admitted.
    pub fn off() -> Self {
        Limiter::new(QuotaConfig::off(), Arc::new(MonotonicClock::default()))
    }

    /// AWS's quotas (as `config` sets them), timed by the process's monotonic clock.
    pub fn with_config(config: QuotaConfig) -> Self {
        Limiter::new(config, Arc::new(MonotonicClock::default()))
    }

    /// Takes one request from each of `quotas` of `account` in `region`, or none of them and
    /// answers ThrottlingException when one has no request left.
    pub fn charge(&self, account: &str, region: &str, quotas: &[Quota]) -> Result<(), KmsError> {
        self.charge_in(account, &[region], quotas)
    }

    /// [`Self::charge`] in each of `regions` at once (a request that acts in two Regions draws
    /// on the quotas of both): all of them, or none.
    pub fn charge_in(
        &self,
        account: &str,
        regions: &[&str],
        quotas: &[Quota],
    ) -> Result<(), KmsError> {
        if !self.config.is_enabled() {
            return Ok(());
        }
        let limited: Vec<(&str, Quota, f64)> = regions
            .iter()
            .flat_map(|region| {
                quotas.iter().filter_map(move |q| {
                    self.config.rate(*q, region).map(|rate| (*region, *q, rate))
                })
            })
            .collect();
        if limited.is_empty() {
            return Ok(());
        }
        let now = self.clock.now_ms();
        let mut buckets = lock(&self.buckets);
        let mut taken = Vec::with_capacity(limited.len());
        for (region, quota, rate) in limited {
            let key = BucketKey {
                account: account.to_string(),
                region: region.to_string(),
                quota,
            };
            let bucket = match buckets.map.get(&key) {
                Some(b) => b.refilled(rate, now),
                None => Bucket::full(rate, now),
            };
            if bucket.tokens < 1.0 {
                drop(buckets);
                *lock(&self.throttled).entry(quota.name()).or_default() += 1;
                return Err(KmsError::throttling());
            }
            taken.push((key, bucket));
        }
        for (key, mut bucket) in taken {
            bucket.tokens -= 1.0;
            if !buckets.map.contains_key(&key) && !make_room(&mut buckets, now) {
                tracing::warn!(
                    quota = key.quota.name(),
                    "request quota table full; request admitted untracked"
                );
                continue;
            }
            buckets.map.insert(key, bucket);
        }
        Ok(())
    }

    /// Requests throttled so far, by quota name.
    pub fn throttled(&self) -> Vec<(&'static str, u64)> {
        lock(&self.throttled)
            .iter()
            .map(|(name, n)| (*name, *n))
            .collect()
    }
}

/// Whether the table has room for one more bucket, after dropping the full ones if it had none
/// (at most once a `SWEEP_INTERVAL_MS`).
fn make_room(buckets: &mut Buckets, now: i64) -> bool {
    if buckets.map.len() < MAX_BUCKETS {
        return true;
    }
    let swept_lately = buckets
        .last_sweep_ms
        .is_some_and(|at| now - at < SWEEP_INTERVAL_MS);
    if swept_lately {
        return false;
    }
    buckets.last_sweep_ms = Some(now);
    buckets
        .map
        .retain(|_, b| !b.refilled(b.rate, now).is_full());
    buckets.map.len() < MAX_BUCKETS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use ferrokms_types::enums::DataKeyPairSpec;

    const CREATE_KEY: Quota = Quota::Operation {
        name: "CreateKey",
        per_second: 5,
    };

    fn limiter(config: QuotaConfig) -> (Limiter, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(1_000_000));
        (Limiter::new(config, clock.clone()), clock)
    }

    /// Admitted requests out of `n` sent at the clock's current instant.
    fn burst(l: &Limiter, account: &str, region: &str, quota: Quota, n: usize) -> usize {
        (0..n)
            .filter(|_| l.charge(account, region, &[quota]).is_ok())
            .count()
    }

    #[test]
    fn a_second_of_requests_at_once_then_the_rate() {
        let (l, clock) = limiter(QuotaConfig::aws_defaults());
        assert_eq!(burst(&l, "111122223333", "us-east-1", CREATE_KEY, 8), 5);
        let err = l
            .charge("111122223333", "us-east-1", &[CREATE_KEY])
            .unwrap_err();
        assert_eq!(err.wire_name(), "ThrottlingException");
        assert_eq!(
            err.message(),
            "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls."
        );
        // 5 a second is one every 200 ms.
        clock.advance_ms(199);
        assert_eq!(burst(&l, "111122223333", "us-east-1", CREATE_KEY, 1), 0);
        clock.advance_ms(1);
        assert_eq!(burst(&l, "111122223333", "us-east-1", CREATE_KEY, 2), 1);
        // A long pause refills one second's worth, no more.
        clock.advance_ms(60_000);
        assert_eq!(burst(&l, "111122223333", "us-east-1", CREATE_KEY, 8), 5);
        assert_eq!(l.throttled(), vec![("CreateKey", 9)]);
    }

    #[test]
    fn a_steady_rate_within_the_quota_is_never_throttled() {
        let (l, clock) = limiter(QuotaConfig::aws_defaults());
        for _ in 0..1_000 {
            assert!(l.charge("111122223333", "eu-west-2", &[CREATE_KEY]).is_ok());
            clock.advance_ms(200);
        }
        assert!(l.throttled().is_empty());
    }

    #[test]
    fn quotas_are_apart_per_account_region_and_quota() {
        let (l, _) = limiter(QuotaConfig::aws_defaults());
        assert_eq!(burst(&l, "111122223333", "us-east-1", CREATE_KEY, 6), 5);
        assert_eq!(burst(&l, "444455556666", "us-east-1", CREATE_KEY, 6), 5);
        assert_eq!(burst(&l, "111122223333", "us-west-2", CREATE_KEY, 6), 5);
        let create_alias = Quota::Operation {
            name: "CreateAlias",
            per_second: 5,
        };
        assert_eq!(burst(&l, "111122223333", "us-east-1", create_alias, 6), 5);
    }

    #[test]
    fn fractional_rates_admit_one_request_per_interval() {
        let rsa_4096 = Quota::DataKeyPair(DataKeyPairSpec::Rsa4096);
        let (l, clock) = limiter(QuotaConfig::aws_defaults());
        assert_eq!(burst(&l, "111122223333", "cn-north-1", rsa_4096, 3), 1);
        clock.advance_ms(9_999);
        assert_eq!(burst(&l, "111122223333", "cn-north-1", rsa_4096, 1), 0);
        clock.advance_ms(1);
        assert_eq!(burst(&l, "111122223333", "cn-north-1", rsa_4096, 3), 1);
    }

    #[test]
    fn a_request_on_two_quotas_takes_from_both_or_neither() {
        let mut config = QuotaConfig::aws_defaults();
        config.apply("symmetric=2", |_| true).unwrap();
        config.apply("rsa=1", |_| true).unwrap();
        let (l, _) = limiter(config);
        let both = [Quota::Symmetric, Quota::Rsa];
        assert!(l.charge("111122223333", "us-east-1", &both).is_ok());
        assert!(l.charge("111122223333", "us-east-1", &both).is_err());
        // The refused request took nothing from the symmetric quota: one request is left.
        assert_eq!(
            burst(&l, "111122223333", "us-east-1", Quota::Symmetric, 3),
            1
        );
        assert_eq!(l.throttled(), vec![("rsa", 1), ("symmetric", 2)]);
    }

    /// A request acting in two Regions takes from both, or from neither.
    #[test]
    fn a_charge_in_two_regions_takes_both_or_neither() {
        let (l, _clock) = limiter(QuotaConfig::aws_defaults());
        let (account, east, west) = ("111122223333", "us-east-1", "eu-west-1");
        // Use up eu-west-1 alone...
        assert_eq!(burst(&l, account, west, CREATE_KEY, 5), 5);
        // ...then a request in both fails, and leaves us-east-1 untouched.
        assert!(l.charge_in(account, &[east, west], &[CREATE_KEY]).is_err());
        assert_eq!(burst(&l, account, east, CREATE_KEY, 6), 5);
    }

    #[test]
    fn off_admits_everything() {
        let (l, _) = limiter(QuotaConfig::off());
        assert_eq!(burst(&l, "111122223333", "us-east-1", CREATE_KEY, 100), 100);
        let mut config = QuotaConfig::aws_defaults();
        config.apply("CreateKey=off", |_| true).unwrap();
        let (l, _) = limiter(config);
        assert_eq!(burst(&l, "111122223333", "us-east-1", CREATE_KEY, 100), 100);
    }

    #[test]
    fn the_table_stays_bounded_and_drops_refilled_buckets() {
        let (l, clock) = limiter(QuotaConfig::aws_defaults());
        for i in 0..MAX_BUCKETS {
            l.charge(&format!("{i:012}"), "us-east-1", &[CREATE_KEY])
                .unwrap();
        }
        // Full of buckets in use: a new account is admitted, untracked.
        assert!(l.charge("new-account", "us-east-1", &[CREATE_KEY]).is_ok());
        assert_eq!(lock(&l.buckets).map.len(), MAX_BUCKETS);
        // Once they have refilled, they make room.
        clock.advance_ms(1_000);
        assert!(l.charge("new-account", "us-east-1", &[CREATE_KEY]).is_ok());
        assert_eq!(lock(&l.buckets).map.len(), 1);
    }
}
