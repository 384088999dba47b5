//! The command line: every subcommand's options, parsed by clap (with environment variables
//! where a deployment sets them), and nothing else. [`crate::commands`] runs them.
//!
//! Parts: [`Cli`] and its [`Command`]s; [`DbArgs`] and [`DataDir`] (where the database and
//! the local state are), shared by every command that needs them; one `*Args` struct per
//! subcommand; the value enums [`LogFormat`] and [`SignIn`].
//!
//! Over 600 lines because every option carries its `--help` text; beside the declarations
//! are only the small rules that read them (where the cluster is, who signs in) and their
//! tests, and splitting it would scatter the one place that lists the command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

use scorewatch_core::access::Role;
use scorewatch_core::drift::analysis::Method;
use scorewatch_core::drift::reference::{DEFAULT_PSI_BINS, DEFAULT_SAMPLE_SIZE};
use scorewatch_core::drift::reports;
use scorewatch_core::drift::stats::Correction;
use scorewatch_core::simulate::{DriftKind, DEFAULT_INTENSITIES};
use scorewatch_core::state::DashboardSignIn;
use scorewatch_core::store::{Database, DatabaseLocation};

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

/// The subcommands.
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
    /// Run the embedded PostgreSQL cluster of <data-dir>/pg (the one the other commands
    /// use) in the foreground, printing its URL (for tests and tools such as psql); Ctrl-C or
    /// SIGTERM stops it (a cluster that was already running is left running).
    Postgres(PostgresArgs),
    /// Manage API keys: `create --role R`, `list`, `revoke ID|PREFIX`.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Analyse windows of stored predictions for data drift against the training
    /// reference; each window's report is stored (and shown in the dashboard).
    Drift(DriftArgs),
    /// Write a stored drift report as one self-contained HTML file (opens with no network).
    Report(ReportArgs),
    /// Report the model's performance on windows of stored predictions: realised from
    /// recorded outcomes (ROC AUC with DeLong CI, Gini, KS, Brier, log loss, the ECB AUC
    /// test, calibration by PD grade with Jeffreys tests), estimated (CBPE) where outcomes
    /// are missing; each report is stored (and shown in the dashboard).
    Performance(PerformanceArgs),
    /// Record observed outcomes (did the borrower default?) against stored predictions.
    #[command(subcommand)]
    Outcomes(OutcomesCommand),
    /// Replay the test set through a running API with gradual and sudden drift.
    Simulate(SimulateArgs),
    /// Put back predictions from JSONL backup files that the database does not have
    /// (matched by prediction id, so running it twice inserts nothing the second time).
    ReplayBackup(ReplayArgs),
}

/// The subcommands of `scorewatch keys`.
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

/// The subcommands of `scorewatch outcomes`.
#[derive(Debug, Subcommand)]
pub enum OutcomesCommand {
    /// Import outcomes from a CSV (optionally .gz): a `prediction_id` column, or
    /// `SK_ID_CURR` (then the outcome belongs to the newest prediction of that client made
    /// at or before `observed_at`); `TARGET` (1 = defaulted, 0 = not); optional
    /// `observed_at` (RFC 3339; default: now). A later outcome of a prediction replaces the
    /// earlier one. Prints how many were recorded, replaced and unmatched.
    Import {
        #[command(flatten)]
        db: DbArgs,
        /// The CSV file.
        file: PathBuf,
        /// Outcomes stored per transaction.
        #[arg(long, default_value_t = 10_000)]
        batch_size: usize,
        /// List every unmatched row (by default the first 10).
        #[arg(long)]
        all_unmatched: bool,
    },
}

/// Options of `scorewatch performance`.
#[derive(Debug, Args)]
pub struct PerformanceArgs {
    #[command(flatten)]
    pub db: DbArgs,

    /// Start of the cohort: predictions made from this time (RFC 3339). Default: 30 days
    /// before --until (outcomes take months to arrive, so cohorts are long).
    #[arg(long, conflicts_with = "last")]
    pub since: Option<DateTime<Utc>>,

