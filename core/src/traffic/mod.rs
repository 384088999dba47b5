//! Traffic over time, the arithmetic: latency and score histograms (bucket edges, the
//! bucket or bin of a value, quantiles from counts), a stretch of time's counts
//! ([`TrafficBucket`]), a range cut into chart steps ([`Traffic`], [`step_for`]).
//!
//! The counts come from the summaries kept beside the predictions (migrations 0006 and
//! 0009), read and written by [`crate::store::summaries`]: every insert adds to per-minute
//! rows in its own slot, and every minute the server folds the minutes that ended into one
//! row per minute and one per hour. Reading a month costs the same with a thousand or ten
//! million predictions.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Latency histogram: buckets of 1/20 decade from 0.001 ms.
pub const LATENCY_BUCKETS: usize = 160;
const LATENCY_FLOOR_MS: f64 = 0.001;
const BUCKETS_PER_DECADE: f64 = 20.0;
/// Score histogram: bins of width 0.02 over [0, 1].
pub const SCORE_BINS: usize = 50;

/// The bucket a latency falls into (as the database computes it).
pub fn latency_bucket(ms: f64) -> usize {
    if ms.is_nan() || ms <= LATENCY_FLOOR_MS {
        return 0;
    }
    let k = (BUCKETS_PER_DECADE * (ms / LATENCY_FLOOR_MS).log10()).floor();
    k.clamp(0.0, (LATENCY_BUCKETS - 1) as f64) as usize
}

/// Lower and upper edge (ms) of latency bucket `k`.
pub fn latency_bucket_edges(k: usize) -> (f64, f64) {
    let edge = |k: usize| LATENCY_FLOOR_MS * 10f64.powf(k as f64 / BUCKETS_PER_DECADE);
    (edge(k), edge(k + 1))
}

/// The `q`-quantile of a latency histogram (None when it is empty). Inside the bucket that
/// holds the quantile, the value is interpolated on a log scale, so the answer is within one
/// bucket (a factor of 10^(1/20), about 12%) of the exact order statistic.
pub fn latency_quantile(counts: &[i64], q: f64) -> Option<f64> {
    let total: i64 = counts.iter().sum();
    if total <= 0 {
        return None;
    }
    // The rank (1-based, as a real number) that the quantile falls on.
    let rank = (q.clamp(0.0, 1.0) * total as f64).max(1.0);
    let mut below = 0i64;
    for (k, &n) in counts.iter().enumerate() {
        if n > 0 && (below + n) as f64 >= rank {
            let frac = ((rank - below as f64) / n as f64).clamp(0.0, 1.0);
            let (lo, hi) = latency_bucket_edges(k);
            return Some(lo * (hi / lo).powf(frac));
        }
        below += n;
    }
    let (lo, _) = latency_bucket_edges(counts.len().saturating_sub(1));
    Some(lo)
}

/// Counts of one stretch of time (a chart point, or the whole range).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrafficBucket {
    pub start: DateTime<Utc>,
    pub n_approved: i64,
    pub n_refused: i64,
    pub latency_sum_ms: f64,
    pub latency_counts: Vec<i64>,
    pub score_approved: Vec<i64>,
    pub score_refused: Vec<i64>,
}

impl TrafficBucket {
    /// No predictions, from `start`.
    pub fn empty(start: DateTime<Utc>) -> Self {
        TrafficBucket {
            start,
            n_approved: 0,
            n_refused: 0,
            latency_sum_ms: 0.0,
            latency_counts: vec![0; LATENCY_BUCKETS],
            score_approved: vec![0; SCORE_BINS],
            score_refused: vec![0; SCORE_BINS],
        }
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &TrafficBucket) {
        self.n_approved += other.n_approved;
        self.n_refused += other.n_refused;
        self.latency_sum_ms += other.latency_sum_ms;
        add_counts(&mut self.latency_counts, &other.latency_counts);
        add_counts(&mut self.score_approved, &other.score_approved);
        add_counts(&mut self.score_refused, &other.score_refused);
    }

