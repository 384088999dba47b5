//! `predictions`: inserting scored applications (with their traffic summaries, retried
//! when PostgreSQL aborts a transaction as transient), paging newest first, and reads of
//! one prediction, of counts and of one feature over a window.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::{retry_after, ROWS_PER_STATEMENT};
use crate::error::Result;
use crate::model::prediction::{Decision, Prediction, Source};

/// Stores predictions in one transaction (all or none).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_predictions(pool: &PgPool, rows: &[Prediction]) -> Result<()> {
    insert(pool, rows, false).await.map(|_| ())
}

/// Stores the predictions whose id is not in the database yet (one transaction); returns
/// how many were inserted. Replaying the same rows twice inserts nothing the second time.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_missing_predictions(pool: &PgPool, rows: &[Prediction]) -> Result<u64> {
    insert(pool, rows, true).await
}

/// [`insert_predictions`] on a connection of the caller's, counted in summary slot `slot`
/// (see [`super::summaries::add_to_summaries`]).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_predictions_on(
    conn: &mut sqlx::PgConnection,
    rows: &[Prediction],
    slot: i32,
) -> Result<()> {
    use sqlx::Connection;
    if rows.is_empty() {
        return Ok(());
    }
    let mut retries = 0;
    loop {
        let attempt = async {
            let mut tx = conn.begin().await?;
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                insert_chunk(&mut tx, chunk, false, slot).await?;
            }
            tx.commit().await.context("committing predictions")
        }
        .await;
        match attempt {
            Err(e) if retry_after(&e, &mut retries).await => continue,
            done => return done.map_err(Into::into),
        }
    }
}

async fn insert(pool: &PgPool, rows: &[Prediction], skip_existing: bool) -> Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let mut retries = 0;
    loop {
        let attempt = async {
            let mut tx = pool.begin().await?;
            let mut inserted = 0;
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                inserted +=
                    insert_chunk(&mut tx, chunk, skip_existing, super::summaries::OTHER_SLOT)
                        .await?;
            }
            tx.commit().await.context("committing predictions")?;
            anyhow::Ok(inserted)
        }
        .await;
        match attempt {
            Err(e) if retry_after(&e, &mut retries).await => continue,
            done => return done.map_err(Into::into),
        }
    }
}

/// Inserts rows and adds those inserted to the traffic summaries.
async fn insert_chunk(
    tx: &mut sqlx::PgConnection,
    rows: &[Prediction],
    skip_existing: bool,
    slot: i32,
) -> Result<u64> {
    // Without ON CONFLICT every row is inserted (or the statement fails), so the summaries
    // are added by the same statement, saving a round trip per commit.
    let combined = if skip_existing {
        None
    } else {
        super::summaries::SummaryAdditions::of(rows, slot)?
            .filter(|add| add.n_binds() + rows.len() * 11 <= 65_535)
    };
    let mut qb = sqlx::QueryBuilder::new("");
    let summed_here = combined.is_some();
    if let Some(add) = combined {
        qb.push("WITH ");
        add.push_ctes(&mut qb);
        qb.push(" ");
    }
    qb.push(
        "INSERT INTO predictions (id, created_at, model_version, sk_id_curr, features, probability, decision, \
         threshold, inference_time_ms, source, request_id) ",
    );
    qb.push_values(rows, |mut b, p| {
        let features: Vec<Option<f64>> = p
            .features
            .iter()
            .map(|v| (!v.is_nan()).then_some(*v))
            .collect();
        b.push_bind(p.id)
            .push_bind(p.created_at)
            .push_bind(p.model_version)
            .push_bind(p.sk_id_curr)
            .push_bind(features)
            .push_bind(p.probability)
            .push_bind(p.decision.as_str())
            .push_bind(p.threshold)
            .push_bind(p.inference_time_ms)
            .push_bind(p.source.as_str())
            .push_bind(p.request_id.clone());
    });
    if skip_existing {
        // Only the rows really inserted count in the summaries.
        qb.push(" ON CONFLICT (id) DO NOTHING RETURNING id");
        let inserted: std::collections::HashSet<Uuid> = qb
            .build_query_scalar::<Uuid>()
            .fetch_all(&mut *tx)
            .await
            .context("storing predictions")?
            .into_iter()
            .collect();
        super::summaries::add_to_summaries(
            tx,
            rows.iter().filter(|p| inserted.contains(&p.id)),
            slot,
        )
        .await?;
        return Ok(inserted.len() as u64);
    }
    // The text varies only with the number of rows and of minutes: prepared once per
    // variant and connection (a committer's commits vary from 1 to a few dozen rows).
    let done = qb
        .build()
        .execute(&mut *tx)
        .await
        .context("storing predictions")?;
    if !summed_here {
        super::summaries::add_to_summaries(tx, rows, slot).await?;
    }
    Ok(done.rows_affected())
}

/// Number of stored predictions.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn count_predictions(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM predictions")
        .fetch_one(pool)
        .await?)
}

/// Which stored predictions to list.
#[derive(Debug, Clone, Default)]
pub struct PredictionFilter {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub decision: Option<Decision>,
    pub sk_id_curr: Option<i64>,
    pub source: Option<Source>,
}

/// Position in a newest-first listing: the last row of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageCursor {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

impl PageCursor {
    /// An opaque text form: `<microseconds since epoch>.<uuid>`.
    pub fn encode(&self) -> String {
        format!(
            "{}.{}",
            self.created_at.timestamp_micros(),
            self.id.simple()
        )
    }