    /// End of the cohort (exclusive). Default: now.
    #[arg(long, conflicts_with = "last")]
    pub until: Option<DateTime<Utc>>,

    /// The newest N predictions instead of a period.
    #[arg(long)]
    pub last: Option<i64>,

    /// Cut the period into tumbling windows of this length (1d, 7d, ...), aligned to the
    /// clock, one report each; windows without predictions are skipped.
    #[arg(long, value_parser = reports::parse_duration, conflicts_with = "last")]
    pub window: Option<chrono::Duration>,

    /// A p-value (ECB AUC test, portfolio Jeffreys test) below this makes a report WARNING.
    #[arg(long, default_value_t = 0.05)]
    pub warning_level: f64,

    /// A p-value below this makes a report ALERT.
    #[arg(long, default_value_t = 0.01)]
    pub alert_level: f64,

    /// Fewer labelled predictions than this: INSUFFICIENT_DATA.
    #[arg(long, default_value_t = 100)]
    pub min_labelled: u64,

    /// Fewer defaults (or non-defaults) than this among them: INSUFFICIENT_DATA.
    #[arg(long, default_value_t = 10)]
    pub min_defaults: u64,

    /// A master scale of PD bounds, comma-separated and strictly ascending (e.g.
    /// 0.01,0.02,0.05,0.1,0.2): K bounds make K + 1 grades. Default: the deciles of the
    /// reference scores.
    #[arg(long, value_delimiter = ',')]
    pub master_scale: Vec<f64>,

    /// Print each report as JSON (`{"report": ..., "grades": [...]}`) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Options of `scorewatch replay-backup`.
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

    #[command(flatten)]
    pub data_dir: DataDir,

    /// Largest number of database connections this process opens.
    #[arg(long, env = "SCOREWATCH_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,
}

impl DbArgs {
    /// The URL when one is given (an empty one counts as none), else the embedded cluster.
    pub fn location(&self) -> DatabaseLocation {
        match &self.database_url {
            Some(url) if !url.is_empty() => DatabaseLocation::Url(url.clone()),
            _ => DatabaseLocation::Embedded {
                data_dir: self.data_dir.cluster(),
            },
        }
    }

    /// Connects (starting or attaching to the embedded cluster when there is no URL) and
    /// applies the migrations.
    pub async fn open(&self) -> anyhow::Result<Database> {
        Ok(Database::open(&self.location(), self.db_max_connections).await?)
    }
}

/// The directory of local state, shared by every command, and where each thing lives in it.
#[derive(Debug, Clone, Args)]
pub struct DataDir {
    /// Directory for local state: the embedded PostgreSQL cluster lives in <data-dir>/pg.
    #[arg(
        id = "data_dir",
        long = "data-dir",
        value_name = "DATA_DIR",
        env = "SCOREWATCH_DATA_DIR",
        default_value = ".scorewatch"
    )]
    pub root: PathBuf,
}

impl DataDir {
    /// The embedded PostgreSQL cluster: `<data-dir>/pg`.
    pub fn cluster(&self) -> PathBuf {
        self.root.join("pg")
    }

    /// The default directory of the JSONL backup: `<data-dir>/backup`.
    pub fn backup(&self) -> PathBuf {
        self.root.join("backup")
    }

    /// The admin key `serve` creates at its first start: `<data-dir>/admin-key`.
    pub fn admin_key(&self) -> PathBuf {
        self.root.join("admin-key")
    }
}

/// Options of `scorewatch serve`.
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

    /// Length of the cohorts the server reports performance on by itself, aligned to the
    /// clock: at the end of each, one server computes its report (realised where outcomes
    /// are known, estimated by CBPE where not).
    #[arg(long, env = "SCOREWATCH_PERFORMANCE_EVERY", default_value = "1d", value_parser = reports::parse_duration)]
    pub performance_every: chrono::Duration,

    /// How long after a cohort's window ends its outcomes are taken as known (defaults
    /// observed, or not, within it): the scheduler then reports that cohort again, with
    /// trigger `matured`, and the realised tests (AUC, Jeffreys) speak. 0: no matured
    /// reports.
    #[arg(long, env = "SCOREWATCH_OUTCOME_HORIZON", default_value = "30d", value_parser = parse_horizon)]
    pub outcome_horizon: chrono::Duration,

    /// Do not compute performance reports on a schedule.
    #[arg(long)]
    pub no_performance_schedule: bool,

    /// URL that receives a JSON POST when a scheduled report's status changes (OK, WARNING,
    /// ALERT): a drift report's names the features that drifted most, a performance
    /// report's the tests that failed. Retried with backoff.
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

