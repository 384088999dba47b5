//! The REST API and probes, driven in memory against a real PostgreSQL (each test gets a
//! fresh database from `#[sqlx::test]`) and the committed demo model.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::common::{self, app, app_with, get_as, post_as};
use scorewatch::router;
use scorewatch::state::ServerState;
use scorewatch_core::access::{self, Role};
use scorewatch_core::ingest::writer::WriterConfig;
use scorewatch_core::state::ApiSettings;

#[sqlx::test(migrations = "../migrations")]
async fn predict_scores_and_stores_one_application(pool: PgPool) {
    let app = app(pool).await;
    let body = json!({
        "sk_id_curr": 100002,
        "features": {"EXT_SOURCE_2": 0.26, "EXT_SOURCE_3": 0.14, "DAYS_BIRTH": -9461, "EXT_SOURCE_1": null}
    });
    let (status, res) = app
        .send(app.post("/api/v1/predict", &body.to_string()))
        .await;
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
    .fetch_one(&app.pool)
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
    .fetch_one(&app.pool)
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
        let (status, res) = app
            .send(app.post("/api/v1/predict", &body.to_string()))
            .await;
        assert_eq!(status, StatusCode::OK);
        probs.push(res["probability"].as_f64().unwrap());
    }
    assert!(probs[0] > probs[1] && probs[1] > probs[2], "{probs:?}");
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_input_is_rejected_and_nothing_is_stored(pool: PgPool) {
    let app = app(pool).await;
    let cases = [
        (
            app.post(
                "/api/v1/predict",
                r#"{"features": {"NOT_A_FEATURE": 1, "EXT_SOURCE_2": 0.3}}"#,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "NOT_A_FEATURE",
        ),
        (
            app.post(
                "/api/v1/predict",
                r#"{"features": {"EXT_SOURCE_2": "high"}}"#,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "EXT_SOURCE_2",
        ),
        (
            app.post("/api/v1/predict", r#"{"features": {"EXT_SOURCE_2": 0.3"#),
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            app.post("/api/v1/predict", r#"{"features": {}, "surprise": 1}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "surprise",
        ),
        (
            Request::post("/api/v1/predict")
                .header(header::CONTENT_TYPE, "text/plain")
                .header(header::AUTHORIZATION, format!("Bearer {}", app.key))
                .body(Body::from(r#"{"features": {}}"#))
                .unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "application/json",
        ),
    ];
    let big = format!(
        r#"{{"features": {{"EXT_SOURCE_2": 0.3}}, "sk_id_curr": 1{}}}"#,
        " ".repeat(2 * 1024 * 1024)
    );
    let more_cases = [
        (
            app.post(
                "/api/v1/predict",
                r#"{"features": {"EXT_SOURCE_2": "NaN", "EXT_SOURCE_3": "Infinity"}}"#,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "EXT_SOURCE_2, EXT_SOURCE_3",
        ),
        (
            app.post(
                "/api/v1/predict",
                r#"{"features": {"EXT_SOURCE_2": 1e400}}"#,
            ),
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            app.post("/api/v1/predict", &big),
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than the limit",
        ),
        (
            app.post("/api/v1/predict?explain=maybe", r#"{"features": {}}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "explain",
        ),
    ];
    for (req, want_status, mention) in cases.into_iter().chain(more_cases) {
        let (status, res) = app.send(req).await;
        assert_eq!(status, want_status, "{res}");
        let msg = res["error"].as_str().unwrap_or_default();
        assert!(msg.contains(mention), "{msg:?} should mention {mention}");
        assert!(res["error_type"].is_string());
    }
    assert_eq!(app.stored().await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn probes_answer(pool: PgPool) {
    let app = app(pool).await;
    let (status, res) = app
        .send(Request::get("/healthz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(res["status"], "ok");
    let (status, res) = app
        .send(Request::get("/readyz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(res["database"], "ok");
    assert!(res["model_version"].as_i64().is_some());
}

#[sqlx::test(migrations = "../migrations")]
async fn readyz_fails_when_the_database_is_gone(pool: PgPool) {
    let app = app(pool.clone()).await;
    pool.close().await;
    let (status, res) = app
        .send(Request::get("/readyz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res["database"], "unreachable");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_overview_page_is_server_rendered(pool: PgPool) {
    let app = app(pool.clone()).await;
    // Without a session: to the sign-in page, remembering the way back.
    let (status, headers, _) = app
        .send_full(Request::get("/?x=1").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/login?next=/%3Fx%3D1");
    let (status, html) = app
        .text(Request::get("/login").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-testid="login-form""#));

    // With the session of a viewer's key: the page, rendered on the server.
    let (viewer_id, viewer) = access::create(&pool, "viewer", Role::Viewer).await.unwrap();
    let (caller, token) = access::sign_in(&pool, &viewer)
        .await
        .unwrap()
        .expect("a viewer signs in");
    assert_eq!(caller.role, Role::Viewer);
    let page = |token: &str| {
        Request::get("/")
            .header(header::COOKIE, format!("a=b; scorewatch_session={token}"))
            .body(Body::empty())
            .unwrap()
    };
    let (status, html) = app.text(page(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("scorewatch-demo"),
        "model name rendered on the server"
    );
    assert!(html.contains(r#"data-testid="prediction-count""#));

    // Using the dashboard counts as using the key (`keys list`'s "last used").
    sqlx::query("UPDATE api_keys SET last_used_at = now() - interval '1 day' WHERE id = $1")
        .bind(viewer_id)
        .execute(&pool)
        .await
        .unwrap();
    let (status, _) = app.text(page(&token)).await;
    assert_eq!(status, StatusCode::OK);
    let used = access::list(&pool).await.unwrap();
    let used = used
        .iter()
        .find(|k| k.id == viewer_id)
        .unwrap()
        .last_used_at;
    assert!(used.unwrap() > chrono::Utc::now() - chrono::Duration::minutes(1));

    // Revoking the key ends the session.
    assert!(matches!(
        access::revoke(&pool, &viewer_id.to_string()).await.unwrap(),
        access::Revoked::One { .. }
    ));
    let (status, _) = app.text(page(&token)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

fn application(i: usize) -> Value {
    let ext = 0.05 + 0.9 * (i % 10) as f64 / 9.0;
    json!({"sk_id_curr": 200_000 + i, "features": {"EXT_SOURCE_2": ext, "EXT_SOURCE_3": 1.0 - ext, "DAYS_BIRTH": -12000 - (i as i64) * 100}})
}

#[sqlx::test(migrations = "../migrations")]
async fn a_batch_answers_in_order_and_is_stored_together(pool: PgPool) {
    let app = app(pool).await;
    let apps: Vec<Value> = (0..25).map(application).collect();
    let body = json!({ "applications": apps }).to_string();
    let (status, res) = app.send(app.post("/api/v1/predict/batch", &body)).await;
    assert_eq!(status, StatusCode::OK, "{res}");
    let results = res["results"].as_array().unwrap();
    assert_eq!(results.len(), 25);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(
            r["sk_id_curr"],
            json!(200_000 + i),
            "result {i} out of order"
        );
        // The same application alone gets the same probability.
        if i < 3 {
            let (_, one) = app
                .send(app.post("/api/v1/predict", &apps[i].to_string()))
                .await;
            assert_eq!(one["probability"], r["probability"]);
        }
    }
    let sources: Vec<(String, i64)> =
        sqlx::query_as("SELECT source, count(*) FROM predictions GROUP BY source ORDER BY source")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(sources, vec![("api".into(), 3), ("batch".into(), 25)]);
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_batches_are_rejected_whole(pool: PgPool) {
    let settings = ApiSettings {
        max_batch: 10,
        ..ApiSettings::default()
    };
    let app = app_with(pool, settings, WriterConfig::default()).await;
    let too_many = json!({ "applications": (0..11).map(application).collect::<Vec<_>>() });
    let (status, res) = app
        .send(app.post("/api/v1/predict/batch", &too_many.to_string()))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        res["error"].as_str().unwrap().contains("at most 10"),
        "{res}"
    );

    let mut apps: Vec<Value> = (0..5).map(application).collect();
    apps[3]["features"]["NOPE"] = json!(1);
    let (status, res) = app
        .send(app.post(
            "/api/v1/predict/batch",
            &json!({ "applications": apps }).to_string(),
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res["error"]
            .as_str()
            .unwrap()
            .contains("applications[3]: unknown features: NOPE"),
        "{res}"
    );
    let (status, _) = app
        .send(app.post("/api/v1/predict/batch", r#"{"applications": []}"#))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.stored().await, 0);
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[sqlx::test(migrations = "../migrations")]
async fn explanations_add_up_to_the_raw_score(pool: PgPool) {
    let app = app(pool).await;
    let body = application(3).to_string();
    let (status, all) = app
        .send(app.post("/api/v1/predict?explain=true&top=0", &body))
        .await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let e = &all["explanation"];
    let contributions = e["contributions"].as_array().unwrap();
    assert_eq!(contributions.len(), 419);
    let sum: f64 = contributions
        .iter()
        .map(|c| c["contribution"].as_f64().unwrap())
        .sum();
    let base = e["base_value"].as_f64().unwrap();
    let raw = e["raw_score"].as_f64().unwrap();
    assert!((base + sum - raw).abs() < 1e-9, "{base} + {sum} != {raw}");
    assert!((logistic(raw) - all["probability"].as_f64().unwrap()).abs() < 1e-12);
    assert_eq!(e["other_contribution"].as_f64().unwrap(), 0.0);
    // Missing features are null, given ones carry their value.
    let ext2 = contributions
        .iter()
        .find(|c| c["feature"] == "EXT_SOURCE_2")
        .unwrap();
    assert_eq!(ext2["value"], application(3)["features"]["EXT_SOURCE_2"]);

    let (_, top) = app
        .send(app.post(
            "/api/v1/predict/batch?explain=true&top=5",
            &json!({"applications": [application(3), application(7)]}).to_string(),
        ))
        .await;
    for r in top["results"].as_array().unwrap() {
        let e = &r["explanation"];
        let shown = e["contributions"].as_array().unwrap();
        assert_eq!(shown.len(), 5);
        let magnitudes: Vec<f64> = shown
            .iter()
            .map(|c| c["contribution"].as_f64().unwrap().abs())
            .collect();
        assert!(magnitudes.windows(2).all(|w| w[0] >= w[1]), "largest first");
        let total = e["base_value"].as_f64().unwrap()
            + shown
                .iter()
                .map(|c| c["contribution"].as_f64().unwrap())
                .sum::<f64>()
            + e["other_contribution"].as_f64().unwrap();
        assert!((total - e["raw_score"].as_f64().unwrap()).abs() < 1e-9);
    }
    // Without ?explain there is no explanation.
    let (_, plain) = app.send(app.post("/api/v1/predict", &body)).await;
    assert!(plain.get("explanation").is_none());
}

#[sqlx::test(migrations = "../migrations")]
async fn the_model_endpoint_describes_the_active_version(pool: PgPool) {
    let app = app(pool).await;
    let (status, m) = app.send(app.get("/api/v1/model")).await;
    assert_eq!(status, StatusCode::OK, "{m}");
    assert_eq!(m["n_features"], json!(419));
    assert_eq!(m["threshold"], json!(0.494));
    assert_eq!(m["features"].as_array().unwrap().len(), 419);
    let top = m["features"]
        .as_array()
        .unwrap()
        .iter()
        .max_by(|a, b| {
            a["importance"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["importance"].as_f64().unwrap())
        })
        .unwrap();
    assert_eq!(top["name"], "EXT_SOURCE_2");
    assert!(m["metrics"]["valid_auc"].as_f64().unwrap() > 0.8);
}

#[sqlx::test(migrations = "../migrations")]
async fn predictions_are_listed_newest_first_filtered_and_paged(pool: PgPool) {
    let app = app(pool).await;
    for i in 0..7 {
        let (status, _) = app
            .send(app.post("/api/v1/predict", &application(i).to_string()))
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let apps: Vec<Value> = (100..105).map(application).collect();
    app.send(app.post(
        "/api/v1/predict/batch",
        &json!({ "applications": apps }).to_string(),
    ))
    .await;

    // Three pages of 5, 5 and 2, newest first, no row twice.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/predictions?limit=5&cursor={c}"),
            None => "/api/v1/predictions?limit=5".into(),
        };
        let (status, page) = app.send(app.get(&path)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for item in page["items"].as_array().unwrap() {
            seen.push((
                item["created_at"].as_str().unwrap().to_owned(),
                item["id"].as_str().unwrap().to_owned(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 12);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.reverse();
    sorted.dedup();
    assert_eq!(sorted.len(), 12, "no duplicates");

    let (_, batch) = app
        .send(app.get("/api/v1/predictions?source=batch&limit=100"))
        .await;
    assert_eq!(batch["items"].as_array().unwrap().len(), 5);
    let (_, one) = app
        .send(app.get("/api/v1/predictions?sk_id_curr=200003"))
        .await;
    let items = one["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0]["features"]["EXT_SOURCE_2"],
        application(3)["features"]["EXT_SOURCE_2"]
    );
    assert_eq!(items[0]["features"]["EXT_SOURCE_1"], Value::Null);
    assert_eq!(items[0]["features"].as_object().unwrap().len(), 419);

    let (_, refused) = app
        .send(app.get("/api/v1/predictions?decision=REFUSED&limit=100"))
        .await;
    let (_, approved) = app
        .send(app.get("/api/v1/predictions?decision=APPROVED&limit=100"))
        .await;
    let n_refused = refused["items"].as_array().unwrap().len();
    assert_eq!(n_refused + approved["items"].as_array().unwrap().len(), 12);
    assert!(refused["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["decision"] == "REFUSED"));

    let (_, future) = app
        .send(app.get("/api/v1/predictions?since=2999-01-01T00:00:00Z"))
        .await;
    assert_eq!(future["items"], json!([]));
    assert_eq!(future["next_cursor"], Value::Null);

    let id = items[0]["id"].as_str().unwrap();
    let (status, got) = app
        .send(app.get(&format!("/api/v1/predictions/{id}")))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["id"], items[0]["id"]);
    // Listed and read under the name predict answers with, too.
    assert_eq!(got["prediction_id"], got["id"]);
    assert_eq!(items[0]["prediction_id"], items[0]["id"]);
    let (status, _) = app
        .send(app.get("/api/v1/predictions/0190a4f3-0000-7000-8000-000000000000"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    for bad in [
        "limit=0",
        "limit=5000",
        "decision=MAYBE",
        "source=fax",
        "cursor=xyz",
        "since=yesterday",
        "colour=red",
    ] {
        let (status, res) = app
            .send(app.get(&format!("/api/v1/predictions?{bad}")))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {res}");
    }
    // A time that is not RFC 3339 is named as such, in queries and in bodies.
    for path in [
        "/api/v1/predictions?since=yesterday",
        "/api/v1/outcomes?until=yesterday",
    ] {
        let (status, res) = app.send(app.get(path)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {res}");
        let message = res["error"].as_str().unwrap();
        assert!(
            message.contains("`yesterday` is not an RFC 3339 time"),
            "{path}: {message}"
        );
    }
    let (status, res) = app
        .send(app.post("/api/v1/drift/run", r#"{"since": "yesterday"}"#))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{res}");
    assert!(res["error"].as_str().unwrap().contains("RFC 3339"), "{res}");
}

#[sqlx::test(migrations = "../migrations")]
async fn keys_and_roles_guard_the_api(pool: PgPool) {
    let app = app(pool).await;
    let body = application(1).to_string();
    let (_, scorer) = access::create(&app.pool, "los", Role::Scorer)
        .await
        .unwrap();
    let (_, viewer) = access::create(&app.pool, "analyst", Role::Viewer)
        .await
        .unwrap();
    let (_, officer) = access::create(&app.pool, "officer", Role::Officer)
        .await
        .unwrap();
    let (revoked_id, revoked) = access::create(&app.pool, "old", Role::Admin).await.unwrap();
    // Every key's visible prefix starts `sw`: revoking by it is ambiguous and revokes none.
    match access::revoke(&app.pool, "sw").await.unwrap() {
        access::Revoked::Ambiguous(prefixes) => assert!(prefixes.len() >= 4, "{prefixes:?}"),
        other => panic!("`sw` matches several keys, got {other:?}"),
    }
    assert_eq!(
        access::revoke(&app.pool, "sw_nothing_like_it")
            .await
            .unwrap(),
        access::Revoked::NoMatch
    );
    let listed = access::list(&app.pool).await.unwrap();
    assert!(listed.iter().all(|k| k.revoked_at.is_none()));
    let prefix = &listed.iter().find(|k| k.id == revoked_id).unwrap().prefix;
    assert_eq!(
        access::revoke(&app.pool, &prefix[..prefix.len() - 1])
            .await
            .unwrap(),
        access::Revoked::One {
            id: revoked_id,
            prefix: prefix.clone()
        },
        "a unique beginning of the prefix is enough"
    );

    let (status, headers, res) = app.send_full(post_as("/api/v1/predict", &body, None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{res}");
    assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
    for key in ["sw_not_a_key", revoked.as_str()] {
        let (status, _) = app.send(post_as("/api/v1/predict", &body, Some(key))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let cases = [
        (&scorer, "/api/v1/predict", true, StatusCode::OK),
        (&scorer, "/api/v1/model", false, StatusCode::FORBIDDEN),
        (&viewer, "/api/v1/predict", true, StatusCode::FORBIDDEN),
        (&viewer, "/api/v1/predictions", false, StatusCode::OK),
        (&officer, "/api/v1/predict", true, StatusCode::OK),
        (&officer, "/api/v1/model", false, StatusCode::OK),
    ];
    for (key, path, post, want) in cases {
        let req = if post {
            post_as(path, &body, Some(key))
        } else {
            get_as(path, Some(key))
        };
        let (status, res) = app.send(req).await;
        assert_eq!(status, want, "{path}: {res}");
    }
    assert_eq!(app.stored().await, 2);
    // Probes, metrics and the API document stay open.
    for path in ["/healthz", "/readyz", "/metrics", "/api/v1/openapi.json"] {
        let (status, _) = app.text(get_as(path, None)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let listed = access::list(&app.pool).await.unwrap();
    assert_eq!(listed.len(), 5);
    assert!(listed
        .iter()
        .all(|k| k.prefix.starts_with("sw_") && k.prefix.len() == 11));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_openapi_document_covers_every_route_error_and_the_key(pool: PgPool) {
    let app = app(pool).await;
    let (status, doc) = app.send(get_as("/api/v1/openapi.json", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(
        doc["components"]["securitySchemes"]["api_key"]["scheme"],
        "bearer"
    );
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/predict",
        "/api/v1/predict/batch",
        "/api/v1/model",
        "/api/v1/predictions",
        "/api/v1/predictions/{id}",
        "/api/v1/drift/reports",
        "/api/v1/drift/reports/{id}",
        "/api/v1/drift/reports/{id}/html",
        "/api/v1/drift/run",
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/v1/openapi.json",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    let predict = &paths["/api/v1/predict"]["post"];
    for code in [
        "200", "400", "401", "403", "413", "415", "422", "429", "503",
    ] {
        assert!(
            predict["responses"].get(code).is_some(),
            "predict lacks {code}"
        );
    }
    assert!(predict["security"].is_array());
    assert_eq!(paths["/healthz"]["get"].get("security"), None);

    // Every status a route can answer is listed: a key's absence or role, the database
    // behind the key check, and each way a body or a parameter can be refused.
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let has = |code: &str| op["responses"].get(code).is_some();
            let name = format!("{method} {path}");
            if op.get("security").is_some() {
                for code in ["401", "403", "503"] {
                    assert!(has(code), "{name} lacks {code}");
                }
            }
            if op.get("requestBody").is_some() {
                for code in ["400", "413", "415", "422"] {
                    assert!(has(code), "{name} lacks {code}");
                }
            }
            if op.get("parameters").is_some() {
                assert!(has("422"), "{name} lacks 422");
            }
        }
    }

    // What only the running server knows: the model's features, the batch maximum.
    let schemas = &doc["components"]["schemas"];
    let features = &schemas["RawApplication"]["properties"]["features"];
    assert_eq!(features["additionalProperties"], json!(false));
    let names: Vec<&String> = features["properties"].as_object().unwrap().keys().collect();
    let mut model_names: Vec<&String> = app.state.model.version.feature_names.iter().collect();
    model_names.sort();
    assert_eq!(names, model_names);
    let applications = &schemas["BatchRequest"]["properties"]["applications"];
    assert_eq!(applications["minItems"], json!(1));
    assert_eq!(
        applications["maxItems"],
        json!(app.state.settings.max_batch)
    );
}

/// The bounds, enumerations and window shapes of the document are what the server takes:
/// each documented value is accepted and the first one past a bound is refused.
#[sqlx::test(migrations = "../migrations")]
async fn the_documented_values_are_exactly_the_accepted_ones(pool: PgPool) {
    use scorewatch_core::drift::{analysis::Method, stats::Correction};

    let app = app(pool).await;
    let (_, doc) = app.send(get_as("/api/v1/openapi.json", None)).await;
    let param = |path: &str, method: &str, name: &str| -> Value {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{method} {path} has no parameter {name}"))["schema"]
            .clone()
    };
    let strings = |schema: &Value| -> Vec<String> {
        schema["enum"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    let app = &app;
    let status = |req: Request<Body>| async move { app.send(req).await.0 };

    let body = application(1).to_string();
    let sources = strings(&param("/api/v1/predict", "post", "source"));
    assert_eq!(sources, ["api", "batch", "simulator"]);
    for source in &sources {
        let path = format!("/api/v1/predict?source={source}");
        assert_eq!(
            status(app.post(&path, &body)).await,
            StatusCode::OK,
            "{path}"
        );
    }
    let path = "/api/v1/predict?source=ui";
    assert_eq!(
        status(app.post(path, &body)).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    for name in ["source", "decision"] {
        for value in strings(&param("/api/v1/predictions", "get", name)) {
            let path = format!("/api/v1/predictions?{name}={value}");
            assert_eq!(status(app.get(&path)).await, StatusCode::OK, "{path}");
        }
        let path = format!("/api/v1/predictions?{name}=");
        assert_eq!(
            status(app.get(&path)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}"
        );
    }
    for path in ["/api/v1/predictions", "/api/v1/drift/reports"] {
        let limit = param(path, "get", "limit");
        let (min, max) = (
            limit["minimum"].as_i64().unwrap(),
            limit["maximum"].as_i64().unwrap(),
        );
        for (value, want) in [
            (min - 1, StatusCode::UNPROCESSABLE_ENTITY),
            (min, StatusCode::OK),
            (max, StatusCode::OK),
            (max + 1, StatusCode::UNPROCESSABLE_ENTITY),
        ] {
            let url = format!("{path}?limit={value}");
            assert_eq!(status(app.get(&url)).await, want, "{url}");
        }
    }
    for (url, want) in [
        ("/api/v1/drift/reports?cursor=17", StatusCode::OK),
        (
            "/api/v1/drift/reports?cursor=-1",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/drift/reports?cursor=1234567890123456789",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/drift/reports/9223372036854775808",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/predictions?cursor=1760000000000000.0190a4f3000070008000000000000000",
            StatusCode::OK,
        ),
        (
            "/api/v1/predictions?cursor=1760000000000000.0190a4f3-0000-7000-8000-000000000000",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        assert_eq!(status(app.get(url)).await, want, "{url}");
    }

    // Every spelling of a drift method and correction the document lists is one the
    // parsers take.
    let run = &doc["components"]["schemas"]["RunRequest"]["anyOf"];
    for shape in run.as_array().unwrap() {
        for m in strings(&shape["properties"]["method"]) {
            assert!(m.parse::<Method>().is_ok(), "method {m}");
        }
        for c in strings(&shape["properties"]["correction"]) {
            assert!(c.parse::<Correction>().is_ok(), "correction {c}");
        }
    }
    // Both window shapes, nulls for absent fields, and a whole `last` written as a float.
    for (body, want) in [
        ("{}", StatusCode::OK),
        (
            r#"{"last": 2.0, "since": null, "until": null}"#,
            StatusCode::OK,
        ),
        (
            r#"{"since": "2000-01-01T00:00:00Z", "until": null, "last": null, "method": "ks", "correction": "fdr_bh", "alpha": 0.01}"#,
            StatusCode::OK,
        ),
        (
            r#"{"last": 2, "until": "2000-01-01T00:00:00Z"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (r#"{"last": 1.5}"#, StatusCode::UNPROCESSABLE_ENTITY),
        (r#"{"last": 0}"#, StatusCode::UNPROCESSABLE_ENTITY),
        (r#"{"alpha": 1}"#, StatusCode::UNPROCESSABLE_ENTITY),
        (r#"{"method": "KS"}"#, StatusCode::UNPROCESSABLE_ENTITY),
        // The one rule outside the document: since before until.
        (
            r#"{"since": "2000-01-02T00:00:00Z", "until": "2000-01-01T00:00:00Z"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (got, res) = app.send(app.post("/api/v1/drift/run", body)).await;
        assert_eq!(got, want, "{body}: {res}");
    }
}

/// Parses the Prometheus text format: `name{labels} value` per sample line.
fn samples(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("sample line: series value");
            (
                series.to_owned(),
                value.parse::<f64>().expect("numeric value"),
            )
        })
        .collect()
}

fn sample(all: &[(String, f64)], prefix: &str, contains: &[&str]) -> f64 {
    all.iter()
        .filter(|(s, _)| s.starts_with(prefix) && contains.iter().all(|c| s.contains(c)))
        .map(|(_, v)| v)
        .sum()
}

#[sqlx::test(migrations = "../migrations")]
async fn metrics_count_requests_predictions_and_the_writer(pool: PgPool) {
    let app = app(pool).await;
    // Other tests in this process also count: compare before and after.
    let (_, before) = app.text(get_as("/metrics", None)).await;
    let before = samples(&before);
    for i in 0..4 {
        app.send(app.post("/api/v1/predict", &application(i).to_string()))
            .await;
    }
    app.send(app.post("/api/v1/predict", "{")).await;
    let (status, text) = app.text(get_as("/metrics", None)).await;
    assert_eq!(status, StatusCode::OK);
    let after = samples(&text);
    let delta = |prefix: &str, contains: &[&str]| {
        sample(&after, prefix, contains) - sample(&before, prefix, contains)
    };
    assert!(
        delta(
            "scorewatch_http_requests_total",
            &["route=\"/api/v1/predict\"", "status=\"200\""]
        ) >= 4.0
    );
    assert!(
        delta(
            "scorewatch_http_requests_total",
            &["route=\"/api/v1/predict\"", "status=\"400\""]
        ) >= 1.0
    );
    assert!(delta("scorewatch_predictions_total", &["source=\"api\""]) >= 4.0);
    assert!(delta("scorewatch_prediction_probability_count", &[]) >= 4.0);
    assert!(
        delta(
            "scorewatch_http_request_duration_seconds_bucket",
            &["route=\"/api/v1/predict\"", "le=\"+Inf\""]
        ) >= 5.0
    );
    assert!(delta("scorewatch_writer_rows_committed_total", &[]) >= 4.0);
    assert!(
        sample(
            &after,
            "scorewatch_writer_commit_duration_seconds_count",
            &[]
        ) >= 1.0
    );
    assert!(text.contains("# TYPE scorewatch_writer_queue_rows gauge"));
    assert!(text.contains("# TYPE scorewatch_http_request_duration_seconds histogram"));
}

/// Listing the routes renders the application once, with its server calls held back by a
/// switch that is global to the process: a listing or render ending on another thread turns
/// it off. A listing caught by that still finds the state its server calls need (it used to
/// panic, failing whichever test happened to build its router then).
#[sqlx::test(migrations = "../migrations")]
async fn routes_are_listed_while_other_threads_render(pool: PgPool) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let app = app(pool).await;
    let stop = Arc::new(AtomicBool::new(false));
    let flipper = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                drop(leptos::server::SuppressResourceLoad::new());
            }
        })
    };
    let listed = std::panic::AssertUnwindSafe(|| {
        for _ in 0..50 {
            let _router = router::build(ServerState {
                app: app.state.clone(),
                leptos: router::leptos_options(
                    std::env::temp_dir().join("scorewatch-no-site"),
                    "127.0.0.1:0".parse().unwrap(),
                ),
            });
        }
    });
    let result = std::panic::catch_unwind(listed);
    stop.store(true, Ordering::Relaxed);
    flipper.join().unwrap();
    assert!(result.is_ok(), "listing the routes panicked");
}

/// The local demo's `--dashboard-sign-in auto`: a direct visit is the machine's own user,
/// but a request that came through a proxy (a reverse proxy in front of 127.0.0.1) must
/// sign in, whatever address the server listens on.
#[sqlx::test(migrations = "../migrations")]
async fn a_proxied_request_is_never_the_local_user(pool: PgPool) {
    use scorewatch_core::state::DashboardSignIn;
    let settings = ApiSettings {
        dashboard_sign_in: DashboardSignIn::LocalUnproxied,
        ..ApiSettings::default()
    };
    let app = common::app_with(pool, settings, WriterConfig::default()).await;
    let (status, _) = app
        .text(Request::get("/").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK, "a direct local visit sees the page");
    for (name, value) in [
        ("x-forwarded-for", "203.0.113.7"),
        ("forwarded", "for=203.0.113.7;proto=https"),
        ("x-real-ip", "203.0.113.7"),
    ] {
        let (status, headers, _) = app
            .send_full(
                Request::get("/drift")
                    .header(name, value)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{name}");
        assert_eq!(headers[header::LOCATION], "/login?next=/drift", "{name}");
        let mut proxied = axum::http::HeaderMap::new();
        proxied.insert(name, value.parse().unwrap());
        assert!(app::auth::sign_in_required(
            DashboardSignIn::LocalUnproxied,
            &proxied
        ));
    }
    assert!(!app::auth::sign_in_required(
        DashboardSignIn::LocalUnproxied,
        &axum::http::HeaderMap::new()
    ));
    assert!(app::auth::sign_in_required(
        DashboardSignIn::Always,
        &axum::http::HeaderMap::new()
    ));
}

/// Scoring from the dashboard goes through the same use case as the API, so its
/// predictions are counted too (source `ui`).
#[sqlx::test(migrations = "../migrations")]
async fn dashboard_scoring_is_counted_in_the_metrics(pool: PgPool) {
    use leptos::server_fn::ServerFn;
    let app = app(pool.clone()).await;
    let (_, token) = access::sign_in(&pool, &app.key)
        .await
        .unwrap()
        .expect("the admin signs in");
    let (_, before) = app.text(get_as("/metrics", None)).await;
    let before = samples(&before);
    let input = json!({"input": {"fields": [["EXT_SOURCE_2", "0.5"]], "json": ""}});
    let request = Request::post(app::pages::score::ScoreApplication::PATH)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json")
        .header(header::COOKIE, format!("scorewatch_session={token}"))
        .body(Body::from(input.to_string()))
        .unwrap();
    let (status, result) = app.send(request).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(app.stored().await, 1);
    let (_, text) = app.text(get_as("/metrics", None)).await;
    let after = samples(&text);
    let delta = |prefix: &str, contains: &[&str]| {
        sample(&after, prefix, contains) - sample(&before, prefix, contains)
    };
    assert_eq!(
        delta("scorewatch_predictions_total", &["source=\"ui\""]),
        1.0
    );
    assert!(delta("scorewatch_prediction_probability_count", &[]) >= 1.0);
}

#[sqlx::test(migrations = "../migrations")]
async fn every_metric_the_readme_lists_is_exposed_with_its_type(pool: PgPool) {
    let app = app(pool).await;
    // One prediction, so that the histograms have a sample, and the report gauges.
    let (status, _) = app
        .send(app.post("/api/v1/predict", &application(1).to_string()))
        .await;
    assert_eq!(status, StatusCode::OK);
    scorewatch::observability::metrics::refresh_report_gauges(
        &app.pool,
        app.state.model.version.id,
    )
    .await;
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"),
    )
    .unwrap();
    let listed: Vec<(String, String)> = readme
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let name = cells
                .get(1)?
                .strip_prefix("`scorewatch_")?
                .strip_suffix('`')?;
            Some((format!("scorewatch_{name}"), cells.get(2)?.to_string()))
        })
        .collect();
    assert!(
        listed.len() >= 16,
        "the README's table of metrics: {listed:?}"
    );
    let (_, text) = app.text(get_as("/metrics", None)).await;
    for (name, kind) in &listed {
        assert!(
            text.contains(&format!("# TYPE {name} {kind}\n")),
            "{name} ({kind}) is not exposed:\n{text}"
        );
    }
    let version = app.state.model.version.id;
    assert!(text.contains(&format!("scorewatch_active_model_version {version}\n")));
    // No report yet: every status is 0.
    assert!(
        text.contains("scorewatch_drift_status{status=\"ALERT\"} 0\n"),
        "{text}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn values_outside_the_training_data_are_named_in_the_answer_and_still_scored(pool: PgPool) {
    let app = app(pool).await;
    let stats = scorewatch_core::store::reference_stats(&app.pool, app.state.model.version.id)
        .await
        .unwrap();
    let stat = |name: &str| stats.iter().find(|s| s.feature == name).unwrap().clone();
    let ext = stat("EXT_SOURCE_2");
    let birth = stat("DAYS_BIRTH");
    let body = json!({"applications": [
        {"features": {"EXT_SOURCE_2": 5.0, "DAYS_BIRTH": 12000, "CODE_GENDER": 0.5, "FLAG_OWN_CAR": 1}},
        {"features": {"EXT_SOURCE_2": ext.median, "DAYS_BIRTH": birth.median}},
    ]})
    .to_string();
    let (status, res) = app.send(app.post("/api/v1/predict/batch", &body)).await;
    assert_eq!(status, StatusCode::OK, "{res}");
    let outside = res["results"][0]["outside_training_range"]
        .as_array()
        .unwrap();
    let by_name = |name: &str| outside.iter().find(|o| o["feature"] == name).cloned();
    let e = by_name("EXT_SOURCE_2").expect("EXT_SOURCE_2 = 5 is named");
    assert_eq!(e["reason"], "above_max");
    assert_eq!(e["value"], json!(5.0));
    assert_eq!(e["training_max"].as_f64(), ext.max);
    assert_eq!(e["training_min"].as_f64(), ext.min);
    assert_eq!(by_name("DAYS_BIRTH").unwrap()["reason"], "above_max");
    let gender = by_name("CODE_GENDER").expect("a code of 0.5 is named");
    assert_eq!(gender["reason"], "unseen_value");
    assert_eq!(gender["training_values"], json!([0.0, 1.0]));
    assert!(
        by_name("FLAG_OWN_CAR").is_none(),
        "1 is a value the flag took"
    );
    assert_eq!(outside.len(), 3, "{outside:?}");
    // Typical values: nothing to say.
    assert_eq!(res["results"][1]["outside_training_range"], json!([]));
    // Both were scored and stored.
    let id = res["results"][0]["prediction_id"].as_str().unwrap();
    let (status, _) = app
        .send(app.get(&format!("/api/v1/predictions/{id}")))
        .await;
    assert_eq!(status, StatusCode::OK);
}

/// A user's mistake on a page is a 4xx with a message that says what to do, counted under
/// the server function's stable route name; a page a role may not use answers 403.
#[sqlx::test(migrations = "../migrations")]
async fn page_mistakes_answer_4xx_under_stable_routes(pool: PgPool) {
    use leptos::server_fn::ServerFn;
    let app = app(pool.clone()).await;
    let (_, officer) = access::create(&pool, "officer", Role::Officer)
        .await
        .unwrap();
    let (_, viewer) = access::create(&pool, "viewer", Role::Viewer).await.unwrap();
    let session = |key: String| {
        let pool = pool.clone();
        async move { access::sign_in(&pool, &key).await.unwrap().unwrap().1 }
    };
    let (officer, viewer) = (session(officer).await, session(viewer).await);
    assert_eq!(
        app::pages::score::ScoreApplication::PATH,
        "/api/score_application"
    );
    let score = |token: &str, input: Value| {
        Request::post(app::pages::score::ScoreApplication::PATH)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .header(header::COOKIE, format!("scorewatch_session={token}"))
            .body(Body::from(json!({ "input": input }).to_string()))
            .unwrap()
    };
    let (_, before) = app.text(get_as("/metrics", None)).await;
    let before = samples(&before);
    for (input, says) in [
        (
            json!({"fields": [["EXT_SOURCE_2", "high"]], "json": ""}),
            "EXT_SOURCE_2: `high` is not a number",
        ),
        (
            json!({"fields": [], "json": "{\"NO_SUCH_FEATURE\": 1}"}),
            "unknown features: NO_SUCH_FEATURE",
        ),
        (json!({"fields": [], "json": "{not json"}), "JSON"),
    ] {
        let (status, text) = app.text(score(&officer, input.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{input}: {text}");
        assert!(text.contains(says), "{input}: {text}");
    }
    let ok = json!({"fields": [["EXT_SOURCE_2", "0.5"]], "json": ""});
    let (status, text) = app.text(score(&viewer, ok)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    assert!(text.contains("may not score"), "{text}");
    assert_eq!(app.stored().await, 0, "nothing was stored");

    // The overview's custom range without dates.
    let overview = Request::post(app::pages::overview::GetOverview::PATH)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("scorewatch_session={officer}"))
        .body(Body::from("range=custom&from=&to="))
        .unwrap();
    let (status, text) = app.text(overview).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert!(text.contains("choose the start and the end"), "{text}");

    // A viewer opening /score gets the page's refusal as a 403.
    let page = Request::get("/score")
        .header(header::COOKIE, format!("scorewatch_session={viewer}"))
        .body(Body::empty())
        .unwrap();
    let (status, html) = app.text(page).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("may not score"), "{html}");

    let (_, text) = app.text(get_as("/metrics", None)).await;
    let after = samples(&text);
    let delta = |contains: &[&str]| {
        sample(&after, "scorewatch_http_requests_total", contains)
            - sample(&before, "scorewatch_http_requests_total", contains)
    };
    assert_eq!(
        delta(&["route=\"/api/score_application\"", "status=\"422\""]),
        3.0
    );
    assert_eq!(
        delta(&["route=\"/api/score_application\"", "status=\"403\""]),
        1.0
    );
    assert!(
        !text.contains("route=\"/api/score_application1"),
        "no hashed names"
    );
    assert_eq!(
        delta(&["status=\"500\""]),
        0.0,
        "no user mistake counts as a server error"
    );
}
