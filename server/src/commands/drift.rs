//! `scorewatch drift`: drift reports over a period (one window, or tumbling windows) or
//! over the newest predictions, stored and printed as a table or JSON.

use anyhow::{Context, Result};
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};

use scorewatch_core::drift::analysis::Settings;
use scorewatch_core::drift::reports;
use scorewatch_core::store::{self, WindowSpec};

use crate::config::DriftArgs;

/// Checks the options, then computes, stores and prints one report per window.
pub async fn run(args: DriftArgs) -> Result<()> {
    if !(args.alpha > 0.0 && args.alpha < 1.0) {
        anyhow::bail!("--alpha must lie strictly between 0 and 1");
    }
    if !(0.0..=1.0).contains(&args.warning_share) || args.alert_share < args.warning_share {
        anyhow::bail!("need 0 <= --warning-share <= --alert-share");
    }
    let database = args.db.open().await?;
    let model = store::active_model(&database.pool)
        .await?
        .context("no active model: register one with `scorewatch init`")?;
    let settings = Settings {
        method: args.method,
        alpha: args.alpha,
        correction: args.correction,
        warning_share: args.warning_share,
        alert_share: args.alert_share,
        min_predictions: args.min_predictions,
        ..Settings::default()
    };
    // One rule for every way of asking (see `WindowSpec::from_parts`).
    let period = WindowSpec::from_parts(args.last, args.since, args.until, Utc::now())
        .map_err(|e| anyhow::anyhow!("{e} (--last, --since, --until)"))?;
    let specs: Vec<WindowSpec> = match (period, args.window) {
        (WindowSpec::Range { since, until }, Some(length)) => {
            let mut specs = Vec::new();
            for (since, until) in reports::tumbling_windows(since, until, length) {
                if store::count_predictions_between(&database.pool, model.id, since, until).await?
                    > 0
                {
                    specs.push(WindowSpec::Range { since, until });
                }
            }
            if specs.is_empty() {
                println!("no predictions in that period: nothing to report");
            }
            specs
        }
        (period, _) => vec![period],
    };
    let bar = if specs.len() > 1 {
        ProgressBar::new(specs.len() as u64).with_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} windows ({eta} left)")
                .expect("valid template"),
        )
    } else {
        ProgressBar::hidden()
    };
    let mut printed_header = false;
    for spec in specs {
        let report = reports::run(
            &database.pool,
            &model,
            spec,
            &settings,
            reports::Trigger::Cli,
        )
        .await?;
        bar.inc(1);
        if args.json {
            let (header, features) = store::get_drift_report(&database.pool, report.id)
                .await?
                .context("the report just stored is gone")?;
            bar.suspend(|| {
                println!(
                    "{}",
                    serde_json::json!({ "report": header, "features": features })
                )
            });
            continue;
        }
        let s = &report.analysis.summary;
        bar.suspend(|| {
            if !printed_header {
                println!(
                    "{:>6}  {:<20}  {:<20}  {:>7}  {:>8}  {:>7}  {:>6}  {:<17}  {:>9}  top drifted",
                    "report",
                    "from",
                    "to",
                    "n",
                    "analysed",
                    "drifted",
                    "share",
                    "status",
                    "score PSI"
                );
                printed_header = true;
            }
            let top: Vec<&str> = report
                .analysis
                .most_drifted()
                .into_iter()
                .take(3)
                .map(|f| f.feature.as_str())
                .collect();
            println!(
                "{:>6}  {:<20}  {:<20}  {:>7}  {:>8}  {:>7}  {:>5.1}%  {:<17}  {:>9}  {}",
                report.id,
                report.window_start.format("%Y-%m-%d %H:%M:%S"),
                report.window_end.format("%Y-%m-%d %H:%M:%S"),
                s.n_current,
                s.n_features_analyzed,
                s.n_features_drifted,
                100.0 * s.drift_share,
                s.status.as_str(),
                s.score_psi.map_or("-".into(), |v| format!("{v:.3}")),
                top.join(", ")
            );
        });
    }
    bar.finish_and_clear();
    Ok(())
}
