//! `GET /api/v1/predictions` and `GET /api/v1/predictions/{id}`: stored decisions, newest
//! first, features keyed by name.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use uuid::Uuid;

use scorewatch_core::model::prediction::Decision;
use scorewatch_core::model::prediction::{Prediction, Source};
use scorewatch_core::state::AppState;
use scorewatch_core::store::{self, PageCursor, PredictionFilter};

use super::auth::{self, Authorized};
use super::error::{ApiError, ApiPath, ApiQuery, ErrorBody};
use super::schema::one_of_strings;

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 1_000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Created at or after (RFC 3339).
    #[serde(default, deserialize_with = "super::schema::rfc3339_opt")]
    since: Option<DateTime<Utc>>,
    /// Created before (RFC 3339).
    #[serde(default, deserialize_with = "super::schema::rfc3339_opt")]
    until: Option<DateTime<Utc>>,
    #[param(schema_with = decision_schema)]
    decision: Option<String>,
    sk_id_curr: Option<i64>,
    /// Where the traffic came from.
    #[param(schema_with = source_schema)]
    source: Option<String>,
    /// Items per page, default 50.
    #[param(minimum = 1, maximum = 1000)] // MAX_LIMIT
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^-?[0-9]{1,16}\\.[0-9a-f]{32}$")]
    cursor: Option<String>,
}

fn decision_schema() -> Object {
    one_of_strings(
        [Decision::Approved, Decision::Refused].map(Decision::as_str),
        false,
    )
}

fn source_schema() -> Object {
    one_of_strings(Source::ALL.map(Source::as_str), false)
}

/// A page cursor in the form [`PageCursor::encode`] writes, and only that: microseconds
/// since the epoch (16 digits reach the year 2286), a dot, the id's 32 lowercase hex
/// digits. The `cursor` pattern above says the same.
fn page_cursor(cursor: &str) -> Option<PageCursor> {
    let (micros, id) = cursor.split_once('.')?;
    let digits = micros.strip_prefix('-').unwrap_or(micros);
    let shaped = (1..=16).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && id.len() == 32
        && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    shaped.then(|| PageCursor::decode(cursor)).flatten()
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PredictionItem {
    pub id: Uuid,
    /// The same as `id`: the name `POST /api/v1/predict` answers with.
    pub prediction_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub model_version: i64,
    pub sk_id_curr: Option<i64>,
    pub probability: f64,
    pub decision: String,
    pub threshold: f64,
    pub inference_time_ms: f64,
    pub source: String,
    pub request_id: Option<String>,
    /// Features by name; null = missing.
    #[schema(value_type = std::collections::HashMap<String, Option<f64>>)]
    pub features: BTreeMap<String, Option<f64>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PredictionPage {
    pub items: Vec<PredictionItem>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Stored predictions, newest first, filtered, one page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/predictions",
    tag = "predictions",
    params(ListQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "A page of predictions", body = PredictionPage),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 403, description = "The key's role may not read", body = ErrorBody),
        (status = 422, description = "A bad filter, limit or cursor, or an unknown parameter", body = ErrorBody),
        (status = 503, description = "Database unavailable", body = ErrorBody),
    )
)]
pub async fn list_predictions(
    State(state): State<AppState>,
    _auth: Authorized<auth::Read>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<PredictionPage>, ApiError> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::Validation(format!(
            "limit must be between 1 and {MAX_LIMIT}, got {limit}"
        )));
    }
    let decision = q
        .decision
        .as_deref()
        .map(str::parse::<Decision>)
        .transpose()
        .map_err(ApiError::Validation)?;
    let source = q
        .source
        .as_deref()
        .map(str::parse::<Source>)
        .transpose()
        .map_err(ApiError::Validation)?;
    let cursor = q
        .cursor
        .as_deref()
        .map(|c| {
            page_cursor(c)
                .ok_or_else(|| ApiError::Validation("cursor is not one this API gave out".into()))
        })
        .transpose()?;
    let filter = PredictionFilter {
        since: q.since,
        until: q.until,
        decision,
        sk_id_curr: q.sk_id_curr,
        source,
    };
    let page = store::page_predictions(&state.pool, &filter, cursor, limit)
        .await
        .map_err(ApiError::from_store)?;
    let next_cursor = page.next.map(|c| c.encode());
    let items = with_names(&state, &page.items).await?;
    Ok(Json(PredictionPage { items, next_cursor }))
}

/// One stored prediction.
#[utoipa::path(
    get,
    path = "/api/v1/predictions/{id}",
    tag = "predictions",
    params(("id" = Uuid, Path, description = "prediction_id from the predict response")),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The prediction", body = PredictionItem),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 403, description = "The key's role may not read", body = ErrorBody),
        (status = 404, description = "No such prediction", body = ErrorBody),
        (status = 422, description = "Not a UUID", body = ErrorBody),
        (status = 503, description = "Database unavailable", body = ErrorBody),
    )
)]
pub async fn get_prediction(
    State(state): State<AppState>,
    _auth: Authorized<auth::Read>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<PredictionItem>, ApiError> {
    let row = store::get_prediction(&state.pool, id)
        .await
        .map_err(ApiError::from_store)?
        .ok_or_else(|| ApiError::NotFound(format!("no prediction {id}")))?;
    let mut items = with_names(&state, std::slice::from_ref(&row)).await?;
    Ok(Json(items.pop().expect("one item")))
}

/// Keys each row's features by the names of its own model version.
async fn with_names(
    state: &AppState,
    rows: &[Prediction],
) -> Result<Vec<PredictionItem>, ApiError> {
    let active = &state.model.version;
    let mut versions: Vec<i64> = rows
        .iter()
        .map(|p| p.model_version)
        .filter(|v| *v != active.id)
        .collect();
    versions.sort_unstable();
    versions.dedup();
    let mut names = if versions.is_empty() {
        Default::default()
    } else {
        store::feature_names(&state.pool, &versions)
            .await
            .map_err(ApiError::from_store)?
    };
    names.insert(active.id, active.feature_names.clone());
    Ok(rows
        .iter()
        .map(|p| PredictionItem {
            id: p.id,
            prediction_id: p.id,
            created_at: p.created_at,
            model_version: p.model_version,
            sk_id_curr: p.sk_id_curr,
            probability: p.probability,
            decision: p.decision.as_str().to_owned(),
            threshold: p.threshold,
            inference_time_ms: p.inference_time_ms,
            source: p.source.as_str().to_owned(),
            request_id: p.request_id.clone(),
            features: names
                .get(&p.model_version)
                .map(|n| {
                    n.iter()
                        .zip(&p.features)
                        .map(|(k, v)| (k.clone(), (!v.is_nan()).then_some(*v)))
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect())
}
