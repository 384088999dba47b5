//! `POST /api/v1/outcomes` (record observed outcomes against predictions) and
//! `GET /api/v1/outcomes` (list them).

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{
    AdditionalProperties, AnyOfBuilder, ArrayBuilder, KnownFormat, ObjectBuilder, Schema,
    SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::RefOr;
use uuid::Uuid;

use scorewatch_core::model::application::WholeI64;
use scorewatch_core::state::AppState;
use scorewatch_core::store::{
    self, NewOutcome, Outcome, OutcomeCursor, OutcomeFilter, OutcomeSource, OutcomeTarget,
};

use super::auth::{self, Authorized};
use super::error::{json_error, ApiError, ApiQuery, ErrorBody, JsonBody};
use super::schema::one_of_strings;

/// Most outcomes in one `POST /api/v1/outcomes`.
pub const MAX_OUTCOMES: usize = 10_000;
/// Body limit of `POST /api/v1/outcomes` (10,000 items of about 120 bytes, with room).
pub const OUTCOMES_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// The body: `{"outcomes": [...]}`. Its schema is written out below, since serde's view
/// cannot say that an item names its prediction one way or the other.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomesRequest {
    outcomes: Vec<serde_json::Value>,
}

/// One item: the prediction by id, or by client (the newest prediction of `sk_id_curr`
/// made at or before `observed_at`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomeItem {
    prediction_id: Option<Uuid>,
    sk_id_curr: Option<WholeI64>,
    defaulted: bool,
    #[serde(default, deserialize_with = "super::schema::rfc3339_opt")]
    observed_at: Option<DateTime<Utc>>,
}

pub struct OutcomesRequestSchema;

impl utoipa::ToSchema for OutcomesRequestSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        "OutcomesRequest".into()
    }
}

impl utoipa::PartialSchema for OutcomesRequestSchema {
    fn schema() -> RefOr<Schema> {
        let null = || ObjectBuilder::new().schema_type(Type::Null).build();
        let observed_at = || {
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                .description(Some(
                    "When the outcome was observed (RFC 3339); default: when it is recorded",
                ))
                .build()
        };
        let defaulted = || {
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .description(Some("Did the borrower default?"))
                .build()
        };
        let by_id = ObjectBuilder::new()
            .title(Some("By prediction id"))
            .property(
                "prediction_id",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
            )
            .required("prediction_id")
            .property("sk_id_curr", null())
            .property("defaulted", defaulted())
            .required("defaulted")
            .property("observed_at", observed_at())
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .build();
        let by_client = ObjectBuilder::new()
            .title(Some("By client"))
            .description(Some(
                "The outcome of the newest prediction of this client (SK_ID_CURR) made at or \
                 before `observed_at`",
            ))
            .property(
                "sk_id_curr",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64))),
            )
            .required("sk_id_curr")
            .property("prediction_id", null())
            .property("defaulted", defaulted())
            .required("defaulted")
            .property("observed_at", observed_at())
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .build();
        let item = AnyOfBuilder::new().item(by_id).item(by_client);
        ObjectBuilder::new()
            .property(
                "outcomes",
                ArrayBuilder::new()
                    .items(item)
                    .min_items(Some(1))
                    .max_items(Some(MAX_OUTCOMES)),
            )
            .required("outcomes")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .description(Some(
                "Observed outcomes, each naming its prediction by `prediction_id` or by \
                 `sk_id_curr` (then the newest prediction of that client made at or before \
                 `observed_at`). A later outcome of the same prediction replaces the earlier \
                 one. An invalid item refuses the whole batch (nothing is stored).",
            ))
            .into()
    }
}

/// An item that matched no prediction.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Unmatched {
    /// Position in the request (0-based).
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prediction_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sk_id_curr: Option<i64>,
    /// Why it matched nothing.
    pub reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutcomesResponse {
    /// Items stored.
    pub recorded: u64,
    /// Of those, how many replaced an outcome recorded before (or earlier in this batch).
    pub replaced: u64,
    /// Items that matched no prediction (not stored).
    pub unmatched: Vec<Unmatched>,
}

