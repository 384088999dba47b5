//! Outcomes and performance reports through the API: recording (matched by id or by
//! client, replaced, unmatched, refused whole), listing, and a report whose figures equal
//! the statistics of the rows the API answered.

use axum::http::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::common::{self, app, app_with_holdout, get_as, post_as};
use scorewatch_core::access::{self, Role};
use scorewatch_core::ingest::writer::WriterConfig;
use scorewatch_core::performance::{calibration, discrimination};
use scorewatch_core::simulate::{load_outcomes, TestSet};
use scorewatch_core::state::ApiSettings;

/// Scores test-set rows `0..n` in one batch; returns (prediction id, probability, refused,
/// true outcome) per row.
async fn score_test_rows(app: &common::TestApp, n: usize) -> Vec<(String, f64, bool, bool)> {
    let names = app.state.model.version.feature_names.clone();
    let test = TestSet::load(&common::artifacts().join("test.csv.gz"), &names).unwrap();
    let outcomes = load_outcomes(
        &common::artifacts().join("test_outcomes.csv.gz"),
        test.n_rows,
    )
    .unwrap();
    let applications: Vec<Value> = (0..n)
        .map(|i| {
            let row = &test.rows[i * names.len()..(i + 1) * names.len()];
            let features: serde_json::Map<String, Value> = names
                .iter()
                .zip(row)
                .map(|(k, v)| (k.clone(), if v.is_nan() { Value::Null } else { json!(v) }))
                .collect();
            json!({"sk_id_curr": 500_000 + i, "features": features})
        })
        .collect();
    let (status, res) = app
        .send(app.post(
            "/api/v1/predict/batch",
            &json!({ "applications": applications }).to_string(),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{res}");
    res["results"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, r)| {
            (
                r["prediction_id"].as_str().unwrap().to_owned(),
                r["probability"].as_f64().unwrap(),
                r["decision"] == "REFUSED",
                outcomes[i],
            )
        })
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn outcomes_are_recorded_replaced_listed_and_refused_whole(pool: PgPool) {
    let app = app(pool).await;
    let rows = score_test_rows(&app, 3).await;
    let (_, scorer) = access::create(&app.pool, "los", Role::Scorer)
        .await
        .unwrap();
    let (_, viewer) = access::create(&app.pool, "analyst", Role::Viewer)
        .await
        .unwrap();
    let body = json!({"outcomes": [
        {"prediction_id": rows[0].0, "defaulted": true, "observed_at": "2030-01-01T00:00:00Z"},
        {"sk_id_curr": 500_001, "defaulted": false},
        {"prediction_id": "67e55044-10b1-426f-9247-bb680e5fe0c8", "defaulted": true},
        {"sk_id_curr": 999_999, "defaulted": true},
        // A client's outcome observed before any of its predictions matches none.
        {"sk_id_curr": 500_002, "defaulted": true, "observed_at": "2001-01-01T00:00:00Z"},
    ]})
    .to_string();
    let (_, officer) = access::create(&app.pool, "officer", Role::Officer)
        .await
        .unwrap();
    // Scorer and admin keys record outcomes; a viewer reads, an officer scores in the
    // browser: neither records what defaulted.
    for key in [&viewer, &officer] {
        let (status, res) = app
            .send(post_as("/api/v1/outcomes", &body, Some(key)))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{res}");
        assert!(
            res["error"].as_str().unwrap().contains("record outcomes"),
            "{res}"
        );
    }
    let (status, res) = app
        .send(post_as("/api/v1/outcomes", &body, Some(&scorer)))
        .await;
    assert_eq!(status, StatusCode::OK, "{res}");
    assert_eq!(res["recorded"], json!(2));
    assert_eq!(res["replaced"], json!(0));
    let unmatched: Vec<u64> = res["unmatched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["index"].as_u64().unwrap())
        .collect();
    assert_eq!(unmatched, vec![2, 3, 4]);
    assert_eq!(res["unmatched"][1]["sk_id_curr"], json!(999_999));

    // A later value replaces the earlier one, and is counted; so is a duplicate in a batch,
    // whether it names the prediction by id or by its client.
    let again = json!({"outcomes": [
        {"prediction_id": rows[0].0, "defaulted": false},
        {"sk_id_curr": 500_000, "defaulted": false},
        {"prediction_id": rows[0].0, "defaulted": true},
    ]});
    let (status, res) = app
        .send(app.post("/api/v1/outcomes", &again.to_string()))
        .await;
    assert_eq!(status, StatusCode::OK, "{res}");
    assert_eq!(
        (res["recorded"].as_u64(), res["replaced"].as_u64()),
        (Some(3), Some(3))
    );
    let (defaulted, replaced): (bool, i32) =
        sqlx::query_as("SELECT defaulted, replaced FROM outcomes WHERE prediction_id = $1::uuid")
            .bind(&rows[0].0)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(defaulted);
    assert_eq!(replaced, 3);

    // An invalid item refuses the batch, naming its index; nothing of it is stored.
    let before = scorewatch_core::store::count_outcomes(&app.pool)
        .await
        .unwrap();
    for bad in [
        json!({"outcomes": [{"sk_id_curr": 500_002, "defaulted": true}, {"sk_id_curr": 1, "defaulted": "yes"}]}),
        json!({"outcomes": [{"sk_id_curr": 500_002, "defaulted": true}, {"defaulted": true}]}),
        json!({"outcomes": [{"sk_id_curr": 500_002, "defaulted": true}, {"sk_id_curr": 1, "defaulted": true, "extra": 1}]}),
        json!({"outcomes": []}),
        json!({"outcomes": [{"sk_id_curr": 1, "defaulted": true}], "more": 1}),
    ] {
        let (status, res) = app
            .send(app.post("/api/v1/outcomes", &bad.to_string()))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {res}");
        if bad["outcomes"].as_array().unwrap().len() == 2 {
            assert!(
                res["error"].as_str().unwrap().starts_with("outcomes[1]"),
                "{res}"
            );
        }
    }
    let too_many: Vec<Value> = (0..10_001)
        .map(|i| json!({"sk_id_curr": i, "defaulted": false}))
        .collect();
    let (status, _) = app
        .send(app.post(
            "/api/v1/outcomes",
            &json!({ "outcomes": too_many }).to_string(),
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        scorewatch_core::store::count_outcomes(&app.pool)
            .await
            .unwrap(),
        before
    );

    // Listed newest first, filtered, paged with a cursor.
    let (status, page) = app
        .send(get_as("/api/v1/outcomes?limit=1", Some(&viewer)))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let (_, second) = app
        .get_page(&format!("/api/v1/outcomes?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["next_cursor"], Value::Null);
    assert_ne!(
        page["items"][0]["prediction_id"],
        second["items"][0]["prediction_id"]
    );
    let (_, defaults) = app.get_page("/api/v1/outcomes?defaulted=true").await;
    let items = defaults["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["prediction_id"], json!(rows[0].0));
    assert_eq!(items[0]["probability"], json!(rows[0].1));
    assert_eq!(items[0]["sk_id_curr"], json!(500_000));
    for bad in [
        "?limit=0",
        "?cursor=abc",
        "?source=email",
        "?defaulted=maybe",
        "?whatever=1",
    ] {
        let (status, _) = app.get_page(&format!("/api/v1/outcomes{bad}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_report_equals_the_statistics_of_its_cohort(pool: PgPool) {
    let app = app_with_holdout(pool, ApiSettings::default(), WriterConfig::default(), true).await;
    let rows = score_test_rows(&app, 1_500).await;
    // Outcomes for two thirds of the rows, in batches of at most 10,000, by prediction id.
    let labelled: Vec<&(String, f64, bool, bool)> = rows
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 != 2)
        .map(|(_, r)| r)
        .collect();
    let items: Vec<Value> = labelled
        .iter()
        .map(|(id, _, _, d)| json!({"prediction_id": id, "defaulted": d}))
        .collect();
    let (status, res) = app
        .send(app.post(
            "/api/v1/outcomes",
            &json!({ "outcomes": items }).to_string(),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{res}");
    assert_eq!(res["recorded"], json!(labelled.len()));

    let (status, run) = app.send(app.post("/api/v1/performance/run", "{}")).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    let r = &run["report"];
    assert_eq!(r["n_predictions"], json!(rows.len()));
    assert_eq!(r["n_labelled"], json!(labelled.len()));
    assert_eq!(r["trigger"], json!("api"));
    let scores: Vec<f64> = labelled.iter().map(|r| r.1).collect();
    let defaulted: Vec<bool> = labelled.iter().map(|r| r.3).collect();
    assert_eq!(
        r["n_defaults"],
        json!(defaulted.iter().filter(|d| **d).count())
    );
    let refused_labelled = labelled.iter().filter(|r| r.2).count();
    assert_eq!(r["n_labelled_refused"], json!(refused_labelled));
    assert_eq!(
        r["n_labelled_approved"],
        json!(labelled.len() - refused_labelled)
    );
    let auc = discrimination::roc_auc_delong(&scores, &defaulted).unwrap();
    assert_eq!(r["roc_auc"].as_f64(), Some(auc.auc));
    // Sums (the DeLong variance, the Brier score) run in the cohort's order, which is
    // not the order of this test's rows: equal to the last few bits.
    let close = |got: &Value, want: Option<f64>| {
        let (g, w) = (got.as_f64().unwrap(), want.unwrap());
        assert!((g - w).abs() <= 1e-14, "{g} vs {w}");
    };
    close(&r["roc_auc_ci_low"], auc.ci_low);
    assert_eq!(r["gini"].as_f64(), Some(auc.gini()));
    assert_eq!(
        r["ks_separation"].as_f64(),
        discrimination::ks_separation(&scores, &defaulted)
    );
    close(&r["brier"], discrimination::brier(&scores, &defaulted));
    // The demo's hold-out: the AUC at initial validation, and an estimate for every row.
    assert_eq!(r["auc_initial_source"], json!("holdout"));
    let initial = r["auc_test"]["auc_initial"].as_f64().unwrap();
    assert!((0.8..0.95).contains(&initial), "{initial}");
    let estimated = r["estimated_roc_auc"].as_f64().expect("an estimate");
    assert!(
        (estimated - auc.auc).abs() < 0.1,
        "estimated {estimated}, realised {}",
        auc.auc
    );
    assert!(r["estimated_roc_auc_ci_low"].as_f64().unwrap() < estimated);
    let status_text = r["status"].as_str().unwrap();
    assert!(["OK", "WARNING", "ALERT"].contains(&status_text), "{r}");

    // Ten grades from the reference deciles, adding up to the labelled rows.
    let grades = run["grades"].as_array().unwrap();
    assert_eq!(grades.len(), calibration::DEFAULT_GRADES);
    let n: u64 = grades.iter().map(|g| g["n"].as_u64().unwrap()).sum();
    assert_eq!(n, labelled.len() as u64);

    // Stored and read back the same, listed newest first.
    let id = r["id"].as_i64().unwrap();
    let (status, read) = app
        .get_page(&format!("/api/v1/performance/reports/{id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, run);
    let (_, list) = app.get_page("/api/v1/performance/reports").await;
    assert_eq!(list["items"][0]["id"], json!(id));
    let (status, _) = app.get_page("/api/v1/performance/reports/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A master scale of the user's, and settings refused with a reason.
    let (status, scaled) = app
        .send(app.post(
            "/api/v1/performance/run",
            r#"{"master_scale": [0.02, 0.05, 0.1, 0.2]}"#,
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{scaled}");
    assert_eq!(scaled["grades"].as_array().unwrap().len(), 5);
    for bad in [
        r#"{"master_scale": [0.2, 0.1]}"#,
        r#"{"warning_level": 0.01, "alert_level": 0.05}"#,
        r#"{"since": "2030-01-02T00:00:00Z", "until": "2030-01-01T00:00:00Z"}"#,
        r#"{"last": 5, "since": "2030-01-01T00:00:00Z"}"#,
        r#"{"window": "1d"}"#,
    ] {
        let (status, res) = app.send(app.post("/api/v1/performance/run", bad)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {res}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn without_a_holdout_nothing_is_estimated_and_the_report_says_why(pool: PgPool) {
    let app = app(pool).await;
    let rows = score_test_rows(&app, 20).await;
    let items: Vec<Value> = rows[..5]
        .iter()
        .map(|(id, _, _, _)| json!({"prediction_id": id, "defaulted": false}))
        .collect();
    app.send(app.post(
        "/api/v1/outcomes",
        &json!({ "outcomes": items }).to_string(),
    ))
    .await;
    let (status, run) = app
        .send(app.post("/api/v1/performance/run", r#"{"last": 20}"#))
        .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    let r = &run["report"];
    assert_eq!(r["status"], json!("INSUFFICIENT_DATA"));
    assert_eq!(r["n_predictions"], json!(20));
    assert_eq!(r["estimated_roc_auc"], Value::Null);
    // One class only: no AUC, and no number made up for it.
    assert_eq!(r["roc_auc"], Value::Null);
    let notes: Vec<&str> = r["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes.iter().any(|n| n.contains("no labelled hold-out")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.contains("all non-defaults")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.contains("too few outcomes")),
        "{notes:?}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_scheduler_reports_a_window_once_when_it_ends_and_once_matured(pool: PgPool) {
    use chrono::{Duration, DurationRound, Utc};
    use scorewatch::performance_scheduler::{alert_body, report_window};
    use scorewatch_core::performance::report::Settings;

    let app = app(pool).await;
    let rows = score_test_rows(&app, 600).await;
    let hour = Duration::hours(1);
    let start = Utc::now().duration_trunc(hour).unwrap() - hour;
    let end = start + hour * 3;
    let model = &app.state.model.version;
    let settings = Settings::default();

    // When the window ends no outcome is known yet. Two servers at the same moment: one
    // reports, the other does nothing; nor does a later try.
    let (a, b) = tokio::join!(
        report_window(&app.pool, model, start, end, &settings, false),
        report_window(&app.pool, model, start, end, &settings, false),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.is_some() != b.is_some(), "exactly one server reports");
    let (fresh, previous) = a.or(b).unwrap();
    assert_eq!(previous, None);
    assert_eq!(fresh.computed.metrics.n_labelled, 0);
    assert_eq!(fresh.computed.status.as_str(), "INSUFFICIENT_DATA");
    let again = report_window(&app.pool, model, start, end, &settings, false).await;
    assert!(
        again.unwrap().is_none(),
        "a reported window is not reported again"
    );

    // The outcomes arrive; the matured report of the same window is a report of its own.
    let items: Vec<Value> = rows
        .iter()
        .map(|(id, _, _, d)| json!({"prediction_id": id, "defaulted": d}))
        .collect();
    let (status, res) = app
        .send(app.post(
            "/api/v1/outcomes",
            &json!({ "outcomes": items }).to_string(),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{res}");
    let (matured, previous) = report_window(&app.pool, model, start, end, &settings, true)
        .await
        .unwrap()
        .expect("the matured window is reported");
    assert_eq!(
        previous, None,
        "fresh reports are not what a matured one compares with"
    );
    assert_eq!(matured.computed.metrics.n_labelled, rows.len() as u64);
    let status = matured.computed.status.as_str();
    assert_ne!(status, "INSUFFICIENT_DATA");
    let again = report_window(&app.pool, model, start, end, &settings, true).await;
    assert!(again.unwrap().is_none());

    // A later matured window compares with the last conclusive matured one.
    let (_, previous) = report_window(&app.pool, model, start, end + hour, &settings, true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(previous.as_deref(), Some(status));

    let (code, listed) = app
        .send(app.get("/api/v1/performance/reports?limit=10"))
        .await;
    assert_eq!(code, StatusCode::OK, "{listed}");
    let triggers: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["trigger"].as_str().unwrap())
        .collect();
    assert_eq!(triggers.iter().filter(|t| **t == "schedule").count(), 1);
    assert_eq!(triggers.iter().filter(|t| **t == "matured").count(), 2);

    let body = alert_body(model, &matured, "ALERT", true);
    assert_eq!(body["trigger"], "matured");
    assert_eq!(body["status"], status);
    assert!(body["text"]
        .as_str()
        .unwrap()
        .contains(&format!("(matured) ALERT -> {status}")));
}
