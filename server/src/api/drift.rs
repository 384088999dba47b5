//! Drift reports: list, read, run now.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use utoipa::openapi::schema::{
    AdditionalProperties, AnyOfBuilder, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat,
    SchemaType, Type,
};
use utoipa::openapi::RefOr;

use scorewatch_core::drift::analysis::{Method, Settings};
use scorewatch_core::drift::reports;
use scorewatch_core::drift::stats::Correction;
use scorewatch_core::model::application::WholeI64;
use scorewatch_core::state::AppState;
use scorewatch_core::store::{self, DriftFeature, DriftReport, WindowSpec};

use super::auth::{self, Authorized};
use super::error::{json_error, ApiError, ApiPath, ApiQuery, ErrorBody, JsonBody};
use super::schema::one_of_strings;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportsQuery {
    /// Items per page, default 50.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,18}$")]
    cursor: Option<String>,
}

/// A reports cursor: the id of the last report of the previous page in decimal digits, at
/// most 18 of them (so it always fits an `i64`; no report id comes near 10^18). The `cursor`
/// pattern above says the same.
fn report_cursor(cursor: &str) -> Option<i64> {
    let shaped = (1..=18).contains(&cursor.len()) && cursor.bytes().all(|b| b.is_ascii_digit());
    shaped.then(|| cursor.parse().ok()).flatten()
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportPage {
    pub items: Vec<DriftReport>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportWithFeatures {
    pub report: DriftReport,
    /// Drifted features first, then by corrected p-value.
    pub features: Vec<DriftFeature>,
}

/// Drift reports, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/drift/reports",
    tag = "drift",
    params(ReportsQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "A page of reports", body = ReportPage),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 403, description = "The key's role may not read", body = ErrorBody),
        (status = 422, description = "A bad limit or cursor, or an unknown parameter", body = ErrorBody),
        (status = 503, description = "Database unavailable", body = ErrorBody),
    )
)]
pub async fn list_reports(
    State(state): State<AppState>,
    _auth: Authorized<auth::Read>,
    ApiQuery(q): ApiQuery<ReportsQuery>,
) -> Result<Json<ReportPage>, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::Validation(format!(
            "limit must be between 1 and 500, got {limit}"
        )));
    }
    let before = q
        .cursor
        .as_deref()
        .map(|c| {
            report_cursor(c)
                .ok_or_else(|| ApiError::Validation("cursor is not one this API gave out".into()))
        })
        .transpose()?;
    let mut items = store::list_drift_reports(&state.pool, before, limit + 1)
        .await
        .map_err(ApiError::from_store)?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|r| r.id.to_string())
    } else {
        None
    };
    Ok(Json(ReportPage { items, next_cursor }))
}

/// One report with every feature's statistics.
#[utoipa::path(
    get,
    path = "/api/v1/drift/reports/{id}",
    tag = "drift",
    params(("id" = i64, Path, minimum = 1, description = "Report id")),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The report", body = ReportWithFeatures),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 403, description = "The key's role may not read", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
        (status = 422, description = "The id is not a 64-bit integer", body = ErrorBody),
        (status = 503, description = "Database unavailable", body = ErrorBody),
    )
)]
pub async fn get_report(
    State(state): State<AppState>,
    _auth: Authorized<auth::Read>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ReportWithFeatures>, ApiError> {
    let (report, features) = store::get_drift_report(&state.pool, id)
        .await
        .map_err(ApiError::from_store)?
        .ok_or_else(|| ApiError::NotFound(format!("no drift report {id}")))?;
    Ok(Json(ReportWithFeatures { report, features }))
}

/// What `POST /api/v1/drift/run` analyses: a time range, or the newest predictions (the
/// trailing hour when neither is given); settings default as in `scorewatch drift`.
/// Its schema is written out below: serde's view of it cannot say that `last` excludes
/// `since` and `until`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    #[serde(default, deserialize_with = "super::schema::rfc3339_opt")]
    pub since: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "super::schema::rfc3339_opt")]
    pub until: Option<DateTime<Utc>>,
    /// The newest N predictions instead of a time range.
    pub last: Option<WholeI64>,
    pub method: Option<String>,
    pub alpha: Option<f64>,
    pub correction: Option<String>,
}

/// Every spelling of a method that [`Method`]'s parser takes, aliases included.
const METHODS: [&str; 6] = ["test", "ks", "psi", "wasserstein", "js", "jensen-shannon"];
/// Every spelling of a correction that [`Correction`]'s parser takes.
const CORRECTIONS: [&str; 4] = ["bh", "fdr_bh", "bonferroni", "none"];

impl utoipa::ToSchema for RunRequest {}

