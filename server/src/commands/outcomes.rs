//! `scorewatch outcomes import`: outcomes from a CSV, checked whole before anything is
//! stored, then recorded in batches with a progress bar.

use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use uuid::Uuid;

use scorewatch_core::drift::reference::{open_csv, parse_outcome};
use scorewatch_core::store::{self, NewOutcome, OutcomeSource, OutcomeTarget};

use crate::config::OutcomesCommand;

/// Runs `scorewatch outcomes ...`.
pub async fn run(cmd: OutcomesCommand) -> Result<()> {
    match cmd {
        OutcomesCommand::Import {
            db,
            file,
            batch_size,
            all_unmatched,
        } => {
            if batch_size == 0 {
                bail!("--batch-size must be at least 1");
            }
            let items = read_outcomes(&file, Utc::now())?;
            let database = db.open().await?;
            let bar = ProgressBar::new(items.len() as u64).with_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} outcomes ({eta} left)")
                    .expect("valid template"),
            );
            let (mut recorded, mut replaced) = (0u64, 0u64);
            let mut unmatched = Vec::new();
            for (n, batch) in items.chunks(batch_size).enumerate() {
                let done = store::record_outcomes(&database.pool, batch, OutcomeSource::Csv)
                    .await
                    .with_context(|| {
                        format!(
                            "storing rows {}..{} (earlier rows are stored)",
                            n * batch_size + 1,
                            n * batch_size + batch.len()
                        )
                    })?;
                recorded += done.recorded;
                replaced += done.replaced;
                unmatched.extend(done.unmatched.iter().map(|i| n * batch_size + i));
                bar.inc(batch.len() as u64);
            }
            bar.finish_and_clear();
            println!(
                "{}: {recorded} recorded ({replaced} replaced an earlier outcome), {} unmatched",
                file.display(),
                unmatched.len()
            );
            let shown = if all_unmatched { unmatched.len() } else { 10 };
            for &i in unmatched.iter().take(shown) {
                let what = match items[i].target {
                    OutcomeTarget::Prediction(id) => {
                        format!("prediction_id {id}: no such prediction")
                    }
                    OutcomeTarget::Client(c) => format!(
                        "SK_ID_CURR {c}: no prediction of this client at or before {}",
                        items[i].observed_at.to_rfc3339()
                    ),
                };
                println!("  unmatched row {} (line {}): {what}", i + 1, i + 2);
            }
            if unmatched.len() > shown {
                println!(
                    "  ... and {} more (--all-unmatched lists them)",
                    unmatched.len() - shown
                );
            }
            Ok(())
        }
    }
}

/// Reads and checks every row of an outcomes CSV; an error names the row, the line and the
/// column. `now` is the observation time of rows without `observed_at`.
pub fn read_outcomes(path: &Path, now: DateTime<Utc>) -> Result<Vec<NewOutcome>> {
    let (mut csv, header) = open_csv(path)?;
    let col = |name: &str| header.iter().position(|h| h == name);
    let (id_col, client_col) = (col("prediction_id"), col("SK_ID_CURR"));
    if id_col.is_none() && client_col.is_none() {
        bail!(
            "{} names no prediction: it needs a prediction_id or an SK_ID_CURR column",
            path.display()
        );
    }
    let target_col = col("TARGET").with_context(|| {
        format!(
            "{} has no TARGET column (1 = defaulted, 0 = did not)",
            path.display()
        )
    })?;
    let observed_col = col("observed_at");
    let mut items = Vec::new();
    for (row, record) in csv.records().enumerate() {
        let at = || format!("{} row {} (line {})", path.display(), row + 1, row + 2);
        let record = record.with_context(at)?;
        let field = |c: Option<usize>| {
            c.and_then(|c| record.get(c))
                .map(str::trim)
                .filter(|f| !f.is_empty())
        };
        let target = match (field(id_col), field(client_col)) {
            (Some(id), _) => OutcomeTarget::Prediction(Uuid::parse_str(id).map_err(|_| {
                anyhow::anyhow!("{}, column prediction_id: {id:?} is not a UUID", at())
            })?),
            (None, Some(c)) => OutcomeTarget::Client(c.parse().map_err(|_| {
                anyhow::anyhow!("{}, column SK_ID_CURR: {c:?} is not a whole number", at())
            })?),
            (None, None) => bail!("{}: neither prediction_id nor SK_ID_CURR is given", at()),
        };
        let t = field(Some(target_col)).unwrap_or("");
        let defaulted =
            parse_outcome(t).with_context(|| format!("{}, column TARGET: {t:?}", at()))?;
        let observed_at = match field(observed_col) {
            None => now,
            Some(o) => DateTime::parse_from_rfc3339(o)
                .map_err(|e| {
                    anyhow::anyhow!(
                        "{}, column observed_at: {o:?} is not an RFC 3339 time such as 2026-11-30T12:00:00Z ({e})",
                        at()
                    )
                })?
                .with_timezone(&Utc),
        };
        items.push(NewOutcome {
            target,
            defaulted,
            observed_at,
        });
    }
    if items.is_empty() {
        bail!("{} has no data rows", path.display());
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_checked_before_anything_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.csv");
        std::fs::write(
            &good,
            "SK_ID_CURR,TARGET,observed_at\n100002,1,2026-11-30T12:00:00Z\n100003,0,\n",
        )
        .unwrap();
        let now = Utc::now();
        let items = read_outcomes(&good, now).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].target, OutcomeTarget::Client(100002));
        assert!(items[0].defaulted);
        assert_eq!(items[1].observed_at, now);

        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "SK_ID_CURR,TARGET\n100002,1\n100003,2\n").unwrap();
        let err = format!("{:#}", read_outcomes(&bad, now).unwrap_err());
        assert!(err.contains("row 2 (line 3), column TARGET"), "{err}");

        let none = dir.path().join("none.csv");
        std::fs::write(&none, "id,TARGET\n1,1\n").unwrap();
        assert!(read_outcomes(&none, now).is_err());
    }
}
