//! PostgreSQL storage: connection, migrations, model versions, predictions and the
//! training reference. Queries are checked at run time (no database needed to build).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool, Row};
use uuid::Uuid;

use crate::embedded::{self, EmbeddedPostgres};
use crate::reference::FeatureReference;
use crate::scoring::Decision;

/// Where the database is: a URL, or the embedded cluster's data directory.
#[derive(Debug, Clone)]
pub enum DatabaseLocation {
    Url(String),
    Embedded { data_dir: PathBuf },
}

/// An open pool, and the embedded cluster behind it if this process started one (dropping
/// it stops the cluster, so keep it alive as long as the pool).
pub struct Database {
    pub pool: PgPool,
    pub embedded: Option<EmbeddedPostgres>,
    pub url_for_display: String,
}

impl Database {
    /// Connects (starting the embedded cluster if needed) and applies the migrations.
    pub async fn open(location: &DatabaseLocation, max_connections: u32) -> Result<Self> {
        let (url, embedded) = match location {
            DatabaseLocation::Url(url) => (url.clone(), None),
            DatabaseLocation::Embedded { data_dir } => {
                let dir = data_dir.clone();
                let pg =
                    tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&dir)).await??;
                embedded::wait_ready(&pg.url("postgres"), Duration::from_secs(30)).await?;
                create_database_if_missing(&pg.url("postgres"), embedded::DATABASE).await?;
                (pg.url(embedded::DATABASE), Some(pg))
            }
        };
        let options: PgConnectOptions = url
            .parse()
            .context("DATABASE_URL is not a valid PostgreSQL URL")?;
        let options = options.log_statements(tracing::log::LevelFilter::Debug);
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .with_context(|| format!("connecting to PostgreSQL at {}", redact(&url)))?;
        migrate(&pool).await?;
        Ok(Self {
            pool,
            embedded,
            url_for_display: redact(&url),
        })
    }
}

/// Applies the migrations in `migrations/` that the database has not seen yet.
pub async fn migrate(pool: &PgPool) -> Result<()> {
    sqlx::migrate!("../migrations")
        .run(pool)
        .await
        .context("applying database migrations")
}

async fn create_database_if_missing(admin_url: &str, name: &str) -> Result<()> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(admin_url)
        .await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&pool)
            .await?;
    if !exists {
        // Identifiers cannot be bound; `name` is a constant of ours, quoted anyway.
        sqlx::query(&format!(
            "CREATE DATABASE \"{}\"",
            name.replace('"', "\"\"")
        ))
        .execute(&pool)
        .await?;
    }
    pool.close().await;
    Ok(())
}

/// The URL without its password, for logs and messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "<unparseable URL>".into(),
    }
}

/// A registered model version, as stored.
#[derive(Debug, Clone)]
pub struct ModelVersion {
    pub id: i64,
    pub sha256: String,
    pub name: String,
    pub feature_names: Vec<String>,
    pub threshold: f64,
    pub importances: Vec<f64>,
    pub metrics: serde_json::Value,
    pub model_text: String,
    pub created_at: DateTime<Utc>,
}

/// What registering a model stores.
pub struct NewModelVersion<'a> {
    pub sha256: &'a str,
    pub name: &'a str,
    pub feature_names: &'a [String],
    pub threshold: f64,
    pub importances: &'a [f64],
    pub metrics: &'a serde_json::Value,
    pub model_text: &'a str,
}

