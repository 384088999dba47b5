//! `POST /api/v1/predict`: score one application and store the decision.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::Serialize;
use uuid::Uuid;

use scorewatch_core::application::{Application, RawApplication};
use scorewatch_core::predict;
use scorewatch_core::state::AppState;
use scorewatch_core::store::{self, Source};

use super::error::{ApiError, ApiJson};

#[derive(Debug, Serialize)]
pub struct PredictionResponse {
    pub prediction_id: Uuid,
    pub sk_id_curr: Option<i64>,
    pub probability: f64,
    pub decision: &'static str,
    pub threshold: f64,
    pub model_version: i64,
    pub inference_time_ms: f64,
    /// Features absent or null in the request, scored as missing.
    pub n_missing_features: usize,
}

#[tracing::instrument(skip_all, fields(request_id))]
pub async fn predict_one(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(raw): ApiJson<RawApplication>,
) -> Result<Json<PredictionResponse>, ApiError> {
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    tracing::Span::current().record("request_id", request_id.as_deref());
    let application = Application::parse(raw, &state.model.model)?;
    let n_missing = application.n_missing();
    let active = state.model.clone();
    let rid = request_id.clone();
    let mut scored = tokio::task::spawn_blocking(move || {
        predict::score(
            &active,
            std::slice::from_ref(&application),
            Source::Api,
            rid.as_deref(),
        )
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))??;
    store::insert_predictions(&state.pool, &scored)
        .await
        .map_err(|e| {
            tracing::error!(error = %format!("{e:#}"), "prediction not stored");
            ApiError::Unavailable("the prediction could not be stored; retry later".into())
        })?;
    let p = scored.pop().expect("one prediction per application");
    Ok(Json(PredictionResponse {
        prediction_id: p.id,
        sk_id_curr: p.sk_id_curr,
        probability: p.probability,
        decision: p.decision.as_str(),
        threshold: p.threshold,
        model_version: p.model_version,
        inference_time_ms: p.inference_time_ms,
        n_missing_features: n_missing,
    }))
}
