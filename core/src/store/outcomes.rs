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

/// Most values of one kind bound to one statement (a batch is stored in one transaction
/// whatever its size).
const ITEMS_PER_STATEMENT: usize = 10_000;

/// What an outcome copies from its prediction (which never changes once stored).
#[derive(Debug, Clone, Copy)]
struct Matched {
    id: Uuid,
    created_at: DateTime<Utc>,
    model_version: i64,
    probability: f64,
    refused: bool,
    sk_id_curr: Option<i64>,
}

impl Matched {
    /// From a row with the columns of [`MATCHED_COLUMNS`].
    fn from_row(row: &sqlx::postgres::PgRow) -> Self {
        Matched {
            id: row.get("id"),
            created_at: row.get("created_at"),
            model_version: row.get("model_version"),
            probability: row.get("probability"),
            refused: row.get("refused"),
            sk_id_curr: row.get("sk_id_curr"),
        }
    }
}

/// The columns of `predictions` (as `q`) an outcome copies, named as [`Matched`] reads them.
const MATCHED_COLUMNS: &str = "q.id, q.created_at, q.model_version, q.probability, \
                               q.decision = 'REFUSED' AS refused, q.sk_id_curr";

/// Records a batch of outcomes in one transaction: all matched items are stored, or none.
/// Two items for the same prediction: the later one wins and the earlier counts as replaced.
///
/// Three steps, each a few statements over arrays: the items naming a prediction id are
/// matched with one index join (ids sorted, so a time-ordered id walks the index in order),
/// the items naming a client with one lateral lookup each; the batch is then folded to one
/// row per prediction here, sorted by id, and upserted. The upsert copies the prediction's
/// time, model version, score and decision read in the same transaction.
#[tracing::instrument(level = "debug", skip_all, fields(items = items.len()))]
pub async fn record_outcomes(
    pool: &PgPool,
    items: &[NewOutcome],
    source: OutcomeSource,
) -> Result<Recorded> {
    let mut tx = pool.begin().await?;
    // Plans over 10,000-element arrays cost enough to cross the JIT threshold, and compiling
    // them takes longer (about 20 ms) than these short statements run.
    sqlx::query("SET LOCAL jit = off").execute(&mut *tx).await?;

    // 1. Each item's prediction, or none.
    let mut matches: Vec<Option<Matched>> = vec![None; items.len()];
    let mut by_id: Vec<Uuid> = items
        .iter()
        .filter_map(|item| match item.target {
            OutcomeTarget::Prediction(id) => Some(id),
            OutcomeTarget::Client(_) => None,
        })
        .collect();
    by_id.sort_unstable();
    by_id.dedup();
    let mut found = std::collections::HashMap::with_capacity(by_id.len());
    for chunk in by_id.chunks(ITEMS_PER_STATEMENT) {
        let rows = sqlx::query(&format!(
            "SELECT {MATCHED_COLUMNS} FROM unnest($1::uuid[]) AS i (id) \
               JOIN predictions q ON q.id = i.id"
        ))
        .bind(chunk)
        .fetch_all(&mut *tx)
        .await?;
        found.extend(rows.iter().map(|r| {
            let m = Matched::from_row(r);
            (m.id, m)
        }));
    }
    let clients: Vec<(usize, i64, DateTime<Utc>)> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| match item.target {
            OutcomeTarget::Client(c) => Some((i, c, item.observed_at)),
            OutcomeTarget::Prediction(_) => None,
        })
        .collect();
    for chunk in clients.chunks(ITEMS_PER_STATEMENT) {
        let idx: Vec<i64> = chunk.iter().map(|c| c.0 as i64).collect();
        let client: Vec<i64> = chunk.iter().map(|c| c.1).collect();
        let observed: Vec<DateTime<Utc>> = chunk.iter().map(|c| c.2).collect();
        let rows = sqlx::query(&format!(
            "SELECT i.idx, {MATCHED_COLUMNS} \
               FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[]) \
                 AS i (idx, client, observed_at) \
               JOIN LATERAL ( \
                 SELECT p.id, p.created_at, p.model_version, p.probability, p.decision, \
                        p.sk_id_curr \
                   FROM predictions p \
                  WHERE p.sk_id_curr = i.client AND p.created_at <= i.observed_at \
                  ORDER BY p.created_at DESC, p.id DESC LIMIT 1) q ON true"
        ))
        .bind(&idx)
        .bind(&client)
        .bind(&observed)
        .fetch_all(&mut *tx)
        .await?;
        for r in &rows {
            matches[r.get::<i64, _>("idx") as usize] = Some(Matched::from_row(r));
        }
    }
    for (item, m) in items.iter().zip(matches.iter_mut()) {
        if let OutcomeTarget::Prediction(id) = item.target {
            *m = found.get(&id).copied();
        }
    }

    // 2. One row per prediction: its last item, and how many items of this batch it replaces.
    let mut total = Recorded::default();
    let mut last: std::collections::HashMap<Uuid, (usize, i32)> = std::collections::HashMap::new();
    for (i, m) in matches.iter().enumerate() {
        match m {
            None => total.unmatched.push(i),
            Some(m) => {
                total.recorded += 1;
                let e = last.entry(m.id).or_insert((i, -1));
                *e = (i, e.1 + 1);
            }
        }
    }
    total.replaced = total.recorded - last.len() as u64;
    let mut rows: Vec<(usize, i32)> = last.into_values().collect();
    rows.sort_unstable_by_key(|&(i, _)| matches[i].map(|m| m.id));

    // 3. The upsert, in id order.
    for chunk in rows.chunks(ITEMS_PER_STATEMENT) {
        let m = |i: usize| matches[i].expect("a folded row is matched");
        let ids: Vec<Uuid> = chunk.iter().map(|&(i, _)| m(i).id).collect();
        let defaulted: Vec<bool> = chunk.iter().map(|&(i, _)| items[i].defaulted).collect();
        let observed: Vec<DateTime<Utc>> =
            chunk.iter().map(|&(i, _)| items[i].observed_at).collect();
        let earlier: Vec<i32> = chunk.iter().map(|&(_, n)| n).collect();
        let created: Vec<DateTime<Utc>> = chunk.iter().map(|&(i, _)| m(i).created_at).collect();
        let versions: Vec<i64> = chunk.iter().map(|&(i, _)| m(i).model_version).collect();
        let probability: Vec<f64> = chunk.iter().map(|&(i, _)| m(i).probability).collect();
        let refused: Vec<bool> = chunk.iter().map(|&(i, _)| m(i).refused).collect();
        let client: Vec<Option<i64>> = chunk.iter().map(|&(i, _)| m(i).sk_id_curr).collect();
        let (was_there,): (i64,) = sqlx::query_as(
            "WITH upserted AS ( \
               INSERT INTO outcomes (prediction_id, defaulted, observed_at, recorded_at, source, \
                                     replaced, prediction_created_at, model_version, probability, \
                                     refused, sk_id_curr) \
               SELECT t.id, t.defaulted, t.observed_at, now(), $10, t.earlier, t.created_at, \
                      t.model_version, t.probability, t.refused, t.sk_id_curr \
                 FROM unnest($1::uuid[], $2::boolean[], $3::timestamptz[], $4::integer[], \
                             $5::timestamptz[], $6::bigint[], $7::double precision[], \
                             $8::boolean[], $9::bigint[]) \
                   AS t (id, defaulted, observed_at, earlier, created_at, model_version, \
                         probability, refused, sk_id_curr) \
               ON CONFLICT (prediction_id) DO UPDATE SET \
                 defaulted = EXCLUDED.defaulted, observed_at = EXCLUDED.observed_at, \
                 recorded_at = EXCLUDED.recorded_at, source = EXCLUDED.source, \
                 replaced = outcomes.replaced + EXCLUDED.replaced + 1 \
               RETURNING (xmax <> 0) AS was_there) \
             SELECT count(*) FILTER (WHERE was_there) FROM upserted",
        )
        .bind(&ids)
        .bind(&defaulted)
        .bind(&observed)
        .bind(&earlier)
        .bind(&created)
        .bind(&versions)
        .bind(&probability)
        .bind(&refused)
        .bind(&client)
        .bind(source.as_str())
        .fetch_one(&mut *tx)
        .await?;
        total.replaced += was_there as u64;
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
