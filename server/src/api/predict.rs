//! `POST /api/v1/predict` and `POST /api/v1/predict/batch`: score applications, store every
//! decision (answered only once committed), optionally explain them.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use uuid::Uuid;

use scorewatch_core::application::{Application, RawApplication};
use scorewatch_core::predict::{self, Explanation};
use scorewatch_core::state::AppState;
use scorewatch_core::store::Source;

use super::auth::{self, Authorized};
use super::error::{json_error, ApiError, ApiQuery, ErrorBody, JsonBody};
use super::openapi::one_of_strings;
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

/// Scores (and explains) off the async executor, then waits for the writer to commit.
async fn score_and_store(
    state: &AppState,
    applications: Vec<Application>,
    source: Source,
    request_id: Option<String>,
    query: &PredictQuery,
) -> Result<(Vec<PredictionResponse>, Outcome), ApiError> {
    let active = state.model.clone();
    let n_rows = applications.len();
    let top = query.explain.then(|| query.top.unwrap_or(DEFAULT_TOP));
    if top.is_some() && !active.model.explainable() {
        // Refused before scoring, so nothing is stored.
        return Err(ApiError::NotExplainable(
            scorewatch_core::scoring::ExplainError::Unavailable.to_string(),
        ));
    }
    let work = move || {
        let rows = predict::score(&active, &applications, source, request_id.as_deref())?;
        let explanations = match top {
            Some(top) => {
                Some(predict::explain(&active, &applications, top).map_err(anyhow::Error::from)?)
            }
            None => None,
        };
        let n_missing: Vec<usize> = applications.iter().map(Application::n_missing).collect();
        anyhow::Ok((rows, explanations, n_missing))
    };
    // One row without explanation takes microseconds: scoring it here costs less than
    // handing it to a blocking thread and back.
    let inline = top.is_none() && n_rows == 1;
    let (rows, explanations, n_missing) = if inline {
        work()?
    } else {
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| ApiError::Internal(e.into()))??
    };

    let mut explanations = explanations.map(Vec::into_iter);
    let results: Vec<PredictionResponse> = rows
        .iter()
        .zip(n_missing)
        .map(|(p, n_missing_features)| PredictionResponse {
            prediction_id: p.id,
            sk_id_curr: p.sk_id_curr,
            probability: p.probability,
            decision: p.decision.as_str(),
            threshold: p.threshold,
            model_version: p.model_version,
            inference_time_ms: p.inference_time_ms,
            n_missing_features,
            explanation: explanations.as_mut().and_then(Iterator::next),
        })
        .collect();
    let outcome = Outcome::of(&rows);
    state.writer.store(rows).await?;
    outcome.record_predictions(source, results.iter().map(|r| r.probability));
    Ok((results, outcome))
}
