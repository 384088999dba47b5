//! Models of every kind, registered through `init` and scored through the predict API
//! (one application, a batch, sixteen clients at once): LightGBM Python's probabilities,
//! to 1e-12. Refused models leave nothing in the database. Fixtures written by
//! `core/tests/reference/model_zoo.py`.

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::PgPool;
use tower::ServiceExt;

use scorewatch::application::{Application, ApplicationConfig, Parts};
use scorewatch_core::access::{self, Role};
use scorewatch_core::model::registry::{self, InitOptions};

fn models_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/models")
}

#[derive(serde::Deserialize)]
struct Cases {
    models: Vec<Case>,
}

#[derive(serde::Deserialize, Clone)]
struct Case {
    file: String,
    expect: String,
    #[serde(default)]
    reference_csv: String,
    #[serde(default)]
    feature_names: Vec<String>,
    #[serde(default)]
    rows: Vec<Vec<Option<f64>>>,
    #[serde(default)]
    probability: Vec<f64>,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(models_dir().join("cases.json")).unwrap();
    serde_json::from_str::<Cases>(&text).unwrap().models
}

fn options(model: &str, reference: &str) -> InitOptions {
    InitOptions {
        model: models_dir().join(model),
        card: None,
        reference: models_dir().join(reference),
        threshold: Some(0.5),
        name: Some(model.to_string()),
        ..InitOptions::demo(&models_dir())
    }
}

/// The services and routes of a server with `model` active.
fn serve(
    pool: &PgPool,
    model: std::sync::Arc<registry::ActiveModel>,
) -> (axum::Router, scorewatch_core::ingest::writer::WriterTask) {
    let Parts { router, writer, .. } =
        Application::build(ApplicationConfig::new(pool.clone(), model))
            .unwrap()
            .into_parts();
    (router, writer)
}

/// The application as a client sends it: every value as Rust's shortest text.
fn application(names: &[String], row: &[Option<f64>]) -> String {
    let features: Vec<String> = names
        .iter()
        .zip(row)
        .map(|(n, v)| match v {
            Some(v) => format!("{}: {v:?}", serde_json::to_string(n).unwrap()),
            None => format!("{}: null", serde_json::to_string(n).unwrap()),
        })
        .collect();
    format!("{{\"features\": {{{}}}}}", features.join(", "))
}

async fn call(router: &axum::Router, key: &str, path: &str, body: String) -> (StatusCode, Value) {
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .body(Body::from(body))
        .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn assert_close(got: &Value, want: f64, what: &str) {
    let got = got
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: no probability"));
    assert!(
        (got - want).abs() <= 1e-12,
        "{what}: scorewatch {got:?}, LightGBM Python {want:?}"
    );
}

async fn stored(pool: &PgPool) -> (i64, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM model_versions), (SELECT count(*) FROM training_reference), \
                (SELECT count(*) FROM predictions)",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn every_accepted_kind_scores_through_the_api_like_lightgbm_python(pool: PgPool) {
    let (_, key) = access::create(&pool, "test admin", Role::Admin)
        .await
        .unwrap();
    let mut checked = 0;
    for case in cases().into_iter().filter(|c| c.expect == "accept") {
        let report = registry::init(&pool, &options(&case.file, &case.reference_csv))
            .await
            .unwrap_or_else(|e| panic!("{}: {e:#}", case.file));
        assert_eq!(report.n_features, case.feature_names.len());
        let model = registry::load_active(&pool).await.unwrap().unwrap();
        assert_eq!(model.model.feature_names(), case.feature_names);
        let (router, writer) = serve(&pool, model);
        let bodies: Vec<String> = case
            .rows
            .iter()
            .map(|r| application(&case.feature_names, r))
            .collect();

        for (i, body) in bodies.iter().enumerate() {
            let (status, res) = call(&router, &key, "/api/v1/predict", body.clone()).await;
            assert_eq!(status, StatusCode::OK, "{} row {i}: {res}", case.file);
            assert_close(
                &res["probability"],
                case.probability[i],
                &format!("{} row {i}", case.file),
            );
        }
        let batch = format!("{{\"applications\": [{}]}}", bodies.join(", "));
        let (status, res) = call(&router, &key, "/api/v1/predict/batch", batch).await;
        assert_eq!(status, StatusCode::OK, "{} batch: {res}", case.file);
        for (i, want) in case.probability.iter().enumerate() {
            assert_close(
                &res["results"][i]["probability"],
                *want,
                &format!("{} batch row {i}", case.file),
            );
        }
        // Sixteen clients at once, each sending every row.
        let mut clients = Vec::new();
        for c in 0..16 {
            let (router, key, bodies, want) = (
                router.clone(),
                key.clone(),
                bodies.clone(),
                case.probability.clone(),
            );
            let file = case.file.clone();
            clients.push(tokio::spawn(async move {
                for k in 0..bodies.len() {
                    let i = (k + c) % bodies.len();
                    let (status, res) =
                        call(&router, &key, "/api/v1/predict", bodies[i].clone()).await;
                    assert_eq!(status, StatusCode::OK);
                    assert_close(
                        &res["probability"],
                        want[i],
                        &format!("{file} client {c} row {i}"),
                    );
                }
            }));
        }
        for c in clients {
            c.await.unwrap();
        }
        writer.shutdown().await;
        checked += 1;
    }
    assert_eq!(checked, 11);
}

