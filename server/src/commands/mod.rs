//! What each subcommand does, one file per subcommand; [`run`] dispatches a parsed
//! [`Cli`] to them. Their options are in [`crate::config`].
//!
//! Parts: `serve` (and `admin_key`, the key it creates at its first start), `init`,
//! `demo_data`, `postgres`, `keys`, `drift`, `performance`, `outcomes`, `report`,
//! `simulate`, `replay_backup`;
//! `migrate` is the few lines of [`run`] that open the database.

mod admin_key;
mod demo_data;
mod drift;
mod init;
mod keys;
mod outcomes;
mod performance;
mod postgres;
mod replay_backup;
mod report;
mod serve;
mod simulate;

use std::time::Duration;

use anyhow::Result;
use indicatif::ProgressBar;

use crate::config::{Cli, Command};
use crate::observability::log_shipping::LogQueue;

/// Runs the parsed command line. `logs` is the queue of log events to ship into
/// `api_logs`: `serve` ships them, the other commands drop it (their events go to stdout
/// only). Errors carry their context chain, for `main` to print.
pub async fn run(cli: Cli, logs: LogQueue) -> Result<()> {
    match cli.command {
        Command::Serve(args) => serve::run(args, logs).await,
        Command::Migrate(db) => {
            let database = db.open().await?;
            println!("migrations applied to {}", database.url_for_display);
            Ok(())
        }
        Command::Init(args) => init::run(args).await,
        Command::DemoData(args) => demo_data::run(args).await,
        Command::Postgres(args) => postgres::run(args).await,
        Command::Keys(cmd) => keys::run(cmd).await,
        Command::ReplayBackup(args) => replay_backup::run(args).await,
        Command::Drift(args) => drift::run(args).await,
        Command::Report(args) => report::run(args).await,
        Command::Performance(args) => performance::run(args).await,
        Command::Outcomes(cmd) => outcomes::run(cmd).await,
        Command::Simulate(args) => simulate::run(args).await,
    }
}

/// A terminal spinner with a message, ticking until it is finished.
fn spinner(msg: &'static str) -> ProgressBar {
    let bar = ProgressBar::new_spinner().with_message(msg);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown requested");
}