/// Parses and checks a body; an error names the item's index.
fn parse_items(body: &[u8], now: DateTime<Utc>) -> Result<Vec<NewOutcome>, ApiError> {
    let req: OutcomesRequest = serde_json::from_slice(body).map_err(json_error)?;
    if req.outcomes.is_empty() {
        return Err(ApiError::Validation(
            "outcomes must hold at least one item".into(),
        ));
    }
    if req.outcomes.len() > MAX_OUTCOMES {
        return Err(ApiError::Validation(format!(
            "{} outcomes in one request; at most {MAX_OUTCOMES}",
            req.outcomes.len()
        )));
    }
    req.outcomes
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let item: OutcomeItem = serde_json::from_value(v)
                .map_err(|e| ApiError::Validation(format!("outcomes[{i}]: {e}")))?;
            let target = match (item.prediction_id, item.sk_id_curr) {
                (Some(id), None) => OutcomeTarget::Prediction(id),
                (None, Some(c)) => OutcomeTarget::Client(c.0),
                (Some(_), Some(_)) => {
                    return Err(ApiError::Validation(format!(
                        "outcomes[{i}]: give prediction_id or sk_id_curr, not both"
                    )))
                }
                (None, None) => {
                    return Err(ApiError::Validation(format!(
                        "outcomes[{i}]: name the prediction with prediction_id or sk_id_curr"
                    )))
                }
            };
            Ok(NewOutcome {
                target,
                defaulted: item.defaulted,
                observed_at: item.observed_at.unwrap_or(now),
            })
        })
        .collect()
}

/// Record observed outcomes (did the borrower default?) against stored predictions.
#[utoipa::path(
    post,
    path = "/api/v1/outcomes",
    tag = "outcomes",
    request_body = OutcomesRequestSchema,
    security(("api_key" = [])),
    responses(
        (status = 200, description = "Recorded; items that matched no prediction are listed and not stored", body = OutcomesResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 403, description = "The key's role may not record outcomes (scorer or admin)", body = ErrorBody),
        (status = 413, description = "Body over 4 MiB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "An invalid item (its index is named), an unknown field, or more than 10,000 items; nothing is stored", body = ErrorBody),
        (status = 503, description = "Database unavailable; nothing stored", body = ErrorBody),
    )
)]
pub async fn record(
    State(state): State<AppState>,
    _auth: Authorized<auth::RecordOutcomes>,
    JsonBody(body): JsonBody,
) -> Result<Json<OutcomesResponse>, ApiError> {
    let items = parse_items(&body, Utc::now())?;
    let done = store::record_outcomes(&state.pool, &items, OutcomeSource::Api)
        .await
        .map_err(ApiError::from_store)?;
    Ok(Json(OutcomesResponse {
        recorded: done.recorded,
        replaced: done.replaced,
        unmatched: unmatched(&items, &done.unmatched),
    }))
}

