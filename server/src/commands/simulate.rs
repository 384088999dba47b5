//! `scorewatch simulate`: replays the test set against a running predict API, with drift
//! injected batch by batch, and asks the server for a drift report after each batch.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Map, Value};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use scorewatch_core::simulate::{outcome_with_concept_drift, DriftKind, TestSet};

use crate::config::SimulateArgs;

#[derive(Default)]
struct BatchStats {
    sent: usize,
    stored: usize,
    refused: usize,
    probability_sum: f64,
    errors: Vec<String>,
}

fn check_args(args: &SimulateArgs) -> Result<()> {
    let intensities = args.intensities();
    if intensities.iter().any(|a| !a.is_finite() || *a < 0.0) {
        bail!("--intensities must be non-negative numbers");
    }
    if args.kind == DriftKind::Missing && intensities.iter().any(|a| *a > 1.0) {
        bail!("--kind missing takes intensities between 0 and 1 (a probability)");
    }
    if !(0.0..=1.0).contains(&args.concept_drift) {
        bail!("--concept-drift is a share of the outcomes: between 0 and 1");
    }
    Ok(())
}

/// Replays the batches (or backfills days of history with `--backfill`), printing a line
/// per batch or day.
pub async fn run(args: SimulateArgs) -> Result<()> {
    check_args(&args)?;
    if let Some(days) = args.backfill {
        return backfill(&args, days).await;
    }
    if args.batch_size == 0 || args.n_batches == 0 {
        bail!("--batch-size and --n-batches must be at least 1");
    }
    check_args(&args)?;
    let intensities = args.intensities();
    let base = args.url.trim_end_matches('/').to_owned();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let key = args.api_key.clone().unwrap_or_default();
    let model: Value = client
        .get(format!("{base}/api/v1/model"))
        .bearer_auth(&key)
        .send()
        .await
        .with_context(|| format!("cannot reach the API at {base}: is `scorewatch serve` running?"))?
        .error_for_status()
        .context(
            "reading the model (a viewer, officer or admin key is needed: set SCOREWATCH_API_KEY)",
        )?
        .json()
        .await?;
    let names: Vec<String> = model["features"]
        .as_array()
        .context("the API's model has no feature list")?
        .iter()
        .filter_map(|f| f["name"].as_str().map(str::to_owned))
        .collect();
    let path = args.test_file.clone();
    let test = {
        let names = names.clone();
        tokio::task::spawn_blocking(move || TestSet::load(&path, &names)).await??
    };
    let outcomes = if args.outcomes {
        Some(scorewatch_core::simulate::load_outcomes(
            &args.outcomes_file,
            test.n_rows,
        )?)
    } else {
        None
    };
    // (prediction id, defaulted) of scored batches whose outcomes are not recorded yet.
    let mut pending: std::collections::VecDeque<Vec<(String, bool)>> = Default::default();
    let mut outcome_totals = (0u64, 0u64);
    let drifted: Vec<usize> = args
        .features
        .iter()
        .map(|f| {
            names
                .iter()
                .position(|n| n == f)
                .with_context(|| format!("--features: the model has no feature {f}"))
        })
        .collect::<Result<_>>()?;
    let is_admin = client
        .get(format!("{base}/api/v1/drift/reports?limit=1"))
        .bearer_auth(&key)
        .send()
        .await
        .map(|r| r.status().is_success())
        .unwrap_or(false);

    let total = (args.batch_size * args.n_batches) as u64;
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template(
            "{bar:30} {pos}/{len} applications ({per_sec}, {eta} left) {msg}",
        )
        .expect("valid template"),
    );
    println!(
        "{:>5}  {:>9}  {:>5}  {:>6}  {:>8}  {:>9}  drift",
        "batch", "intensity", "sent", "stored", "refused", "mean prob"
    );
    let client = Arc::new(client);
    let limit = Arc::new(tokio::sync::Semaphore::new(args.concurrency.max(1)));
    // When each batch was sent: from just before its first request to just after its last
    // answer (this machine's clock), the window of its performance report.
    let mut spans = Vec::with_capacity(args.n_batches);
    for b in 0..args.n_batches {
        let batch_started = chrono::Utc::now();
        let intensity = *intensities
            .get(b)
            .or(intensities.last())
            .expect("not empty");
        let rows = test.batch(
            b * args.batch_size,
            args.batch_size,
            intensity,
            args.kind,
            &drifted,
            args.seed.wrapping_add(b as u64),
        );
        let mut tasks = Vec::with_capacity(rows.len());
        for (k, row) in rows.into_iter().enumerate() {
            let mut features = Map::new();
            for (name, v) in names.iter().zip(row) {
                features.insert(
                    name.clone(),
                    if v.is_nan() { Value::Null } else { json!(v) },
                );
            }
            let body =
                json!({"sk_id_curr": 100_000 + b * args.batch_size + k, "features": features});
            let (client, limit, key, url) =
                (client.clone(), limit.clone(), key.clone(), base.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = limit.acquire_owned().await.expect("semaphore open");
                let res = client
                    .post(format!("{url}/api/v1/predict?source=simulator"))
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().is_success() => {
                        r.json::<Value>().await.map_err(|e| e.to_string())
                    }
                    Ok(r) => {
                        let status = r.status();
                        let text = r.text().await.unwrap_or_default();
                        Err(format!("{status}: {text}"))
                    }
                    Err(e) => Err(e.to_string()),
                }
            }));
        }
        let mut stats = BatchStats::default();
        let concept = args.concept_drift_at(b, args.n_batches);
        let mut rng = ChaCha8Rng::seed_from_u64(args.seed ^ 0x6f75_7463_6f6d_6573 ^ b as u64);
        let mut batch_outcomes = Vec::new();
        for (k, t) in tasks.into_iter().enumerate() {
            stats.sent += 1;
            match t.await? {
                Ok(v) => {
                    if let (Some(all), Some(id)) = (&outcomes, v["prediction_id"].as_str()) {
                        let row = b * args.batch_size + k;
                        batch_outcomes.push((
                            id.to_owned(),
                            outcome_with_concept_drift(all, row, concept, &mut rng),
                        ));
                    }
                    stats.stored += 1;
                    if v["decision"] == "REFUSED" {
                        stats.refused += 1;
                    }
                    stats.probability_sum += v["probability"].as_f64().unwrap_or(0.0);
                }
                Err(e) => stats.errors.push(e),
            }
            bar.inc(1);
        }
        let drift = if is_admin && stats.stored > 0 {
            match client
                .post(format!("{base}/api/v1/drift/run"))
                .bearer_auth(&key)
                .json(&json!({"last": stats.stored}))
                .send()
                .await
                .and_then(|r| r.error_for_status())
            {
                Ok(r) => {
                    let v: Value = r.json().await.unwrap_or_default();
                    format!(
                        "{} ({:.0}% of features, report {})",
                        v["report"]["status"].as_str().unwrap_or("?"),
                        100.0 * v["report"]["drift_share"].as_f64().unwrap_or(0.0),
                        v["report"]["id"]
                    )
                }
                Err(e) => format!("report failed: {e}"),
            }
        } else if is_admin {
            "-".into()
        } else {
            "(admin key needed for reports)".into()
        };
        spans.push((batch_started, chrono::Utc::now()));
        if outcomes.is_some() {
            pending.push_back(batch_outcomes);
            while pending.len() > args.outcome_lag {
                let due = pending.pop_front().expect("not empty");
                let (r, u) = post_outcomes(&client, &base, &key, &due).await?;
                outcome_totals.0 += r;
                outcome_totals.1 += u;
            }
        }
        bar.suspend(|| {
            println!(
                "{:>5}  {:>9.2}  {:>5}  {:>6}  {:>7.1}%  {:>9.4}  {}",
                b + 1,
                intensity,
                stats.sent,
                stats.stored,
                100.0 * stats.refused as f64 / stats.stored.max(1) as f64,
                stats.probability_sum / stats.stored.max(1) as f64,
                drift
            );
            if let Some(e) = stats.errors.first() {
                println!("       {} requests failed; first: {e}", stats.errors.len());
            }
        });
        if b + 1 < args.n_batches && !args.delay.is_zero() {
            tokio::time::sleep(args.delay).await;
        }
    }
    while let Some(due) = pending.pop_front() {
        let (r, u) = post_outcomes(&client, &base, &key, &due).await?;
        outcome_totals.0 += r;
        outcome_totals.1 += u;
    }
    bar.finish_and_clear();
    if outcomes.is_some() {
        println!(
            "outcomes: {} recorded, {} unmatched{}",
            outcome_totals.0,
            outcome_totals.1,
            if args.concept_drift > 0.0 {
                format!(
                    " (concept drift: {:.0}% of the outcomes of the second half are another applicant's)",
                    100.0 * args.concept_drift
                )
            } else {
                String::new()
            }
        );
        if is_admin {
            batch_performance(&client, &base, &key, &spans).await;
        } else {
            println!("(an admin key also computes each batch's performance report)");
        }
    }
    Ok(())
}

