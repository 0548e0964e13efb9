//! A fixed-size log-linear latency histogram (nanoseconds, under 1% relative error), so that a
//! long run costs constant memory and recording is one increment.
//!
//! Values below 256 have a bucket each; above, every power of two is split into 128 buckets.

/// Linear sub-buckets per power of two.
const SUB_BUCKETS: u64 = 128;
/// Buckets needed for every u64 value: values < 256 exactly, then 128 per remaining bit.
const BUCKETS: usize = 256 + 56 * 128;

#[derive(Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
    sum: u128,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
            max: 0,
            sum: 0,
        }
    }
}

fn index_of(value: u64) -> usize {
    if value < 2 * SUB_BUCKETS {
        return value as usize;
    }
    let bits = 64 - u64::from(value.leading_zeros());
    let shift = bits - 8;
    // value >> shift is in [128, 256), so the index is in [(shift + 1) * 128, (shift + 2) * 128).
    (shift * SUB_BUCKETS + (value >> shift)) as usize
}

/// The smallest and largest value that land in bucket `index`.
fn bounds_of(index: usize) -> (u64, u64) {
    let index = index as u64;
    if index < 2 * SUB_BUCKETS {
        return (index, index);
    }
    let shift = index / SUB_BUCKETS - 1;
    let low = (index - shift * SUB_BUCKETS) << shift;
    (low, low + ((1u64 << shift) - 1))
}

impl Histogram {
    pub fn record(&mut self, nanos: u64) {
        self.counts[index_of(nanos)] += 1;
        self.total += 1;
        self.max = self.max.max(nanos);
        self.sum += u128::from(nanos);
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
        self.sum += other.sum;
    }

    pub fn max(&self) -> u64 {
        self.max
    }

    pub fn mean(&self) -> u64 {
        if self.total == 0 {
            return 0;
        }
        (self.sum / u128::from(self.total)) as u64
    }

    /// The value at quantile `q` (0..=1): the upper bound of the bucket holding that rank, capped
    /// at the largest value seen. Zero when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (index, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return bounds_of(index).1.min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_lands_in_a_bucket_that_contains_it() {
        let mut value = 1u64;
        while value < u64::MAX / 3 {
            for v in [value - 1, value, value + 1, value * 3 / 2] {
                let (low, high) = bounds_of(index_of(v));
                assert!(low <= v && v <= high, "{v} not in [{low}, {high}]");
                assert!(
                    (high - low) as f64 <= (v as f64) / 127.0 + 1.0,
                    "{v}: bucket too wide"
                );
            }
            value = value * 2 + 1;
        }
        assert!(index_of(u64::MAX) < BUCKETS);
    }

    #[test]
    fn quantiles_of_a_uniform_range_are_within_one_percent() {
        let mut h = Histogram::default();
        for micros in 1..=10_000u64 {
            h.record(micros * 1000);
        }
        assert_eq!(h.total, 10_000);
        assert_eq!(h.max(), 10_000_000);
        for (q, expected) in [(0.5, 5_000_000.0), (0.9, 9_000_000.0), (0.99, 9_900_000.0)] {
            let got = h.quantile(q) as f64;
            assert!((got - expected).abs() / expected < 0.01, "q{q}: {got}");
        }
        assert_eq!(h.quantile(1.0), 10_000_000);
    }

    #[test]
    fn merge_adds_counts() {
        let mut a = Histogram::default();
        let mut b = Histogram::default();
        a.record(100);
        b.record(300);
        b.record(5_000);
        a.merge(&b);
        assert_eq!(a.total, 3);
        assert_eq!(a.max(), 5_000);
        assert_eq!(a.quantile(0.0), 100);
        assert_eq!(a.mean(), 1_800);
    }

    #[test]
    fn empty_histogram_reports_zero() {
        assert_eq!(Histogram::default().quantile(0.99), 0);
        assert_eq!(Histogram::default().mean(), 0);
    }
}
