//! The `scorewatch` command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use scorewatch_core::demo::{self, DemoConfig};
use scorewatch_core::embedded::EmbeddedPostgres;
use scorewatch_core::reference::{DEFAULT_PSI_BINS, DEFAULT_SAMPLE_SIZE};
use scorewatch_core::registry::{self, InitOptions};
use scorewatch_core::state::AppState;
use scorewatch_core::store::{Database, DatabaseLocation};

use crate::startup::{self, ServerState};
use crate::telemetry::LogFormat;

/// Serve a LightGBM credit-scoring model and watch it in production.
///
/// With no DATABASE_URL, every command uses an embedded PostgreSQL cluster kept in
/// <data-dir>/pg: started when needed, stopped on exit, shared with a `serve` that is
/// already running.
#[derive(Debug, Parser)]
#[command(name = "scorewatch", version, propagate_version = true)]
pub struct Cli {
    /// Log format: `text` for people, `json` for log collectors (one object per line).
    #[arg(
        long,
        global = true,
        env = "SCOREWATCH_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the predict API and the dashboard (loads the demo model into an empty database).
    Serve(ServeArgs),
    /// Apply the database migrations and exit.
    Migrate(DbArgs),
    /// Register a LightGBM model and its training reference, and make it the active version.
    Init(InitArgs),
    /// Generate the synthetic credit data set, train the demo model and write the artifacts.
    DemoData(DemoDataArgs),
    /// Run the embedded PostgreSQL cluster in the foreground, printing its URL (for tests and
    /// tools such as psql); Ctrl-C or SIGTERM stops it.
    Postgres(PostgresArgs),
}

/// Where the database is.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// PostgreSQL URL, e.g. postgres://user:pass@host/db?sslmode=require. When unset, the
    /// embedded cluster in <data-dir>/pg is used.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Directory for local state: the embedded PostgreSQL cluster lives in <data-dir>/pg.
    #[arg(long, env = "SCOREWATCH_DATA_DIR", default_value = ".scorewatch")]
    pub data_dir: PathBuf,

    /// Largest number of database connections this process opens.
    #[arg(long, env = "SCOREWATCH_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,
}

impl DbArgs {
    fn location(&self) -> DatabaseLocation {
        match &self.database_url {
            Some(url) if !url.is_empty() => DatabaseLocation::Url(url.clone()),
            _ => DatabaseLocation::Embedded {
                data_dir: self.data_dir.join("pg"),
            },
        }
    }

    async fn open(&self) -> Result<Database> {
        Database::open(&self.location(), self.db_max_connections).await
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,

    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "SCOREWATCH_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Directory of the demo artifacts loaded into an empty database.
    #[arg(long, env = "SCOREWATCH_ARTIFACTS", default_value = "artifacts")]
    pub artifacts: PathBuf,

    /// Directory of the compiled web application (WebAssembly, JavaScript, CSS, assets).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Do not load the demo model when the database has no model; fail instead.
    #[arg(long)]
    pub no_demo: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub db: DbArgs,

    /// LightGBM model in text format (Python: `booster.save_model("model.txt")`).
    #[arg(long, default_value = "artifacts/model.txt")]
    pub model: PathBuf,

    /// Training reference: CSV (optionally .gz) with a column per model feature; empty
    /// fields are missing values; other columns (ids, target) are ignored.
    #[arg(long, default_value = "artifacts/reference.csv.gz")]
    pub reference: PathBuf,

    /// Model card (JSON) with name, threshold and training metrics. Optional.
    #[arg(long)]
    pub card: Option<PathBuf>,

    /// Decision threshold on the probability of default (refused at or above). Default:
    /// the card's, else 0.5.
    #[arg(long)]
    pub threshold: Option<f64>,

    /// Model name shown in the dashboard. Default: the card's, else the file name.
    #[arg(long)]
    pub name: Option<String>,

    /// Reference rows kept per feature for the drift tests.
    #[arg(long, default_value_t = DEFAULT_SAMPLE_SIZE)]
    pub sample_size: usize,

    /// Reference-quantile bins for PSI.
    #[arg(long, default_value_t = DEFAULT_PSI_BINS)]
    pub psi_bins: usize,

    /// Read at most this many reference rows (default: all).
    #[arg(long)]
    pub max_reference_rows: Option<usize>,
}

#[derive(Debug, Args)]
pub struct DemoDataArgs {
    /// Output directory.
    #[arg(long, default_value = "artifacts")]
    pub out: PathBuf,
    /// Random seed: the same seed writes the same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Applicants for training (80%) and validation (20%).
    #[arg(long, default_value_t = 40_000)]
    pub train_rows: usize,
    /// Applicants in the test set the traffic simulator replays.
    #[arg(long, default_value_t = 5_000)]
    pub test_rows: usize,
    /// Training applicants written to the reference sample.
    #[arg(long, default_value_t = 20_000)]
    pub reference_rows: usize,
    /// Upper bound on boosting rounds (early stopping after 50 rounds without progress).
    #[arg(long, default_value_t = 1_000)]
    pub max_rounds: usize,
}

#[derive(Debug, Args)]
pub struct PostgresArgs {
    /// Directory of the cluster (created with initdb if empty).
    #[arg(long, default_value = ".scorewatch/pg")]
    pub pg_dir: PathBuf,
}

pub async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(db) => {
            let database = db.open().await?;
            println!("migrations applied to {}", database.url_for_display);
            Ok(())
        }
        Command::Init(args) => init(args).await,
        Command::DemoData(args) => demo_data(args).await,
        Command::Postgres(args) => postgres(args).await,
    }
}

