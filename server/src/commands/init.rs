//! `scorewatch init`: registers a LightGBM model and its training reference, and makes it
//! the active version.

use anyhow::Result;

use scorewatch_core::model::registry::{self, InitOptions};

use super::spinner;
use crate::config::InitArgs;

/// Registers (or re-activates) the model and prints what was registered.
pub async fn run(args: InitArgs) -> Result<()> {
    let database = args.db.open().await?;
    let spinner = spinner("reading the model and summarising the reference");
    let opts = InitOptions {
        model: args.model,
        card: args.card,
        reference: args.reference,
        threshold: args.threshold,
        name: args.name,
        sample_size: args.sample_size,
        psi_bins: args.psi_bins,
        max_reference_rows: args.max_reference_rows.unwrap_or(usize::MAX),
        holdout: args.holdout,
    };
    let report = registry::init(&database.pool, &opts).await;
    spinner.finish_and_clear();
    let r = report?;
    println!(
        "{} model version {} ({}, sha256 {}), now active",
        if r.new_version {
            "registered"
        } else {
            "re-activated"
        },
        r.model_version,
        r.name,
        &r.sha256[..12]
    );
    println!(
        "  objective {}, {} features, threshold {}, reference: {} rows (refusal rate {:.1}%)",
        r.objective,
        r.n_features,
        r.threshold,
        r.n_reference_rows,
        100.0 * r.reference_refusal_rate
    );
    match r.holdout {
        Some((n, Some(auc))) => println!("  hold-out: {n} labelled rows, ROC AUC {auc:.4}"),
        Some((n, None)) => println!(
            "  hold-out: {n} labelled rows, all of one outcome (no AUC): estimates will be unreliable"
        ),
        None => println!(
            "  no hold-out (--holdout FILE): performance will not be estimated before outcomes arrive"
        ),
    }
    println!("  a running `scorewatch serve` picks it up when restarted");
    Ok(())
}
