//! `scorewatch postgres`: runs the embedded PostgreSQL cluster in the foreground.

use anyhow::{Context, Result};

use scorewatch_core::embedded::EmbeddedPostgres;

use super::shutdown_signal;
use crate::config::PostgresArgs;

/// Starts (or attaches to) the cluster, prints `DATABASE_URL=<url>` and waits for Ctrl-C or
/// SIGTERM; a cluster this process started is stopped then.
pub async fn run(args: PostgresArgs) -> Result<()> {
    let dir = args.cluster_dir();
    let pg = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&dir))
        .await?
        .context("starting the embedded PostgreSQL")?;
    println!("DATABASE_URL={}", pg.url("postgres"));
    shutdown_signal().await;
    drop(pg);
    Ok(())
}