async fn serve(args: ServeArgs) -> Result<()> {
    let database = args.db.open().await?;
    if !args.no_demo {
        if let Some(r) = registry::ensure_model(&database.pool, &args.artifacts).await? {
            tracing::info!(
                model_version = r.model_version,
                name = %r.name,
                reference_rows = r.n_reference_rows,
                "empty database: registered the demo model"
            );
        }
    }
    let model = registry::load_active(&database.pool).await?.context(
        "no active model in the database: register one with `scorewatch init --model FILE --reference CSV`",
    )?;
    let state = AppState {
        pool: database.pool.clone(),
        model,
        started_at: chrono::Utc::now(),
    };
    let (listener, addr) = startup::bind(args.addr).await?;
    let leptos = startup::leptos_options(args.site_root.clone(), addr);
    if !args.site_root.join("pkg").exists() {
        tracing::warn!(
            site_root = %args.site_root.display(),
            "the compiled web application is missing: pages will not hydrate (build with `cargo leptos build`)"
        );
    }
    let router = startup::router(ServerState { app: state, leptos });
    println!("scorewatch is serving on http://{addr}/");
    println!("  dashboard:   http://{addr}/");
    println!("  predict API: POST http://{addr}/api/v1/predict");
    println!("  database:    {}", database.url_for_display);
    println!("Press Ctrl-C to stop.");
    startup::serve(listener, router).await?;
    database.pool.close().await;
    drop(database);
    tracing::info!("stopped");
    Ok(())
}

async fn init(args: InitArgs) -> Result<()> {
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
        "  {} features, threshold {}, reference: {} rows (refusal rate {:.1}%)",
        r.n_features,
        r.threshold,
        r.n_reference_rows,
        100.0 * r.reference_refusal_rate
    );
    println!("  a running `scorewatch serve` picks it up when restarted");
    Ok(())
}

async fn demo_data(args: DemoDataArgs) -> Result<()> {
    let cfg = DemoConfig {
        out_dir: args.out,
        seed: args.seed,
        train_rows: args.train_rows,
        test_rows: args.test_rows,
        reference_rows: args.reference_rows,
        max_rounds: args.max_rounds,
    };
    let bar = ProgressBar::new(4).with_style(
        ProgressStyle::with_template("{spinner} [{pos}/{len}] {msg} ({elapsed})")
            .expect("valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let summary =
        tokio::task::spawn_blocking(move || demo::build(&cfg, &bar).map(|s| (s, bar))).await??;
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

async fn postgres(args: PostgresArgs) -> Result<()> {
    let dir = args.pg_dir.clone();
    let pg = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&dir))
        .await?
        .context("starting the embedded PostgreSQL")?;
    println!("DATABASE_URL={}", pg.url("postgres"));
    startup::shutdown_signal().await;
    drop(pg);
    Ok(())
}

fn spinner(msg: &'static str) -> ProgressBar {
    let bar = ProgressBar::new_spinner().with_message(msg);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}
