//! The OpenAPI 3.1 document, generated from the handlers' annotations and completed with
//! what only the running server knows.
//!
//! The document says exactly what the server accepts: bounds, enumerations and patterns on
//! every parameter, and every status each route answers. Two limits depend on the running
//! server, so [`openapi_json`] fills them in: the feature names of the active model (the
//! only names `features` accepts) and the batch maximum (`--max-batch`). One rule no schema
//! can state is left to the handler: a drift window's `since` must be before its `until`
//! (which defaults to now).

use axum::extract::State;
use axum::Json;
use utoipa::openapi::schema::{
    AdditionalProperties, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, SchemaType,
    Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::RefOr;
use utoipa::{Modify, OpenApi};

use scorewatch_core::state::AppState;

use super::{drift, error, health, model, outcomes, performance, predict, predictions};

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
        outcomes::record,
        outcomes::list,
        performance::list_reports,
        performance::get_report,
        performance::run,
        health::healthz,
        health::readyz,
        crate::observability::metrics::metrics_endpoint,
        openapi_json,
    ),
    components(schemas(error::ErrorBody)),
    modifiers(&BearerKey),
    tags(
        (name = "predict", description = "Score applications (role scorer, officer or admin)"),
        (name = "predictions", description = "Stored decisions (role viewer, officer or admin)"),
        (name = "drift", description = "Drift reports (read: viewer, officer, admin; run: admin)"),
        (name = "outcomes", description = "Observed outcomes of predictions (record: scorer or admin; list: viewer, officer, admin)"),
        (name = "performance", description = "Model performance reports (read: viewer, officer, admin; run: admin)"),
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

/// This document, for the active model and this server's batch maximum.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "probes",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json"))
)]
pub async fn openapi_json(State(state): State<AppState>) -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    complete(
        &mut doc,
        &state.model.version.feature_names,
        state.settings.max_batch,
    );
    Json(doc)
}

/// Fills in the limits of the running server: `features` takes exactly the model's
/// feature names, each a finite number or null, and a batch holds at most `max_batch`
/// applications.
fn complete(doc: &mut utoipa::openapi::OpenApi, feature_names: &[String], max_batch: usize) {
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    if let Some(RefOr::T(Schema::Object(application))) =
        components.schemas.get_mut("RawApplication")
    {
        if let Some(RefOr::T(Schema::Object(features))) = application.properties.get_mut("features")
        {
            features.properties = feature_names
                .iter()
                .map(|name| (name.clone(), finite_number_or_null().into()))
                .collect();
            features.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
            features.property_names = None;
        }
    }
    if let Some(RefOr::T(Schema::Object(batch))) = components.schemas.get_mut("BatchRequest") {
        if let Some(RefOr::T(Schema::Array(applications))) =
            batch.properties.get_mut("applications")
        {
            applications.max_items = Some(max_batch);
        }
    }
}

/// A feature's value: a double (JSON numbers beyond its range are refused) or null.
fn finite_number_or_null() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Number, Type::Null]))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Double)))
        .minimum(Some(f64::MIN))
        .maximum(Some(f64::MAX))
        .build()
}