/// When the dashboard asks to sign in (`--dashboard-sign-in`, described there); see
/// [`ServeArgs::sign_in_policy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SignIn {
    Auto,
    Always,
    Never,
}

/// Options of `scorewatch init`.
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

    /// Labelled hold-out: CSV (optionally .gz) with the model's features and `TARGET`
    /// (1 = defaulted), rows the model was NOT trained on (a validation or out-of-time
    /// sample). Scored and stored, it calibrates the performance estimate before outcomes
    /// arrive (CBPE) and gives the AUC at initial validation. Without one, nothing is
    /// estimated. Training rows overstate the model's power: never use them here.
    #[arg(long)]
    pub holdout: Option<PathBuf>,
}

/// Options of `scorewatch drift`.
#[derive(Debug, Args)]
pub struct DriftArgs {
    #[command(flatten)]
    pub db: DbArgs,

    /// Start of the analysed period (RFC 3339, e.g. 2026-11-27T00:00:00Z). Default: one hour
    /// before --until (the same default as the API's).
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

/// Options of `scorewatch report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub db: DbArgs,

    /// Report id (listed by `scorewatch drift` and GET /api/v1/drift/reports).
    #[arg(long)]
    pub id: i64,

    /// Output file. Default: drift-report-<id>.html in the current directory. The file's
    /// absolute path is printed.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Options of `scorewatch demo-data`.
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

/// Which embedded cluster `scorewatch postgres` runs: the one every other command uses
/// (`<data-dir>/pg`), unless `--pg-dir` names another.
#[derive(Debug, Args)]
pub struct PostgresArgs {
    #[command(flatten)]
    pub data_dir: DataDir,

    /// Directory of the cluster itself, instead of <data-dir>/pg (a separate cluster, e.g.
    /// for a test run). Created with initdb if empty.
    #[arg(long)]
    pub pg_dir: Option<PathBuf>,
}

impl PostgresArgs {
    /// The cluster's directory: `--pg-dir` when given, else `<data-dir>/pg`.
    pub fn cluster_dir(&self) -> PathBuf {
        self.pg_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.cluster())
    }
}

/// How log events are written (`--log-format`): to stdout by `serve`, to stderr by every
/// other command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// JSON when the log's stream is not a terminal (a file, a pipe, a container), text
    /// otherwise.
    Auto,
    Text,
    Json,
}

