//! `GET /api/v1/model`: the active model version.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;

use scorewatch_core::state::AppState;

use super::auth::{self, Authorized};
use super::error::ErrorBody;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ModelResponse {
    pub model_version: i64,
    pub name: String,
    /// SHA-256 of the LightGBM text model.
    pub sha256: String,
    pub created_at: DateTime<Utc>,
    /// Refused at or above this probability of default.
    pub threshold: f64,
    pub n_features: usize,
    /// Features in model order, with their gain importance.
    pub features: Vec<FeatureInfo>,
    /// Training metrics from the model card (AUC, rows, default rate, ...).
    #[schema(value_type = Object)]
    pub metrics: serde_json::Value,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FeatureInfo {
    pub name: String,
    pub importance: f64,
}

/// The active model: version, features, threshold, importances, training metrics.
#[utoipa::path(
    get,
    path = "/api/v1/model",
    tag = "model",
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The active model version", body = ModelResponse),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 403, description = "The key's role may not read", body = ErrorBody),
        (status = 503, description = "Database unavailable (checking the key)", body = ErrorBody),
    )
)]
pub async fn get_model(
    State(state): State<AppState>,
    _auth: Authorized<auth::Read>,
) -> Json<ModelResponse> {
    let v = &state.model.version;
    Json(ModelResponse {
        model_version: v.id,
        name: v.name.clone(),
        sha256: v.sha256.clone(),
        created_at: v.created_at,
        threshold: v.threshold,
        n_features: v.feature_names.len(),
        features: v
            .feature_names
            .iter()
            .zip(v.importances.iter().chain(std::iter::repeat(&0.0)))
            .map(|(name, &importance)| FeatureInfo {
                name: name.clone(),
                importance,
            })
            .collect(),
        metrics: v.metrics.clone(),
    })
}
