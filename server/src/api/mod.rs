//! The REST API under `/api/v1`, and the health probes.

pub mod error;
mod health;
mod predict;

use axum::routing::{get, post};
use axum::Router;

use crate::startup::ServerState;

pub fn routes() -> Router<ServerState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/v1/predict", post(predict::predict_one))
}