/// Replay the test set through the predict API with gradual and sudden drift.
///
/// Each batch takes the next --batch-size rows of the test set and applies drift of its
/// intensity a (from --intensities) to the chosen features, by each feature's kind as the
/// test set shows it; missing values stay missing:
///
///   numbers (amounts, days, scores, ratios):
///     shift    x' = x + a * sd(x)      (sd over the whole test set)
///     scale    x' = x * (1 + a)
///     then kept possible: whole-number columns stay whole (rounded), columns that are
///     never negative (or never positive, like days before the application) keep their
///     sign, columns within [0, 1] stay within it, and the code 365243 of DAYS_EMPLOYED
///     stays a code
///   0/1 flags (shift, scale): the mix changes: a 0 becomes 1 with probability min(a, 1)
///   one-hot levels (GROUP_level columns, one 1 per row; shift, scale): with probability
///     min(a, 1) a row's level moves to the group's next level
///   missing  x' is missing with probability a (a one-hot group's levels together)
///
/// The default is the original scenario: 8 batches of 50, three clean, then 0.1, 0.2, 0.3
/// (gradual), then 0.5 and 0.7 (sudden). Every application is a real request
/// (`POST /api/v1/predict?source=simulator`) with the key in SCOREWATCH_API_KEY; with an
/// admin key, each batch is followed by a drift report over its predictions.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Base URL of the running API.
    #[arg(long, env = "SCOREWATCH_URL", default_value = "http://127.0.0.1:3000")]
    pub url: String,

    /// API key (scorer, officer or admin; admin also gets the per-batch drift reports).
    #[arg(long, env = "SCOREWATCH_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,

    /// Test set (CSV, optionally .gz) with a column per model feature.
    #[arg(long, default_value = "artifacts/test.csv.gz")]
    pub test_file: PathBuf,

    /// Applications per batch.
    #[arg(long, default_value_t = 50)]
    pub batch_size: usize,

    /// Number of batches (intensities repeat their last value when fewer are given).
    #[arg(long, default_value_t = 8)]
    pub n_batches: usize,

    /// Drift intensity of each batch, comma-separated. Default: 0,0,0,0.1,0.2,0.3,0.5,0.7
    /// (three clean batches, then gradual and sudden drift); with --concept-drift, all 0
    /// (the inputs do not drift, only the outcomes' link to them).
    #[arg(long, value_delimiter = ',')]
    pub intensities: Vec<f64>,

    /// How the inputs drift, for a feature x at intensity a (missing values stay missing):
    /// `shift` x' = x + a·sd(x) (sd over the test set); `scale` x' = x·(1 + a); then whole
    /// numbers stay whole, signs and [0, 1] bounds are kept and the 365243 code stays a code;
    /// 0/1 flags instead change their mix (a 0 becomes 1 with probability min(a, 1)) and a
    /// one-hot group's level moves to the next level with that probability; `missing` x' is
    /// missing with probability a (a one-hot group as a whole).
    #[arg(long, default_value = "shift")]
    pub kind: DriftKind,

    /// Features to drift, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    pub features: Vec<String>,

    /// Pause between batches (e.g. 2s, 500ms).
    #[arg(long, default_value = "0s", value_parser = parse_pause)]
    pub delay: Duration,

    /// Requests in flight at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,

    /// Seed of the `missing` kind's random draws.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// Instead of sending requests, write DAYS days of history straight into the database
    /// (through the same scoring and storage code), --per-day predictions a day spread over
    /// the day, clean for the first half of the days and then drifting up to the largest
    /// of --intensities; then one drift report per day.
    #[arg(long, value_name = "DAYS")]
    pub backfill: Option<u32>,

    /// Predictions per backfilled day.
    #[arg(long, default_value_t = 500)]
    pub per_day: usize,

    /// Also record the true outcome of each simulated prediction (from --outcomes-file)
    /// through POST /api/v1/outcomes, --outcome-lag batches after the batch was scored
    /// (the rest at the end). With --backfill, outcomes are written for the history with a
    /// realistic lag: each one is observed 0 to 28 days after its prediction (uniformly),
    /// so the last weeks are mostly unlabelled; then one performance report per week.
    #[arg(long)]
    pub outcomes: bool,

    /// The test set's true outcomes (SK_ID_CURR, TARGET), one row per test-set row, in the
    /// same order.
    #[arg(long, default_value = "artifacts/test_outcomes.csv.gz")]
    pub outcomes_file: PathBuf,

    /// Batches between scoring a batch and recording its outcomes.
    #[arg(long, default_value_t = 1)]
    pub outcome_lag: usize,

    /// Concept drift: in the second half of the batches (or backfilled days), this share
    /// (0 to 1) of the outcomes is the outcome of another test row drawn at random instead of
    /// the applicant's own. The default rate and the inputs stay the same; the model's
    /// AUC falls. Needs --outcomes.
    #[arg(long, default_value_t = 0.0, requires = "outcomes")]
    pub concept_drift: f64,

    #[command(flatten)]
    pub db: DbArgs,
}

