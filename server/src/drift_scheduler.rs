//! The drift scheduler of `scorewatch serve`: at the end of every window (aligned to the
//! clock), one server computes that window's report (a PostgreSQL advisory lock, and a
//! unique index behind it), and when the status differs from the previous conclusive
//! window's (windows with too few predictions are reported but do not alert), a JSON alert
//! goes to the configured webhook, retried with backoff on its own task.
//!
//! Parts: [`run`] (the loop, one task per server), [`report_window`] (one window, at most
//! once across servers), [`alert_body`] and [`deliver`] (the webhook alert).

use std::time::Duration;

use anyhow::Result;
use chrono::{DateTime, DurationRound, Utc};
use serde_json::json;
use sqlx::PgPool;

use scorewatch_core::drift::analysis::{Settings, Status};
use scorewatch_core::drift::reports::{self, Report, Trigger};
use scorewatch_core::store::{ModelVersion, ReportTable, WindowSpec};

use crate::schedule;

/// The drift scheduler's table, trigger and advisory lock namespace ("SWD1").
const KIND: schedule::Kind = schedule::Kind {
    table: ReportTable::Drift,
    trigger: "schedule",
    lock_namespace: 0x5357_4431,
};

/// Attempts to deliver one alert, waiting 1, 2, 4, 8 s between them.
const ALERT_ATTEMPTS: u32 = 5;

/// What the scheduler reports on, and whom it tells.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Window length and period.
    pub every: chrono::Duration,
    /// How each window is analysed.
    pub settings: Settings,
    /// URL that receives a JSON POST when the status changes; None: no alerts.
    pub webhook: Option<String>,
}

/// Runs until the task is aborted: computes the last complete window now (if no server has
/// yet), then each window when it ends.
pub async fn run(pool: PgPool, model: ModelVersion, schedule: Schedule) {
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
                crate::observability::metrics::refresh_report_gauges(&pool, model.id).await;
                let status = report.analysis.summary.status.as_str();
                tracing::info!(
                    report_id = report.id,
                    status,
                    drift_share = report.analysis.summary.drift_share,
                    n_current = report.analysis.summary.n_current,
                    "scheduled drift report"
                );
                let conclusive = report.analysis.summary.status != Status::InsufficientData;
                if let (Some(url), Some(previous)) = (&schedule.webhook, previous) {
                    if conclusive && previous != status {
                        let body = alert_body(&model, &report, &previous);
                        tokio::spawn(deliver(client.clone(), url.clone(), body));
                    }
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "scheduled drift report failed"),
        }
        let next = end + schedule.every;
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        // A little past the boundary, so the window's last predictions are committed.
        tokio::time::sleep(wait + Duration::from_secs(2)).await;
    }
}

/// Reports [start, end) unless another server holds the window's lock or already reported
/// it, or the window has no predictions. Returns the report and the previous scheduled
/// status.
pub async fn report_window(
    pool: &PgPool,
    model: &ModelVersion,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    settings: &Settings,
) -> Result<Option<(Report, Option<String>)>> {
    let spec = WindowSpec::Range {
        since: start,
        until: end,
    };
    schedule::report_once(pool, KIND, model.id, start, end, || async {
        Ok(reports::run(pool, model, spec, settings, Trigger::Schedule).await?)
    })
    .await
}

/// The alert: what changed, and the features that drifted most.
pub fn alert_body(model: &ModelVersion, report: &Report, previous: &str) -> serde_json::Value {
    let s = &report.analysis.summary;
    let top: Vec<_> = report
        .analysis
        .most_drifted()
        .into_iter()
        .take(10)
        .map(|f| {
            json!({
                "feature": f.feature,
                "test": f.test,
                "p_adjusted": f.p_adjusted,
                "psi": f.psi,
                "missing_rate_ref": f.missing_rate_ref,
                "missing_rate_cur": f.missing_rate_cur,
                "importance": f.importance,
            })
        })
        .collect();
    json!({
        "event": "drift_status_changed",
        "text": format!(
            "scorewatch: drift status {previous} -> {} ({} of {} features drifted, {:.1}%) for {} .. {}",
            s.status.as_str(),
            s.n_features_drifted,
            s.n_features_analyzed,
            100.0 * s.drift_share,
            report.window_start.to_rfc3339(),
            report.window_end.to_rfc3339()
        ),
        "report_id": report.id,
        "report_path": format!("/api/v1/drift/reports/{}", report.id),
        "model_version": model.id,
        "model_name": model.name,
        "window_start": report.window_start,
        "window_end": report.window_end,
        "previous_status": previous,
        "status": s.status.as_str(),
        "drift_share": s.drift_share,
        "n_current": s.n_current,
        "score_psi": s.score_psi,
        "top_drifted_features": top,
    })
}

/// POSTs the alert, retrying failures with exponential backoff; never blocks its caller.
pub async fn deliver(client: reqwest::Client, url: String, body: serde_json::Value) -> bool {
    for attempt in 1..=ALERT_ATTEMPTS {
        match client.post(&url).json(&body).send().await {
            Ok(r) if r.status().is_success() => {
                tracing::info!(attempt, "alert delivered");
                return true;
            }
            Ok(r) => tracing::warn!(attempt, status = %r.status(), "alert refused"),
            Err(e) => tracing::warn!(attempt, error = %e, "alert not delivered"),
        }
        if attempt < ALERT_ATTEMPTS {
            tokio::time::sleep(Duration::from_secs(1 << (attempt - 1))).await;
        }
    }
    tracing::error!(url, "alert dropped after {ALERT_ATTEMPTS} attempts");
    false
}
