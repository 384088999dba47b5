//! Prometheus metrics and the access log: the process-wide recorder ([`metrics_handle`]) and
//! its `GET /metrics` endpoint, the middleware that counts and logs every request
//! ([`track`]: one access log event, on stdout and shipped to `api_logs` by
//! [`super::log_shipping`]), and what a predict handler reports to both ([`Outcome`]).
//!
//! Metric names, all prefixed `scorewatch_`:
//! - `http_requests_total{route,method,status}`, `http_request_duration_seconds{route}`
//! - `predictions_total{decision,source}`, `prediction_probability` (histogram)
//! - `writer_queue_rows`, `writer_commit_duration_seconds`, `writer_rows_committed_total`,
//!   `writer_commits_total`, `writer_commit_failures_total`, `backup_failures_total`
//! - `log_events_dropped_total`
//! - `active_model_version` (gauge: the served model version's id)
//! - `drift_status{status}` and `performance_status{status}` (gauges: 1 for the status of
//!   the report the overview shows, 0 for the others), `drift_share`,
//!   `performance_roc_auc`
//!
//! Counters without labels are exposed from the start, at 0, so that an alert rule on them
//! has a series to read before the first event.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, IntoResponseParts, Response, ResponseParts};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use scorewatch_core::model::predict::Decided;

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide Prometheus recorder (installed on first use).
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let probability_buckets: Vec<f64> = (1..=20).map(|i| f64::from(i) * 0.05).collect();
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), LATENCY_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full("scorewatch_prediction_probability".into()),
                    &probability_buckets,
                )
            })
            .expect("bucket lists are not empty")
            .install_recorder()
            .expect("no other metrics recorder is installed");
        describe();
        handle
    })
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!("scorewatch_http_requests_total", "HTTP requests answered");
    describe_histogram!(
        "scorewatch_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request"
    );
    describe_counter!("scorewatch_predictions_total", "Stored predictions");
    describe_histogram!(
        "scorewatch_prediction_probability",
        "Probability of default of stored predictions"
    );
    describe_gauge!(
        "scorewatch_writer_queue_rows",
        "Predictions waiting to be committed"
    );
    describe_histogram!(
        "scorewatch_writer_commit_duration_seconds",
        Unit::Seconds,
        "Time of one group commit"
    );
    describe_counter!(
        "scorewatch_writer_rows_committed_total",
        "Predictions committed"
    );
    describe_counter!("scorewatch_writer_commits_total", "Group commits");
    describe_counter!(
        "scorewatch_backup_failures_total",
        "Group commits stored in the database but not written to the JSONL backup"
    );
    describe_counter!(
        "scorewatch_writer_commit_failures_total",
        "Group commits that failed (their requests got 503)"
    );
    describe_counter!(
        "scorewatch_log_events_dropped_total",
        "Log events not shipped to api_logs because the database was slow or down"
    );
    describe_gauge!(
        "scorewatch_active_model_version",
        "Id of the model version this server scores with"
    );
    describe_gauge!(
        "scorewatch_drift_status",
        "1 for the status of the newest window's scheduled drift report, 0 for the others"
    );
    describe_gauge!(
        "scorewatch_drift_share",
        "Share of drifted features in that drift report"
    );
    describe_gauge!(
        "scorewatch_performance_status",
        "1 for the status of the newest conclusive scheduled performance report, 0 for the others"
    );
    describe_gauge!(
        "scorewatch_performance_roc_auc",
        "Realised ROC AUC of that performance report"
    );
    for name in [
        "scorewatch_writer_rows_committed_total",
        "scorewatch_writer_commits_total",
        "scorewatch_backup_failures_total",
        "scorewatch_writer_commit_failures_total",
        "scorewatch_log_events_dropped_total",
    ] {
        metrics::counter!(name).increment(0);
    }
}

/// Statuses a drift or performance report can have: the label values of the status gauges.
const STATUSES: [&str; 4] = ["OK", "WARNING", "ALERT", "INSUFFICIENT_DATA"];

