//! The performance scheduler of `scorewatch serve`, beside the drift scheduler. At the end
//! of every window (aligned to the clock, one day by default) one server reports on that
//! window's cohort twice over its life, each at most once across servers:
//!
//! - `schedule`, when the window ends: its outcomes are mostly unknown, so the report
//!   carries the CBPE estimate and is usually INSUFFICIENT_DATA for the realised tests;
//! - `matured`, once the window ended `outcome_horizon` ago (30 days by default): the
//!   outcomes have had time to arrive, and the realised AUC test and Jeffreys test speak.
//!
//! A status change between conclusive reports of the same kind (OK / WARNING / ALERT) is
//! sent to the webhook, naming what failed.

use std::time::Duration;

use anyhow::Result;
use chrono::{DateTime, DurationRound, Utc};
use serde_json::json;
use sqlx::PgPool;

use scorewatch_core::drift::reports::Trigger;
use scorewatch_core::performance::report::{Settings, Status};
use scorewatch_core::performance::reports::{self, Report};
use scorewatch_core::store::{ModelVersion, ReportTable, WindowSpec};

use crate::drift_scheduler::deliver;
use crate::schedule::{self, Kind};

/// Reports when the window ends ("SWP1").
const FRESH: Kind = Kind {
    table: ReportTable::Performance,
    trigger: "schedule",
    lock_namespace: 0x5357_5031,
};

/// Reports once the window's outcomes have matured ("SWP2").
const MATURED: Kind = Kind {
    table: ReportTable::Performance,
    trigger: "matured",
    lock_namespace: 0x5357_5032,
};

/// What the scheduler reports on, and whom it tells.
#[derive(Debug, Clone)]
pub struct PerformanceSchedule {
    /// Window length and period.
    pub every: chrono::Duration,
    /// How long after a window ends its outcomes are taken as known: the window is then
    /// reported again (trigger `matured`). Zero: no matured reports.
    pub outcome_horizon: chrono::Duration,
    pub settings: Settings,
    /// URL that receives a JSON POST when the status changes; None: no alerts.
    pub webhook: Option<String>,
}

/// Runs until the task is aborted: the last complete window and the last matured window
/// now (if no server has yet), then both again at the end of each window.
pub async fn run(pool: PgPool, model: ModelVersion, schedule: PerformanceSchedule) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client without TLS always builds");
    loop {
        let now = Utc::now();
        let end = now.duration_trunc(schedule.every).unwrap_or(now);
        let mut windows = vec![(false, end)];
        if schedule.outcome_horizon > chrono::Duration::zero() {
            let matured_end = (end - schedule.outcome_horizon)
                .duration_trunc(schedule.every)
                .unwrap_or(end);
            windows.push((true, matured_end));
        }
        for (matured, end) in windows {
            let start = end - schedule.every;
            let outcome =
                report_window(&pool, &model, start, end, &schedule.settings, matured).await;
            match outcome {
                Ok(Some((report, previous))) => {
                    crate::observability::metrics::refresh_report_gauges(&pool, model.id).await;
                    let status = report.computed.status;
                    tracing::info!(
                        report_id = report.id,
                        status = status.as_str(),
                        matured,
                        n_labelled = report.computed.metrics.n_labelled,
                        "scheduled performance report"
                    );
                    if let (Some(url), Some(previous)) = (&schedule.webhook, previous) {
                        if status != Status::InsufficientData && previous != status.as_str() {
                            let body = alert_body(&model, &report, &previous, matured);
                            tokio::spawn(deliver(client.clone(), url.clone(), body));
                        }
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(
                    error = %format!("{e:#}"),
                    matured,
                    "scheduled performance report failed"
                ),
            }
        }
        let next = end + schedule.every;
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(wait + Duration::from_secs(3)).await;
    }
}

/// Reports the cohort of [start, end), as trigger `matured` when `matured` (else
/// `schedule`), unless another server holds the window's lock or already reported it so,
/// or the window has no predictions. Returns the report and the previous conclusive status
/// of the same trigger.
pub async fn report_window(
    pool: &PgPool,
    model: &ModelVersion,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    settings: &Settings,
    matured: bool,
) -> Result<Option<(Report, Option<String>)>> {
    let (kind, trigger) = if matured {
        (MATURED, Trigger::Matured)
    } else {
        (FRESH, Trigger::Schedule)
    };
    let spec = WindowSpec::Range {
        since: start,
        until: end,
    };
    schedule::report_once(pool, kind, model.id, start, end, || async {
        Ok(reports::run(pool, model, spec, settings, trigger).await?)
    })
    .await
}

/// The alert: what changed and why (the report's notes name the failed tests). `matured`:
/// the report is of a matured cohort (trigger `matured`), else of a window that just ended.
pub fn alert_body(
    model: &ModelVersion,
    report: &Report,
    previous: &str,
    matured: bool,
) -> serde_json::Value {
    let m = &report.computed.metrics;
    let status = report.computed.status.as_str();
    let trigger = if matured { "matured" } else { "schedule" };
    json!({
        "event": "performance_status_changed",
        "text": format!(
            "scorewatch: performance status ({}) {previous} -> {status} for predictions of {} .. {} ({} labelled, ROC AUC {}): {}",
            trigger,
            report.window_start.to_rfc3339(),
            report.window_end.to_rfc3339(),
            m.n_labelled,
            m.roc_auc.map_or("-".into(), |a| format!("{a:.4}")),
            m.notes.join("; ")
        ),
        "report_id": report.id,
        "report_path": format!("/api/v1/performance/reports/{}", report.id),
        "trigger": trigger,
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
