//! The server assembled from its parts, for `scorewatch serve` and for the tests alike:
//! [`Application::build`] takes an [`ApplicationConfig`] (a migrated pool, the active model,
//! the API and writer settings, which background tasks to run), starts the prediction
//! writer, builds the shared state and the router, starts the background tasks and binds
//! the listening socket; [`Application::run_until_stopped`] serves until a stop signal and
//! then shuts everything down in order.
//!
//! Opening the database, choosing the model and printing the banner stay with the `serve`
//! command; the tests register their own model in a database of their own.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::Router;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use scorewatch_core::access::KeyCache;
use scorewatch_core::ingest::writer::{Writer, WriterConfig, WriterTask};
use scorewatch_core::model::registry::ActiveModel;
use scorewatch_core::state::{ApiSettings, AppState};

use crate::drift_scheduler::{self, Schedule};
use crate::observability::log_shipping::{self, LogQueue, Shipper};
use crate::performance_scheduler::{self, PerformanceSchedule};
use crate::router;
use crate::state::ServerState;

/// Everything [`Application::build`] needs. [`ApplicationConfig::new`] gives a server
/// with default settings, no compiled site and no background task (what the tests use);
/// `serve` fills every field from its options.
pub struct ApplicationConfig {
    /// A pool on a migrated database.
    pub pool: PgPool,
    /// The model to serve.
    pub model: Arc<ActiveModel>,
    /// Address to listen on; port 0 picks a free port ([`Application::addr`] has the real one).
    pub addr: SocketAddr,
    /// Batch limits, API keys and dashboard sign-in.
    pub settings: ApiSettings,
    /// The prediction writer's queue, commits and backup.
    pub writer: WriterConfig,
    /// Directory of the compiled web application (WebAssembly, JavaScript, CSS). None:
    /// pages are rendered on the server but static files answer 404.
    pub site_root: Option<PathBuf>,
    /// Log events to ship into `api_logs` (from [`crate::observability::logging::init`]);
    /// None: not shipped.
    pub logs: Option<LogQueue>,
    /// Fold the per-minute traffic summaries into coarser ones, every minute.
    pub compact_traffic: bool,
    /// Keep the drift column blocks built for windows up to this length (the scheduled
    /// ones and on-demand reports); None: blocks are built only when a report needs them.
    pub column_blocks: Option<chrono::Duration>,
    /// Compute drift reports on this schedule; None: no scheduled reports.
    pub drift_schedule: Option<Schedule>,
    /// Scheduled performance reports (None: off).
    pub performance_schedule: Option<PerformanceSchedule>,
}

impl ApplicationConfig {
    /// Serves `model` from `pool` on a free loopback port, with default settings, no
    /// compiled site, no log shipping and no background task.
    pub fn new(pool: PgPool, model: Arc<ActiveModel>) -> Self {
        ApplicationConfig {
            pool,
            model,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            settings: ApiSettings::default(),
            writer: WriterConfig::default(),
            site_root: None,
            logs: None,
            compact_traffic: false,
            column_blocks: None,
            drift_schedule: None,
            performance_schedule: None,
        }
    }
}

/// A built server, bound and ready to serve.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    router: Router,
    state: AppState,
    writer: WriterTask,
    background: Background,
}

/// An [`Application`] taken apart, for callers that drive the router themselves (the tests
/// send requests to it in memory): they own the writer task and flush it with
/// `writer.shutdown()`.
pub struct Parts {
    /// The bound socket (dropped by callers that do not serve on it).
    pub listener: TcpListener,
    /// The address the socket is bound to.
    pub addr: SocketAddr,
    /// Every route and layer.
    pub router: Router,
    /// The state the handlers share.
    pub state: AppState,
    /// The prediction writer's task.
    pub writer: WriterTask,
    /// The log shipper and the background tasks.
    pub background: Background,
}

/// What runs beside the requests: the log shipper and the background tasks (traffic
/// compaction, column blocks, drift schedule). Dropping it leaves them running until the
/// runtime stops; [`Background::shutdown`] stops them in order.
pub struct Background {
    tasks: Vec<JoinHandle<()>>,
    shipper: Option<Shipper>,
}

impl Background {
    /// Stops the background tasks, flushes the writer's queue into the database, then
    /// ships the last log events (the writer's among them).
    pub async fn shutdown(self, writer: WriterTask) {
        for task in &self.tasks {
            task.abort();
        }
        writer.shutdown().await;
        if let Some(shipper) = self.shipper {
            shipper.shutdown().await;
        }
    }
}

