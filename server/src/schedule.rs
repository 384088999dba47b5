//! What the drift and performance schedulers share: a window is reported at most once
//! across servers (a PostgreSQL advisory lock while it is computed, the table's unique index
//! behind it), and only when it holds predictions.

use std::future::Future;

use anyhow::Result;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use scorewatch_core::store::{self, ReportTable};

/// One kind of scheduled report: its table, its trigger and its advisory lock namespace.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    pub table: ReportTable,
    /// `schedule`, or `matured` for performance reports of matured cohorts.
    pub trigger: &'static str,
    /// First key of the two-key advisory lock; the second is the window end in minutes.
    pub lock_namespace: i32,
}

/// Runs `report` for [start, end) of `model_version` unless another server holds the
/// window's lock, the window was already reported with this kind's trigger, or it has no
/// predictions. Returns what `report` returned and the status of the previous conclusive
/// report of the same kind (what an alert compares with).
pub async fn report_once<T, F, Fut>(
    pool: &PgPool,
    kind: Kind,
    model_version: i64,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    report: F,
) -> Result<Option<(T, Option<String>)>>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut lock_conn = pool.acquire().await?;
    let window_key = (end.timestamp() / 60) as i32;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
        .bind(kind.lock_namespace)
        .bind(window_key)
        .fetch_one(&mut *lock_conn)
        .await?;
    if !locked {
        return Ok(None);
    }
    let result = async {
        if store::window_reported(pool, kind.table, kind.trigger, model_version, start, end).await?
        {
            return Ok(None);
        }
        // No traffic, nothing to report (as the CLI's `--window` skips such windows).
        if store::count_predictions_between(pool, model_version, start, end).await? == 0 {
            return Ok(None);
        }
        let previous =
            store::previous_conclusive_status(pool, kind.table, kind.trigger, model_version, end)
                .await?;
        Ok(Some((report().await?, previous)))
    }
    .await;
    let _ = sqlx::query("SELECT pg_advisory_unlock($1, $2)")
        .bind(kind.lock_namespace)
        .bind(window_key)
        .execute(&mut *lock_conn)
        .await;
    result
}
