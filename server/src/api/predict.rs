//! `POST /api/v1/predict` and `POST /api/v1/predict/batch`: score applications, store every
//! decision (answered only once committed), optionally explain them.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use uuid::Uuid;

use scorewatch_core::model::application::{Application, RawApplication};
use scorewatch_core::model::predict::{self, Explain, Explanation, Explanations, ScoreRequest};
use scorewatch_core::model::prediction::Source;
use scorewatch_core::state::AppState;

use super::auth::{self, Authorized};
use super::error::{json_error, ApiError, ApiQuery, ErrorBody, JsonBody};
use super::schema::one_of_strings;
use crate::observability::metrics::Outcome;

/// Contributions listed by `?explain=true` unless `top` says otherwise.
const DEFAULT_TOP: usize = 10;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PredictQuery {
    /// Add SHAP contributions (log-odds) to each result.
    #[serde(default)]
    explain: bool,
    /// Contributions listed per result, largest first; 0 (or more than the model's
    /// features) lists all of them. Default 10.
    #[param(maximum = 18446744073709551615u64)]
    top: Option<usize>,
    /// Where the traffic comes from, stored with each prediction: `api` (default of
    /// `/predict`), `batch` (default of `/predict/batch`) or `simulator`.
    #[param(schema_with = client_source_schema)]
    source: Option<String>,
}

/// The sources a client may name: all but `ui`, the dashboard's own.
fn client_sources() -> impl Iterator<Item = Source> {
    Source::ALL.into_iter().filter(|s| *s != Source::Ui)
}

fn client_source_schema() -> Object {
    one_of_strings(client_sources().map(Source::as_str), false)
}

impl PredictQuery {
    fn source(&self, default: Source) -> Result<Source, ApiError> {
        match self.source.as_deref() {
            None => Ok(default),
            Some(s) => {
                let source = s.parse::<Source>().map_err(ApiError::Validation)?;
                if client_sources().any(|c| c == source) {
                    Ok(source)
                } else {
                    Err(ApiError::Validation(format!(
                        "source `{s}` is the dashboard's own: use api, batch or simulator"
                    )))
                }
            }
        }
    }
}

/// One scored and stored application.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PredictionResponse {
    pub prediction_id: Uuid,
    pub sk_id_curr: Option<i64>,
    /// Probability of default.
    pub probability: f64,
    /// `REFUSED` when the probability reaches the threshold, else `APPROVED`.
    pub decision: &'static str,
    pub threshold: f64,
    pub model_version: i64,
    /// Model time per application, in milliseconds.
    pub inference_time_ms: f64,
    /// Features absent or null in the request, scored as missing.
    pub n_missing_features: usize,
    /// Features whose value lies outside what the model saw in training (below the
    /// smallest or above the largest training value, or, for a feature with at most 10
    /// training values, none of them), in model order; empty when none. The application
    /// is scored and stored all the same.
    pub outside_training_range: Vec<scorewatch_core::model::training_range::OutsideTraining>,
    /// Present with `?explain=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
}

/// Several applications scored together.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// At least one; at most the server's batch maximum (`--max-batch`).
    #[schema(min_items = 1)]
    pub applications: Vec<RawApplication>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchResponse {
    /// One result per application, in the order of the request.
    pub results: Vec<PredictionResponse>,
}

/// Score one application.
#[utoipa::path(
    post,
    path = "/api/v1/predict",
    tag = "predict",
    params(PredictQuery),
    request_body = RawApplication,
    security(("api_key" = [])),
    responses(
        (status = 200, description = "Scored and stored", body = PredictionResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 403, description = "The key's role may not score", body = ErrorBody),
        (status = 413, description = "Body over the limit", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "Unknown features, values that are not finite numbers, unknown fields; or `explain=true` on a model that cannot be explained (linear trees: error_type `explanation_unavailable`)", body = ErrorBody),
        (status = 429, description = "Write queue full; see Retry-After", body = ErrorBody),
        (status = 503, description = "Database unavailable or server stopping; nothing stored; see Retry-After", body = ErrorBody),
    )
)]
pub async fn predict_one(
    State(state): State<AppState>,
    _auth: Authorized<auth::Predict>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<PredictQuery>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let application = Application::from_json(&body, &state.model.model).map_err(json_error)??;
    let (mut results, outcome) = score_and_store(
        &state,
        vec![application],
        query.source(Source::Api)?,
        request_id(&headers),
        &query,
    )
    .await?;
    let result = results.pop().expect("one result per application");
    Ok((outcome, Json(result)).into_response())
}

