//! Liveness and readiness probes.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use scorewatch_core::state::AppState;

/// The process is up.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "probes",
    responses((status = 200, description = "The process answers"))
)]
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The database answers (within 2 s), the prediction writer accepts rows, a model is loaded.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "probes",
    responses(
        (status = 200, description = "Ready to score and store"),
        (status = 503, description = "The database is unreachable: predictions would be refused"),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let ping = tokio::time::timeout(
        Duration::from_secs(2),
        sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&state.pool),
    )
    .await;
    let database = match ping {
        Ok(Ok(_)) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some("no answer within 2 s".to_owned()),
    };
    let model = state.model.version.id;
    let writer_ok = state.writer.is_healthy();
    match database {
        None if writer_ok => (
            StatusCode::OK,
            Json(
                json!({ "status": "ready", "database": "ok", "model_version": model,
                         "writer_queue_rows": state.writer.queued_rows() }),
            ),
        ),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(
                json!({ "status": "recovering", "database": "ok", "model_version": model,
                         "writer": "waiting for the database probe" }),
            ),
        ),
        Some(error) => {
            tracing::warn!(%error, "readiness check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(
                    json!({ "status": "unavailable", "database": "unreachable", "model_version": model }),
                ),
            )
        }
    }
}