/// One performance report per batch (its sending window), once all outcomes are recorded;
/// prints each batch's realised and estimated AUC, the ECB test and the status.
async fn batch_performance(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    spans: &[(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)],
) {
    println!(
        "{:>5}  {:>6}  {:>8}  {:>7}  {:>8}  {:>8}  status",
        "batch", "report", "labelled", "AUC", "est. AUC", "AUC test"
    );
    let f = |v: &Value| v.as_f64().map_or("-".to_string(), |v| format!("{v:.4}"));
    for (b, (since, until)) in spans.iter().enumerate() {
        let body = json!({
            "since": since.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "until": (*until + chrono::Duration::microseconds(1))
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        });
        let answer = client
            .post(format!("{base}/api/v1/performance/run"))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .and_then(|r| r.error_for_status());
        match answer {
            Ok(r) => {
                let v: Value = r.json().await.unwrap_or_default();
                let r = &v["report"];
                println!(
                    "{:>5}  {:>6}  {:>8}  {:>7}  {:>8}  {:>8}  {}",
                    b + 1,
                    r["id"].to_string(),
                    r["n_labelled"].to_string(),
                    f(&r["roc_auc"]),
                    f(&r["estimated_roc_auc"]),
                    f(&r["auc_test"]["p_value"]),
                    r["status"].as_str().unwrap_or("?")
                );
            }
            Err(e) => println!("{:>5}  performance report failed: {e}", b + 1),
        }
    }
}

