//! Call latencies of one plugin in a histogram of fixed size: a month of
//! calls takes the same memory as ten (two significant digits, 1 ns to
//! 60 s; longer calls count as 60 s).

use hdrhistogram::Histogram;

/// The slowest latency told apart, ns.
const HIGHEST_NS: u64 = 60_000_000_000;

/// The upper bounds of the latency buckets the metrics and the HTML report
/// show, ns: 1 µs to 1 s.
pub const BUCKET_BOUNDS_NS: [u64; 16] = [
    1_000,
    2_500,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    50_000_000,
    250_000_000,
    1_000_000_000,
];

/// A plugin's call latencies.
#[derive(Debug, Clone)]
pub struct Latency(Histogram<u64>);

impl Default for Latency {
    fn default() -> Self {
        Self(Histogram::new_with_bounds(1, HIGHEST_NS, 2).expect("valid histogram bounds"))
    }
}

impl Latency {
    /// Count one call of `ns` nanoseconds.
    pub fn record(&mut self, ns: u64) {
        self.0.saturating_record(ns.clamp(1, HIGHEST_NS));
    }

    /// Calls counted.
    pub fn count(&self) -> u64 {
        self.0.len()
    }

    /// Mean latency, ns (0 without calls).
    pub fn mean_ns(&self) -> u64 {
        if self.count() == 0 {
            0
        } else {
            self.0.mean() as u64
        }
    }

    /// The latency at quantile `q` (0.99 for p99), ns, within 1 %.
    pub fn quantile_ns(&self, q: f64) -> u64 {
        if self.count() == 0 {
            0
        } else {
            self.0.value_at_quantile(q)
        }
    }

    /// The calls in each bucket of [`BUCKET_BOUNDS_NS`] by its upper bound
    /// (within the histogram's 1 %), then the slower ones under `u64::MAX`.
    pub fn buckets(&self) -> Vec<(u64, u64)> {
        let mut below = 0;
        let mut buckets: Vec<(u64, u64)> = BUCKET_BOUNDS_NS
            .iter()
            .map(|&bound| {
                let upto = self.0.count_between(0, bound).max(below);
                let own = upto - below;
                below = upto;
                (bound, own)
            })
            .collect();
        buckets.push((u64::MAX, self.count().saturating_sub(below)));
        buckets
    }

    /// Add another plugin instance's latencies (a version taking over).
    pub fn add(&mut self, other: &Self) {
        // Same bounds on both sides: adding cannot fail.
        let _ = self.0.add(&other.0);
    }

    /// Buckets held: fixed by the bounds, whatever was recorded.
    pub fn bucket_count(&self) -> u8 {
        self.0.buckets()
    }

    /// Heap bytes of its counts: fixed by the bounds.
    pub fn heap_bytes(&self) -> usize {
        self.0.distinct_values() * std::mem::size_of::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_million_calls_take_no_more_room_than_ten_and_percentiles_hold() {
        let mut latency = Latency::default();
        for ns in 1..=10 {
            latency.record(ns * 1_000);
        }
        let buckets = latency.bucket_count();
        for i in 0..1_000_000u64 {
            latency.record(1 + i % 100_000);
        }
        assert!(
            (49_000..=51_500).contains(&latency.mean_ns()),
            "{}",
            latency.mean_ns()
        );
        latency.record(u64::MAX);
        assert_eq!(latency.bucket_count(), buckets, "the histogram never grows");
        assert_eq!(latency.count(), 1_000_011);
        let p99 = latency.quantile_ns(0.99);
        assert!((98_000..=100_500).contains(&p99), "{p99}");
    }
}
