//! Storage that loses nothing: the bounded write queue, the JSONL backup and its replay,
//! shutdown with requests in flight, and PostgreSQL going away and coming back.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{app, app_with, TestApp};
use scorewatch::application;
use scorewatch_core::embedded::EmbeddedPostgres;
use scorewatch_core::ingest::backup;
use scorewatch_core::ingest::writer::WriterConfig;
use scorewatch_core::state::ApiSettings;
use scorewatch_core::store::{self, Database, DatabaseLocation};

fn application(i: usize) -> String {
    json!({"sk_id_curr": i, "features": {"EXT_SOURCE_2": 0.1 + (i % 8) as f64 / 10.0}}).to_string()
}

/// Holds an exclusive lock on `predictions` until the transaction is dropped: the writer's
/// INSERT waits, so requests pile up in the queue.
async fn block_writes(pool: &PgPool) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE predictions IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx
}

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_full_queue_answers_429_with_retry_after_and_stores_the_rest(pool: PgPool) {
    let settings = ApiSettings {
        max_batch: 5,
        ..ApiSettings::default()
    };
    let writer = WriterConfig {
        queue_rows: 5,
        ..WriterConfig::default()
    };
    let app = app_with(pool.clone(), settings, writer).await;
    let lock = block_writes(&pool).await;
    let batch = json!({"applications": (0..5).map(|i| serde_json::from_str::<Value>(&application(i)).unwrap()).collect::<Vec<_>>()}).to_string();
    let first = {
        let router = app.router.clone();
        let req = app.post("/api/v1/predict/batch", &batch);
        tokio::spawn(async move {
            tower::ServiceExt::oneshot(router, req)
                .await
                .unwrap()
                .status()
        })
    };
    let writer = app.state.writer.clone();
    wait_until("the batch to fill the queue", || writer.queued_rows() == 5).await;
    let (status, headers, res) = app
        .send_full(app.post("/api/v1/predict", &application(9)))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{res}");
    assert_eq!(res["error_type"], "overloaded");
    assert_eq!(headers["retry-after"], "1");
    drop(lock);
    assert_eq!(first.await.unwrap(), StatusCode::OK);
    assert_eq!(app.stored().await, 5);
    let (status, _) = app.send(app.post("/api/v1/predict", &application(9))).await;
    assert_eq!(status, StatusCode::OK, "room again once committed");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_backup_replays_what_the_database_lost_exactly_once(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let writer = WriterConfig {
        backup_dir: Some(dir.path().to_owned()),
        ..WriterConfig::default()
    };
    let app = app_with(pool.clone(), ApiSettings::default(), writer).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let (status, res) = app.send(app.post("/api/v1/predict", &application(i))).await;
        assert_eq!(status, StatusCode::OK);
        ids.push(
            res["prediction_id"]
                .as_str()
                .unwrap()
                .parse::<uuid::Uuid>()
                .unwrap(),
        );
    }
    let file = backup::file_for(dir.path(), chrono::Utc::now().date_naive());
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 6);
    assert!(
        !text.contains("NaN"),
        "missing values are null in the backup"
    );

    let before: Vec<(f64, Vec<Option<f64>>)> =
        sqlx::query_as("SELECT probability, features FROM predictions ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    sqlx::query("DELETE FROM predictions WHERE id = ANY($1)")
        .bind(&ids[1..4])
        .execute(&pool)
        .await
        .unwrap();
    let done = backup::replay(&pool, &file, 4, |_| {}).await.unwrap();
    assert_eq!((done.read, done.inserted), (6, 3));
    let again = backup::replay(&pool, &file, 4, |_| {}).await.unwrap();
    assert_eq!((again.read, again.inserted), (6, 0));
    let after: Vec<(f64, Vec<Option<f64>>)> =
        sqlx::query_as("SELECT probability, features FROM predictions ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        before, after,
        "replayed rows are identical to the lost ones"
    );
}

/// One HTTP/1.1 request over a fresh connection; returns the status (0 when the server
/// refused the connection or closed it without answering) and the body.
async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    key: &str,
    body: &str,
) -> (u16, Value) {
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return (0, Value::Null);
    };
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(req.as_bytes()).await.is_err() {
        return (0, Value::Null);
    }
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, body)
}