/// Inserts a model version (or finds it by hash) and makes it the active one, in the
/// caller's transaction (with [`store_reference`], so that nothing is half-registered).
/// Returns its id and whether it was new.
pub async fn register_model(
    tx: &mut sqlx::PgConnection,
    m: &NewModelVersion<'_>,
) -> Result<(i64, bool)> {
    let existing: Option<i64> =
        sqlx::query_scalar("SELECT id FROM model_versions WHERE sha256 = $1")
            .bind(m.sha256)
            .fetch_optional(&mut *tx)
            .await?;
    sqlx::query("UPDATE model_versions SET active = false WHERE active")
        .execute(&mut *tx)
        .await?;
    let (id, new) = match existing {
        Some(id) => {
            sqlx::query(
                "UPDATE model_versions SET active = true, threshold = $2, name = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(m.threshold)
            .bind(m.name)
            .execute(&mut *tx)
            .await?;
            (id, false)
        }
        None => {
            let id = sqlx::query_scalar(
                "INSERT INTO model_versions \
                 (sha256, name, feature_names, threshold, importances, metrics, model_text, active) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, true) RETURNING id",
            )
            .bind(m.sha256)
            .bind(m.name)
            .bind(m.feature_names)
            .bind(m.threshold)
            .bind(m.importances)
            .bind(m.metrics)
            .bind(m.model_text)
            .fetch_one(&mut *tx)
            .await?;
            (id, true)
        }
    };
    Ok((id, new))
}

/// The active model version, if any.
pub async fn active_model(pool: &PgPool) -> Result<Option<ModelVersion>> {
    let row = sqlx::query(
        "SELECT id, sha256, name, feature_names, threshold, importances, metrics, model_text, created_at \
         FROM model_versions WHERE active",
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| ModelVersion {
        id: r.get("id"),
        sha256: r.get("sha256"),
        name: r.get("name"),
        feature_names: r.get("feature_names"),
        threshold: r.get("threshold"),
        importances: r.get("importances"),
        metrics: r.get("metrics"),
        model_text: r.get("model_text"),
        created_at: r.get("created_at"),
    }))
}

/// Replaces a model version's reference statistics and reference scores, in the caller's
/// transaction.
pub async fn store_reference(
    tx: &mut sqlx::PgConnection,
    model_version: i64,
    features: &[FeatureReference],
    scores: &[f64],
    refusal_rate: f64,
) -> Result<()> {
    sqlx::query("DELETE FROM training_reference WHERE model_version = $1")
        .bind(model_version)
        .execute(&mut *tx)
        .await?;
    for (position, f) in features.iter().enumerate() {
        sqlx::query(
            "INSERT INTO training_reference (model_version, feature, position, mean, std, median, q25, q75, \
             min, max, missing_rate, n_samples, n_distinct, sorted_sample, psi_bin_edges) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(model_version)
        .bind(&f.feature)
        .bind(position as i32)
        .bind(f.mean)
        .bind(f.std)
        .bind(f.median)
        .bind(f.q25)
        .bind(f.q75)
        .bind(f.min)
        .bind(f.max)
        .bind(f.missing_rate)
        .bind(f.n_samples as i64)
        .bind(f.n_distinct as i32)
        .bind(crate::columns::encode_values(&f.sorted_sample))
        .bind(&f.psi_bin_edges)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO reference_scores (model_version, scores, refusal_rate) VALUES ($1, $2, $3) \
         ON CONFLICT (model_version) DO UPDATE SET scores = EXCLUDED.scores, refusal_rate = EXCLUDED.refusal_rate",
    )
    .bind(model_version)
    .bind(scores)
    .bind(refusal_rate)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Number of features with reference statistics for a model version.
pub async fn reference_feature_count(pool: &PgPool, model_version: i64) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM training_reference WHERE model_version = $1")
            .bind(model_version)
            .fetch_one(pool)
            .await?,
    )
}

/// Where a prediction came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Api,
    Batch,
    Ui,
    Simulator,
}

impl Source {
    pub const ALL: [Source; 4] = [Source::Api, Source::Batch, Source::Ui, Source::Simulator];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::Batch => "batch",
            Source::Ui => "ui",
            Source::Simulator => "simulator",
        }
    }
}

impl std::str::FromStr for Source {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Source::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown source {s:?}: expected api, batch, ui or simulator"))
    }
}

/// One scored application, ready to store.
#[derive(Debug, Clone)]
pub struct NewPrediction {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub model_version: i64,
    pub sk_id_curr: Option<i64>,
    /// Model feature order; NaN is stored as NULL.
    pub features: Vec<f64>,
    pub probability: f64,
    pub decision: Decision,
    pub threshold: f64,
    pub inference_time_ms: f64,
    pub source: Source,
    pub request_id: Option<String>,
}

/// Rows per INSERT: PostgreSQL takes at most 65,535 bound parameters per statement.
const ROWS_PER_STATEMENT: usize = 65_535 / 11;

/// How many times a transaction that PostgreSQL aborted as a deadlock victim or a
/// serialization failure is run again before the error is returned.
const TRANSIENT_RETRIES: u32 = 5;

