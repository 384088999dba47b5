//! `scorewatch replay-backup`: puts back predictions from JSONL backup files that the
//! database does not have.

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use scorewatch_core::ingest::backup;

use crate::config::ReplayArgs;

/// Replays each file in turn with a progress bar, printing what was read and inserted.
pub async fn run(args: ReplayArgs) -> Result<()> {
    let database = args.db.open().await?;
    let (mut total_read, mut total_inserted) = (0u64, 0u64);
    for file in &args.files {
        let size = std::fs::metadata(file)
            .with_context(|| format!("reading {}", file.display()))?
            .len();
        let bar = ProgressBar::new(size).with_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({eta} left)")
                .expect("valid template"),
        );
        bar.set_message(file.display().to_string());
        let backup::Replayed { read, inserted } =
            backup::replay(&database.pool, file, args.chunk, |bytes| {
                bar.set_position(bytes)
            })
            .await?;
        bar.finish_and_clear();
        println!(
            "{}: {read} predictions, {inserted} inserted, {} already stored",
            file.display(),
            read - inserted
        );
        total_read += read;
        total_inserted += inserted;
    }
    if args.files.len() > 1 {
        println!("total: {total_read} predictions, {total_inserted} inserted");
    }
    Ok(())
}
