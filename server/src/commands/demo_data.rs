//! `scorewatch demo-data`: generates the synthetic credit data set, trains the demo model
//! and writes the artifacts.

use std::time::Duration;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};

use scorewatch_core::demo::{self, DemoConfig};

use crate::config::DemoDataArgs;

/// Builds the artifacts off the async executor, with a progress bar, and prints a summary.
pub async fn run(args: DemoDataArgs) -> Result<()> {
    let cfg = DemoConfig {
        out_dir: args.out,
        seed: args.seed,
        train_rows: args.train_rows,
        test_rows: args.test_rows,
        reference_rows: args.reference_rows,
        max_rounds: args.max_rounds,
    };
    let bar = ProgressBar::new(demo::BuildStep::COUNT).with_style(
        ProgressStyle::with_template("{spinner} [{pos}/{len}] {msg} ({elapsed})")
            .expect("valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let summary = tokio::task::spawn_blocking(move || {
        let shown = |step: demo::BuildStep| {
            bar.set_position(step.index());
            bar.set_message(step.describe());
        };
        demo::build(&cfg, shown).map(|s| (s, bar))
    })
    .await??;
    let (summary, bar) = summary;
    bar.finish_and_clear();
    let m = &summary.metrics;
    println!(
        "trained on {} applicants ({} validation), default rate {:.2}%",
        m.n_train,
        m.n_valid,
        100.0 * summary.default_rate
    );
    println!(
        "validation AUC {:.4} (train {:.4}), {} trees",
        m.valid_auc, m.train_auc, m.best_iteration
    );
    for f in &summary.files {
        let size = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
        println!("  wrote {} ({:.1} MB)", f.display(), size as f64 / 1e6);
    }
    Ok(())
}