/// Whether PostgreSQL aborted the transaction for a reason that a new attempt may not meet:
/// deadlock_detected (40P01) or serialization_failure (40001). The transaction was rolled
/// back whole, so running it again counts nothing twice.
pub fn is_transient(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<sqlx::Error>()
            .and_then(|e| e.as_database_error())
            .and_then(|d| d.code())
            .is_some_and(|code| code == "40P01" || code == "40001")
    })
}

/// Whether to run a failed transaction again: true (after waiting 20, 40, 80... ms) when
/// PostgreSQL aborted it as transient ([`is_transient`]) and fewer than
/// [`TRANSIENT_RETRIES`] retries were made; counts the retry in `retries`.
pub async fn retry_after(e: &anyhow::Error, retries: &mut u32) -> bool {
    if *retries >= TRANSIENT_RETRIES || !is_transient(e) {
        return false;
    }
    *retries += 1;
    metrics::counter!("scorewatch_db_transient_retries_total").increment(1);
    tracing::warn!(error = %format!("{e:#}"), retries = *retries, "transaction aborted by PostgreSQL; running it again");
    tokio::time::sleep(std::time::Duration::from_millis(10 << *retries)).await;
    true
}

/// Stores predictions in one transaction (all or none).
pub async fn insert_predictions(pool: &PgPool, rows: &[NewPrediction]) -> Result<()> {
    insert(pool, rows, false).await.map(|_| ())
}

/// Stores the predictions whose id is not in the database yet (one transaction); returns
/// how many were inserted. Replaying the same rows twice inserts nothing the second time.
pub async fn insert_missing_predictions(pool: &PgPool, rows: &[NewPrediction]) -> Result<u64> {
    insert(pool, rows, true).await
}

/// [`insert_predictions`] on a connection of the caller's, counted in summary slot `slot`
/// (see [`crate::traffic::add_to_summaries`]).
pub async fn insert_predictions_on(
    conn: &mut sqlx::PgConnection,
    rows: &[NewPrediction],
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
            done => return done,
        }
    }
}

async fn insert(pool: &PgPool, rows: &[NewPrediction], skip_existing: bool) -> Result<u64> {
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
                    insert_chunk(&mut tx, chunk, skip_existing, crate::traffic::OTHER_SLOT).await?;
            }
            tx.commit().await.context("committing predictions")?;
            anyhow::Ok(inserted)
        }
        .await;
        match attempt {
            Err(e) if retry_after(&e, &mut retries).await => continue,
            done => return done,
        }
    }
}