/// Records outcomes through the API; returns (recorded, unmatched).
async fn post_outcomes(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    due: &[(String, bool)],
) -> Result<(u64, u64)> {
    if due.is_empty() {
        return Ok((0, 0));
    }
    let items: Vec<Value> = due
        .iter()
        .map(|(id, d)| json!({"prediction_id": id, "defaulted": d}))
        .collect();
    let answer: Value = client
        .post(format!("{base}/api/v1/outcomes"))
        .bearer_auth(key)
        .json(&json!({ "outcomes": items }))
        .send()
        .await
        .context("recording outcomes")?
        .error_for_status()
        .context("recording outcomes (a scorer or admin key is needed)")?
        .json()
        .await?;
    Ok((
        answer["recorded"].as_u64().unwrap_or(0),
        answer["unmatched"].as_array().map_or(0, |u| u.len() as u64),
    ))
}

/// Days after its prediction within which a backfilled outcome is observed (uniformly).
const OUTCOME_LAG_DAYS: i64 = 28;

/// Intensity of backfilled day `d` of `days` (0 = oldest): clean for the first half, then
/// rising linearly to `max` on the last day.
fn backfill_intensity(d: u32, days: u32, max: f64) -> f64 {
    let clean = days / 2;
    if d < clean || days <= 1 {
        return 0.0;
    }
    let steps = (days - clean) as f64;
    max * (d - clean + 1) as f64 / steps
}