#[sqlx::test(migrations = "../migrations")]
async fn refused_models_leave_nothing_registered(pool: PgPool) {
    let good = std::fs::read_to_string(models_dir().join("binary.txt")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<(String, String)> = cases()
        .into_iter()
        .filter(|c| c.expect == "refuse")
        .map(|c| {
            (
                c.file.clone(),
                models_dir().join(&c.file).display().to_string(),
            )
        })
        .collect();
    // Refused objectives are named in what `init` answers.
    for (file, objective) in [
        ("regression.txt", "`regression`"),
        ("multiclass.txt", "`multiclass`"),
        ("lambdarank.txt", "`lambdarank`"),
        ("cross_entropy_lambda.txt", "`cross_entropy_lambda`"),
        ("custom_objective.txt", "custom objective"),
    ] {
        let opts = InitOptions {
            model: models_dir().join(file),
            ..options("binary.txt", "base.reference.csv")
        };
        let err = format!("{:#}", registry::init(&pool, &opts).await.unwrap_err());
        assert!(err.contains(objective), "{file}: {err}");
    }
    for (name, text) in [
        ("empty.txt", String::new()),
        ("not-a-model.txt", "SK_ID_CURR,TARGET\n1,0\n".to_string()),
        ("truncated.txt", good[..good.len() / 2].to_string()),
        ("v3.txt", good.replacen("version=v4", "version=v3", 1)),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        files.push((name.to_string(), path.display().to_string()));
    }
    for (name, path) in files {
        let opts = InitOptions {
            model: PathBuf::from(&path),
            ..options("binary.txt", "base.reference.csv")
        };
        let err = format!("{:#}", registry::init(&pool, &opts).await.unwrap_err());
        assert!(
            err.contains(&path),
            "{name}: the message names the file: {err}"
        );
        assert_eq!(stored(&pool).await, (0, 0, 0), "{name}: {err}");
    }
    // A good model with a reference that lacks its features: nothing either.
    let opts = options("binary_long_utf8_names.txt", "base.reference.csv");
    let err = format!("{:#}", registry::init(&pool, &opts).await.unwrap_err());
    assert!(err.contains("lacks"), "{err}");
    assert_eq!(stored(&pool).await, (0, 0, 0));
}

#[sqlx::test(migrations = "../migrations")]
async fn explanations_of_a_linear_tree_model_are_a_clear_422(pool: PgPool) {
    let (_, key) = access::create(&pool, "test admin", Role::Admin)
        .await
        .unwrap();
    registry::init(&pool, &options("linear_tree.txt", "base.reference.csv"))
        .await
        .unwrap();
    let model = registry::load_active(&pool).await.unwrap().unwrap();
    let names = model.model.feature_names().to_vec();
    let (router, writer) = serve(&pool, model);
    let body = application(&names, &vec![Some(0.5); names.len()]);
    for path in [
        "/api/v1/predict?explain=true",
        "/api/v1/predict/batch?explain=true",
    ] {
        let body = if path.contains("batch") {
            format!("{{\"applications\": [{body}]}}")
        } else {
            body.clone()
        };
        let (status, res) = call(&router, &key, path, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {res}");
        assert_eq!(res["error_type"], "explanation_unavailable");
        assert!(res["error"].as_str().unwrap().contains("linear trees"));
    }
    assert_eq!(stored(&pool).await.2, 0, "nothing stored");
    let (status, _) = call(&router, &key, "/api/v1/predict", body).await;
    assert_eq!(status, StatusCode::OK);
    writer.shutdown().await;
}

/// A version stored before these checks existed (here: a regression model put in by SQL)
/// is refused when the server starts, with the objective named, instead of being served.
#[sqlx::test(migrations = "../migrations")]
async fn a_stored_model_that_is_not_a_classifier_is_refused_at_start(pool: PgPool) {
    let text = std::fs::read_to_string(models_dir().join("regression.txt")).unwrap();
    sqlx::query(
        "INSERT INTO model_versions (sha256, name, feature_names, threshold, model_text, active) \
         VALUES ('x', 'old regression', '{}', 0.5, $1, true)",
    )
    .bind(&text)
    .execute(&pool)
    .await
    .unwrap();
    let err = format!("{:#}", registry::load_active(&pool).await.unwrap_err());
    assert!(err.contains("`regression`"), "{err}");
}