/// Score several applications; they are stored together (all or none).
#[utoipa::path(
    post,
    path = "/api/v1/predict/batch",
    tag = "predict",
    params(PredictQuery),
    request_body = BatchRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, description = "All scored and stored, results in request order", body = BatchResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 403, description = "The key's role may not score", body = ErrorBody),
        (status = 413, description = "Body over the limit, or more applications than the batch maximum", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "An application is invalid (its index is named); or `explain=true` on a model that cannot be explained (linear trees: error_type `explanation_unavailable`); nothing stored", body = ErrorBody),
        (status = 429, description = "Write queue full; see Retry-After", body = ErrorBody),
        (status = 503, description = "Database unavailable or server stopping; nothing stored", body = ErrorBody),
    )
)]
pub async fn predict_batch(
    State(state): State<AppState>,
    _auth: Authorized<auth::Predict>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<PredictQuery>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let parsed = Application::batch_from_json(&body, &state.model.model).map_err(json_error)?;
    let max = state.settings.max_batch;
    let n = parsed.len();
    if n > max {
        return Err(ApiError::PayloadTooLarge(format!(
            "a batch holds at most {max} applications, this one has {n}; split it"
        )));
    }
    if n == 0 {
        return Err(ApiError::Validation(
            "`applications` is empty: send at least one".into(),
        ));
    }
    let mut applications = Vec::with_capacity(n);
    let mut errors = Vec::new();
    for (i, result) in parsed.into_iter().enumerate() {
        match result {
            Ok(a) => applications.push(a),
            Err(e) => errors.push(format!("applications[{i}]: {e}")),
        }
    }
    if !errors.is_empty() {
        const SHOWN: usize = 20;
        let more = errors.len().saturating_sub(SHOWN);
        let mut message = errors
            .into_iter()
            .take(SHOWN)
            .collect::<Vec<_>>()
            .join("; ");
        if more > 0 {
            message.push_str(&format!("; and {more} more invalid applications"));
        }
        return Err(ApiError::Validation(message));
    }
    let (results, outcome) = score_and_store(
        &state,
        applications,
        query.source(Source::Batch)?,
        request_id(&headers),
        &query,
    )
    .await?;
    Ok((outcome, Json(BatchResponse { results })).into_response())
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Scores, explains as asked and stores through the one use case
/// ([`predict::score_and_store`]), and shapes its answer.
async fn score_and_store(
    state: &AppState,
    applications: Vec<Application>,
    source: Source,
    request_id: Option<String>,
    query: &PredictQuery,
) -> Result<(Vec<PredictionResponse>, Outcome), ApiError> {
    let explain = match query.explain {
        true => Explain::Required {
            top: query.top.unwrap_or(DEFAULT_TOP),
        },
        false => Explain::No,
    };
    let request = ScoreRequest {
        applications,
        source,
        request_id,
        explain,
    };
    let scored = predict::score_and_store(state, request).await?;
    let outcome = Outcome::of(&scored.decisions);
    let mut explanations = match scored.explanations {
        Explanations::Given(given) => Some(given.into_iter()),
        Explanations::NotAsked | Explanations::Unavailable(_) => None,
    };
    let results = scored
        .decisions
        .into_iter()
        .map(|d| PredictionResponse {
            prediction_id: d.prediction_id,
            sk_id_curr: d.sk_id_curr,
            probability: d.probability,
            decision: d.decision.as_str(),
            threshold: d.threshold,
            model_version: d.model_version,
            inference_time_ms: d.inference_time_ms,
            n_missing_features: d.n_missing_features,
            outside_training_range: d.outside_training,
            explanation: explanations.as_mut().and_then(Iterator::next),
        })
        .collect();
    Ok((results, outcome))
}
