//! The `scorewatch` command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use scorewatch_core::access::{self, Role};
use scorewatch_core::demo::{self, DemoConfig};
use scorewatch_core::drift::analysis::{Method, Settings};
use scorewatch_core::drift::reference::{DEFAULT_PSI_BINS, DEFAULT_SAMPLE_SIZE};
use scorewatch_core::drift::reports;
use scorewatch_core::drift::stats::Correction;
use scorewatch_core::embedded::EmbeddedPostgres;
use scorewatch_core::ingest::backup;
use scorewatch_core::ingest::writer::WriterConfig;
use scorewatch_core::model::registry::{self, InitOptions};
use scorewatch_core::state::{ApiSettings, DashboardSignIn};
use scorewatch_core::store::{self, Database, DatabaseLocation, WindowSpec};

use crate::logship::{self, LogQueue};
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
        default_value = "auto"
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
    /// Manage API keys: `create --role R`, `list`, `revoke ID|PREFIX`.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Analyse windows of stored predictions for data drift against the training
    /// reference; each window's report is stored (and shown in the dashboard).
    Drift(DriftArgs),
    /// Write a stored drift report as one self-contained HTML file (opens with no network).
    Report(ReportArgs),
    /// Replay the test set through a running API with gradual and sudden drift.
    Simulate(crate::simulate::SimulateArgs),
    /// Put back predictions from JSONL backup files that the database does not have
    /// (matched by prediction id, so running it twice inserts nothing the second time).
    ReplayBackup(ReplayArgs),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print it (alone on the last line). It is stored hashed: it cannot
    /// be shown again.
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// scorer (predict only), viewer (read), officer (read + score in the dashboard),
        /// admin (everything).
        #[arg(long)]
        role: Role,
        /// Who or what uses the key, e.g. "loan-origination-prod".
        #[arg(long, default_value = "unnamed")]
        name: String,
    },
    /// List keys (prefix, role, name, dates); never the keys themselves.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a key by id or by the prefix `list` shows. Servers stop accepting it within
    /// 10 seconds.
    Revoke {
        #[command(flatten)]
        db: DbArgs,
        /// Key id or prefix (e.g. 3 or sw_1a2b3c4d).
        key: String,
    },
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Backup files (predictions-YYYY-MM-DD.jsonl, in <data-dir>/backup by default).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Predictions per transaction.
    #[arg(long, default_value_t = 2_000)]
    pub chunk: usize,
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

    pub async fn open(&self) -> Result<Database> {
        Ok(Database::open(&self.location(), self.db_max_connections).await?)
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

    /// Applications per batch request, at most.
    #[arg(long, env = "SCOREWATCH_MAX_BATCH", default_value_t = 10_000)]
    pub max_batch: usize,

    /// Largest batch request body, in megabytes.
    #[arg(long, env = "SCOREWATCH_MAX_BATCH_BODY_MB", default_value_t = 256)]
    pub max_batch_body_mb: usize,

    /// Predictions waiting to be committed, at most; beyond it the API answers 429 with
    /// Retry-After instead of queueing more. Must hold one full batch.
    #[arg(long, env = "SCOREWATCH_WRITE_QUEUE_ROWS", default_value_t = 50_000)]
    pub write_queue_rows: usize,

    /// Predictions per database transaction, at most (concurrent requests are committed
    /// together).
    #[arg(long, env = "SCOREWATCH_MAX_ROWS_PER_COMMIT", default_value_t = 10_000)]
    pub max_rows_per_commit: usize,

    /// Commits in flight at once, each on its own database connection.
    #[arg(long, env = "SCOREWATCH_WRITER_CONNECTIONS", default_value_t = 4)]
    pub writer_connections: usize,

    /// Directory of the JSONL backup of stored predictions (one file per day). Default:
    /// <data-dir>/backup.
    #[arg(long, env = "SCOREWATCH_BACKUP_DIR")]
    pub backup_dir: Option<PathBuf>,

    /// Keep no JSONL backup.
    #[arg(long, conflicts_with = "backup_dir")]
    pub no_backup: bool,

    /// Length of the drift windows the server reports on by itself, aligned to the clock
    /// (15m, 1h, 1d): at the end of each, one server computes its report.
    #[arg(long, env = "SCOREWATCH_DRIFT_EVERY", default_value = "1h", value_parser = reports::parse_duration)]
    pub drift_every: chrono::Duration,

    /// Do not compute drift reports on a schedule.
    #[arg(long)]
    pub no_drift_schedule: bool,

    /// URL that receives a JSON POST when a scheduled report's status changes (OK, WARNING,
    /// ALERT), naming the features that drifted most. Retried with backoff.
    #[arg(long, env = "SCOREWATCH_ALERT_WEBHOOK")]
    pub alert_webhook: Option<String>,

    /// Serve the API without API keys. For experiments on a laptop only: anyone who can
    /// reach the port can then read stored credit data.
    #[arg(long, env = "SCOREWATCH_NO_AUTH")]
    pub no_auth: bool,

    /// Dashboard sign-in (with an API key of role viewer, officer or admin). `always` (the
    /// default): everyone signs in. `auto`: when the server listens on a loopback address
    /// only, direct local visitors are the machine's user and act as admin (the local demo
    /// of scripts/run.sh), while any request that came through a proxy (`Forwarded`,
    /// `X-Forwarded-For`, `X-Real-IP`) must sign in; elsewhere as `always`; with `--no-auth`
    /// as `never`. `never`: whoever reaches the dashboard is admin. Behind a proxy that adds
    /// no forwarding header, use `always`.
    #[arg(long, env = "SCOREWATCH_DASHBOARD_SIGN_IN", value_enum, default_value_t = SignIn::Always)]
    pub dashboard_sign_in: SignIn,
}

