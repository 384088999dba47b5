//! `prediction_minutes` and `prediction_hours`: the traffic summaries kept beside the
//! predictions (migrations 0006 and 0009). Every insert adds to per-minute rows in its own
//! slot ([`SummaryAdditions`], [`add_to_summaries`]); every minute the server folds the
//! minutes that ended into one row per minute and one per hour ([`compact`]); charts and
//! counts read them ([`traffic`], [`count_all`]). The histogram arithmetic is in
//! [`crate::traffic`].

use anyhow::Context;
use chrono::{DateTime, Duration, DurationRound, TimeDelta, Utc};
use sqlx::{PgPool, Row};

use crate::error::Result;
use crate::traffic::{
    latency_bucket, score_bin, Traffic, TrafficBucket, LATENCY_BUCKETS, SCORE_BINS,
};

/// Volume, decisions, latency and scores over `[from, to)` in steps of `step` (a multiple
/// of a minute). `from` is rounded down to the step. Steps of an hour or more are read from
/// the hourly summaries, shorter ones from the per-minute summaries.
#[tracing::instrument(level = "debug", skip_all)]
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
        rows: impl IntoIterator<Item = &'a crate::model::prediction::Prediction>,
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
            let approved = p.decision == crate::model::prediction::Decision::Approved;
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
#[tracing::instrument(level = "debug", skip_all)]
pub async fn add_to_summaries<'a>(
    tx: &mut sqlx::PgConnection,
    rows: impl IntoIterator<Item = &'a crate::model::prediction::Prediction>,
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
#[tracing::instrument(level = "debug", skip_all)]
pub async fn compact(pool: &PgPool) -> Result<i64> {
    let mut retries = 0;
    loop {
        let folded =
            sqlx::query_scalar::<_, i64>("SELECT sw_rollup_compact(now() - interval '1 minute')")
                .fetch_one(pool)
                .await
                .context("compacting the prediction summaries");
        match folded {
            Err(e) if super::retry_after(&e, &mut retries).await => continue,
            done => return done.map_err(Into::into),
        }
    }
}

/// Compacts the summaries every minute, for as long as the server runs.
#[tracing::instrument(level = "debug", skip_all)]
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
#[tracing::instrument(level = "debug", skip_all)]
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
