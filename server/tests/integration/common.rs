//! What the integration tests share: the demo model registered in the test's database, the
//! application built on it (as `serve` builds it, without a compiled site or background
//! tasks), an admin key, and small request helpers.

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::PgPool;
use tower::ServiceExt;

use scorewatch::application::{Application, ApplicationConfig, Parts};
use scorewatch_core::access::{self, Role};
use scorewatch_core::ingest::writer::{WriterConfig, WriterTask};
use scorewatch_core::model::registry::{self, InitOptions};
use scorewatch_core::state::{ApiSettings, AppState};

pub fn artifacts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../artifacts")
}

pub struct TestApp {
    pub router: axum::Router,
    pub state: AppState,
    pub pool: PgPool,
    pub writer: Option<WriterTask>,
    /// An admin key.
    pub key: String,
}

/// Registers the demo model (2,000 reference rows, to stay quick) and starts the services.
pub async fn app(pool: PgPool) -> TestApp {
    app_with(pool, ApiSettings::default(), WriterConfig::default()).await
}

pub async fn app_with(pool: PgPool, settings: ApiSettings, writer: WriterConfig) -> TestApp {
    app_with_holdout(pool, settings, writer, false).await
}

/// [`app_with`], registering the demo's labelled hold-out (`validation.csv.gz`) too when
/// `holdout` (reading it takes a moment, so only the tests that estimate do).
pub async fn app_with_holdout(
    pool: PgPool,
    settings: ApiSettings,
    writer: WriterConfig,
    holdout: bool,
) -> TestApp {
    let demo = InitOptions::demo(&artifacts());
    let opts = InitOptions {
        max_reference_rows: 2_000,
        holdout: if holdout { demo.holdout.clone() } else { None },
        ..demo
    };
    registry::init(&pool, &opts)
        .await
        .expect("demo model registers");
    let model = registry::load_active(&pool)
        .await
        .unwrap()
        .expect("an active model");
    let Parts {
        router,
        state,
        writer,
        ..
    } = Application::build(ApplicationConfig {
        settings,
        writer,
        ..ApplicationConfig::new(pool.clone(), model)
    })
    .expect("the application builds")
    .into_parts();
    let (_, key) = access::create(&pool, "test admin", Role::Admin)
        .await
        .unwrap();
    TestApp {
        router,
        state,
        pool,
        writer: Some(writer),
        key,
    }
}

impl TestApp {
    pub async fn send(&self, req: Request<Body>) -> (StatusCode, Value) {
        let (status, _, body) = self.send_full(req).await;
        (status, body)
    }

    pub async fn send_full(
        &self,
        req: Request<Body>,
    ) -> (StatusCode, axum::http::HeaderMap, Value) {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, headers, body)
    }

    pub async fn text(&self, req: Request<Body>) -> (StatusCode, String) {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// A JSON POST with the admin key.
    pub fn post(&self, path: &str, body: &str) -> Request<Body> {
        post_as(path, body, Some(&self.key))
    }

    /// A GET with the admin key.
    pub fn get(&self, path: &str) -> Request<Body> {
        get_as(path, Some(&self.key))
    }

    /// Sends a GET with the admin key.
    pub async fn get_page(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.get(path)).await
    }

    pub async fn stored(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM predictions")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

pub fn post_as(path: &str, body: &str, key: Option<&str>) -> Request<Body> {
    let mut req = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(key) = key {
        req = req.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    req.body(Body::from(body.to_owned())).unwrap()
}

pub fn get_as(path: &str, key: Option<&str>) -> Request<Body> {
    let mut req = Request::get(path);
    if let Some(key) = key {
        req = req.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    req.body(Body::empty()).unwrap()
}
