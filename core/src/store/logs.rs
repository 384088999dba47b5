//! `api_logs`: the service's own log lines, filtered by level and text, newest first.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};

use crate::error::Result;

/// One row of `api_logs`: read back by [`list_logs`], written by [`insert_logs`] (which
/// leaves `id` to the database).
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
#[tracing::instrument(level = "debug", skip_all)]
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

/// Stores log lines in one statement; their `id` is assigned by the database.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_logs(pool: &PgPool, rows: &[LogEntry]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut qb = sqlx::QueryBuilder::new(
        "INSERT INTO api_logs (ts, level, target, message, request_id, method, path, status, latency_ms, fields) ",
    );
    qb.push_values(rows, |mut b, r| {
        b.push_bind(r.ts)
            .push_bind(&r.level)
            .push_bind(&r.target)
            .push_bind(&r.message)
            .push_bind(&r.request_id)
            .push_bind(&r.method)
            .push_bind(&r.path)
            .push_bind(r.status)
            .push_bind(r.latency_ms)
            .push_bind(&r.fields);
    });
    qb.build().execute(pool).await?;
    Ok(())
}

/// Server-side latency of the predict requests answered in `[since, until)`, as the access
/// log has it (`api_logs`, `POST /api/v1/predict` and `/predict/batch`, every status): how many, and the 50th, 95th
/// and 99th percentiles in milliseconds (continuous percentiles, as PostgreSQL's
/// `percentile_cont`; None without requests). What clients wait, less the network; the
/// log shipper may drop events when the database is slow.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn request_latency(
    pool: &PgPool,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<(i64, Option<[f64; 3]>)> {
    let (n, p): (i64, Option<Vec<f64>>) = sqlx::query_as(
        "SELECT count(*), percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY latency_ms) \
           FROM api_logs \
          WHERE ts >= $1 AND ts < $2 AND method = 'POST' \
            AND path IN ('/api/v1/predict', '/api/v1/predict/batch') AND latency_ms IS NOT NULL",
    )
    .bind(since)
    .bind(until)
    .fetch_one(pool)
    .await
    .context("reading request latency")?;
    Ok((n, p.and_then(|p| <[f64; 3]>::try_from(p).ok())))
}
