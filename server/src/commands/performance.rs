//! `scorewatch performance`: performance reports over a period (one window, or tumbling
//! windows) or over the newest predictions, stored and printed as a table or JSON.

use anyhow::{Context, Result};
use chrono::{Duration, Utc};
use indicatif::{ProgressBar, ProgressStyle};

use scorewatch_core::drift::reports::{tumbling_windows, Trigger};
use scorewatch_core::performance::report::Settings;
use scorewatch_core::performance::reports;
use scorewatch_core::store::{self, WindowSpec};

use crate::config::PerformanceArgs;

/// Length of the cohort when --since is not given.
const DEFAULT_DAYS: i64 = 30;

fn fmt(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".into(), |v| format!("{v:.digits$}"))
}

/// Checks the options, then computes, stores and prints one report per window.
pub async fn run(args: PerformanceArgs) -> Result<()> {
    let settings = Settings {
        warning_level: args.warning_level,
        alert_level: args.alert_level,
        min_labelled: args.min_labelled,
        min_defaults: args.min_defaults,
        master_scale: args.master_scale.clone(),
    };
    settings.validate().map_err(|e| {
        anyhow::anyhow!(
            "{} (--warning-level, --alert-level, --master-scale)",
            e.public_message()
        )
    })?;
    let now = Utc::now();
    let since = match (args.since, args.last) {
        (None, None) => Some(args.until.unwrap_or(now) - Duration::days(DEFAULT_DAYS)),
        (since, _) => since,
    };
    let period = WindowSpec::from_parts(args.last, since, args.until, now)
        .map_err(|e| anyhow::anyhow!("{e} (--last, --since, --until)"))?;
    let database = args.db.open().await?;
    let model = store::active_model(&database.pool)
        .await?
        .context("no active model: register one with `scorewatch init`")?;
    let specs: Vec<WindowSpec> = match (period, args.window) {
        (WindowSpec::Range { since, until }, Some(length)) => {
            let mut specs = Vec::new();
            for (since, until) in tumbling_windows(since, until, length) {
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
        let report = reports::run(&database.pool, &model, spec, &settings, Trigger::Cli).await?;
        bar.inc(1);
        if args.json {
            let (header, grades) = store::get_performance_report(&database.pool, report.id)
                .await?
                .context("the report just stored is gone")?;
            bar.suspend(|| {
                println!(
                    "{}",
                    serde_json::json!({ "report": header, "grades": grades })
                )
            });
            continue;
        }
        let m = &report.computed.metrics;
        bar.suspend(|| {
            if !printed_header {
                println!(
                    "{:>6}  {:<20}  {:<20}  {:>8}  {:>8}  {:>7}  {:>6}  {:>15}  {:>9}  {:>8}  {:>7}  status",
                    "report", "from", "to", "n", "labelled", "default", "AUC", "95% CI", "est. AUC", "AUC test", "Jeffreys"
                );
                printed_header = true;
            }
            println!(
                "{:>6}  {:<20}  {:<20}  {:>8}  {:>8}  {:>7}  {:>6}  {:>15}  {:>9}  {:>8}  {:>7}  {}",
                report.id,
                report.window_start.format("%Y-%m-%d %H:%M:%S"),
                report.window_end.format("%Y-%m-%d %H:%M:%S"),
                m.n_predictions,
                m.n_labelled,
                m.n_defaults,
                fmt(m.roc_auc, 4),
                match (m.roc_auc_ci_low, m.roc_auc_ci_high) {
                    (Some(l), Some(h)) => format!("{l:.3}-{h:.3}"),
                    _ => "-".into(),
                },
                fmt(m.estimated_roc_auc, 4),
                m.auc_test.map_or("-".into(), |t| format!("p={:.3}", t.p_value)),
                fmt(m.jeffreys_p_value, 3),
                report.computed.status.as_str(),
            );
            for note in &m.notes {
                println!("        note: {note}");
            }
        });
    }
    bar.finish_and_clear();
    Ok(())
}
