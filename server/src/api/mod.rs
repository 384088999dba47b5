//! The REST API under `/api/v1`, the probes, and the metrics endpoint.
//!
//! Layout: one module per resource ([`predict`], [`predictions`], [`model`], `drift`,
//! [`outcomes`], `performance`), plus
//! [`auth`] (API keys and roles), [`error`] (the one error type), [`openapi`] and `schema`
//! (schema pieces the annotations share).

pub mod auth;
mod drift;
pub mod error;
mod health;
mod model;
pub mod openapi;
pub mod outcomes;
mod performance;
pub mod predict;
mod predictions;
mod schema;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::state::ServerState;

/// Body limit of `POST /api/v1/predict` (one application is a few kilobytes).
pub const PREDICT_BODY_LIMIT: usize = 1024 * 1024;

pub fn routes(batch_body_limit: usize) -> Router<ServerState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(
            "/metrics",
            get(crate::observability::metrics::metrics_endpoint),
        )
        .route("/api/v1/openapi.json", get(openapi::openapi_json))
        .route(
            "/api/v1/predict",
            post(predict::predict_one).layer(DefaultBodyLimit::max(PREDICT_BODY_LIMIT)),
        )
        .route(
            "/api/v1/predict/batch",
            post(predict::predict_batch).layer(DefaultBodyLimit::max(batch_body_limit)),
        )
        .route("/api/v1/model", get(model::get_model))
        .route("/api/v1/predictions", get(predictions::list_predictions))
        .route("/api/v1/predictions/{id}", get(predictions::get_prediction))
        .route("/api/v1/drift/reports", get(drift::list_reports))
        .route("/api/v1/drift/reports/{id}", get(drift::get_report))
        .route(
            "/api/v1/drift/reports/{id}/html",
            get(drift::get_report_html),
        )
        .route("/api/v1/drift/run", post(drift::run))
        .route("/drift/{id}/report.html", get(drift::download_report_html))
        .route("/predictions.csv", get(predictions::download_csv))
        .route(
            "/api/v1/outcomes",
            post(outcomes::record)
                .layer(DefaultBodyLimit::max(outcomes::OUTCOMES_BODY_LIMIT))
                .get(outcomes::list),
        )
        .route(
            "/api/v1/performance/reports",
            get(performance::list_reports),
        )
        .route(
            "/api/v1/performance/reports/{id}",
            get(performance::get_report),
        )
        .route("/api/v1/performance/run", post(performance::run))
}
