//! The predict API and probes, driven in memory against a real PostgreSQL (each test gets
//! a fresh database from `#[sqlx::test]`) and the committed demo model.

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sqlx::PgPool;
use tower::ServiceExt;

use scorewatch::startup::{self, ServerState};
use scorewatch_core::registry::{self, InitOptions};
use scorewatch_core::state::AppState;

fn artifacts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../artifacts")
}

async fn app(pool: PgPool) -> axum::Router {
    let opts = InitOptions {
        max_reference_rows: 2_000,
        ..InitOptions::demo(&artifacts())
    };
    registry::init(&pool, &opts)
        .await
        .expect("demo model registers");
    let model = registry::load_active(&pool)
        .await
        .unwrap()
        .expect("an active model");
    let state = AppState {
        pool,
        model,
        started_at: chrono::Utc::now(),
    };
    let addr = "127.0.0.1:0".parse().unwrap();
    let leptos = startup::leptos_options(std::env::temp_dir().join("scorewatch-no-site"), addr);
    startup::router(ServerState { app: state, leptos })
}

async fn send(app: &axum::Router, req: Request<Body>) -> (StatusCode, Value) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, body)
}

fn post_json(path: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

async fn stored(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM predictions")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn predict_scores_and_stores_one_application(pool: PgPool) {
    let app = app(pool.clone()).await;
    let body = json!({
        "sk_id_curr": 100002,
        "features": {"EXT_SOURCE_2": 0.26, "EXT_SOURCE_3": 0.14, "DAYS_BIRTH": -9461, "EXT_SOURCE_1": null}
    });
    let (status, res) = send(&app, post_json("/api/v1/predict", &body.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{res}");
    let p = res["probability"].as_f64().unwrap();
    assert!(p > 0.0 && p < 1.0);
    assert_eq!(res["threshold"], json!(0.494));
    let expected = if p >= 0.494 { "REFUSED" } else { "APPROVED" };
    assert_eq!(res["decision"], json!(expected));
    assert_eq!(res["sk_id_curr"], json!(100002));
    assert_eq!(res["n_missing_features"], json!(419 - 3));

    let id: uuid::Uuid = res["prediction_id"].as_str().unwrap().parse().unwrap();
    let row: (f64, String, String, Vec<Option<f64>>) = sqlx::query_as(
        "SELECT probability, decision, source, features FROM predictions WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(row.0, p);
    assert_eq!(row.1, expected);
    assert_eq!(row.2, "api");
    assert_eq!(row.3.iter().filter(|v| v.is_some()).count(), 3);

    // The view exposes the features by name.
    let ext2: Option<f64> = sqlx::query_scalar(
        "SELECT (features->>'EXT_SOURCE_2')::float8 FROM predictions_with_features WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(ext2, Some(0.26));
}

#[sqlx::test(migrations = "../migrations")]
async fn better_external_scores_lower_the_probability(pool: PgPool) {
    let app = app(pool).await;
    let mut probs = Vec::new();
    for ext in [0.05, 0.5, 0.85] {
        let body =
            json!({"features": {"EXT_SOURCE_1": ext, "EXT_SOURCE_2": ext, "EXT_SOURCE_3": ext}});
        let (status, res) = send(&app, post_json("/api/v1/predict", &body.to_string())).await;
        assert_eq!(status, StatusCode::OK);
        probs.push(res["probability"].as_f64().unwrap());
    }
    assert!(probs[0] > probs[1] && probs[1] > probs[2], "{probs:?}");
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_input_is_rejected_and_nothing_is_stored(pool: PgPool) {
    let app = app(pool.clone()).await;
    let cases = [
        (
            post_json(
                "/api/v1/predict",
                r#"{"features": {"NOT_A_FEATURE": 1, "EXT_SOURCE_2": 0.3}}"#,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "NOT_A_FEATURE",
        ),
        (
            post_json(
                "/api/v1/predict",
                r#"{"features": {"EXT_SOURCE_2": "high"}}"#,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "EXT_SOURCE_2",
        ),
        (
            post_json("/api/v1/predict", r#"{"features": {"EXT_SOURCE_2": 0.3"#),
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            post_json("/api/v1/predict", r#"{"features": {}, "surprise": 1}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "surprise",
        ),
        (
            Request::post("/api/v1/predict")
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from(r#"{"features": {}}"#))
                .unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "application/json",
        ),
    ];
    for (req, want_status, mention) in cases {
        let (status, res) = send(&app, req).await;
        assert_eq!(status, want_status, "{res}");
        let msg = res["error"].as_str().unwrap_or_default();
        assert!(msg.contains(mention), "{msg:?} should mention {mention}");
        assert!(res["error_type"].is_string());
    }
    assert_eq!(stored(&pool).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn probes_answer(pool: PgPool) {
    let app = app(pool).await;
    let (status, res) = send(&app, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(res["status"], "ok");
    let (status, res) = send(&app, Request::get("/readyz").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(res["database"], "ok");
    assert!(res["model_version"].as_i64().is_some());
}

#[sqlx::test(migrations = "../migrations")]
async fn readyz_fails_when_the_database_is_gone(pool: PgPool) {
    let app = app(pool.clone()).await;
    pool.close().await;
    let (status, res) = send(&app, Request::get("/readyz").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res["database"], "unreachable");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_overview_page_is_server_rendered(pool: PgPool) {
    let app = app(pool).await;
    let res = app
        .clone()
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(
        html.contains("scorewatch-demo"),
        "model name rendered on the server"
    );
    assert!(html.contains(r#"data-testid="prediction-count""#));
}