impl Application {
    /// Starts the writer, the log shipper and the configured background tasks, builds the
    /// state and the router, and binds `config.addr`. Must run inside a Tokio runtime.
    ///
    /// Errors: the write queue smaller than one full batch, a writer that cannot start, an
    /// address that cannot be bound.
    pub fn build(config: ApplicationConfig) -> Result<Self> {
        let ApplicationConfig {
            pool,
            model,
            addr,
            settings,
            writer,
            site_root,
            logs,
            compact_traffic,
            column_blocks,
            drift_schedule,
            performance_schedule,
        } = config;
        if writer.queue_rows < settings.max_batch {
            anyhow::bail!(
                "the write queue ({} rows) must hold at least one full batch ({} applications)",
                writer.queue_rows,
                settings.max_batch
            );
        }
        let (listener, addr) = bind(addr)?;
        let (handle, writer) = Writer::spawn(pool.clone(), writer)?;
        let state = AppState {
            pool: pool.clone(),
            model,
            writer: handle,
            keys: KeyCache::default(),
            settings,
            started_at: chrono::Utc::now(),
        };
        let shipper = logs.map(|queue| log_shipping::start(queue, pool.clone()));
        let mut tasks = Vec::new();
        {
            let (pool, id) = (pool.clone(), state.model.version.id);
            // Reports stored elsewhere (the CLI, the dashboard, other servers) count too.
            tasks.push(tokio::spawn(async move {
                loop {
                    crate::observability::metrics::refresh_report_gauges(&pool, id).await;
                    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                }
            }));
        }
        if compact_traffic {
            tasks.push(tokio::spawn(
                scorewatch_core::store::summaries::compact_every_minute(pool.clone()),
            ));
        }
        if let Some(horizon) = column_blocks {
            tasks.push(tokio::spawn(scorewatch_core::drift::blocks::keep_building(
                pool.clone(),
                horizon,
            )));
        }
        if let Some(schedule) = performance_schedule {
            tasks.push(tokio::spawn(performance_scheduler::run(
                pool.clone(),
                state.model.version.clone(),
                schedule,
            )));
        }
        if let Some(schedule) = drift_schedule {
            tasks.push(tokio::spawn(drift_scheduler::run(
                pool,
                state.model.version.clone(),
                schedule,
            )));
        }
        let site_root = match site_root {
            Some(root) => {
                if !root.join("pkg").exists() {
                    tracing::warn!(
                        site_root = %root.display(),
                        "the compiled web application is missing: pages will not hydrate (build with `cargo leptos build`)"
                    );
                }
                root
            }
            // A directory that is not there: every static file is a 404.
            None => std::env::temp_dir().join("scorewatch-no-site"),
        };
        let router = router::build(ServerState {
            app: state.clone(),
            leptos: router::leptos_options(site_root, addr),
        });
        Ok(Application {
            listener,
            addr,
            router,
            state,
            writer,
            background: Background { tasks, shipper },
        })
    }

    /// The address the server listens on (the real port when port 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The state the handlers share.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Takes the application apart (see [`Parts`]).
    pub fn into_parts(self) -> Parts {
        Parts {
            listener: self.listener,
            addr: self.addr,
            router: self.router,
            state: self.state,
            writer: self.writer,
            background: self.background,
        }
    }

    /// Serves until `stop` completes, lets in-flight requests finish, then stops the
    /// background tasks and flushes the stored predictions and the log events.
    pub async fn run_until_stopped(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        serve_until(self.listener, self.router, stop).await?;
        tracing::info!("no longer accepting requests: flushing stored predictions and logs");
        self.background.shutdown(self.writer).await;
        Ok(())
    }
}

/// Binds `addr` (port 0 picks a free port) and returns the listener and the real address.
/// Must run inside a Tokio runtime.
pub fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr)> {
    let listener = std::net::TcpListener::bind(addr)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .and_then(TcpListener::from_std)
        .with_context(|| {
            format!("cannot listen on {addr} (is another server running there? use --addr)")
        })?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// Serves until `stop` completes, then stops accepting connections and lets in-flight
/// requests finish.
pub async fn serve_until(
    listener: TcpListener,
    router: Router,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(stop)
        .await
        .context("server error")
}