async fn backfill(args: &SimulateArgs, days: u32) -> Result<()> {
    use chrono::{Duration as Span, DurationRound, Utc};
    use scorewatch_core::drift::analysis::Settings;
    use scorewatch_core::drift::reports::{self, Trigger};
    use scorewatch_core::model::application::Application;
    use scorewatch_core::model::predict;
    use scorewatch_core::model::prediction::Source;
    use scorewatch_core::model::registry;
    use scorewatch_core::store::{self, WindowSpec};

    if days == 0 || args.per_day == 0 {
        bail!("--backfill and --per-day must be at least 1");
    }
    let database = args.db.open().await?;
    let model = registry::load_active(&database.pool)
        .await?
        .context("no active model: register one with `scorewatch init`")?;
    let names = model.model.feature_names().to_vec();
    let path = args.test_file.clone();
    let test = tokio::task::spawn_blocking(move || TestSet::load(&path, &names)).await??;
    let drifted: Vec<usize> = args
        .features
        .iter()
        .map(|f| {
            model
                .model
                .feature_index(f)
                .with_context(|| format!("--features: the model has no feature {f}"))
        })
        .collect::<Result<_>>()?;
    let max = args.intensities().iter().copied().fold(0.0, f64::max);
    let outcomes = if args.outcomes {
        Some(scorewatch_core::simulate::load_outcomes(
            &args.outcomes_file,
            test.n_rows,
        )?)
    } else {
        None
    };
    let now = Utc::now();
    let mut labelled = 0u64;
    let today = Utc::now().duration_trunc(Span::days(1))?;
    let bar = ProgressBar::new(days as u64).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} days ({eta} left) {msg}")
            .expect("valid template"),
    );
    let mut summaries = Vec::new();
    for d in 0..days {
        let day_start = today - Span::days((days - d) as i64);
        let intensity = backfill_intensity(d, days, max);
        let rows = test.batch(
            d as usize * args.per_day,
            args.per_day,
            intensity,
            args.kind,
            &drifted,
            args.seed.wrapping_add(d as u64),
        );
        let applications: Vec<Application> = rows
            .iter()
            .enumerate()
            .map(|(k, r)| Application::from_values(Some(100_000 + k as i64), r, &model.model))
            .collect::<Result<_, _>>()?;
        let active = model.clone();
        let mut scored = tokio::task::spawn_blocking(move || {
            predict::score(&active, &applications, Source::Simulator, None)
        })
        .await??;
        let step = Span::microseconds(86_400_000_000 / args.per_day as i64);
        for (k, p) in scored.iter_mut().enumerate() {
            p.created_at = day_start + step * k as i32;
        }
        store::insert_predictions(&database.pool, &scored).await?;
        if let Some(all) = &outcomes {
            use rand::Rng;
            let concept = args.concept_drift_at(d as usize, days as usize);
            let mut rng = ChaCha8Rng::seed_from_u64(args.seed ^ 0x6f75_7463_6f6d_6573 ^ d as u64);
            let mut items = Vec::new();
            for (k, p) in scored.iter().enumerate() {
                let defaulted = outcome_with_concept_drift(
                    all,
                    d as usize * args.per_day + k,
                    concept,
                    &mut rng,
                );
                let lag =
                    Span::seconds((rng.gen::<f64>() * OUTCOME_LAG_DAYS as f64 * 86_400.0) as i64);
                let observed_at = p.created_at + lag;
                if observed_at <= now {
                    items.push(store::NewOutcome {
                        target: store::OutcomeTarget::Prediction(p.id),
                        defaulted,
                        observed_at,
                    });
                }
            }
            labelled +=
                store::record_outcomes(&database.pool, &items, store::OutcomeSource::Simulator)
                    .await?
                    .recorded;
        }
        let report = reports::run(
            &database.pool,
            &model.version,
            WindowSpec::Range {
                since: day_start,
                until: day_start + Span::days(1),
            },
            &Settings::default(),
            Trigger::Backfill,
        )
        .await?;
        bar.set_message(report.analysis.summary.status.as_str());
        bar.inc(1);
        summaries.push((day_start, intensity, report));
    }
    bar.finish_and_clear();
    if outcomes.is_some() {
        use scorewatch_core::performance::{
            report::Settings as PerformanceSettings, reports as performance,
        };
        println!("outcomes: {labelled} of {} predictions labelled (observed 0 to {OUTCOME_LAG_DAYS} days after)", days as usize * args.per_day);
        let first = today - Span::days(days as i64);
        println!(
            "{:<10}  {:>6}  {:>8}  {:>7}  {:>7}  {:>8}  {:>8}  status",
            "week", "report", "labelled", "AUC", "est.AUC", "AUC test", "Jeffreys"
        );
        for (since, until) in reports::tumbling_windows(first, today, Span::days(7)) {
            let r = performance::run(
                &database.pool,
                &model.version,
                WindowSpec::Range { since, until },
                &PerformanceSettings::default(),
                Trigger::Backfill,
            )
            .await?;
            let m = &r.computed.metrics;
            let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
            println!(
                "{:<10}  {:>6}  {:>8}  {:>7}  {:>7}  {:>8}  {:>8}  {}",
                since.format("%Y-%m-%d"),
                r.id,
                m.n_labelled,
                f(m.roc_auc),
                f(m.estimated_roc_auc),
                m.auc_test
                    .map_or("-".into(), |t| format!("{:.4}", t.p_value)),
                f(m.jeffreys_p_value),
                r.computed.status.as_str()
            );
        }
    }
    println!(
        "{:<10}  {:>9}  {:>6}  {:>7}  status",
        "day", "intensity", "report", "drifted"
    );
    for (day, intensity, r) in summaries {
        let s = &r.analysis.summary;
        println!(
            "{:<10}  {:>9.2}  {:>6}  {:>6.1}%  {}",
            day.format("%Y-%m-%d"),
            intensity,
            r.id,
            100.0 * s.drift_share,
            s.status.as_str()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backfill_drift_starts_half_way_and_reaches_the_maximum() {
        let v: Vec<f64> = (0..6).map(|d| backfill_intensity(d, 6, 0.6)).collect();
        assert_eq!(v[..3], [0.0, 0.0, 0.0]);
        assert!((v[3] - 0.2).abs() < 1e-12 && (v[5] - 0.6).abs() < 1e-12);
        assert!(v.windows(2).all(|w| w[0] <= w[1]));
    }
}
