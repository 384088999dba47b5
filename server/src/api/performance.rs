//! Performance reports: list, read, run now.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{
    AdditionalProperties, AnyOfBuilder, ArrayBuilder, KnownFormat, Object, ObjectBuilder, Schema,
    SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::RefOr;

use scorewatch_core::drift::reports::Trigger;
use scorewatch_core::model::application::WholeI64;
use scorewatch_core::performance::calibration::GradeCalibration;
use scorewatch_core::performance::report::Settings;
use scorewatch_core::performance::reports;
use scorewatch_core::state::AppState;
use scorewatch_core::store::{self, PerformanceReport, WindowSpec};

use super::auth::{self, Authorized};
use super::error::{json_error, ApiError, ApiPath, ApiQuery, ErrorBody, JsonBody};

/// Length of a performance window given without `since`: outcomes take months, so the
/// trailing 30 days.
pub const DEFAULT_LENGTH_DAYS: i64 = 30;

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

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PerformanceReportPage {
    pub items: Vec<PerformanceReport>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PerformanceReportWithGrades {
    pub report: PerformanceReport,
    /// Calibration by PD grade, ascending.
    pub grades: Vec<GradeCalibration>,
}

/// Performance reports, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/performance/reports",
    tag = "performance",
    params(ReportsQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "A page of reports", body = PerformanceReportPage),
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
) -> Result<Json<PerformanceReportPage>, ApiError> {
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
            let shaped = (1..=18).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_digit());
            shaped
                .then(|| c.parse::<i64>().ok())
                .flatten()
                .ok_or_else(|| ApiError::Validation("cursor is not one this API gave out".into()))
        })
        .transpose()?;
    let mut items = store::list_performance_reports(&state.pool, before, limit + 1)
        .await
        .map_err(ApiError::from_store)?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|r| r.id.to_string())
    } else {
        None
    };
    Ok(Json(PerformanceReportPage { items, next_cursor }))
}

/// One report with its grades.
#[utoipa::path(
    get,
    path = "/api/v1/performance/reports/{id}",
    tag = "performance",
    params(("id" = i64, Path, minimum = 1, description = "Report id")),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The report", body = PerformanceReportWithGrades),
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
) -> Result<Json<PerformanceReportWithGrades>, ApiError> {
    let (report, grades) = store::get_performance_report(&state.pool, id)
        .await
        .map_err(ApiError::from_store)?
        .ok_or_else(|| ApiError::NotFound(format!("no performance report {id}")))?;
    Ok(Json(PerformanceReportWithGrades { report, grades }))
}

/// What `POST /api/v1/performance/run` reports on: predictions made in a time range (the
/// trailing 30 days when none is given), or the newest `last` predictions; optional
/// settings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    #[serde(default, deserialize_with = "super::schema::rfc3339_opt")]
    pub since: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "super::schema::rfc3339_opt")]
    pub until: Option<DateTime<Utc>>,
    pub last: Option<WholeI64>,
    pub warning_level: Option<f64>,
    pub alert_level: Option<f64>,
    pub master_scale: Option<Vec<f64>>,
}

impl utoipa::ToSchema for RunRequest {
    fn name() -> std::borrow::Cow<'static, str> {
        "PerformanceRunRequest".into()
    }
}

impl utoipa::PartialSchema for RunRequest {
    fn schema() -> RefOr<Schema> {
        let null = || ObjectBuilder::new().schema_type(Type::Null).build();
        let timestamp = || {
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                .build()
        };
        let level = |what: &str| {
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::Number, Type::Null]))
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Double)))
                .exclusive_minimum(Some(0.0))
                .exclusive_maximum(Some(1.0))
                .description(Some(what.to_string()))
        };
        let with_settings = |window: ObjectBuilder| -> Object {
            window
                .property(
                    "warning_level",
                    level("A p-value (ECB AUC test, portfolio Jeffreys test) below this makes the report WARNING; default 0.05"),
                )
                .property(
                    "alert_level",
                    level("A p-value below this makes it ALERT; default 0.01; at most the warning level"),
                )
                .property(
                    "master_scale",
                    ArrayBuilder::new()
                        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
                        .items(
                            ObjectBuilder::new()
                                .schema_type(Type::Number)
                                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Double)))
                                .exclusive_minimum(Some(0.0))
                                .exclusive_maximum(Some(1.0)),
                        )
                        .description(Some(
                            "Strictly ascending PD bounds of a master scale (K bounds, K + 1 grades); \
                             default: the deciles of the reference scores",
                        )),
                )
                .additional_properties(Some(AdditionalProperties::FreeForm(false)))
                .build()
        };
        let range = ObjectBuilder::new()
            .title(Some("A time range"))
            .description(Some(
                "Predictions created in [since, until); until defaults to now, since to 30 days \
                 before until",
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
                "The cohort: a time range (the trailing 30 days when the body is `{}`) or the \
                 newest predictions",
            ))
            .into()
    }
}

fn window_and_settings(req: &RunRequest) -> Result<(WindowSpec, Settings), String> {
    let mut settings = Settings::default();
    if let Some(w) = req.warning_level {
        settings.warning_level = w;
    }
    if let Some(a) = req.alert_level {
        settings.alert_level = a;
    }
    if let Some(m) = &req.master_scale {
        settings.master_scale = m.clone();
    }
    settings.validate().map_err(|e| e.public_message())?;
    let now = Utc::now();
    let until = req.until.unwrap_or(now);
    let since = req.since.or_else(|| {
        req.last
            .is_none()
            .then(|| until - chrono::Duration::days(DEFAULT_LENGTH_DAYS))
    });
    let spec = WindowSpec::from_parts(req.last.map(|w| w.0), since, req.until, now)?;
    Ok((spec, settings))
}

/// Compute a performance report now on a window of the active model's predictions and
/// their outcomes; the report is stored and returned.
#[utoipa::path(
    post,
    path = "/api/v1/performance/run",
    tag = "performance",
    request_body = RunRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The stored report", body = PerformanceReportWithGrades),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 403, description = "Admin only", body = ErrorBody),
        (status = 413, description = "Body over the limit (2 MiB)", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "Bad window or settings: outside the schema, `since` not before `until`, or the alert level above the warning level", body = ErrorBody),
        (status = 503, description = "Database unavailable", body = ErrorBody),
    )
)]
pub async fn run(
    State(state): State<AppState>,
    _auth: Authorized<auth::Admin>,
    JsonBody(body): JsonBody,
) -> Result<Json<PerformanceReportWithGrades>, ApiError> {
    let req: RunRequest = serde_json::from_slice(&body).map_err(json_error)?;
    let (spec, settings) = window_and_settings(&req).map_err(ApiError::Validation)?;
    let report = reports::run(
        &state.pool,
        &state.model.version,
        spec,
        &settings,
        Trigger::Api,
    )
    .await
    .map_err(ApiError::from_store)?;
    let (report, grades) = store::get_performance_report(&state.pool, report.id)
        .await
        .map_err(ApiError::from_store)?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the report just stored is gone")))?;
    crate::observability::metrics::refresh_report_gauges(&state.pool, state.model.version.id).await;
    Ok(Json(PerformanceReportWithGrades { report, grades }))
}
