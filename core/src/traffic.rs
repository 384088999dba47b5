//! Traffic over time: volume by decision, latency and score distributions, read from the
//! summaries kept beside the predictions (migrations 0006 and 0009): every insert adds to
//! per-minute rows in its own slot, and every minute the server folds the minutes that
//! ended into one row per minute and one per hour. Reading a month costs the same with a
//! thousand or ten million predictions.

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, DurationRound, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Row};

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
    fn empty(start: DateTime<Utc>) -> Self {
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

    fn add(&mut self, other: &TrafficBucket) {
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

/// Volume, decisions, latency and scores over `[from, to)` in steps of `step` (a multiple
/// of a minute). `from` is rounded down to the step. Steps of an hour or more are read from
/// the hourly summaries, shorter ones from the per-minute summaries.
pub async fn traffic(
    pool: &PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    step: Duration,
) -> Result<Traffic> {
    let step = step.max(Duration::minutes(1));
    let hourly = step.num_seconds() % 3600 == 0;
    let unit = if hourly {
        TimeDelta::hours(1)
    } else {
        TimeDelta::minutes(1)
    };
    let from = from.duration_trunc(unit).context("rounding the range")?;
    let n_steps = ((to - from).num_seconds() + step.num_seconds() - 1) / step.num_seconds();
    let n_steps = n_steps.clamp(1, 10_000) as usize;
    let mut buckets: Vec<TrafficBucket> = (0..n_steps)
        .map(|i| TrafficBucket::empty(from + step * i as i32))
        .collect();
    // An hour is its folded row plus its minutes not folded yet (migration 0009).
    let query = if hourly {
        "SELECT bucket, n_approved, n_refused, latency_sum_ms, latency_counts, score_approved, \
         score_refused FROM prediction_hours WHERE bucket >= $1 AND bucket < $2 \
         UNION ALL \
         SELECT date_trunc('hour', bucket), n_approved, n_refused, latency_sum_ms, latency_counts, \
         score_approved, score_refused FROM prediction_minutes \
          WHERE slot <> 0 AND bucket >= $1 AND date_trunc('hour', bucket) < $2"
    } else {
        "SELECT bucket, n_approved, n_refused, latency_sum_ms, latency_counts, score_approved, \
         score_refused FROM prediction_minutes WHERE bucket >= $1 AND bucket < $2"
    };
    let rows = sqlx::query(query)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await
        .context("reading the prediction summaries")?;
    let mut total = TrafficBucket::empty(from);
    for row in rows {
        let start: DateTime<Utc> = row.try_get("bucket")?;
        let part = TrafficBucket {
            start,
            n_approved: row.try_get("n_approved")?,
            n_refused: row.try_get("n_refused")?,
            latency_sum_ms: row.try_get("latency_sum_ms")?,
            latency_counts: widen(row.try_get("latency_counts")?),
            score_approved: widen(row.try_get("score_approved")?),
            score_refused: widen(row.try_get("score_refused")?),
        };
        let i = ((start - from).num_seconds() / step.num_seconds()) as usize;
        if let Some(b) = buckets.get_mut(i) {
            b.add(&part);
        }
        total.add(&part);
    }
    Ok(Traffic {
        from,
        to,
        step,
        buckets,
        total,
    })
}

fn widen(v: Vec<i32>) -> Vec<i64> {
    v.into_iter().map(i64::from).collect()
}

/// What one transaction adds to the summaries of one minute or hour.
#[derive(Debug, Clone)]
struct Addition {
    bucket: DateTime<Utc>,
    n_approved: i64,
    n_refused: i64,
    latency_sum_ms: f64,
    latency_counts: Vec<i32>,
    score_approved: Vec<i32>,
    score_refused: Vec<i32>,
}

impl Addition {
    fn new(bucket: DateTime<Utc>) -> Self {
        Addition {
            bucket,
            n_approved: 0,
            n_refused: 0,
            latency_sum_ms: 0.0,
            latency_counts: vec![0; LATENCY_BUCKETS],
            score_approved: vec![0; SCORE_BINS],
            score_refused: vec![0; SCORE_BINS],
        }
    }
}

/// The score bin of a probability (as the database computes it).
pub fn score_bin(p: f64) -> usize {
    ((p * SCORE_BINS as f64).floor().max(0.0) as usize).min(SCORE_BINS - 1)
}

/// The summary slot of inserts other than the writer's committers (which use 1, 2, ...).
/// Slot 0 holds the folded rows.
pub const OTHER_SLOT: i32 = -1;

/// What some inserted predictions add to the per-minute summaries, in summary slot `slot`
/// (never 0: see migration 0009; the hourly rows are built when minutes are folded).
/// Histograms are summed element by element only where these rows have counts, so the cost
/// does not grow with the histograms' size. The statement is prepared (and cached by the
/// connection) per variant: the writer's connections keep many.
pub struct SummaryAdditions {
    minutes: Vec<Addition>,
    set: String,
    slot: i32,
}

impl SummaryAdditions {
    /// None when there are no rows.
    pub fn of<'a>(
        rows: impl IntoIterator<Item = &'a crate::store::NewPrediction>,
        slot: i32,
    ) -> Result<Option<Self>> {
        use std::collections::BTreeMap;
        let slot = if slot == 0 { OTHER_SLOT } else { slot };
        let mut minutes: BTreeMap<DateTime<Utc>, Addition> = BTreeMap::new();
        let (mut lat_used, mut app_used, mut ref_used) = (
            vec![false; LATENCY_BUCKETS],
            vec![false; SCORE_BINS],
            vec![false; SCORE_BINS],
        );
        for p in rows {
            let lat = latency_bucket(p.inference_time_ms);
            let bin = score_bin(p.probability);
            let approved = p.decision == crate::scoring::Decision::Approved;
            lat_used[lat] = true;
            if approved {
                app_used[bin] = true;
            } else {
                ref_used[bin] = true;
            }
            let bucket = p.created_at.duration_trunc(TimeDelta::minutes(1))?;
            let a = minutes
                .entry(bucket)
                .or_insert_with(|| Addition::new(bucket));
            a.latency_sum_ms += p.inference_time_ms;
            a.latency_counts[lat] += 1;
            if approved {
                a.n_approved += 1;
                a.score_approved[bin] += 1;
            } else {
                a.n_refused += 1;
                a.score_refused[bin] += 1;
            }
        }
        if minutes.is_empty() {
            return Ok(None);
        }
        // Only the histogram cells these rows touch are added (PostgreSQL arrays count
        // from 1); the indices are numbers generated here, never input.
        let mut set = String::from(
            "n_approved = s.n_approved + excluded.n_approved, \
             n_refused = s.n_refused + excluded.n_refused, \
             latency_sum_ms = s.latency_sum_ms + excluded.latency_sum_ms",
        );
        for (column, used) in [
            ("latency_counts", &lat_used),
            ("score_approved", &app_used),
            ("score_refused", &ref_used),
        ] {
            for (i, _) in used.iter().enumerate().filter(|(_, u)| **u) {
                let k = i + 1;
                set.push_str(&format!(
                    ", {column}[{k}] = s.{column}[{k}] + excluded.{column}[{k}]"
                ));
            }
        }
        Ok(Some(SummaryAdditions {
            minutes: minutes.into_values().collect(),
            set,
            slot,
        }))
    }

    /// How many parameters [`Self::push_ctes`] binds.
    pub fn n_binds(&self) -> usize {
        8 * self.minutes.len()
    }

    /// Pushes the upsert as a common table expression (`summary_minutes AS (...)`), to
    /// follow a `WITH`.
    pub fn push_ctes(self, qb: &mut sqlx::QueryBuilder<'_, sqlx::Postgres>) {
        let SummaryAdditions { minutes, set, slot } = self;
        qb.push(
            "summary_minutes AS (INSERT INTO prediction_minutes AS s (bucket, slot, n_approved, \
             n_refused, latency_sum_ms, latency_counts, score_approved, score_refused) ",
        );
        qb.push_values(minutes, |mut b, a| {
            b.push_bind(a.bucket)
                .push_bind(slot)
                .push_bind(a.n_approved)
                .push_bind(a.n_refused)
                .push_bind(a.latency_sum_ms)
                .push_bind(a.latency_counts)
                .push_bind(a.score_approved)
                .push_bind(a.score_refused);
        });
        qb.push(" ON CONFLICT (bucket, slot) DO UPDATE SET ");
        qb.push(&set);
        qb.push(" RETURNING 1)");
    }
}

/// Adds just-inserted predictions to the summaries, in the caller's transaction, with one
/// statement (see [`SummaryAdditions`]).
pub async fn add_to_summaries<'a>(
    tx: &mut sqlx::PgConnection,
    rows: impl IntoIterator<Item = &'a crate::store::NewPrediction>,
    slot: i32,
) -> Result<()> {
    let Some(additions) = SummaryAdditions::of(rows, slot)? else {
        return Ok(());
    };
    let mut qb = sqlx::QueryBuilder::new("WITH ");
    additions.push_ctes(&mut qb);
    qb.push(" SELECT 1");
    qb.build()
        .execute(tx)
        .await
        .context("adding to the prediction summaries")?;
    Ok(())
}