/// Sets `scorewatch_active_model_version`, and the drift and performance gauges from the
/// reports the overview shows (`store::headline_drift_report` and
/// `store::headline_performance_report`); with no report (or no realised AUC), every
/// status gauge is 0 and the value gauges are NaN. Called every minute and after each report the server stores.
pub async fn refresh_report_gauges(pool: &sqlx::PgPool, model_version: i64) {
    use scorewatch_core::store;
    metrics_handle();
    metrics::gauge!("scorewatch_active_model_version").set(model_version as f64);
    let (drift, performance) = tokio::join!(
        store::headline_drift_report(pool, model_version),
        store::headline_performance_report(pool, model_version),
    );
    let set = |name: &'static str, status: Option<&str>| {
        for s in STATUSES {
            let on = if status == Some(s) { 1.0 } else { 0.0 };
            metrics::gauge!(name, "status" => s).set(on);
        }
    };
    match drift {
        Ok(report) => {
            set(
                "scorewatch_drift_status",
                report.as_ref().map(|r| r.status.as_str()),
            );
            let share = report.map_or(f64::NAN, |r| r.drift_share);
            metrics::gauge!("scorewatch_drift_share").set(share);
        }
        Err(e) => tracing::warn!(error = %e, "drift status gauge not updated"),
    }
    match performance {
        Ok(report) => {
            set(
                "scorewatch_performance_status",
                report.as_ref().map(|r| r.status.as_str()),
            );
            let auc = report.and_then(|r| r.metrics.roc_auc).unwrap_or(f64::NAN);
            metrics::gauge!("scorewatch_performance_roc_auc").set(auc);
        }
        Err(e) => tracing::warn!(error = %e, "performance status gauge not updated"),
    }
}

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "probes",
    responses((status = 200, description = "Prometheus text exposition format", content_type = "text/plain", body = String))
)]
pub async fn metrics_endpoint() -> Response {
    let handle = metrics_handle();
    handle.run_upkeep();
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}

/// What a predict handler did, for the access log (a response extension).
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    pub model_version: i64,
    pub rows: usize,
    pub refused: usize,
    /// The decision of a single prediction.
    pub decision: Option<&'static str>,
}

impl Outcome {
    /// The outcome of the decisions a request stored.
    pub fn of(rows: &[Decided]) -> Self {
        let refused = rows
            .iter()
            .filter(|p| p.decision == scorewatch_core::model::prediction::Decision::Refused)
            .count();
        Outcome {
            model_version: rows.first().map_or(0, |p| p.model_version),
            rows: rows.len(),
            refused,
            decision: match rows {
                [one] => Some(one.decision.as_str()),
                _ => None,
            },
        }
    }
}

impl IntoResponseParts for Outcome {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        res.extensions_mut().insert(self);
        Ok(res)
    }
}

/// Middleware: one access log event and the HTTP metrics per request. Static files are
/// logged at debug level only (they would drown the rest).
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let response = next.run(request).await;
    let latency = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    let route_label = route.unwrap_or_else(|| "static".to_owned());
    metrics::counter!(
        "scorewatch_http_requests_total",
        "route" => route_label.clone(),
        "method" => method.to_string(),
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!("scorewatch_http_request_duration_seconds", "route" => route_label.clone())
        .record(latency);

    let latency_ms = latency * 1e3;
    let method = method.as_str();
    if route_label == "static" && status < 400 {
        tracing::debug!(target: "scorewatch::access", request_id, method, path, status, latency_ms, "request");
    } else if let Some(o) = response.extensions().get::<Outcome>() {
        tracing::info!(
            target: "scorewatch::access",
            request_id,
            method,
            path,
            status,
            latency_ms,
            model_version = o.model_version,
            decision = o.decision.unwrap_or("batch"),
            rows = o.rows,
            refused = o.refused,
            "request"
        );
    } else if status >= 500 {
        tracing::warn!(target: "scorewatch::access", request_id, method, path, status, latency_ms, "request");
    } else {
        tracing::info!(target: "scorewatch::access", request_id, method, path, status, latency_ms, "request");
    }
    response
}
