//! `outcomes`: recording observed outcomes against predictions (a later value replaces the
//! earlier one and is counted), listing them newest first, and reading a cohort's scores
//! and outcomes for a performance report.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::error::Result;
use crate::performance::report::CohortRow;

/// Which prediction an outcome belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeTarget {
    /// The prediction with this id.
    Prediction(Uuid),
    /// The newest prediction of this client (`SK_ID_CURR`) made at or before the outcome's
    /// `observed_at`.
    Client(i64),
}

/// An outcome to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewOutcome {
    pub target: OutcomeTarget,
    /// Did the borrower default?
    pub defaulted: bool,
    /// When the outcome was observed.
    pub observed_at: DateTime<Utc>,
}

/// Where outcomes came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeSource {
    Api,
    Csv,
    Simulator,
}

impl OutcomeSource {
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeSource::Api => "api",
            OutcomeSource::Csv => "csv",
            OutcomeSource::Simulator => "simulator",
        }
    }
}

/// What recording a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Items stored (each names a prediction that exists).
    pub recorded: u64,
    /// Of those, items that replaced an outcome recorded earlier (or earlier in the batch).
    pub replaced: u64,
    /// Indexes (0-based, in the batch) of the items that matched no prediction.
    pub unmatched: Vec<usize>,
}

/// Most items in one statement (a batch is stored in one transaction whatever its size).
const ITEMS_PER_STATEMENT: usize = 10_000;

/// Records a batch of outcomes in one transaction: all matched items are stored, or none.
/// Two items for the same prediction: the later one wins and the earlier counts as replaced.
#[tracing::instrument(level = "debug", skip_all, fields(items = items.len()))]
pub async fn record_outcomes(
    pool: &PgPool,
    items: &[NewOutcome],
    source: OutcomeSource,
) -> Result<Recorded> {
    let mut total = Recorded::default();
    let mut tx = pool.begin().await?;
    for (chunk_no, chunk) in items.chunks(ITEMS_PER_STATEMENT).enumerate() {
        let offset = chunk_no * ITEMS_PER_STATEMENT;
        let mut idx = Vec::with_capacity(chunk.len());
        let mut ids: Vec<Option<Uuid>> = Vec::with_capacity(chunk.len());
        let mut clients: Vec<Option<i64>> = Vec::with_capacity(chunk.len());
        let mut defaulted = Vec::with_capacity(chunk.len());
        let mut observed = Vec::with_capacity(chunk.len());
        for (i, item) in chunk.iter().enumerate() {
            idx.push((offset + i) as i64);
            match item.target {
                OutcomeTarget::Prediction(id) => {
                    ids.push(Some(id));
                    clients.push(None);
                }
                OutcomeTarget::Client(c) => {
                    ids.push(None);
                    clients.push(Some(c));
                }
            }
            defaulted.push(item.defaulted);
            observed.push(item.observed_at);
        }
        let row = sqlx::query(
            "WITH input AS ( \
               SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::bigint[], $4::boolean[], $5::timestamptz[]) \
                 AS t(idx, pid, client, defaulted, observed_at)), \
             matched AS ( \
               SELECT i.idx, i.defaulted, i.observed_at, p.id, p.created_at, p.model_version, \
                      p.probability, p.decision = 'REFUSED' AS refused, p.sk_id_curr \
                 FROM input i \
                 JOIN LATERAL ( \
                   SELECT q.id, q.created_at, q.model_version, q.probability, q.decision, q.sk_id_curr \
                     FROM predictions q WHERE i.pid IS NOT NULL AND q.id = i.pid \
                   UNION ALL \
                   (SELECT q.id, q.created_at, q.model_version, q.probability, q.decision, q.sk_id_curr \
                      FROM predictions q \
                     WHERE i.pid IS NULL AND q.sk_id_curr = i.client AND q.created_at <= i.observed_at \
                     ORDER BY q.created_at DESC, q.id DESC LIMIT 1) \
                 ) p ON true), \
             latest AS ( \
               SELECT DISTINCT ON (id) *, count(*) OVER (PARTITION BY id) AS n_items \
                 FROM matched ORDER BY id, idx DESC), \
             upserted AS ( \
               INSERT INTO outcomes (prediction_id, defaulted, observed_at, recorded_at, source, replaced, \
                                     prediction_created_at, model_version, probability, refused, sk_id_curr) \
               SELECT id, defaulted, observed_at, now(), $6, n_items - 1, created_at, model_version, \
                      probability, refused, sk_id_curr FROM latest \
               ON CONFLICT (prediction_id) DO UPDATE SET \
                 defaulted = EXCLUDED.defaulted, observed_at = EXCLUDED.observed_at, \
                 recorded_at = EXCLUDED.recorded_at, source = EXCLUDED.source, \
                 replaced = outcomes.replaced + EXCLUDED.replaced + 1 \
               RETURNING (xmax <> 0) AS was_there) \
             SELECT (SELECT count(*) FROM matched) AS recorded, \
                    (SELECT count(*) FROM matched) - (SELECT count(*) FROM latest) \
                      + (SELECT count(*) FROM upserted WHERE was_there) AS replaced, \
                    (SELECT coalesce(array_agg(idx ORDER BY idx), '{}') FROM input \
                      WHERE NOT EXISTS (SELECT 1 FROM matched m WHERE m.idx = input.idx)) AS unmatched",
        )
        .bind(&idx)
        .bind(&ids)
        .bind(&clients)
        .bind(&defaulted)
        .bind(&observed)
        .bind(source.as_str())
        .fetch_one(&mut *tx)
        .await?;
        total.recorded += row.get::<i64, _>("recorded") as u64;
        total.replaced += row.get::<i64, _>("replaced") as u64;
        let unmatched: Vec<i64> = row.get("unmatched");
        total
            .unmatched
            .extend(unmatched.into_iter().map(|i| i as usize));
    }
    tx.commit().await?;
    Ok(total)
}