/// The unmatched items of a batch, each with its reason.
pub fn unmatched(items: &[NewOutcome], indexes: &[usize]) -> Vec<Unmatched> {
    indexes
        .iter()
        .map(|&index| match items[index].target {
            OutcomeTarget::Prediction(id) => Unmatched {
                index,
                prediction_id: Some(id),
                sk_id_curr: None,
                reason: "no prediction has this id".into(),
            },
            OutcomeTarget::Client(c) => Unmatched {
                index,
                prediction_id: None,
                sk_id_curr: Some(c),
                reason: "no prediction of this client was made at or before observed_at".into(),
            },
        })
        .collect()
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OutcomesQuery {
    /// Items per page, default 50.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,19}_[0-9a-f]{32}$")]
    cursor: Option<String>,
    /// Only defaults (`true`) or only non-defaults (`false`).
    defaulted: Option<bool>,
    /// `api`, `csv` or `simulator`.
    #[param(schema_with = source_schema)]
    source: Option<String>,
    /// Only outcomes of predictions by this model version.
    #[param(minimum = 1)]
    model_version: Option<i64>,
    /// Only this client.
    sk_id_curr: Option<i64>,
    /// Recorded at or after (RFC 3339).
    #[serde(default, deserialize_with = "super::schema::rfc3339_opt")]
    since: Option<DateTime<Utc>>,
    /// Recorded before (RFC 3339).
    #[serde(default, deserialize_with = "super::schema::rfc3339_opt")]
    until: Option<DateTime<Utc>>,
}

fn source_schema() -> utoipa::openapi::schema::Object {
    one_of_strings(["api", "csv", "simulator"], false)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutcomePage {
    pub items: Vec<Outcome>,
    pub next_cursor: Option<String>,
}

/// A cursor: the last item's recorded time (microseconds since the epoch, non-negative)
/// and its prediction id, as `<micros>_<hex>`.
fn encode_cursor(c: &OutcomeCursor) -> String {
    format!(
        "{}_{}",
        c.recorded_at.timestamp_micros(),
        c.prediction_id.simple()
    )
}

fn decode_cursor(s: &str) -> Option<OutcomeCursor> {
    let (micros, id) = s.split_once('_')?;
    if micros.is_empty() || micros.len() > 19 || !micros.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if id.len() != 32 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let recorded_at = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
    Some(OutcomeCursor {
        recorded_at,
        prediction_id: Uuid::parse_str(id).ok()?,
    })
}

/// Recorded outcomes, newest recorded first.
#[utoipa::path(
    get,
    path = "/api/v1/outcomes",
    tag = "outcomes",
    params(OutcomesQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "A page of outcomes", body = OutcomePage),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 403, description = "The key's role may not read", body = ErrorBody),
        (status = 422, description = "A bad filter, limit or cursor, or an unknown parameter", body = ErrorBody),
        (status = 503, description = "Database unavailable", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    _auth: Authorized<auth::Read>,
    ApiQuery(q): ApiQuery<OutcomesQuery>,
) -> Result<Json<OutcomePage>, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::Validation(format!(
            "limit must be between 1 and 500, got {limit}"
        )));
    }
    let after = q
        .cursor
        .as_deref()
        .map(|c| {
            decode_cursor(c)
                .ok_or_else(|| ApiError::Validation("cursor is not one this API gave out".into()))
        })
        .transpose()?;
    let source = q
        .source
        .as_deref()
        .map(|s| match s {
            "api" => Ok(OutcomeSource::Api),
            "csv" => Ok(OutcomeSource::Csv),
            "simulator" => Ok(OutcomeSource::Simulator),
            other => Err(ApiError::Validation(format!(
                "source `{other}` is not one of api, csv, simulator"
            ))),
        })
        .transpose()?;
    if let Some(v) = q.model_version.filter(|v| *v < 1) {
        return Err(ApiError::Validation(format!(
            "model_version must be at least 1, got {v}"
        )));
    }
    let filter = OutcomeFilter {
        defaulted: q.defaulted,
        source,
        model_version: q.model_version,
        sk_id_curr: q.sk_id_curr,
        since: q.since,
        until: q.until,
    };
    let mut items = store::list_outcomes(&state.pool, &filter, after, limit + 1)
        .await
        .map_err(ApiError::from_store)?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|o| {
            encode_cursor(&OutcomeCursor {
                recorded_at: o.recorded_at,
                prediction_id: o.prediction_id,
            })
        })
    } else {
        None
    };
    Ok(Json(OutcomePage { items, next_cursor }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_item_is_named_by_index() {
        let now = Utc::now();
        let body = br#"{"outcomes": [{"sk_id_curr": 1, "defaulted": true}, {"sk_id_curr": 2, "defaulted": "yes"}]}"#;
        let err = parse_items(body, now).unwrap_err().to_string();
        assert!(err.starts_with("outcomes[1]:"), "{err}");
        let both = br#"{"outcomes": [{"sk_id_curr": 1, "prediction_id": "67e55044-10b1-426f-9247-bb680e5fe0c8", "defaulted": true}]}"#;
        assert!(parse_items(both, now)
            .unwrap_err()
            .to_string()
            .contains("not both"));
        let neither = br#"{"outcomes": [{"defaulted": true}]}"#;
        assert!(parse_items(neither, now).is_err());
        let unknown = br#"{"outcomes": [{"sk_id_curr": 1, "defaulted": true, "extra": 1}]}"#;
        assert!(parse_items(unknown, now).is_err());
    }

    #[test]
    fn cursors_round_trip() {
        let c = OutcomeCursor {
            recorded_at: DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap(),
            prediction_id: Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
        };
        assert_eq!(decode_cursor(&encode_cursor(&c)), Some(c));
        assert_eq!(decode_cursor("12_zz"), None);
        assert_eq!(decode_cursor("-1_0123456789abcdef0123456789abcdef"), None);
    }
}
