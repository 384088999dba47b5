//! `scorewatch report`: writes a stored drift report as one self-contained HTML file.

use std::path::PathBuf;

use anyhow::{Context, Result};

use scorewatch_core::drift::reports;

use super::spinner;
use crate::config::ReportArgs;

/// Writes report `--id` to `--out` (default `drift-report-<id>.html` in the current
/// directory) and prints the file's absolute path.
pub async fn run(args: ReportArgs) -> Result<()> {
    let database = args.db.open().await?;
    let bar = spinner("reading the report and its window");
    let html = reports::html(&database.pool, args.id).await;
    bar.finish_and_clear();
    let html = html?.with_context(|| {
        format!(
            "no drift report {} (list them with GET /api/v1/drift/reports)",
            args.id
        )
    })?;
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from(format!("drift-report-{}.html", args.id)));
    std::fs::write(&out, &html).with_context(|| format!("writing {}", out.display()))?;
    // The full path: without --out the file lands in the current directory.
    let shown = std::path::absolute(&out).unwrap_or(out);
    println!(
        "wrote {} ({:.0} KB)",
        shown.display(),
        html.len() as f64 / 1024.0
    );
    Ok(())
}