/// A stored outcome.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Outcome {
    pub prediction_id: Uuid,
    pub sk_id_curr: Option<i64>,
    pub defaulted: bool,
    pub observed_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    /// api, csv or simulator.
    pub source: String,
    /// How many times a later value replaced an earlier one.
    pub replaced: i32,
    /// When the prediction was made, by which model version, its probability of default and
    /// whether it was refused.
    pub prediction_created_at: DateTime<Utc>,
    pub model_version: i64,
    pub probability: f64,
    pub refused: bool,
}

/// Filters of [`list_outcomes`]; `None` = any.
#[derive(Debug, Clone, Default)]
pub struct OutcomeFilter {
    pub defaulted: Option<bool>,
    pub source: Option<OutcomeSource>,
    pub model_version: Option<i64>,
    pub sk_id_curr: Option<i64>,
    /// Recorded at or after.
    pub since: Option<DateTime<Utc>>,
    /// Recorded before.
    pub until: Option<DateTime<Utc>>,
}

/// Where a page of outcomes ends: `(recorded_at, prediction_id)` of its last item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutcomeCursor {
    pub recorded_at: DateTime<Utc>,
    pub prediction_id: Uuid,
}

/// Up to `limit` outcomes matching `filter`, newest recorded first, after `after`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_outcomes(
    pool: &PgPool,
    filter: &OutcomeFilter,
    after: Option<OutcomeCursor>,
    limit: i64,
) -> Result<Vec<Outcome>> {
    let mut qb = sqlx::QueryBuilder::new(
        "SELECT prediction_id, sk_id_curr, defaulted, observed_at, recorded_at, source, replaced, \
         prediction_created_at, model_version, probability, refused FROM outcomes WHERE true",
    );
    if let Some(d) = filter.defaulted {
        qb.push(" AND defaulted = ").push_bind(d);
    }
    if let Some(s) = filter.source {
        qb.push(" AND source = ").push_bind(s.as_str());
    }
    if let Some(v) = filter.model_version {
        qb.push(" AND model_version = ").push_bind(v);
    }
    if let Some(c) = filter.sk_id_curr {
        qb.push(" AND sk_id_curr = ").push_bind(c);
    }
    if let Some(t) = filter.since {
        qb.push(" AND recorded_at >= ").push_bind(t);
    }
    if let Some(t) = filter.until {
        qb.push(" AND recorded_at < ").push_bind(t);
    }
    if let Some(c) = after {
        qb.push(" AND (recorded_at, prediction_id) < (")
            .push_bind(c.recorded_at)
            .push(", ")
            .push_bind(c.prediction_id)
            .push(")");
    }
    qb.push(" ORDER BY recorded_at DESC, prediction_id DESC LIMIT ")
        .push_bind(limit);
    let rows = qb.build().fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|r| Outcome {
            prediction_id: r.get("prediction_id"),
            sk_id_curr: r.get("sk_id_curr"),
            defaulted: r.get("defaulted"),
            observed_at: r.get("observed_at"),
            recorded_at: r.get("recorded_at"),
            source: r.get("source"),
            replaced: r.get("replaced"),
            prediction_created_at: r.get("prediction_created_at"),
            model_version: r.get("model_version"),
            probability: r.get("probability"),
            refused: r.get("refused"),
        })
        .collect())
}