impl utoipa::PartialSchema for RunRequest {
    /// Either a time range (`last` absent or null) or the newest `last` predictions
    /// (`since` and `until` absent or null), with the same optional settings. `since` must
    /// be before `until`, which defaults to now: that, no schema can say.
    fn schema() -> RefOr<Schema> {
        let null = || ObjectBuilder::new().schema_type(Type::Null).build();
        let timestamp = || {
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                .build()
        };
        let with_settings = |window: ObjectBuilder| -> Object {
            let mut method = one_of_strings(METHODS, true);
            method.description = Some(
                "`test` (KS / chi-square p-values, default; alias `ks`), `psi`, `wasserstein` \
                 or `js` (alias `jensen-shannon`)"
                    .into(),
            );
            let mut correction = one_of_strings(CORRECTIONS, true);
            correction.description =
                Some("`bh` (default; alias `fdr_bh`), `bonferroni` or `none`".into());
            let alpha = ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::Number, Type::Null]))
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Double)))
                .exclusive_minimum(Some(0.0))
                .exclusive_maximum(Some(1.0))
                .description(Some("Significance level, default 0.05"));
            window
                .property("method", method)
                .property("alpha", alpha)
                .property("correction", correction)
                .additional_properties(Some(AdditionalProperties::FreeForm(false)))
                .build()
        };
        let range = ObjectBuilder::new()
            .title(Some("A time range"))
            .description(Some(
                "Predictions created in [since, until); until defaults to now, since to an \
                 hour before until",
            ))
            .property("since", timestamp())
            .property("until", timestamp())
            .property("last", null());
        let newest = ObjectBuilder::new()
            .title(Some("The newest predictions"))
            .property(
                "last",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                    .minimum(Some(1))
                    .description(Some("How many of the newest predictions")),
            )
            .required("last")
            .property("since", null())
            .property("until", null());
        AnyOfBuilder::new()
            .item(with_settings(range))
            .item(with_settings(newest))
            .description(Some(
                "What to analyse: a time range (the trailing hour when the body is `{}`) or the \
                 newest predictions; settings default as in `scorewatch drift`",
            ))
            .into()
    }
}

/// Run drift detection now on a window of the active model's predictions; the report is
/// stored and returned.
#[utoipa::path(
    post,
    path = "/api/v1/drift/run",
    tag = "drift",
    request_body = RunRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The stored report", body = ReportWithFeatures),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 403, description = "Admin only", body = ErrorBody),
        (status = 413, description = "Body over the limit (2 MiB)", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "Bad window or settings: outside the schema, or `since` not before `until`", body = ErrorBody),
        (status = 503, description = "Database unavailable", body = ErrorBody),
    )
)]
pub async fn run(
    State(state): State<AppState>,
    _auth: Authorized<auth::Admin>,
    JsonBody(body): JsonBody,
) -> Result<Json<ReportWithFeatures>, ApiError> {
    let req: RunRequest = serde_json::from_slice(&body).map_err(json_error)?;
    let (spec, settings) = window_and_settings(&req).map_err(ApiError::Validation)?;
    let model = &state.model.version;
    let report = reports::run(&state.pool, model, spec, &settings, reports::Trigger::Api)
        .await
        .map_err(ApiError::from_store)?;
    let (report, features) = store::get_drift_report(&state.pool, report.id)
        .await
        .map_err(ApiError::from_store)?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the report just stored is gone")))?;
    crate::observability::metrics::refresh_report_gauges(&state.pool, model.id).await;
    Ok(Json(ReportWithFeatures { report, features }))
}

fn window_and_settings(req: &RunRequest) -> Result<(WindowSpec, Settings), String> {
    let mut settings = Settings::default();
    if let Some(m) = &req.method {
        settings.method = m.parse::<Method>()?;
    }
    if let Some(c) = &req.correction {
        settings.correction = c.parse::<Correction>()?;
    }
    if let Some(a) = req.alpha {
        if !(a > 0.0 && a < 1.0) {
            return Err(format!("alpha must lie strictly between 0 and 1, got {a}"));
        }
        settings.alpha = a;
    }
    let spec = WindowSpec::from_parts(req.last.map(|w| w.0), req.since, req.until, Utc::now())?;
    Ok((spec, settings))
}

/// The report as one self-contained HTML page (no network needed to open it).
#[utoipa::path(
    get,
    path = "/api/v1/drift/reports/{id}/html",
    tag = "drift",
    params(("id" = i64, Path, minimum = 1, description = "Report id")),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The report page", content_type = "text/html", body = String),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 403, description = "The key's role may not read", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
        (status = 422, description = "The id is not a 64-bit integer", body = ErrorBody),
        (status = 503, description = "Database unavailable", body = ErrorBody),
    )
)]
pub async fn get_report_html(
    State(state): State<AppState>,
    _auth: Authorized<auth::Read>,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::response::Response, ApiError> {
    report_html(&state, id, false).await
}

/// The dashboard's download of a report's HTML page (`/drift/{id}/report.html`).
pub async fn download_report_html(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::response::Response, ApiError> {
    report_html(&state, id, true).await
}

async fn report_html(
    state: &AppState,
    id: i64,
    attachment: bool,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let html = reports::html(&state.pool, id)
        .await
        .map_err(ApiError::from_store)?
        .ok_or_else(|| ApiError::NotFound(format!("no drift report {id}")))?;
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    if attachment {
        let value = format!("attachment; filename=\"drift-report-{id}.html\"");
        if let Ok(v) = header::HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, v);
        }
    }
    Ok(response)
}