/// Inserts rows and adds those inserted to the traffic summaries.
async fn insert_chunk(
    tx: &mut sqlx::PgConnection,
    rows: &[NewPrediction],
    skip_existing: bool,
    slot: i32,
) -> Result<u64> {
    // Without ON CONFLICT every row is inserted (or the statement fails), so the summaries
    // are added by the same statement, saving a round trip per commit.
    let combined = if skip_existing {
        None
    } else {
        crate::traffic::SummaryAdditions::of(rows, slot)?
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
        crate::traffic::add_to_summaries(
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
        crate::traffic::add_to_summaries(tx, rows, slot).await?;
    }
    Ok(done.rows_affected())
}

/// Number of stored predictions.
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

/// A stored prediction, features in its model version's order (NaN = missing).
#[derive(Debug, Clone)]
pub struct StoredPrediction {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub model_version: i64,
    pub sk_id_curr: Option<i64>,
    pub features: Vec<f64>,
    pub probability: f64,
    pub decision: String,
    pub threshold: f64,
    pub inference_time_ms: f64,
    pub source: String,
    pub request_id: Option<String>,
}

/// Newest first, at most `limit` rows after `after` (keyset pagination on
/// `(created_at, id)`, which the `predictions_page` index serves).
pub async fn list_predictions(
    pool: &PgPool,
    filter: &PredictionFilter,
    after: Option<PageCursor>,
    limit: i64,
) -> Result<Vec<StoredPrediction>> {
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
    Ok(rows.into_iter().map(stored_prediction).collect())
}

/// One stored prediction.
pub async fn get_prediction(pool: &PgPool, id: Uuid) -> Result<Option<StoredPrediction>> {
    let row = sqlx::query(
        "SELECT id, created_at, model_version, sk_id_curr, features, probability, decision, threshold, \
                inference_time_ms, source, request_id FROM predictions WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(stored_prediction))
}

fn stored_prediction(r: sqlx::postgres::PgRow) -> StoredPrediction {
    let features: Vec<Option<f64>> = r.get("features");
    StoredPrediction {
        id: r.get("id"),
        created_at: r.get("created_at"),
        model_version: r.get("model_version"),
        sk_id_curr: r.get("sk_id_curr"),
        features: features
            .into_iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect(),
        probability: r.get("probability"),
        decision: r.get("decision"),
        threshold: r.get("threshold"),
        inference_time_ms: r.get("inference_time_ms"),
        source: r.get("source"),
        request_id: r.get("request_id"),
    }
}

/// Feature names of the given model versions.
pub async fn feature_names(
    pool: &PgPool,
    versions: &[i64],
) -> Result<std::collections::HashMap<i64, Vec<String>>> {
    let rows: Vec<(i64, Vec<String>)> =
        sqlx::query_as("SELECT id, feature_names FROM model_versions WHERE id = ANY($1)")
            .bind(versions)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().collect())
}

/// The drift baseline of a model version: per-feature reference data in model order, the
/// reference scores and refusal rate. None if the version has no reference.
pub async fn drift_baseline(
    pool: &PgPool,
    model_version: i64,
) -> Result<Option<crate::drift::analysis::Baseline>> {
    use crate::drift::analysis::{Baseline, FeatureBaseline};
    let importances: Vec<f64> =
        sqlx::query_scalar("SELECT importances FROM model_versions WHERE id = $1")
            .bind(model_version)
            .fetch_one(pool)
            .await?;
    let rows = sqlx::query(
        "SELECT feature, position, sorted_sample, psi_bin_edges, missing_rate, n_samples, n_distinct \
           FROM training_reference WHERE model_version = $1 ORDER BY position",
    )
    .bind(model_version)
    .fetch_all(pool)
    .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let features = rows
        .into_iter()
        .map(|r| {
            let position: i32 = r.get("position");
            let n_samples: i64 = r.get("n_samples");
            let n_distinct: i32 = r.get("n_distinct");
            Ok(FeatureBaseline {
                feature: r.get("feature"),
                sorted_sample: crate::columns::decode_values(r.get("sorted_sample"))?,
                psi_edges: r.get("psi_bin_edges"),
                missing_rate: r.get("missing_rate"),
                n_samples: n_samples as usize,
                n_distinct: n_distinct as usize,
                importance: importances.get(position as usize).copied().unwrap_or(0.0),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let scores: Option<(Vec<f64>, f64)> = sqlx::query_as(
        "SELECT scores, refusal_rate FROM reference_scores WHERE model_version = $1",
    )
    .bind(model_version)
    .fetch_optional(pool)
    .await?;
    let (mut scores, refusal_rate) = scores.unwrap_or_default();
    scores.sort_unstable_by(f64::total_cmp);
    Ok(Some(Baseline {
        features,
        scores,
        refusal_rate,
    }))
}

/// Which predictions a drift window holds.
#[derive(Debug, Clone, Copy)]
pub enum WindowSpec {
    /// Created in [since, until).
    Range {
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    },
    /// The newest `n`.
    Last(i64),
}

/// Prepares a window for reading: where it starts, where its read ends (excluded) and
/// where its report says it ends (for `Last`, the first and last prediction's times);
/// None for the newest predictions of a version that has none. The window's missing
/// column blocks are built here ([`crate::columns`]).
async fn prepare_window(
    pool: &PgPool,
    model_version: i64,
    spec: WindowSpec,
) -> Result<Option<(crate::columns::WindowStart, DateTime<Utc>, DateTime<Utc>)>> {
    let micro = chrono::Duration::microseconds(1);
    let (start, until, first_id) = match spec {
        WindowSpec::Range { since, until } => (since, until, None),
        WindowSpec::Last(n) => {
            // The newest n in the order of the paging index: (created_at, id) descending.
            let last: Option<DateTime<Utc>> = sqlx::query_scalar(
                "SELECT max(created_at) FROM predictions WHERE model_version = $1",
            )
            .bind(model_version)
            .fetch_one(pool)
            .await
            .context("finding the newest prediction")?;
            let Some(last) = last else {
                return Ok(None);
            };
            let nth: Option<(DateTime<Utc>, Uuid)> = sqlx::query_as(
                "SELECT created_at, id FROM predictions WHERE model_version = $1 \
                  ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1",
            )
            .bind(model_version)
            .bind((n - 1).max(0))
            .fetch_optional(pool)
            .await
            .context("finding the newest predictions")?;
            match nth {
                Some((t, id)) => (t, last + micro, Some(id)),
                None => {
                    let first: DateTime<Utc> = sqlx::query_scalar(
                        "SELECT min(created_at) FROM predictions WHERE model_version = $1",
                    )
                    .bind(model_version)
                    .fetch_one(pool)
                    .await?;
                    (first, last + micro, None)
                }
            }
        }
    };
    let from = crate::columns::WindowStart {
        at: start,
        id: first_id,
    };
    crate::columns::ensure(pool, model_version, start, until).await?;
    Ok(Some((
        from,
        until,
        match spec {
            WindowSpec::Range { .. } => until,
            WindowSpec::Last(_) => until - micro,
        },
    )))
}

/// The predictions of a window scored by `model_version`, and the window's bounds as its
/// report shows them.
pub async fn drift_window(
    pool: &PgPool,
    model_version: i64,
    n_features: usize,
    spec: WindowSpec,
) -> Result<(crate::drift::analysis::Window, DateTime<Utc>, DateTime<Utc>)> {
    let Some((from, until, end)) = prepare_window(pool, model_version, spec).await? else {
        let now = Utc::now();
        return Ok((crate::drift::analysis::Window::new(n_features), now, now));
    };
    let window = crate::columns::read_window(pool, model_version, n_features, from, until).await?;
    Ok((window, from.at, end))
}

/// The predictions of a window sent a group of features at a time (see
/// [`crate::columns::stream_window`]), with the window's bounds as its report shows them.
pub async fn drift_window_stream(
    pool: &PgPool,
    model_version: i64,
    n_features: usize,
    spec: WindowSpec,
    groups: tokio::sync::mpsc::Sender<crate::columns::FeatureGroup>,
    spare: &mut std::sync::mpsc::Receiver<Vec<crate::drift::analysis::Column>>,
) -> Result<(crate::columns::WindowRows, DateTime<Utc>, DateTime<Utc>)> {
    let Some((from, until, end)) = prepare_window(pool, model_version, spec).await? else {
        let now = Utc::now();
        return Ok((Default::default(), now, now));
    };
    let rows =
        crate::columns::stream_window(pool, model_version, n_features, from, until, groups, spare)
            .await?;
    Ok((rows, from.at, end))
}

/// A stored drift report (its header).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DriftReport {
    pub id: i64,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub model_version: i64,
    pub n_reference: i64,
    pub n_current: i64,
    pub n_features_analyzed: i32,
    pub n_features_drifted: i32,
    pub drift_share: f64,
    pub weighted_drift_share: Option<f64>,
    /// OK, WARNING, ALERT or INSUFFICIENT_DATA.
    pub status: String,
    pub score_psi: Option<f64>,
    pub score_ks_statistic: Option<f64>,
    pub score_ks_p_value: Option<f64>,
    pub refusal_rate_ref: Option<f64>,
    pub refusal_rate_cur: Option<f64>,
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
    /// cli, api, schedule or backfill.
    pub trigger: String,
    pub created_at: DateTime<Utc>,
}

/// One feature of a stored report.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DriftFeature {
    pub feature: String,
    pub test: String,
    pub ks_statistic: Option<f64>,
    pub ks_p_value: Option<f64>,
    pub chi2_statistic: Option<f64>,
    pub chi2_p_value: Option<f64>,
    pub missing_p_value: Option<f64>,
    pub p_adjusted: Option<f64>,
    pub psi: Option<f64>,
    pub wasserstein_norm: Option<f64>,
    pub jensen_shannon: Option<f64>,
    pub missing_rate_ref: f64,
    pub missing_rate_cur: f64,
    pub importance: Option<f64>,
    pub drift: bool,
}

/// Stores a report and its feature results in one transaction; returns its id.
pub async fn insert_drift_report(
    pool: &PgPool,
    model_version: i64,
    window_start: DateTime<Utc>,
    window_end: DateTime<Utc>,
    analysis: &crate::drift::analysis::Analysis,
    settings: &crate::drift::analysis::Settings,
    trigger: &str,
) -> Result<i64> {
    let s = &analysis.summary;
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO drift_reports (window_start, window_end, model_version, n_reference, n_current, \
         n_features_analyzed, n_features_drifted, drift_share, weighted_drift_share, status, score_psi, \
         score_ks_statistic, score_ks_p_value, refusal_rate_ref, refusal_rate_cur, settings, trigger) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id",
    )
    .bind(window_start)
    .bind(window_end)
    .bind(model_version)
    .bind(s.n_reference as i64)
    .bind(s.n_current as i64)
    .bind(s.n_features_analyzed as i32)
    .bind(s.n_features_drifted as i32)
    .bind(s.drift_share)
    .bind(s.weighted_drift_share)
    .bind(s.status.as_str())
    .bind(s.score_psi)
    .bind(s.score_ks_statistic)
    .bind(s.score_ks_p_value)
    .bind(s.refusal_rate_ref)
    .bind(s.refusal_rate_cur)
    .bind(serde_json::to_value(settings)?)
    .bind(trigger)
    .fetch_one(&mut *tx)
    .await?;
    if !analysis.features.is_empty() {
        let mut qb = sqlx::QueryBuilder::new(
            "INSERT INTO drift_feature_results (report_id, feature, test, ks_statistic, ks_p_value, \
             chi2_statistic, chi2_p_value, missing_p_value, p_adjusted, psi, wasserstein_norm, jensen_shannon, \
             missing_rate_ref, missing_rate_cur, importance, drift) ",
        );
        qb.push_values(&analysis.features, |mut b, f| {
            b.push_bind(id)
                .push_bind(&f.feature)
                .push_bind(f.test)
                .push_bind(f.ks_statistic)
                .push_bind(f.ks_p_value)
                .push_bind(f.chi2_statistic)
                .push_bind(f.chi2_p_value)
                .push_bind(f.missing_p_value)
                .push_bind(f.p_adjusted)
                .push_bind(f.psi)
                .push_bind(f.wasserstein_norm)
                .push_bind(f.jensen_shannon)
                .push_bind(f.missing_rate_ref)
                .push_bind(f.missing_rate_cur)
                .push_bind(f.importance)
                .push_bind(f.drift);
        });
        qb.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(id)
}

const REPORT_COLUMNS: &str =
    "id, window_start, window_end, model_version, n_reference, n_current, \
    n_features_analyzed, n_features_drifted, drift_share, weighted_drift_share, status, score_psi, \
    score_ks_statistic, score_ks_p_value, refusal_rate_ref, refusal_rate_cur, settings, trigger, created_at";

fn drift_report(r: sqlx::postgres::PgRow) -> DriftReport {
    DriftReport {
        id: r.get("id"),
        window_start: r.get("window_start"),
        window_end: r.get("window_end"),
        model_version: r.get("model_version"),
        n_reference: r.get("n_reference"),
        n_current: r.get("n_current"),
        n_features_analyzed: r.get("n_features_analyzed"),
        n_features_drifted: r.get("n_features_drifted"),
        drift_share: r.get("drift_share"),
        weighted_drift_share: r.get("weighted_drift_share"),
        status: r.get("status"),
        score_psi: r.get("score_psi"),
        score_ks_statistic: r.get("score_ks_statistic"),
        score_ks_p_value: r.get("score_ks_p_value"),
        refusal_rate_ref: r.get("refusal_rate_ref"),
        refusal_rate_cur: r.get("refusal_rate_cur"),
        settings: r.get("settings"),
        trigger: r.get("trigger"),
        created_at: r.get("created_at"),
    }
}

/// Reports newest first (by id), `limit` of them with ids below `before`.
pub async fn list_drift_reports(
    pool: &PgPool,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<DriftReport>> {
    let rows = sqlx::query(&format!(
        "SELECT {REPORT_COLUMNS} FROM drift_reports WHERE ($1::bigint IS NULL OR id < $1) \
         ORDER BY id DESC LIMIT $2"
    ))
    .bind(before)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(drift_report).collect())
}

/// A report with its features (most drifted first: smallest corrected p-value).
pub async fn get_drift_report(
    pool: &PgPool,
    id: i64,
) -> Result<Option<(DriftReport, Vec<DriftFeature>)>> {
    let Some(row) = sqlx::query(&format!(
        "SELECT {REPORT_COLUMNS} FROM drift_reports WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let features = sqlx::query(
        "SELECT feature, test, ks_statistic, ks_p_value, chi2_statistic, chi2_p_value, missing_p_value, \
                p_adjusted, psi, wasserstein_norm, jensen_shannon, missing_rate_ref, missing_rate_cur, \
                importance, drift \
           FROM drift_feature_results WHERE report_id = $1 \
          ORDER BY drift DESC, p_adjusted ASC NULLS LAST, feature",
    )
    .bind(id)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| DriftFeature {
        feature: r.get("feature"),
        test: r.get("test"),
        ks_statistic: r.get("ks_statistic"),
        ks_p_value: r.get("ks_p_value"),
        chi2_statistic: r.get("chi2_statistic"),
        chi2_p_value: r.get("chi2_p_value"),
        missing_p_value: r.get("missing_p_value"),
        p_adjusted: r.get("p_adjusted"),
        psi: r.get("psi"),
        wasserstein_norm: r.get("wasserstein_norm"),
        jensen_shannon: r.get("jensen_shannon"),
        missing_rate_ref: r.get("missing_rate_ref"),
        missing_rate_cur: r.get("missing_rate_cur"),
        importance: r.get("importance"),
        drift: r.get("drift"),
    })
    .collect();
    Ok(Some((drift_report(row), features)))
}

/// Predictions of a model version created in [since, until).
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

/// The status of the newest scheduled report of a model version before `window_end`
/// (windows without enough predictions do not count).
pub async fn previous_scheduled_status(
    pool: &PgPool,
    model_version: i64,
    window_end: DateTime<Utc>,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT status FROM drift_reports WHERE model_version = $1 AND trigger = 'schedule' \
           AND status <> 'INSUFFICIENT_DATA' AND window_end < $2 ORDER BY window_end DESC LIMIT 1",
    )
    .bind(model_version)
    .bind(window_end)
    .fetch_optional(pool)
    .await?)
}

/// Whether the scheduler already reported this window.
pub async fn scheduled_report_exists(
    pool: &PgPool,
    model_version: i64,
    window_start: DateTime<Utc>,
    window_end: DateTime<Utc>,
) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM drift_reports WHERE model_version = $1 AND trigger = 'schedule' \
           AND window_start = $2 AND window_end = $3)",
    )
    .bind(model_version)
    .bind(window_start)
    .bind(window_end)
    .fetch_one(pool)
    .await?)
}