/// Every prediction of `model_version` made in `[since, until)` with its outcome where one
/// is recorded, ordered by score and decision (approved first), and among equal ones the
/// labelled non-defaults, the labelled defaults, then the unlabelled: a report's sums run in
/// one order whatever the rows' physical order.
///
/// How, for speed on millions of predictions: each query sends one row of arrays, not a
/// row per prediction, and ids never travel. The window's scores and decisions come from
/// `predictions` (the `predictions_scores` index), in time slices read concurrently; the
/// labelled ones from `outcomes` alone, which holds a copy of each prediction's score and
/// decision. Both sorted, each outcome is matched to an equal (score, decision) of the
/// window: equal values are interchangeable in every statistic of a report.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn cohort(
    pool: &PgPool,
    model_version: i64,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<CohortRow>> {
    const SLICES: i32 = 4;
    let step = (until - since) / SLICES;
    let slice = |k: i32| {
        let from = since + step * k;
        let to = if k == SLICES - 1 {
            until
        } else {
            since + step * (k + 1)
        };
        async move {
            sqlx::query_as::<_, (Vec<f64>, Vec<bool>)>(
                "SELECT coalesce(array_agg(probability), '{}'), \
                        coalesce(array_agg(decision = 'REFUSED'), '{}') \
                   FROM predictions \
                  WHERE model_version = $1 AND created_at >= $2 AND created_at < $3",
            )
            .bind(model_version)
            .bind(from)
            .bind(to)
            .fetch_one(pool)
            .await
        }
    };
    let labelled = async {
        sqlx::query_as::<_, (Vec<f64>, Vec<bool>, Vec<bool>)>(
            "SELECT coalesce(array_agg(probability), '{}'), coalesce(array_agg(refused), '{}'), \
                    coalesce(array_agg(defaulted), '{}') \
               FROM outcomes \
              WHERE model_version = $1 AND prediction_created_at >= $2 \
                AND prediction_created_at < $3",
        )
        .bind(model_version)
        .bind(since)
        .bind(until)
        .fetch_one(pool)
        .await
    };
    let (a, b, c, d, labelled) =
        tokio::try_join!(slice(0), slice(1), slice(2), slice(3), labelled)?;
    let mut window: Vec<CohortRow> = [a, b, c, d]
        .into_iter()
        .flat_map(|(scores, refused)| {
            scores
                .into_iter()
                .zip(refused)
                .map(|(score, refused)| CohortRow {
                    score,
                    refused,
                    defaulted: None,
                })
        })
        .collect();
    let (scores, refused, defaulted) = labelled;
    let mut known: Vec<(f64, bool, bool)> = scores
        .into_iter()
        .zip(refused)
        .zip(defaulted)
        .map(|((s, r), d)| (s, r, d))
        .collect();
    // The order of f64::total_cmp, as an integer key.
    let key = |score: f64, refused: bool| {
        let bits = score.to_bits() as i64;
        (bits ^ (((bits >> 63) as u64) >> 1) as i64, refused)
    };
    window.sort_unstable_by_key(|r| key(r.score, r.refused));
    known.sort_unstable_by_key(|&(s, r, d)| (key(s, r), d));
    // Walk both in order: each outcome takes the next unlabelled row of equal value.
    let mut i = 0;
    for (score, refused, defaulted) in known {
        let k = key(score, refused);
        while i < window.len() && key(window[i].score, window[i].refused) < k {
            i += 1;
        }
        if i < window.len() && key(window[i].score, window[i].refused) == k {
            window[i].defaulted = Some(defaulted);
            i += 1;
        }
    }
    Ok(window)
}

/// How many outcomes are recorded in all.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn count_outcomes(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM outcomes")
        .fetch_one(pool)
        .await?)
}
