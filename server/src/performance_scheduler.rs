//! The performance scheduler of `scorewatch serve`, beside the drift scheduler: at the end
//! of every window (aligned to the clock, one day by default), one server computes that
//! window's performance report (a PostgreSQL advisory lock, and a unique index behind it).
//! Outcomes of a fresh cohort are mostly unknown, so such a report carries the CBPE
//! estimate; a status change between conclusive reports (OK / WARNING / ALERT) is sent to
//! the webhook, naming what failed.

use std::time::Duration;

use anyhow::Result;
use chrono::{DateTime, DurationRound, Utc};
use serde_json::json;
use sqlx::PgPool;

use scorewatch_core::drift::reports::Trigger;
use scorewatch_core::performance::report::{Settings, Status};
use scorewatch_core::performance::reports::{self, Report};
use scorewatch_core::store::{self, ModelVersion, WindowSpec};

use crate::drift_scheduler::deliver;

/// Advisory lock namespace of the performance scheduler (first key of the two-key form).
const LOCK_NAMESPACE: i32 = 0x5357_5031; // "SWP1"

/// What the scheduler reports on, and whom it tells.
#[derive(Debug, Clone)]
pub struct PerformanceSchedule {
    /// Window length and period.
    pub every: chrono::Duration,
    pub settings: Settings,
    /// URL that receives a JSON POST when the status changes; None: no alerts.
    pub webhook: Option<String>,
}

/// Runs until the task is aborted: the last complete window now (if no server has yet),
/// then each window when it ends.
pub async fn run(pool: PgPool, model: ModelVersion, schedule: PerformanceSchedule) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client without TLS always builds");
    loop {
        let now = Utc::now();
        let end = now.duration_trunc(schedule.every).unwrap_or(now);
        let start = end - schedule.every;
        match report_window(&pool, &model, start, end, &schedule.settings).await {
            Ok(Some((report, previous))) => {
                let status = report.computed.status;
                tracing::info!(
                    report_id = report.id,
                    status = status.as_str(),
                    n_labelled = report.computed.metrics.n_labelled,
                    "scheduled performance report"
                );
                if let (Some(url), Some(previous)) = (&schedule.webhook, previous) {
                    if status != Status::InsufficientData && previous != status.as_str() {
                        let body = alert_body(&model, &report, &previous);
                        tokio::spawn(deliver(client.clone(), url.clone(), body));
                    }
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "scheduled performance report failed")
            }
        }
        let next = end + schedule.every;
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(wait + Duration::from_secs(3)).await;
    }
}

/// Reports [start, end) unless another server holds the window's lock or already reported
/// it, or the window has no predictions. Returns the report and the previous conclusive
/// scheduled status.
pub async fn report_window(
    pool: &PgPool,
    model: &ModelVersion,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    settings: &Settings,
) -> Result<Option<(Report, Option<String>)>> {
    let mut lock_conn = pool.acquire().await?;
    let window_key = (end.timestamp() / 60) as i32;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
        .bind(LOCK_NAMESPACE)
        .bind(window_key)
        .fetch_one(&mut *lock_conn)
        .await?;
    if !locked {
        return Ok(None);
    }
    let result = async {
        if store::scheduled_performance_report_exists(pool, model.id, start, end).await? {
            return Ok(None);
        }
        if store::count_predictions_between(pool, model.id, start, end).await? == 0 {
            return Ok(None);
        }
        let previous = store::previous_scheduled_performance_status(pool, model.id, end).await?;
        let report = reports::run(
            pool,
            model,
            WindowSpec::Range {
                since: start,
                until: end,
            },
            settings,
            Trigger::Schedule,
        )
        .await?;
        Ok(Some((report, previous)))
    }
    .await;
    let _ = sqlx::query("SELECT pg_advisory_unlock($1, $2)")
        .bind(LOCK_NAMESPACE)
        .bind(window_key)
        .execute(&mut *lock_conn)
        .await;
    result
}

/// The alert: what changed and why (the report's notes name the failed tests).
pub fn alert_body(model: &ModelVersion, report: &Report, previous: &str) -> serde_json::Value {
    let m = &report.computed.metrics;
    let status = report.computed.status.as_str();
    json!({
        "event": "performance_status_changed",
        "text": format!(
            "scorewatch: performance status {previous} -> {status} for predictions of {} .. {} ({} labelled, ROC AUC {}): {}",
            report.window_start.to_rfc3339(),
            report.window_end.to_rfc3339(),
            m.n_labelled,
            m.roc_auc.map_or("-".into(), |a| format!("{a:.4}")),
            m.notes.join("; ")
        ),
        "report_id": report.id,
        "report_path": format!("/api/v1/performance/reports/{}", report.id),
        "model_version": model.id,
        "model_name": model.name,
        "window_start": report.window_start,
        "window_end": report.window_end,
        "previous_status": previous,
        "status": status,
        "roc_auc": m.roc_auc,
        "auc_test": m.auc_test,
        "jeffreys_p_value": m.jeffreys_p_value,
        "estimated_roc_auc": m.estimated_roc_auc,
        "notes": m.notes,
    })
}