impl ServeArgs {
    /// Who signs in to the dashboard, from `--dashboard-sign-in`, `--addr` and `--no-auth`.
    pub fn sign_in_policy(&self) -> DashboardSignIn {
        match self.dashboard_sign_in {
            SignIn::Always => DashboardSignIn::Always,
            SignIn::Never => DashboardSignIn::Never,
            SignIn::Auto if self.no_auth => DashboardSignIn::Never,
            SignIn::Auto if self.addr.ip().is_loopback() => DashboardSignIn::LocalUnproxied,
            SignIn::Auto => DashboardSignIn::Always,
        }
    }
}

/// When the dashboard asks to sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SignIn {
    Auto,
    Always,
    Never,
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
pub struct DriftArgs {
    #[command(flatten)]
    pub db: DbArgs,

    /// Start of the analysed period (RFC 3339, e.g. 2026-11-27T00:00:00Z). Default: 24 hours
    /// before --until.
    #[arg(long, conflicts_with = "last")]
    pub since: Option<DateTime<Utc>>,

    /// End of the analysed period (exclusive). Default: now.
    #[arg(long, conflicts_with = "last")]
    pub until: Option<DateTime<Utc>>,

    /// Analyse the newest N predictions instead of a period.
    #[arg(long)]
    pub last: Option<i64>,

    /// Cut the period into tumbling windows of this length, aligned to the clock (15m, 1h,
    /// 1d, ...), one report each; windows without predictions are skipped.
    #[arg(long, value_parser = reports::parse_duration, conflicts_with = "last")]
    pub window: Option<chrono::Duration>,

    /// What decides that a feature drifted: `test` (KS for numeric, chi-square for
    /// categorical features, corrected p-value below --alpha), or a distance over its
    /// threshold: `psi` (0.25), `wasserstein` (0.1, normalised by the reference std), `js`
    /// (0.1). The missing-rate test applies in every case.
    #[arg(long, default_value = "test")]
    pub method: Method,

    /// Significance level of the corrected tests.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,

    /// Multiple-testing correction over all of a window's tests: bh (Benjamini-Hochberg,
    /// false discovery rate), bonferroni (family-wise error) or none.
    #[arg(long, default_value = "bh")]
    pub correction: Correction,

    /// Share of drifted features from which a window is WARNING.
    #[arg(long, default_value_t = 0.1)]
    pub warning_share: f64,

    /// Share of drifted features above which a window is ALERT.
    #[arg(long, default_value_t = 0.3)]
    pub alert_share: f64,

    /// Windows with fewer predictions are reported as INSUFFICIENT_DATA.
    #[arg(long, default_value_t = 30)]
    pub min_predictions: usize,

    /// Print each report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub db: DbArgs,

    /// Report id (listed by `scorewatch drift` and GET /api/v1/drift/reports).
    #[arg(long)]
    pub id: i64,

    /// Output file. Default: drift-report-<id>.html.
    #[arg(long)]
    pub out: Option<PathBuf>,
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

pub async fn run(cli: Cli, logs: LogQueue) -> Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args, logs).await,
        Command::Migrate(db) => {
            let database = db.open().await?;
            println!("migrations applied to {}", database.url_for_display);
            Ok(())
        }
        Command::Init(args) => init(args).await,
        Command::DemoData(args) => demo_data(args).await,
        Command::Postgres(args) => postgres(args).await,
        Command::Keys(cmd) => keys_command(cmd).await,
        Command::ReplayBackup(args) => replay_backup(args).await,
        Command::Drift(args) => drift(args).await,
        Command::Report(args) => report(args).await,
        Command::Simulate(args) => crate::simulate::run(args).await,
    }
}

