//! What the schedulers of `serve` ask before reporting a window, for drift and performance
//! reports alike: was this window already reported, and what was the last conclusive status.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::error::Result;

/// A table of reports that the scheduler fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportTable {
    /// `drift_reports`.
    Drift,
    /// `performance_reports`.
    Performance,
}

impl ReportTable {
    fn name(self) -> &'static str {
        match self {
            ReportTable::Drift => "drift_reports",
            ReportTable::Performance => "performance_reports",
        }
    }
}

/// The status of the newest conclusive (not INSUFFICIENT_DATA) report of `model_version`
/// with this `trigger` (e.g. `schedule`) whose window ended before `window_end`: what a new
/// status is compared with before alerting.
#[tracing::instrument(level = "debug", skip(pool))]
pub async fn previous_conclusive_status(
    pool: &PgPool,
    table: ReportTable,
    trigger: &str,
    model_version: i64,
    window_end: DateTime<Utc>,
) -> Result<Option<String>> {
    let sql = format!(
        "SELECT status FROM {} WHERE model_version = $1 AND trigger = $2 \
           AND status <> 'INSUFFICIENT_DATA' AND window_end < $3 ORDER BY window_end DESC LIMIT 1",
        table.name()
    );
    Ok(sqlx::query_scalar(&sql)
        .bind(model_version)
        .bind(trigger)
        .bind(window_end)
        .fetch_optional(pool)
        .await?)
}

/// Whether a report with this `trigger` of exactly [window_start, window_end) exists.
#[tracing::instrument(level = "debug", skip(pool))]
pub async fn window_reported(
    pool: &PgPool,
    table: ReportTable,
    trigger: &str,
    model_version: i64,
    window_start: DateTime<Utc>,
    window_end: DateTime<Utc>,
) -> Result<bool> {
    let sql = format!(
        "SELECT EXISTS (SELECT 1 FROM {} WHERE model_version = $1 AND trigger = $2 \
           AND window_start = $3 AND window_end = $4)",
        table.name()
    );
    Ok(sqlx::query_scalar(&sql)
        .bind(model_version)
        .bind(trigger)
        .bind(window_start)
        .bind(window_end)
        .fetch_one(pool)
        .await?)
}