/// A feature's reference statistics, as shown on the model page.
#[derive(Debug, Clone)]
pub struct ReferenceStats {
    pub feature: String,
    pub mean: Option<f64>,
    pub std: Option<f64>,
    pub median: Option<f64>,
    pub q25: Option<f64>,
    pub q75: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub missing_rate: f64,
}

/// Reference statistics of a model version's features, in model order.
pub async fn reference_stats(pool: &PgPool, model_version: i64) -> Result<Vec<ReferenceStats>> {
    let rows = sqlx::query(
        "SELECT feature, mean, std, median, q25, q75, min, max, missing_rate \
           FROM training_reference WHERE model_version = $1 ORDER BY position",
    )
    .bind(model_version)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| reference_stats_row(&r)).collect())
}

fn reference_stats_row(r: &sqlx::postgres::PgRow) -> ReferenceStats {
    ReferenceStats {
        feature: r.get("feature"),
        mean: r.get("mean"),
        std: r.get("std"),
        median: r.get("median"),
        q25: r.get("q25"),
        q75: r.get("q75"),
        min: r.get("min"),
        max: r.get("max"),
        missing_rate: r.get("missing_rate"),
    }
}

/// Reference statistics and the sorted non-missing sample of the named features of a
/// model version (for placing one application's values among the training rows).
pub async fn reference_samples(
    pool: &PgPool,
    model_version: i64,
    features: &[String],
) -> Result<Vec<(ReferenceStats, Vec<f64>)>> {
    let rows = sqlx::query(
        "SELECT feature, mean, std, median, q25, q75, min, max, missing_rate, sorted_sample \
           FROM training_reference WHERE model_version = $1 AND feature = ANY($2)",
    )
    .bind(model_version)
    .bind(features)
    .fetch_all(pool)
    .await
    .context("reading reference samples")?;
    rows.into_iter()
        .map(|r| {
            let sample = crate::columns::decode_values(r.get("sorted_sample"))?;
            Ok((reference_stats_row(&r), sample))
        })
        .collect()
}

