//! What the dashboard and Grafana read: the per-minute and per-hour summaries kept by the
//! insert trigger agree with the predictions themselves, and every Grafana panel's SQL runs
//! on the project's schema.

use chrono::{DateTime, Duration, DurationRound, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use sqlx::PgPool;

use crate::common::{self, app, artifacts};
use scorewatch_core::artifacts::TEST_FILE;
use scorewatch_core::model::application::Application;
use scorewatch_core::model::predict;
use scorewatch_core::model::prediction::Source;
use scorewatch_core::simulate::{DriftKind, TestSet};
use scorewatch_core::store;
use scorewatch_core::store::summaries as traffic;
use scorewatch_core::traffic::{latency_bucket, LATENCY_BUCKETS, SCORE_BINS};

/// Scores `n` test-set rows (shifted by `intensity` standard deviations: 0 is clean),
/// dated over `hours` hours from `start`, with latencies spread over five decades.
fn scored_spread(
    app: &common::TestApp,
    start: DateTime<Utc>,
    n: usize,
    hours: i64,
    intensity: f64,
) -> Vec<scorewatch_core::model::prediction::Prediction> {
    let model = app.state.model.clone();
    let test = TestSet::load(&artifacts().join(TEST_FILE), model.model.feature_names()).unwrap();
    let rows = test.batch(0, n, intensity, DriftKind::Shift, &[], 3);
    let applications: Vec<Application> = rows
        .iter()
        .map(|r| Application::from_values(None, r, &model.model).unwrap())
        .collect();
    let mut scored = predict::score(&model, &applications, Source::Simulator, None).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    for p in &mut scored {
        p.created_at = start + Duration::seconds(rng.gen_range(0..hours * 3600));
        p.inference_time_ms = 10f64.powf(rng.gen_range(-2.5..2.5));
        if rng.gen_bool(0.3) {
            p.source = Source::Api;
        }
    }
    scored
}

/// [`scored_spread`], stored from several concurrent transactions.
async fn store_spread(
    app: &common::TestApp,
    start: DateTime<Utc>,
    n: usize,
    hours: i64,
    intensity: f64,
) -> Vec<scorewatch_core::model::prediction::Prediction> {
    let scored = scored_spread(app, start, n, hours, intensity);
    // Several transactions at once, as the writer's committers do (each on its own
    // connection, naming its summary slot as they do).
    let mut tasks = Vec::new();
    for (i, chunk) in scored.clone().chunks(n.div_ceil(4)).enumerate() {
        let (pool, chunk) = (app.pool.clone(), chunk.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut conn = pool.acquire().await.unwrap();
            for part in chunk.chunks(37) {
                store::insert_predictions_on(&mut conn, part, i as i32 + 1)
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    scored
}

/// Counts recomputed from the predictions table, in Rust.
struct Expected {
    n_approved: i64,
    n_refused: i64,
    latency_counts: Vec<i64>,
    score_approved: Vec<i64>,
    score_refused: Vec<i64>,
}

async fn expected(pool: &PgPool, from: DateTime<Utc>, to: DateTime<Utc>) -> Expected {
    let rows: Vec<(String, f64, f64)> = sqlx::query_as(
        "SELECT decision, probability, inference_time_ms FROM predictions \
          WHERE created_at >= $1 AND created_at < $2",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
    .unwrap();
    let mut e = Expected {
        n_approved: 0,
        n_refused: 0,
        latency_counts: vec![0; LATENCY_BUCKETS],
        score_approved: vec![0; SCORE_BINS],
        score_refused: vec![0; SCORE_BINS],
    };
    for (decision, p, ms) in rows {
        let bin = ((p * SCORE_BINS as f64).floor() as usize).min(SCORE_BINS - 1);
        e.latency_counts[latency_bucket(ms)] += 1;
        if decision == "APPROVED" {
            e.n_approved += 1;
            e.score_approved[bin] += 1;
        } else {
            e.n_refused += 1;
            e.score_refused[bin] += 1;
        }
    }
    e
}

/// Late rows and the minute fold: several replays of a two-day backup at once, into closed
/// minutes, while the fold runs every 150 ms. Every row is stored once and the summaries
/// equal the rows (no deadlock, no row counted twice).
#[sqlx::test(migrations = "../migrations")]
async fn concurrent_replays_and_the_fold_store_every_row_once(pool: PgPool) {
    let app = app(pool.clone()).await;
    let start = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    let rows = scored_spread(&app, start, 6_000, 30, 0.0);
    // The same backup twice: in time order, and reversed (minutes met in the other order).
    let (forward, backward) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut files = Vec::new();
    for (dir, reversed) in [(&forward, false), (&backward, true)] {
        let mut ordered = rows.clone();
        if reversed {
            ordered.reverse();
        }
        let mut backup = scorewatch_core::ingest::backup::BackupWriter::new(dir.path()).unwrap();
        for part in ordered.chunks(500) {
            backup.append(part).unwrap();
        }
        drop(backup);
        let written: Vec<std::path::PathBuf> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.push(written);
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let fold = {
        let (pool, stop) = (pool.clone(), stop.clone());
        tokio::spawn(async move {
            let mut folds = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                traffic::compact(&pool).await.expect("the fold never fails");
                folds += 1;
                tokio::time::sleep(std::time::Duration::from_millis(150)).await;
            }
            folds
        })
    };
    let mut replays = Vec::new();
    for r in 0..4 {
        let (pool, files) = (pool.clone(), files[r % 2].clone());
        replays.push(tokio::spawn(async move {
            let mut inserted = 0;
            for f in &files {
                // Small transactions, so that replays and folds interleave many times.
                inserted += scorewatch_core::ingest::backup::replay(&pool, f, 97 + r * 31, |_| {})
                    .await
                    .expect("a replay never fails")
                    .inserted;
            }
            inserted
        }));
    }
    let mut inserted = 0;
    for r in replays {
        inserted += r.await.unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(fold.await.unwrap() > 1);
    traffic::compact(&pool).await.unwrap();
    assert_eq!(inserted, 6_000, "each row inserted by exactly one replay");
    assert_eq!(app.stored().await, 6_000);
    assert_eq!(traffic::count_all(&pool).await.unwrap(), 6_000);
    check_against_predictions(&pool, start).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn summaries_agree_with_the_predictions(pool: PgPool) {
    let app = app(pool.clone()).await;
    let start = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    let stored = store_spread(&app, start, 3_000, 30, 0.0).await;
    assert_eq!(traffic::count_all(&pool).await.unwrap(), 3_000);
    // Replaying rows already stored inserts nothing and counts nothing twice.
    let inserted = store::insert_missing_predictions(&pool, &stored[..100])
        .await
        .unwrap();
    assert_eq!(inserted, 0);
    assert_eq!(traffic::count_all(&pool).await.unwrap(), 3_000);
    // Before and after the writers' rows are folded into one per minute and hour.
    let summary_rows = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM prediction_minutes")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let before = summary_rows().await;
    check_against_predictions(&pool, start).await;
    let folded = traffic::compact(&pool).await.unwrap();
    assert!(folded > 0);
    let after = summary_rows().await;
    assert!(
        after < before,
        "{after} summary rows after folding, {before} before"
    );
    let extra: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT bucket FROM prediction_minutes GROUP BY bucket HAVING count(*) > 1) d",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(extra, 0, "one row per minute after folding");
    check_against_predictions(&pool, start).await;
    assert_eq!(traffic::count_all(&pool).await.unwrap(), 3_000);
    // SQL users read whole hours, folded or not, from one view.
    let hourly: Vec<i64> = sqlx::query_scalar(
        "SELECT (n_approved + n_refused)::BIGINT FROM prediction_hours_all ORDER BY bucket",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(hourly.iter().sum::<i64>(), 3_000);
    assert_eq!(hourly.len(), 30);

    // The SQL function for rows inserted by hand builds the same summaries.
    sqlx::query("TRUNCATE prediction_minutes, prediction_hours")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "SELECT sw_rollup_add(array_agg(created_at), array_agg(decision), array_agg(probability), \
                array_agg(inference_time_ms)) FROM predictions",
    )
    .execute(&pool)
    .await
    .unwrap();
    check_against_predictions(&pool, start).await;

    // The API's own path (the writer) keeps the summaries too.
    let before = traffic::count_all(&pool).await.unwrap();
    let body = r#"{"features": {"EXT_SOURCE_2": 0.4, "DAYS_BIRTH": -15000}}"#;
    let (status, _) = app.send(app.post("/api/v1/predict", body)).await;
    assert!(status.is_success(), "predict answered {status}");
    assert_eq!(traffic::count_all(&pool).await.unwrap(), before + 1);
    let now = Utc::now();
    let t = traffic::traffic(
        &pool,
        now.duration_trunc(chrono::TimeDelta::minutes(1)).unwrap() - Duration::minutes(5),
        now + Duration::minutes(1),
        Duration::minutes(1),
    )
    .await
    .unwrap();
    assert_eq!(t.total.total(), 1);
    let slot: i32 = sqlx::query_scalar(
        "SELECT max(slot) FROM prediction_minutes WHERE bucket >= now() - interval '5 minutes'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(slot >= 1, "the writer's committers use slots of their own");
}

/// Traffic read from the summaries equals what the predictions table holds: totals and
/// histograms over a range that cuts the data (minute summaries, 15-minute steps) and over
/// all of it (hour summaries), each step's count, and the latency percentiles' buckets.
async fn check_against_predictions(pool: &PgPool, start: DateTime<Utc>) {
    let pool = pool.clone();
    for (from, to, step) in [
        (
            start + Duration::hours(2),
            start + Duration::hours(14),
            Duration::minutes(15),
        ),
        (start, start + Duration::hours(31), Duration::hours(1)),
    ] {
        let t = traffic::traffic(&pool, from, to, step).await.unwrap();
        let e = expected(&pool, from, to).await;
        assert_eq!(t.total.n_approved, e.n_approved);
        assert_eq!(t.total.n_refused, e.n_refused);
        assert_eq!(t.total.latency_counts, e.latency_counts, "latency buckets");
        assert_eq!(t.total.score_approved, e.score_approved, "approved scores");
        assert_eq!(t.total.score_refused, e.score_refused, "refused scores");
        let summed: i64 = t.buckets.iter().map(|b| b.total()).sum();
        assert_eq!(summed, e.n_approved + e.n_refused);
        // Each step holds what was created in it.
        for b in t.buckets.iter().step_by(5) {
            let e = expected(&pool, b.start, b.start + step).await;
            assert_eq!(b.total(), e.n_approved + e.n_refused, "step at {}", b.start);
        }
        // The latency percentiles land in the bucket of the exact ones.
        let exact: Vec<f64> = sqlx::query_scalar(
            "SELECT percentile_disc(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY inference_time_ms) \
               FROM predictions WHERE created_at >= $1 AND created_at < $2",
        )
        .bind(from)
        .bind(to)
        .fetch_one(&pool)
        .await
        .unwrap();
        for (q, exact) in [0.5, 0.95, 0.99].into_iter().zip(exact) {
            let approx = t.total.latency_quantile(q).unwrap();
            assert_eq!(
                latency_bucket(approx),
                latency_bucket(exact),
                "q={q}: exact {exact} ms, from the summaries {approx} ms"
            );
        }
    }
}

/// Grafana's macros, replaced the way its PostgreSQL data source expands them for a range
/// of the last 400 days and one-hour intervals.
fn expand_macros(sql: &str) -> String {
    let mut out = sql.to_string();
    for (name, replace) in [
        (
            "$__timeGroupAlias(",
            "date_bin('3600 seconds'::interval, {col}, 'epoch') AS time" as &str,
        ),
        (
            "$__timeFilter(",
            "{col} BETWEEN now() - interval '400 days' AND now() + interval '1 day'",
        ),
    ] {
        while let Some(at) = out.find(name) {
            let rest = &out[at + name.len()..];
            let close = rest.find(')').expect("macro closes");
            let col = rest[..close].split(',').next().unwrap().trim().to_string();
            out = format!(
                "{}{}{}",
                &out[..at],
                replace.replace("{col}", &col),
                &rest[close + 1..]
            );
        }
    }
    assert!(!out.contains("$__"), "a macro is left: {out}");
    out
}

#[sqlx::test(migrations = "../migrations")]
async fn every_grafana_panel_query_runs_on_the_schema(pool: PgPool) {
    use sqlx::{Column, Row};
    let app = app(pool.clone()).await;
    // Drifted rows, so that the drifted-features panel has rows to show.
    store_spread(&app, Utc::now() - Duration::hours(6), 400, 5, 0.5).await;
    let report = scorewatch_core::drift::reports::run(
        &pool,
        &app.state.model.version,
        store::WindowSpec::Last(400),
        &Default::default(),
        scorewatch_core::drift::reports::Trigger::Schedule,
    )
    .await
    .unwrap();
    assert!(report.id > 0);
    // An access log line of a predict request, for the request latency panel.
    store::insert_logs(
        &pool,
        &[store::LogEntry {
            id: 0,
            ts: Utc::now() - Duration::hours(1),
            level: "INFO".into(),
            target: "scorewatch::access".into(),
            message: "request".into(),
            request_id: None,
            method: Some("POST".into()),
            path: Some("/api/v1/predict".into()),
            status: Some(200),
            latency_ms: Some(2.5),
            fields: serde_json::json!({}),
        }],
    )
    .await
    .unwrap();

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy/grafana/dashboards/scorewatch.json");
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let panels = dashboard["panels"].as_array().unwrap();
    assert!(panels.len() >= 8);
    for panel in panels {
        let title = panel["title"].as_str().unwrap();
        for target in panel["targets"].as_array().unwrap() {
            let sql = expand_macros(target["rawSql"].as_str().unwrap());
            let rows = sqlx::query(&sql)
                .fetch_all(&pool)
                .await
                .unwrap_or_else(|e| panic!("panel `{title}`: {e}\n{sql}"));
            assert!(!rows.is_empty(), "panel `{title}` shows nothing:\n{sql}");
            if target["format"] == "time_series" {
                assert_eq!(
                    rows[0].columns()[0].name(),
                    "time",
                    "panel `{title}`: a time series starts with `time`"
                );
            }
        }
    }
}
