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

/// Predictions the CSV download reads per query.
const CSV_PAGE: i64 = 2_000;

/// The dashboard's download of the listed predictions as CSV (`/predictions.csv`, with the
/// list page's filters as its query: `decision`, `source`, `client`, `since`, `until`).
/// One row per prediction of the active model version, newest first: `prediction_id`,
/// `created_at` (RFC 3339, microseconds), `model_version`, `sk_id_curr`, `probability`,
/// `decision`, `threshold`, `inference_time_ms`, `source`, then every feature in model
/// order (empty when missing). Numbers are written shortest, reading back to the same
/// double. Streamed a page at a time, so any number of rows downloads in constant memory.
pub async fn download_csv(
    State(state): State<AppState>,
    ApiQuery(filters): ApiQuery<app::pages::predictions::Filters>,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::header;
    use axum::response::IntoResponse;
    use futures_util::StreamExt;
    let filter = filters.parse().map_err(ApiError::Validation)?;
    let names = state.model.version.feature_names.clone();
    let version = state.model.version.id;
    let header_row = {
        let mut w = csv::Writer::from_writer(Vec::new());
        let fixed = [
            "prediction_id",
            "created_at",
            "model_version",
            "sk_id_curr",
            "probability",
            "decision",
            "threshold",
            "inference_time_ms",
            "source",
        ];
        w.write_record(
            fixed
                .iter()
                .copied()
                .chain(names.iter().map(String::as_str)),
        )
        .map_err(|e| ApiError::Internal(e.into()))?;
        w.into_inner()
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?
    };
    let pool = state.pool.clone();
    // State: (cursor, done).
    let pages = futures_util::stream::unfold((None, false), move |(after, done)| {
        let (pool, filter) = (pool.clone(), filter.clone());
        async move {
            if done {
                return None;
            }
            match store::page_predictions(&pool, &filter, after, CSV_PAGE).await {
                Ok(page) => {
                    let bytes = csv_rows(&page.items, version);
                    let next = page.next;
                    Some((Ok(bytes), (next, next.is_none())))
                }
                Err(e) => {
                    tracing::error!(error = %e, "predictions CSV stopped");
                    Some((
                        Err(std::io::Error::other("reading predictions failed")),
                        (None, true),
                    ))
                }
            }
        }
    });
    let body =
        futures_util::stream::once(async move { Ok::<_, std::io::Error>(header_row) }).chain(pages);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"predictions.csv\"",
            ),
        ],
        axum::body::Body::from_stream(body),
    )
        .into_response())
}

/// Predictions of `version` as CSV lines (see [`download_csv`]).
fn csv_rows(items: &[Prediction], version: i64) -> Vec<u8> {
    use scorewatch_core::numbers::shortest;
    let mut w = csv::Writer::from_writer(Vec::new());
    for p in items.iter().filter(|p| p.model_version == version) {
        let fixed = [
            p.id.to_string(),
            p.created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            p.model_version.to_string(),
            p.sk_id_curr.map(|v| v.to_string()).unwrap_or_default(),
            shortest(p.probability),
            p.decision.as_str().to_owned(),
            shortest(p.threshold),
            shortest(p.inference_time_ms),
            p.source.as_str().to_owned(),
        ];
        let features = p.features.iter().map(|v| {
            if v.is_nan() {
                String::new()
            } else {
                shortest(*v)
            }
        });
        // Writing to memory fails only on allocation failure.
        let _ = w.write_record(fixed.into_iter().chain(features));
    }
    w.into_inner().unwrap_or_default()
}