impl SimulateArgs {
    /// The batches' (or days') drift intensities: as given, else the default scenario, or
    /// none at all with concept drift.
    pub fn intensities(&self) -> Vec<f64> {
        if !self.intensities.is_empty() {
            self.intensities.clone()
        } else if self.concept_drift > 0.0 {
            vec![0.0]
        } else {
            DEFAULT_INTENSITIES.to_vec()
        }
    }

    /// The concept drift share of batch (or day) `b` of `n`: none in the first half.
    pub fn concept_drift_at(&self, b: usize, n: usize) -> f64 {
        if b < n / 2 {
            0.0
        } else {
            self.concept_drift
        }
    }
}

fn parse_pause(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (value, scale) = if let Some(v) = s.strip_suffix("ms") {
        (v, 0.001)
    } else if let Some(v) = s.strip_suffix('s') {
        (v, 1.0)
    } else if let Some(v) = s.strip_suffix('m') {
        (v, 60.0)
    } else {
        (s, 1.0)
    };
    let x: f64 = value
        .parse()
        .map_err(|_| format!("{s:?} is not a pause like 500ms, 2s or 1m"))?;
    if !(x >= 0.0 && x.is_finite()) {
        return Err(format!("{s:?}: a pause cannot be negative"));
    }
    Ok(Duration::from_secs_f64(x * scale))
}

/// A duration as `reports::parse_duration` reads it, or `0` for none.
fn parse_horizon(s: &str) -> Result<chrono::Duration, String> {
    if s.trim() == "0" {
        return Ok(chrono::Duration::zero());
    }
    reports::parse_duration(s)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

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

    fn postgres(args: &[&str]) -> PostgresArgs {
        let argv = ["scorewatch", "postgres"].iter().chain(args).copied();
        match Cli::try_parse_from(argv).expect("arguments parse").command {
            Command::Postgres(a) => a,
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn postgres_runs_the_cluster_serve_uses() {
        for data_dir in [&[][..], &["--data-dir", "/srv/scorewatch"]] {
            // An empty URL counts as none, whatever DATABASE_URL holds: the embedded cluster.
            let serve_argv: Vec<&str> = ["--database-url", ""]
                .iter()
                .chain(data_dir)
                .copied()
                .collect();
            let DatabaseLocation::Embedded { data_dir: cluster } = serve(&serve_argv).db.location()
            else {
                panic!("serve without a URL uses the embedded cluster");
            };
            assert_eq!(postgres(data_dir).cluster_dir(), cluster);
        }
        assert_eq!(
            postgres(&["--data-dir", "/srv/scorewatch"]).cluster_dir(),
            PathBuf::from("/srv/scorewatch/pg")
        );
        assert_eq!(
            postgres(&["--data-dir", "/srv/scorewatch", "--pg-dir", "/tmp/pg"]).cluster_dir(),
            PathBuf::from("/tmp/pg"),
            "--pg-dir names the cluster itself"
        );
    }

    #[test]
    fn every_command_reads_the_data_directory_alike() {
        fn leaves(cmd: &clap::Command, path: String, out: &mut Vec<(String, clap::Command)>) {
            if cmd.has_subcommands() {
                for sub in cmd.get_subcommands() {
                    leaves(sub, format!("{path} {}", sub.get_name()), out);
                }
            } else {
                out.push((path, cmd.clone()));
            }
        }
        let mut commands = Vec::new();
        leaves(&Cli::command(), "scorewatch".into(), &mut commands);
        let mut without = Vec::new();
        for (name, cmd) in &commands {
            let Some(arg) = cmd.get_arguments().find(|a| a.get_id() == "data_dir") else {
                without.push(name.as_str());
                continue;
            };
            assert_eq!(arg.get_long(), Some("data-dir"), "{name}");
            assert_eq!(
                arg.get_env().and_then(|v| v.to_str()),
                Some("SCOREWATCH_DATA_DIR"),
                "{name}"
            );
            let default: Vec<_> = arg.get_default_values().iter().collect();
            assert_eq!(default, [".scorewatch"], "{name}");
        }
        assert_eq!(
            without,
            ["scorewatch demo-data"],
            "only demo-data keeps no local state"
        );
    }
}