async fn serve(
    app: &TestApp,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let (listener, addr) = application::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let router = app.router.clone();
    let server = tokio::spawn(async move {
        application::serve_until(listener, router, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    (addr, stop, server)
}

#[sqlx::test(migrations = "../migrations")]
async fn shutdown_answers_and_stores_every_request_in_flight(pool: PgPool) {
    let mut app = app(pool.clone()).await;
    let (addr, stop, server) = serve(&app).await;
    let lock = block_writes(&pool).await;
    let mut clients = Vec::new();
    for i in 0..20 {
        let key = app.key.clone();
        clients.push(tokio::spawn(async move {
            http(addr, "POST", "/api/v1/predict", &key, &application(i)).await
        }));
    }
    let writer = app.state.writer.clone();
    wait_until("20 requests in flight", || writer.queued_rows() == 20).await;
    // SIGTERM's path: stop accepting, let in-flight requests finish, flush the writer.
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (late, _) = http(addr, "POST", "/api/v1/predict", &app.key, &application(99)).await;
    assert_eq!(late, 0, "no new connections once shutting down");
    drop(lock);
    server.await.unwrap();
    app.writer.take().unwrap().shutdown().await;
    let mut ok = 0;
    for c in clients {
        let (status, body) = c.await.unwrap();
        assert_eq!(status, 200, "{body}");
        ok += 1;
    }
    assert_eq!(ok, 20);
    assert_eq!(app.stored().await, 20);
    // After the writer stopped, nothing more is taken (and so nothing acknowledged).
    let raw = serde_json::from_str(&application(5)).unwrap();
    let a = scorewatch_core::model::application::Application::parse(raw, &app.state.model.model)
        .unwrap();
    let rows = scorewatch_core::model::predict::score(
        &app.state.model,
        &[a],
        scorewatch_core::model::prediction::Source::Api,
        None,
    )
    .unwrap();
    assert_eq!(
        app.state.writer.store(rows).await,
        Err(scorewatch_core::ingest::writer::WriteError::ShuttingDown)
    );
}

/// PostgreSQL stops under load and comes back on the same port: requests get 503 (quickly)
/// while it is down, the service recovers by itself, and every 200 has its row.
#[tokio::test]
async fn the_api_survives_a_postgres_restart_without_acknowledging_lost_rows() {
    let dir = tempfile::tempdir().unwrap();
    let pg_dir = dir.path().join("pg");
    let pg = {
        let d = pg_dir.clone();
        tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&d))
            .await
            .unwrap()
            .unwrap()
    };
    let port = pg.port();
    // Open through the product's path (migrations, database creation) while it runs.
    let db = Database::open(&DatabaseLocation::Url(pg.url("postgres")), 8)
        .await
        .unwrap();
    let app = app(db.pool.clone()).await;
    let (addr, stop, server) = serve(&app).await;

    let counts = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::<
        u16,
        usize,
    >::new()));
    let running = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut load = Vec::new();
    for worker in 0..4 {
        let (key, counts, running) = (app.key.clone(), counts.clone(), running.clone());
        load.push(tokio::spawn(async move {
            let mut i = worker * 100_000;
            let mut slowest_503 = Duration::ZERO;
            while running.load(std::sync::atomic::Ordering::Relaxed) {
                let started = Instant::now();
                let (status, _) =
                    http(addr, "POST", "/api/v1/predict", &key, &application(i)).await;
                if status == 503 {
                    slowest_503 = slowest_503.max(started.elapsed());
                }
                *counts.lock().unwrap().entry(status).or_default() += 1;
                i += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            slowest_503
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut pg = pg;
    tokio::task::spawn_blocking(move || {
        pg.stop();
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (ready, _) = http(addr, "GET", "/readyz", "", "").await;
    assert_eq!(ready, 503, "readyz fails while the database is down");
    let down = counts.lock().unwrap().clone();
    assert!(down.get(&503).copied().unwrap_or(0) > 0, "{down:?}");

    let d = pg_dir.clone();
    let _pg = tokio::task::spawn_blocking(move || EmbeddedPostgres::start_on(&d, Some(port)))
        .await
        .unwrap()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _) = http(addr, "POST", "/api/v1/predict", &app.key, &application(1)).await;
        if status == 200 {
            *counts.lock().unwrap().entry(200).or_default() += 1;
            break;
        }
        assert!(Instant::now() < deadline, "the API did not recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    running.store(false, std::sync::atomic::Ordering::Relaxed);
    let mut slowest = Duration::ZERO;
    for l in load {
        slowest = slowest.max(l.await.unwrap());
    }
    let (ready, _) = http(addr, "GET", "/readyz", "", "").await;
    assert_eq!(ready, 200);
    stop.send(()).unwrap();
    server.await.unwrap();

    let counts = counts.lock().unwrap().clone();
    println!("answers by status: {counts:?}; slowest 503: {slowest:?}");
    let acknowledged = counts.get(&200).copied().unwrap_or(0) as i64;
    assert!(
        counts.keys().all(|s| *s == 200 || *s == 503),
        "only 200 or 503: {counts:?}"
    );
    // Every 200 has its row. A row may exist without its 200 only if the connection died
    // during COMMIT (the client got a 503 for a commit that went through): at most one
    // request per client.
    let stored = store::count_predictions(&app.pool).await.unwrap();
    assert!(
        stored >= acknowledged && stored <= acknowledged + 4,
        "{stored} rows for {acknowledged} acknowledged: {counts:?}"
    );
    assert!(
        slowest < Duration::from_secs(6),
        "503s come within the pool's acquire timeout: slowest {slowest:?}"
    );
}