async fn serve(args: ServeArgs, logs: LogQueue) -> Result<()> {
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
    let admin_key = if args.no_auth {
        None
    } else {
        Some(ensure_admin_key(&database.pool, &args.db.data_dir).await?)
    };
    let settings = ApiSettings {
        max_batch: args.max_batch,
        batch_body_limit: args.max_batch_body_mb.saturating_mul(1024 * 1024),
        require_keys: !args.no_auth,
        dashboard_sign_in: args.sign_in_policy(),
    };
    let sign_in = settings.dashboard_sign_in;
    let backup_dir = match (&args.backup_dir, args.no_backup) {
        (_, true) => None,
        (Some(dir), false) => Some(dir.clone()),
        (None, false) => Some(args.db.data_dir.join("backup")),
    };
    let writer = WriterConfig {
        queue_rows: args.write_queue_rows,
        max_rows_per_commit: args.max_rows_per_commit,
        committers: args.writer_connections,
        backup_dir: backup_dir.clone(),
    };
    let (state, writer_task) =
        startup::start_services(database.pool.clone(), model, settings, writer)?;
    let shipper = logship::start(logs, database.pool.clone());
    let compactor = tokio::spawn(scorewatch_core::store::summaries::compact_every_minute(
        database.pool.clone(),
    ));
    // Column blocks for the scheduled windows (and on-demand reports of the last hour).
    let columns = tokio::spawn(scorewatch_core::drift::blocks::keep_building(
        database.pool.clone(),
        args.drift_every.max(chrono::Duration::hours(1)),
    ));
    let scheduler = (!args.no_drift_schedule).then(|| {
        tokio::spawn(crate::monitor::run(
            database.pool.clone(),
            state.model.version.clone(),
            crate::monitor::Schedule {
                every: args.drift_every,
                settings: Settings::default(),
                webhook: args.alert_webhook.clone(),
            },
        ))
    });
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
    match sign_in {
        DashboardSignIn::Always => println!(
            "  dashboard:   http://{addr}/  (sign in with an API key: viewer, officer or admin)"
        ),
        DashboardSignIn::LocalUnproxied => println!(
            "  dashboard:   http://{addr}/  (no sign-in for direct local visits, as admin: \
             --dashboard-sign-in auto; requests through a proxy sign in)"
        ),
        DashboardSignIn::Never => {
            println!("  dashboard:   http://{addr}/  (no sign-in: whoever reaches it is admin)")
        }
    }
    println!("  predict API: POST http://{addr}/api/v1/predict  (OpenAPI: /api/v1/openapi.json)");
    println!("  metrics:     http://{addr}/metrics");
    match &admin_key {
        Some(AdminKey::Created { key, file }) => {
            println!("  API key:     {key}");
            println!(
                "               (admin; created now, also saved in {})",
                file.display()
            );
        }
        Some(AdminKey::Existing { file: Some(file) }) => {
            println!("  API key:     the admin key is in {}", file.display());
        }
        Some(AdminKey::Existing { file: None }) => {
            println!("  API keys:    `scorewatch keys create --role scorer|viewer|officer|admin`");
        }
        None => println!("  API keys:    NOT REQUIRED (--no-auth)"),
    }
    if let Some(dir) = &backup_dir {
        println!("  backup:      {}", dir.display());
    }
    if args.no_drift_schedule {
        println!("  drift:       not scheduled (--no-drift-schedule); run `scorewatch drift`");
    } else {
        println!(
            "  drift:       a report every {} min{}",
            args.drift_every.num_minutes(),
            args.alert_webhook
                .as_deref()
                .map(|u| format!(", alerts to {u}"))
                .unwrap_or_default()
        );
    }
    println!("  database:    {}", database.url_for_display);
    println!("Press Ctrl-C to stop.");
    startup::serve_until(listener, router, startup::shutdown_signal()).await?;
    tracing::info!("no longer accepting requests: flushing stored predictions and logs");
    compactor.abort();
    columns.abort();
    if let Some(s) = scheduler {
        s.abort();
    }
    writer_task.shutdown().await;
    shipper.shutdown().await;
    database.pool.close().await;
    drop(database);
    tracing::info!("stopped");
    Ok(())
}

enum AdminKey {
    Created { key: String, file: PathBuf },
    Existing { file: Option<PathBuf> },
}

