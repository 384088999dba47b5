//! PostgreSQL storage: every SQL statement of scorewatch, one file per group of tables,
//! each function returning a typed row and a [`crate::Error`]. Queries are checked at run
//! time (no database is needed to build).
//!
//! Parts:
//! - this file: where the database is ([`DatabaseLocation`]), opening it with its
//!   migrations ([`Database::open`]), and running a transaction again when PostgreSQL
//!   aborted it as transient ([`retry_after`]);
//! - [`models`] — `model_versions`;
//! - [`reference`] — `training_reference` and `reference_scores` (the training reference
//!   and the drift baseline read from it);
//! - [`predictions`] — `predictions` (inserting with their traffic summaries, paging, reads);
//! - [`windows`] — which predictions a drift window holds, read through the column blocks;
//! - [`drift_reports`] — `drift_reports` and `drift_feature_results`;
//! - [`summaries`] — `prediction_minutes` and `prediction_hours` (traffic over time);
//! - [`logs`] — `api_logs`;
//! - [`outcomes`] — `outcomes` (recorded against predictions) and a cohort's rows;
//! - [`performance`] — `holdout_scores`, `performance_reports` and `performance_grades`;
//! - [`pgarray`] — reading `double precision[]` in PostgreSQL's binary format in one pass.
//!
//! The column blocks, API keys and sessions keep their SQL beside the code that owns those
//! tables ([`crate::drift::blocks`], [`crate::access`]).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};

use crate::embedded::{self, EmbeddedPostgres};
use crate::error::Result;

pub mod drift_reports;
pub mod logs;
pub mod models;
pub mod outcomes;
pub mod performance;
pub mod pgarray;
pub mod predictions;
pub mod reference;
pub mod scheduled;
pub mod summaries;
pub mod windows;

pub use drift_reports::*;
pub use logs::*;
pub use models::*;
pub use outcomes::*;
pub use performance::*;
pub use predictions::*;
pub use reference::*;
pub use scheduled::*;
pub use windows::*;

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
#[tracing::instrument(level = "debug", skip_all)]
pub async fn migrate(pool: &PgPool) -> Result<()> {
    Ok(sqlx::migrate!("../migrations").run(pool).await?)
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
#[tracing::instrument(level = "debug", skip_all)]
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
