//! Drift detection end to end on the demo model and its full 20,000-row reference: the
//! original simulator scenario, clean windows, and the drift API.

use axum::http::StatusCode;
use chrono::{Duration, DurationRound, TimeZone, Utc};
use serde_json::json;
use sqlx::PgPool;

use crate::common::{self, app, artifacts};
use scorewatch_core::artifacts::TEST_FILE;
use scorewatch_core::drift::analysis::{self, Settings, Status, Window};
use scorewatch_core::drift::reports::{self, Trigger};
use scorewatch_core::model::application::Application;
use scorewatch_core::model::predict;
use scorewatch_core::model::prediction::Source;
use scorewatch_core::model::registry::{self, ActiveModel, InitOptions};
use scorewatch_core::simulate::{DriftKind, TestSet, DEFAULT_INTENSITIES};
use scorewatch_core::store::{self, WindowSpec};

async fn demo(pool: &PgPool) -> std::sync::Arc<ActiveModel> {
    registry::init(pool, &InitOptions::demo(&artifacts()))
        .await
        .expect("demo model registers");
    registry::load_active(pool).await.unwrap().unwrap()
}

fn applications(model: &ActiveModel, rows: &[Vec<f64>]) -> Vec<Application> {
    rows.iter()
        .map(|r| Application::from_values(None, r, &model.model).unwrap())
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_original_scenario_is_ok_when_clean_and_alert_from_intensity_0_3(pool: PgPool) {
    let model = demo(&pool).await;
    let test = TestSet::load(&artifacts().join(TEST_FILE), model.model.feature_names()).unwrap();
    let start = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap();
    let mut statuses = Vec::new();
    for (b, &intensity) in DEFAULT_INTENSITIES.iter().enumerate() {
        let rows = test.batch(b * 50, 50, intensity, DriftKind::Shift, &[], 7 + b as u64);
        let mut scored = predict::score(
            &model,
            &applications(&model, &rows),
            Source::Simulator,
            None,
        )
        .unwrap();
        let since = start + Duration::hours(b as i64);
        for p in &mut scored {
            p.created_at = since + Duration::minutes(1);
        }
        store::insert_predictions(&pool, &scored).await.unwrap();
        let report = reports::run(
            &pool,
            &model.version,
            WindowSpec::Range {
                since,
                until: since + Duration::hours(1),
            },
            &Settings::default(),
            Trigger::Cli,
        )
        .await
        .unwrap();
        let s = &report.analysis.summary;
        println!(
            "batch {} intensity {intensity}: {} of {} features drifted ({:.1}%), {}, score PSI {:.3}",
            b + 1,
            s.n_features_drifted,
            s.n_features_analyzed,
            100.0 * s.drift_share,
            s.status.as_str(),
            s.score_psi.unwrap_or(f64::NAN)
        );
        assert_eq!(s.n_current, 50);
        statuses.push((intensity, s.status));
    }
    for (intensity, status) in statuses {
        if intensity == 0.0 {
            assert_eq!(status, Status::Ok, "a clean batch must be OK");
        }
        if intensity >= 0.3 {
            assert_eq!(status, Status::Alert, "intensity {intensity} must be ALERT");
        }
    }
    // Every report and its 419 feature rows are stored.
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM drift_feature_results")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 8 * 419);
}

#[sqlx::test(migrations = "../migrations")]
async fn at_least_95_of_100_clean_windows_of_50_are_ok(pool: PgPool) {
    let model = demo(&pool).await;
    let baseline = store::drift_baseline(&pool, model.version.id)
        .await
        .unwrap()
        .unwrap();
    let test = TestSet::load(&artifacts().join(TEST_FILE), model.model.feature_names()).unwrap();
    let settings = Settings::default();
    let mut ok = 0;
    let mut shares = Vec::new();
    for w in 0..100 {
        let rows = test.batch(w * 50, 50, 0.0, DriftKind::Shift, &[], 0);
        let flat: Vec<f64> = rows.concat();
        let probabilities = model.model.predict(&flat).unwrap();
        let n_refused = probabilities
            .iter()
            .filter(|p| **p >= model.model.threshold())
            .count();
        let window = Window::from_rows(&flat, test.n_features(), probabilities, n_refused);
        let a = analysis::analyse(&baseline, &window, &settings);
        shares.push(a.summary.n_features_drifted);
        if a.summary.status == Status::Ok {
            ok += 1;
        }
    }
    println!("{ok} of 100 clean windows OK; drifted features per window: {shares:?}");
    assert!(ok >= 95, "{ok} of 100 clean windows OK");
}

#[sqlx::test(migrations = "../migrations")]
async fn too_few_predictions_are_reported_as_such(pool: PgPool) {
    let model = demo(&pool).await;
    let test = TestSet::load(&artifacts().join(TEST_FILE), model.model.feature_names()).unwrap();
    let rows = test.batch(0, 10, 0.0, DriftKind::Shift, &[], 0);
    let scored = predict::score(&model, &applications(&model, &rows), Source::Api, None).unwrap();
    store::insert_predictions(&pool, &scored).await.unwrap();
    let r = reports::run(
        &pool,
        &model.version,
        WindowSpec::Last(100),
        &Settings::default(),
        Trigger::Cli,
    )
    .await
    .unwrap();
    assert_eq!(r.analysis.summary.status, Status::InsufficientData);
    assert_eq!(r.analysis.summary.n_current, 10);
    let status: String = sqlx::query_scalar("SELECT status FROM drift_reports WHERE id = $1")
        .bind(r.id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "INSUFFICIENT_DATA");
}

#[sqlx::test(migrations = "../migrations")]
async fn drift_runs_from_the_api_for_admins_and_is_listed(pool: PgPool) {
    let app = app(pool).await;
    let apps: Vec<serde_json::Value> = (0..40)
        .map(|i| json!({"features": {"EXT_SOURCE_2": 0.02 * i as f64, "EXT_SOURCE_3": 0.5}}))
        .collect();
    let (status, _) = app
        .send(app.post(
            "/api/v1/predict/batch?source=simulator",
            &json!({"applications": apps}).to_string(),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, res) = app
        .send(app.post("/api/v1/drift/run", r#"{"last": 40}"#))
        .await;
    assert_eq!(status, StatusCode::OK, "{res}");
    assert_eq!(res["report"]["n_current"], 40);
    assert!(["OK", "WARNING", "ALERT"].contains(&res["report"]["status"].as_str().unwrap()));
    let features = res["features"].as_array().unwrap();
    assert_eq!(features.len(), 419);
    let ext2 = features
        .iter()
        .find(|f| f["feature"] == "EXT_SOURCE_2")
        .unwrap();
    assert_eq!(ext2["test"], "ks");
    assert!(ext2["ks_p_value"].as_f64().unwrap() < 0.05, "{ext2}");
    let id = res["report"]["id"].as_i64().unwrap();

    let (status, list) = app.send(app.get("/api/v1/drift/reports")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"][0]["id"], id);
    let (status, one) = app
        .send(app.get(&format!("/api/v1/drift/reports/{id}")))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["report"]["drift_share"], res["report"]["drift_share"]);
    let (status, _) = app.send(app.get("/api/v1/drift/reports/999999")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The HTML report: one small page that needs no network.
    let (status, html) = app
        .text(app.get(&format!("/api/v1/drift/reports/{id}/html")))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains(&format!("Drift report {id}")));
    // Charts for the most drifted and most important features that have values in the
    // window: here only the two the requests sent.
    assert_eq!(html.matches("<svg").count(), 2);
    assert!(html.contains("<figcaption>EXT_SOURCE_2</figcaption>"));
    assert_eq!(html.matches("<tr").count(), 1 + 419);
    assert!(html.contains("EXT_SOURCE_2"));
    assert!(
        !html.contains("src=") && !html.contains("href="),
        "nothing fetched"
    );
    assert!(html.len() < 400 * 1024, "{} bytes", html.len());
    println!("HTML report: {} KB", html.len() / 1024);
    // Numbers are shown rounded, and written exactly in `data-v`: the API's values, bit
    // for bit.
    let row_at = html
        .find("<td>EXT_SOURCE_2</td>")
        .expect("the feature's row");
    let row = &html[row_at..row_at + html[row_at..].find("</tr>").unwrap()];
    let exact: Vec<f64> = row
        .split(r#"data-v=""#)
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].parse().unwrap())
        .collect();
    for key in [
        "ks_statistic",
        "ks_p_value",
        "psi",
        "wasserstein_norm",
        "missing_rate_cur",
    ] {
        let want = ext2[key].as_f64().unwrap();
        assert!(
            exact.iter().any(|v| v.to_bits() == want.to_bits()),
            "{key} = {want:?} not among {exact:?}"
        );
    }
    let share = res["report"]["drift_share"].as_f64().unwrap();
    assert!(html.contains(&format!(
        r#"data-v="{}""#,
        scorewatch_core::numbers::shortest(share)
    )));

    let (status, _) = app
        .send(app.post(
            "/api/v1/drift/run",
            r#"{"last": 10, "since": "2026-01-01T00:00:00Z"}"#,
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app
        .send(app.post("/api/v1/drift/run", r#"{"alpha": 2}"#))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, viewer) =
        scorewatch_core::access::create(&app.pool, "v", scorewatch_core::access::Role::Viewer)
            .await
            .unwrap();
    let (status, _) = app
        .send(common::post_as("/api/v1/drift/run", "{}", Some(&viewer)))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let sources: Vec<String> = sqlx::query_scalar("SELECT DISTINCT source FROM predictions")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(sources, vec!["simulator".to_owned()]);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_scheduler_reports_each_window_once_and_alerts_on_a_status_change(pool: PgPool) {
    use axum::routing::post;
    use scorewatch::drift_scheduler;

    let model = demo(&pool).await;
    let test = TestSet::load(&artifacts().join(TEST_FILE), model.model.feature_names()).unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 2, 1, 10, 0, 0).unwrap();
    let hour = Duration::hours(1);
    for (w, intensity) in [(0, 0.0), (1, 0.5)] {
        let rows = test.batch(w * 50, 50, intensity, DriftKind::Shift, &[], 1);
        let mut scored =
            predict::score(&model, &applications(&model, &rows), Source::Api, None).unwrap();
        for p in &mut scored {
            p.created_at = t0 + hour * w as i32 + Duration::minutes(30);
        }
        store::insert_predictions(&pool, &scored).await.unwrap();
    }
    let settings = Settings::default();
    // Two servers at the same moment: one computes the window, the other does nothing.
    let (a, b) = tokio::join!(
        drift_scheduler::report_window(&pool, &model.version, t0, t0 + hour, &settings),
        drift_scheduler::report_window(&pool, &model.version, t0, t0 + hour, &settings),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(
        a.is_some() != b.is_some(),
        "exactly one server reports the window"
    );
    let again = drift_scheduler::report_window(&pool, &model.version, t0, t0 + hour, &settings)
        .await
        .unwrap();
    assert!(again.is_none(), "a reported window is not reported again");
    let (first, previous) = a.or(b).unwrap();
    assert_eq!(first.analysis.summary.status, Status::Ok);
    assert_eq!(previous, None);

    let (second, previous) =
        drift_scheduler::report_window(&pool, &model.version, t0 + hour, t0 + hour * 2, &settings)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(second.analysis.summary.status, Status::Alert);
    assert_eq!(previous.as_deref(), Some("OK"));

    // The alert reaches a webhook that fails once, thanks to the retry.
    let received = std::sync::Arc::new(tokio::sync::Mutex::new(Vec::<serde_json::Value>::new()));
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let hook = {
        let (received, calls) = (received.clone(), calls.clone());
        axum::Router::new().route(
            "/hook",
            post(
                move |axum::Json(body): axum::Json<serde_json::Value>| async move {
                    if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    received.lock().await.push(body);
                    StatusCode::OK
                },
            ),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, hook).await.unwrap() });
    let body = drift_scheduler::alert_body(&model.version, &second, "OK");
    let delivered =
        drift_scheduler::deliver(reqwest::Client::new(), format!("http://{addr}/hook"), body).await;
    assert!(delivered);
    let got = received.lock().await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["previous_status"], "OK");
    assert_eq!(got[0]["status"], "ALERT");
    assert_eq!(got[0]["report_id"], second.id);
    assert_eq!(got[0]["top_drifted_features"].as_array().unwrap().len(), 10);
    assert!(got[0]["text"].as_str().unwrap().contains("OK -> ALERT"));
}

/// Each feature's values (bits, ascending), the probabilities and the refusals of a window:
/// what the analysis depends on (it never pairs values of different features).
fn contents(w: &Window) -> (Vec<Vec<u64>>, Vec<u64>, usize, usize) {
    let sorted = |v: &mut dyn Iterator<Item = f64>| {
        let mut bits: Vec<u64> = v.map(|x| x.to_bits()).collect();
        bits.sort_unstable();
        bits
    };
    (
        w.columns.iter().map(|c| sorted(&mut c.iter())).collect(),
        sorted(&mut w.probabilities.iter().copied()),
        w.n_rows,
        w.n_refused,
    )
}

fn expected(rows: &[&scorewatch_core::model::prediction::Prediction], n_features: usize) -> Window {
    let mut w = Window::new(n_features);
    for p in rows {
        w.push(
            p.features.iter().copied(),
            p.probability,
            p.decision.as_str() == "REFUSED",
        );
    }
    w
}

#[sqlx::test(migrations = "../migrations")]
async fn windows_read_from_column_blocks_hold_exactly_the_stored_predictions(pool: PgPool) {
    let model = demo(&pool).await;
    let n_features = model.model.feature_names().len();
    let test = TestSet::load(&artifacts().join(TEST_FILE), model.model.feature_names()).unwrap();
    // Twelve batches of 50 over the last 40 minutes, each batch at one instant (ties),
    // the last one in the minute still open.
    // (Stored to the microsecond.)
    let now = Utc::now()
        .duration_trunc(Duration::microseconds(1))
        .unwrap();
    let mut stored = Vec::new();
    for b in 0..12 {
        let rows = test.batch(b * 50, 50, 0.0, DriftKind::Shift, &[], 3);
        let mut scored =
            predict::score(&model, &applications(&model, &rows), Source::Api, None).unwrap();
        let at = if b == 11 {
            now
        } else {
            now - Duration::minutes(40) + Duration::seconds(200 * b as i64)
        };
        for p in &mut scored {
            p.created_at = at;
        }
        store::insert_predictions(&pool, &scored).await.unwrap();
        stored.extend(scored);
    }
    let since = now - Duration::minutes(45);
    let until = now + Duration::seconds(1);
    let range = WindowSpec::Range { since, until };
    let all: Vec<&scorewatch_core::model::prediction::Prediction> = stored.iter().collect();
    let want = contents(&expected(&all, n_features));

    // First read: builds the blocks of the closed minutes, then reads through them.
    let (w, _, _) = store::drift_window(&pool, model.version.id, n_features, range)
        .await
        .unwrap();
    assert_eq!(contents(&w), want);
    // Per minute: rows, and rows of each group (every group holds every row).
    let blocked: Vec<(chrono::DateTime<Utc>, i64, i64, i64)> = sqlx::query_as(
        "SELECT minute, sum(n_rows) FILTER (WHERE feature_group = 0)::BIGINT, \
                min(g)::BIGINT, max(g)::BIGINT \
           FROM (SELECT minute, feature_group, sum(n_rows) OVER (PARTITION BY minute, feature_group) AS g, n_rows \
                   FROM prediction_columns) b \
          GROUP BY minute ORDER BY minute",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        blocked.len(),
        11,
        "every closed minute with predictions has a block"
    );
    assert!(blocked
        .iter()
        .all(|&(_, n, lo, hi)| (n, lo, hi) == (50, 50, 50)));
    let groups: i64 =
        sqlx::query_scalar("SELECT count(DISTINCT feature_group) FROM prediction_columns")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        groups as usize,
        scorewatch_core::drift::blocks::feature_groups(n_features).count()
    );
    assert!(groups > 1, "the demo model's features fill several groups");
    // Second read: from the blocks, same contents.
    let (w, _, _) = store::drift_window(&pool, model.version.id, n_features, range)
        .await
        .unwrap();
    assert_eq!(contents(&w), want);

    // A late row in a minute that has a block (a replayed backup): read, and rebuilt.
    let rows = test.batch(900, 1, 0.0, DriftKind::Shift, &[], 3);
    let mut late = predict::score(&model, &applications(&model, &rows), Source::Api, None).unwrap();
    late[0].created_at = stored[0].created_at;
    store::insert_predictions(&pool, &late).await.unwrap();
    stored.extend(late);
    let all: Vec<&scorewatch_core::model::prediction::Prediction> = stored.iter().collect();
    let (w, _, _) = store::drift_window(&pool, model.version.id, n_features, range)
        .await
        .unwrap();
    assert_eq!(contents(&w), contents(&expected(&all, n_features)));
    let rebuilt: i64 = sqlx::query_scalar(
        "SELECT sum(n_rows)::BIGINT FROM prediction_columns \
              WHERE minute = $1 AND feature_group = 0",
    )
    .bind(
        stored[0]
            .created_at
            .duration_trunc(Duration::minutes(1))
            .unwrap(),
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(rebuilt, 51);

    // The newest n, cut inside a batch of equal times: exactly n, in the paging order.
    let mut newest = all.clone();
    newest.sort_by_key(|p| std::cmp::Reverse((p.created_at, p.id)));
    for n in [1, 75, 333, 601] {
        let (w, start, end) = store::drift_window(
            &pool,
            model.version.id,
            n_features,
            WindowSpec::Last(n as i64),
        )
        .await
        .unwrap();
        let n_in = n.min(newest.len());
        assert_eq!(w.n_rows, n_in, "last {n}");
        assert_eq!(
            contents(&w),
            contents(&expected(&newest[..n_in], n_features))
        );
        assert_eq!(start, newest[n_in - 1].created_at);
        assert_eq!(end, newest[0].created_at);
    }
}

/// Reading a report's window again (the drill-down, the HTML report) finds exactly the
/// predictions it analysed: a prediction made at a range's exclusive end, or tied with the
/// first of the newest n, belongs to no more windows than it did.
#[sqlx::test(migrations = "../migrations")]
async fn a_report_window_read_again_holds_what_the_report_analysed(pool: PgPool) {
    let model = demo(&pool).await;
    let test = TestSet::load(&artifacts().join(TEST_FILE), model.model.feature_names()).unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap();
    let hour = Duration::hours(1);
    // Two batches of 50, each at one instant; the second exactly at the range's end.
    for (b, at) in [(0, t0 + Duration::minutes(30)), (1, t0 + hour)] {
        let rows = test.batch(b * 50, 50, 0.0, DriftKind::Shift, &[], 1);
        let mut scored =
            predict::score(&model, &applications(&model, &rows), Source::Api, None).unwrap();
        for p in &mut scored {
            p.created_at = at;
        }
        store::insert_predictions(&pool, &scored).await.unwrap();
    }
    // A feature every test row has.
    let names = model.model.feature_names();
    let position = (0..names.len())
        .find(|&j| {
            test.rows[..100 * names.len()]
                .chunks(names.len())
                .all(|r| !r[j].is_nan())
        })
        .unwrap();
    for (spec, n) in [
        (
            WindowSpec::Range {
                since: t0,
                until: t0 + hour,
            },
            50,
        ),
        (WindowSpec::Last(30), 30),
    ] {
        let report = reports::run(
            &pool,
            &model.version,
            spec,
            &Settings::default(),
            Trigger::Cli,
        )
        .await
        .unwrap();
        assert_eq!(report.analysis.summary.n_current, n, "{spec:?}");
        let (stored, _) = store::get_drift_report(&pool, report.id)
            .await
            .unwrap()
            .unwrap();
        let again =
            store::window_feature_values(&pool, model.version.id, position, stored.read_bounds())
                .await
                .unwrap();
        assert_eq!(again.len(), n, "{spec:?}: read again");
    }
}
