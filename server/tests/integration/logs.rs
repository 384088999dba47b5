//! The service's own logs shipped into `api_logs`: one event per request with its request
//! id, status and latency, never the features; and counted, not blocking, when the queue is
//! full. The log layer is installed for this test's thread only (its runtime runs there),
//! so other tests' events do not reach it.

use axum::http::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use tracing_subscriber::layer::SubscriberExt;

use crate::common::{self, app};
use scorewatch::observability::log_shipping;

/// level, target, request_id, status, latency_ms, fields
type LogRow = (
    String,
    String,
    Option<String>,
    Option<i32>,
    Option<f64>,
    Value,
);

#[sqlx::test(migrations = "../migrations")]
async fn requests_are_shipped_to_api_logs_and_overflow_is_counted(pool: PgPool) {
    let (layer, queue) = log_shipping::channel();
    let subscriber = tracing_subscriber::registry().with(layer);
    let _guard = tracing::subscriber::set_default(subscriber);
    let app = app(pool.clone()).await;

    // Before the shipper runs nothing drains the queue: fill it past its bound.
    for i in 0..(log_shipping::QUEUE + 25) {
        tracing::info!(target: "scorewatch::test", i, "filler");
    }
    let (_, metrics) = app.text(common::get_as("/metrics", None)).await;
    let dropped: f64 = metrics
        .lines()
        .find(|l| l.starts_with("scorewatch_log_events_dropped_total"))
        .and_then(|l| l.rsplit_once(' '))
        .map(|(_, v)| v.parse().unwrap())
        .unwrap_or(0.0);
    assert!(dropped >= 25.0, "{dropped} dropped");

    let shipper = log_shipping::start(queue, pool.clone());
    let body = r#"{"sk_id_curr": 7, "features": {"EXT_SOURCE_2": 0.123456789}}"#;
    let (status, res) = app.send(app.post("/api/v1/predict", body)).await;
    assert_eq!(status, StatusCode::OK, "{res}");
    let (status, _) = app.send(app.post("/api/v1/predict", "{oops")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    shipper.shutdown().await;

    let fillers: i64 = sqlx::query_scalar("SELECT count(*) FROM api_logs WHERE message = 'filler'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        fillers,
        log_shipping::QUEUE as i64,
        "the queued events, not the dropped ones"
    );
    let rows: Vec<LogRow> = sqlx::query_as(
        "SELECT level, target, request_id, status, latency_ms, fields FROM api_logs \
         WHERE path = '/api/v1/predict' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let (level, target, request_id, status, latency, fields) = &rows[0];
    assert_eq!(
        (level.as_str(), target.as_str()),
        ("INFO", "scorewatch::access")
    );
    assert_eq!(
        request_id.as_ref().map(String::len),
        Some(36),
        "a UUID request id"
    );
    assert_eq!(*status, Some(200));
    assert!(latency.unwrap() > 0.0);
    assert_eq!(fields["decision"], res["decision"]);
    assert_eq!(fields["model_version"], res["model_version"]);
    assert_eq!(rows[1].3, Some(400));
    let everything: String =
        sqlx::query_scalar("SELECT string_agg(fields::text || message, ' ') FROM api_logs")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(
        !everything.contains("0.123456789"),
        "features never reach the logs"
    );
}