    pub fn decode(s: &str) -> Option<Self> {
        let (micros, id) = s.split_once('.')?;
        Some(Self {
            created_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: Uuid::parse_str(id).ok()?,
        })
    }
}

/// Newest first, at most `limit` rows after `after` (keyset pagination on
/// `(created_at, id)`, which the `predictions_page` index serves).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_predictions(
    pool: &PgPool,
    filter: &PredictionFilter,
    after: Option<PageCursor>,
    limit: i64,
) -> Result<Vec<Prediction>> {
    let rows = sqlx::query(
        "SELECT id, created_at, model_version, sk_id_curr, features, probability, decision, threshold, \
                inference_time_ms, source, request_id \
           FROM predictions \
          WHERE ($1::timestamptz IS NULL OR created_at >= $1) \
            AND ($2::timestamptz IS NULL OR created_at < $2) \
            AND ($3::text IS NULL OR decision = $3) \
            AND ($4::bigint IS NULL OR sk_id_curr = $4) \
            AND ($5::text IS NULL OR source = $5) \
            AND ($6::timestamptz IS NULL OR (created_at, id) < ($6, $7)) \
          ORDER BY created_at DESC, id DESC \
          LIMIT $8",
    )
    .bind(filter.since)
    .bind(filter.until)
    .bind(filter.decision.map(Decision::as_str))
    .bind(filter.sk_id_curr)
    .bind(filter.source.map(Source::as_str))
    .bind(after.map(|c| c.created_at))
    .bind(after.map(|c| c.id))
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("listing predictions")?;
    rows.into_iter().map(stored_prediction).collect()
}

/// How many stored predictions match `filter`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn count_matching(pool: &PgPool, filter: &PredictionFilter) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM predictions \
          WHERE ($1::timestamptz IS NULL OR created_at >= $1) \
            AND ($2::timestamptz IS NULL OR created_at < $2) \
            AND ($3::text IS NULL OR decision = $3) \
            AND ($4::bigint IS NULL OR sk_id_curr = $4) \
            AND ($5::text IS NULL OR source = $5)",
    )
    .bind(filter.since)
    .bind(filter.until)
    .bind(filter.decision.map(Decision::as_str))
    .bind(filter.sk_id_curr)
    .bind(filter.source.map(Source::as_str))
    .fetch_one(pool)
    .await
    .context("counting predictions")?)
}

/// One page of a newest-first listing: at most `limit` predictions, and the cursor of
/// the next page (None on the last page).
#[derive(Debug, Clone)]
pub struct PredictionPage {
    pub items: Vec<Prediction>,
    pub next: Option<PageCursor>,
}

/// The page of `limit` predictions (at least 1) after `after`, with the next page's cursor:
/// the API's listing and the dashboard's both page through here.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn page_predictions(
    pool: &PgPool,
    filter: &PredictionFilter,
    after: Option<PageCursor>,
    limit: i64,
) -> Result<PredictionPage> {
    let mut items = list_predictions(pool, filter, after, limit + 1).await?;
    let more = items.len() as i64 > limit;
    items.truncate(limit.max(0) as usize);
    let next = more.then(|| items.last()).flatten().map(|p| PageCursor {
        created_at: p.created_at,
        id: p.id,
    });
    Ok(PredictionPage { items, next })
}

/// One stored prediction.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_prediction(pool: &PgPool, id: Uuid) -> Result<Option<Prediction>> {
    let row = sqlx::query(
        "SELECT id, created_at, model_version, sk_id_curr, features, probability, decision, threshold, \
                inference_time_ms, source, request_id FROM predictions WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(stored_prediction).transpose()
}

fn stored_prediction(r: sqlx::postgres::PgRow) -> Result<Prediction> {
    let features: Vec<Option<f64>> = r.get("features");
    let decision: &str = r.get("decision");
    let source: &str = r.get("source");
    Ok(Prediction {
        id: r.get("id"),
        created_at: r.get("created_at"),
        model_version: r.get("model_version"),
        sk_id_curr: r.get("sk_id_curr"),
        features: features
            .into_iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect(),
        probability: r.get("probability"),
        decision: decision.parse().map_err(anyhow::Error::msg)?,
        threshold: r.get("threshold"),
        inference_time_ms: r.get("inference_time_ms"),
        source: source.parse().map_err(anyhow::Error::msg)?,
        request_id: r.get("request_id"),
    })
}

/// Predictions of a model version created in [since, until).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn count_predictions_between(
    pool: &PgPool,
    model_version: i64,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM predictions WHERE model_version = $1 AND created_at >= $2 AND created_at < $3",
    )
    .bind(model_version)
    .bind(since)
    .bind(until)
    .fetch_one(pool)
    .await?)
}

/// One feature's non-missing values in a window of a model version read with `bounds`
/// (position is the feature's 0-based index in the model).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn window_feature_values(
    pool: &PgPool,
    model_version: i64,
    position: usize,
    bounds: crate::drift::window::ReadBounds,
) -> Result<Vec<f64>> {
    // From (since, first_id) in the order (created_at, id); the nil id is the smallest.
    let values: Vec<f64> = sqlx::query_scalar(
        "SELECT features[$2] FROM predictions \
          WHERE model_version = $1 AND (created_at, id) >= ($3, $5) AND created_at < $4 \
            AND features[$2] IS NOT NULL",
    )
    .bind(model_version)
    .bind(position as i32 + 1)
    .bind(bounds.since)
    .bind(bounds.until)
    .bind(bounds.first_id.unwrap_or(uuid::Uuid::nil()))
    .fetch_all(pool)
    .await
    .context("reading a feature of the window")?;
    Ok(values)
}