/// The first start creates an admin key, prints it and keeps it in <data-dir>/admin-key
/// (readable by the owner only), so the local demo can be used at once.
async fn ensure_admin_key(pool: &sqlx::PgPool, data_dir: &std::path::Path) -> Result<AdminKey> {
    let file = data_dir.join("admin-key");
    if access::count_active(pool).await? > 0 {
        return Ok(AdminKey::Existing {
            file: file.exists().then_some(file),
        });
    }
    let (_, key) = access::create(pool, "admin (created at first start)", Role::Admin).await?;
    std::fs::create_dir_all(data_dir)?;
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(&file)
            .with_context(|| format!("writing {}", file.display()))?;
        writeln!(f, "{key}")?;
    }
    Ok(AdminKey::Created { key, file })
}

async fn keys_command(cmd: KeysCommand) -> Result<()> {
    match cmd {
        KeysCommand::Create { db, role, name } => {
            let database = db.open().await?;
            let (id, key) = access::create(&database.pool, &name, role).await?;
            println!("created key #{id} ({role}, {name}); it is shown only now:");
            println!("{key}");
        }
        KeysCommand::List { db } => {
            let database = db.open().await?;
            let list = access::list(&database.pool).await?;
            if list.is_empty() {
                println!("no keys: create one with `scorewatch keys create --role admin`");
            }
            println!(
                "{:>4}  {:<12}  {:<8}  {:<20}  {:<20}  {:<20}  name",
                "id", "prefix", "role", "created", "last used", "revoked"
            );
            let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
                t.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_else(|| "-".into())
            };
            for k in list {
                println!(
                    "{:>4}  {:<12}  {:<8}  {:<20}  {:<20}  {:<20}  {}",
                    k.id,
                    k.prefix,
                    k.role.as_str(),
                    when(Some(k.created_at)),
                    when(k.last_used_at),
                    when(k.revoked_at),
                    k.name
                );
            }
        }
        KeysCommand::Revoke { db, key } => {
            let database = db.open().await?;
            if !access::revoke(&database.pool, &key).await? {
                anyhow::bail!(
                    "no active key has id or prefix {key:?} (see `scorewatch keys list`)"
                );
            }
            println!("revoked {key}; running servers refuse it within 10 seconds");
        }
    }
    Ok(())
}

async fn replay_backup(args: ReplayArgs) -> Result<()> {
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

async fn drift(args: DriftArgs) -> Result<()> {
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
    let specs: Vec<WindowSpec> = match (args.last, args.window) {
        (Some(n), _) => {
            if n < 1 {
                anyhow::bail!("--last must be at least 1");
            }
            vec![WindowSpec::Last(n)]
        }
        (None, window) => {
            let until = args.until.unwrap_or_else(Utc::now);
            let since = args.since.unwrap_or(until - chrono::Duration::hours(24));
            if since >= until {
                anyhow::bail!("--since must be before --until");
            }
            match window {
                None => vec![WindowSpec::Range { since, until }],
                Some(length) => {
                    let mut specs = Vec::new();
                    for (since, until) in reports::tumbling_windows(since, until, length) {
                        if store::count_predictions_between(&database.pool, model.id, since, until)
                            .await?
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
            }
        }
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

async fn report(args: ReportArgs) -> Result<()> {
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
    println!(
        "wrote {} ({:.0} KB)",
        out.display(),
        html.len() as f64 / 1024.0
    );
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
        "  objective {}, {} features, threshold {}, reference: {} rows (refusal rate {:.1}%)",
        r.objective,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(args: &[&str]) -> ServeArgs {
        let argv = ["scorewatch", "serve"].iter().chain(args).copied();
        match Cli::try_parse_from(argv).expect("arguments parse").command {
            Command::Serve(a) => a,
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn sign_in_is_the_default_even_on_loopback() {
        // The variable would change the default; the test is about the binary's own.
        std::env::remove_var("SCOREWATCH_DASHBOARD_SIGN_IN");
        assert_eq!(serve(&[]).sign_in_policy(), DashboardSignIn::Always);
        assert_eq!(
            serve(&["--addr", "127.0.0.1:3000"]).sign_in_policy(),
            DashboardSignIn::Always
        );
        assert_eq!(
            serve(&["--dashboard-sign-in", "auto"]).sign_in_policy(),
            DashboardSignIn::LocalUnproxied
        );
        assert_eq!(
            serve(&["--dashboard-sign-in", "auto", "--addr", "0.0.0.0:8080"]).sign_in_policy(),
            DashboardSignIn::Always
        );
        assert_eq!(
            serve(&["--dashboard-sign-in", "never"]).sign_in_policy(),
            DashboardSignIn::Never
        );
    }
}