/// One row of `api_logs`.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub id: i64,
    pub ts: DateTime<Utc>,
    pub level: String,
    pub target: String,
    pub message: String,
    pub request_id: Option<String>,
    pub method: Option<String>,
    pub path: Option<String>,
    pub status: Option<i32>,
    pub latency_ms: Option<f64>,
    pub fields: serde_json::Value,
}

/// Which log lines to list.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// Lines at this level or more severe (ERROR > WARN > INFO > DEBUG > TRACE).
    pub min_level: Option<String>,
    /// Case-insensitive substring of the message, target, path or request id.
    pub text: Option<String>,
    /// Only lines older than this id (paging back).
    pub before_id: Option<i64>,
}

/// The levels at or above `level`, most severe first.
pub fn levels_at_least(level: &str) -> Option<Vec<String>> {
    const LEVELS: [&str; 5] = ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"];
    let level = level.to_ascii_uppercase();
    let i = LEVELS.iter().position(|l| *l == level)?;
    Some(LEVELS[..=i].iter().map(|s| s.to_string()).collect())
}

/// Newest log lines first.
pub async fn list_logs(pool: &PgPool, filter: &LogFilter, limit: i64) -> Result<Vec<LogEntry>> {
    let levels = match &filter.min_level {
        Some(l) => Some(levels_at_least(l).with_context(|| format!("unknown log level `{l}`"))?),
        None => None,
    };
    let pattern = filter.text.as_ref().map(|t| {
        let escaped = t
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    let rows = sqlx::query(
        "SELECT id, ts, level, target, message, request_id, method, path, status, latency_ms, fields \
           FROM api_logs \
          WHERE ($1::TEXT[] IS NULL OR level = ANY($1)) \
            AND ($2::TEXT IS NULL OR message ILIKE $2 OR target ILIKE $2 OR path ILIKE $2 \
                 OR request_id ILIKE $2) \
            AND ($3::BIGINT IS NULL OR id < $3) \
          ORDER BY id DESC LIMIT $4",
    )
    .bind(levels)
    .bind(pattern)
    .bind(filter.before_id)
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("listing log lines")?;
    Ok(rows
        .into_iter()
        .map(|r| LogEntry {
            id: r.get("id"),
            ts: r.get("ts"),
            level: r.get("level"),
            target: r.get("target"),
            message: r.get("message"),
            request_id: r.get("request_id"),
            method: r.get("method"),
            path: r.get("path"),
            status: r.get("status"),
            latency_ms: r.get("latency_ms"),
            fields: r.get("fields"),
        })
        .collect())
}

/// One feature's non-missing values in the window `[since, until)` of a model version
/// (position is the feature's 0-based index in the model).
pub async fn window_feature_values(
    pool: &PgPool,
    model_version: i64,
    position: usize,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<f64>> {
    let values: Vec<f64> = sqlx::query_scalar(
        "SELECT features[$2] FROM predictions \
          WHERE model_version = $1 AND created_at >= $3 AND created_at < $4 \
            AND features[$2] IS NOT NULL",
    )
    .bind(model_version)
    .bind(position as i32 + 1)
    .bind(since)
    .bind(until)
    .fetch_all(pool)
    .await
    .context("reading a feature of the window")?;
    Ok(values)
}

/// The sorted non-missing reference sample of one feature.
pub async fn reference_sample(
    pool: &PgPool,
    model_version: i64,
    feature: &str,
) -> Result<Option<(usize, Vec<f64>)>> {
    let row: Option<(i32, Vec<u8>)> = sqlx::query_as(
        "SELECT position, sorted_sample FROM training_reference \
          WHERE model_version = $1 AND feature = $2",
    )
    .bind(model_version)
    .bind(feature)
    .fetch_optional(pool)
    .await
    .context("reading a reference sample")?;
    row.map(|(p, s)| Ok((p as usize, crate::columns::decode_values(&s)?)))
        .transpose()
}