    pub fn total(&self) -> i64 {
        self.n_approved + self.n_refused
    }

    /// Share of refused decisions; None without decisions.
    pub fn refusal_rate(&self) -> Option<f64> {
        let n = self.total();
        (n > 0).then(|| self.n_refused as f64 / n as f64)
    }

    pub fn latency_quantile(&self, q: f64) -> Option<f64> {
        latency_quantile(&self.latency_counts, q)
    }
}

fn add_counts(into: &mut [i64], from: &[i64]) {
    for (a, b) in into.iter_mut().zip(from) {
        *a += b;
    }
}

/// A range cut into equal steps, and its totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Traffic {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub step: Duration,
    /// One per step, oldest first, including empty ones.
    pub buckets: Vec<TrafficBucket>,
    pub total: TrafficBucket,
}

/// A chart step for a range: about 60 to 200 points, on whole minutes or hours.
pub fn step_for(range: Duration) -> Duration {
    const STEPS: [i64; 12] = [
        60,
        5 * 60,
        15 * 60,
        30 * 60,
        3600,
        3 * 3600,
        6 * 3600,
        12 * 3600,
        86_400,
        2 * 86_400,
        7 * 86_400,
        30 * 86_400,
    ];
    let seconds = range.num_seconds().max(60);
    let step = STEPS
        .iter()
        .copied()
        .find(|s| seconds / s <= 200)
        .unwrap_or(30 * 86_400);
    Duration::seconds(step)
}

/// The score bin of a probability (as the database computes it).
pub fn score_bin(p: f64) -> usize {
    ((p * SCORE_BINS as f64).floor().max(0.0) as usize).min(SCORE_BINS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_follow_the_edges() {
        assert_eq!(latency_bucket(0.0), 0);
        assert_eq!(latency_bucket(0.001), 0);
        assert_eq!(latency_bucket(0.0011), 0);
        // 0.01 ms is exactly one decade up: bucket 20.
        assert_eq!(latency_bucket(0.010_000_1), 20);
        assert_eq!(latency_bucket(1.0), 60);
        assert_eq!(latency_bucket(1e9), LATENCY_BUCKETS - 1);
        for k in [0, 1, 37, 100, 158] {
            let (lo, hi) = latency_bucket_edges(k);
            assert_eq!(latency_bucket(lo * 1.000_001), k);
            assert_eq!(latency_bucket(hi * 0.999_999), k);
        }
    }

    /// The histogram quantile is within one bucket of the exact order statistic of the
    /// values it was built from (log-normal latencies around 2 ms).
    #[test]
    fn quantiles_are_within_one_bucket_of_the_exact_ones() {
        use rand::SeedableRng;
        use rand_distr::{Distribution, LogNormal};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let dist = LogNormal::new(2f64.ln(), 0.8).unwrap();
        let mut values: Vec<f64> = (0..20_000).map(|_| dist.sample(&mut rng)).collect();
        let mut counts = vec![0i64; LATENCY_BUCKETS];
        for &v in &values {
            counts[latency_bucket(v)] += 1;
        }
        values.sort_by(f64::total_cmp);
        let ratio = 10f64.powf(1.0 / 20.0);
        for q in [0.5, 0.95, 0.99] {
            let exact = values[((q * values.len() as f64).ceil() as usize) - 1];
            let approx = latency_quantile(&counts, q).unwrap();
            assert!(
                approx / exact < ratio && exact / approx < ratio,
                "q={q}: exact {exact}, from the histogram {approx}"
            );
        }
        assert_eq!(latency_quantile(&vec![0; LATENCY_BUCKETS], 0.5), None);
    }

    #[test]
    fn steps_give_at_most_200_points() {
        assert_eq!(step_for(Duration::hours(1)), Duration::minutes(1));
        assert_eq!(step_for(Duration::days(1)), Duration::minutes(15));
        assert_eq!(step_for(Duration::days(7)), Duration::hours(1));
        assert_eq!(step_for(Duration::days(30)), Duration::hours(6));
    }
}
