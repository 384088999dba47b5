//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{drift, error, health, model, predict, predictions};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "scorewatch",
        description = "Credit scoring with a LightGBM model; every decision is stored and watched for drift. \
                       Send `Authorization: Bearer <key>` (keys: `scorewatch keys create --role scorer|viewer|officer|admin`).",
    ),
    paths(
        predict::predict_one,
        predict::predict_batch,
        model::get_model,
        predictions::list_predictions,
        predictions::get_prediction,
        drift::list_reports,
        drift::get_report,
        drift::get_report_html,
        drift::run,
        health::healthz,
        health::readyz,
        crate::observe::metrics_endpoint,
        openapi_json,
    ),
    components(schemas(error::ErrorBody)),
    modifiers(&BearerKey),
    tags(
        (name = "predict", description = "Score applications (role scorer, officer or admin)"),
        (name = "predictions", description = "Stored decisions (role viewer, officer or admin)"),
        (name = "drift", description = "Drift reports (read: viewer, officer, admin; run: admin)"),
        (name = "model", description = "The active model (role viewer, officer or admin)"),
        (name = "probes", description = "Open to all: liveness, readiness, metrics, this document"),
    )
)]
pub struct ApiDoc;

struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key created with `scorewatch keys create`"))
                    .build(),
            ),
        );
    }
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "probes",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json"))
)]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