/// Folds the writers' summary rows of minutes that ended more than a minute ago into one
/// row per minute and adds them to their hour's row (the server does this every minute);
/// returns how many rows it folded.
pub async fn compact(pool: &PgPool) -> Result<i64> {
    let mut retries = 0;
    loop {
        let folded =
            sqlx::query_scalar::<_, i64>("SELECT sw_rollup_compact(now() - interval '1 minute')")
                .fetch_one(pool)
                .await
                .context("compacting the prediction summaries");
        match folded {
            Err(e) if crate::store::retry_after(&e, &mut retries).await => continue,
            done => return done,
        }
    }
}

/// Compacts the summaries every minute, for as long as the server runs.
pub async fn compact_every_minute(pool: PgPool) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match compact(&pool).await {
            Ok(n) if n > 0 => tracing::debug!(rows = n, "prediction summaries compacted"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "compacting prediction summaries"),
        }
    }
}

/// Every prediction ever stored, from the hourly summaries and the minutes not folded yet
/// (exact, and cheap on any table size, unlike `count(*)`).
pub async fn count_all(pool: &PgPool) -> Result<i64> {
    let n: Option<i64> = sqlx::query_scalar(
        "SELECT sum(n)::BIGINT FROM ( \
           SELECT n_approved + n_refused AS n FROM prediction_hours \
           UNION ALL \
           SELECT n_approved + n_refused FROM prediction_minutes WHERE slot <> 0) AS u",
    )
    .fetch_one(pool)
    .await
    .context("counting predictions")?;
    Ok(n.unwrap_or(0))
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
