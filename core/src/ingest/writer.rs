//! Group commit: committer tasks write the predictions of concurrent requests together, in
//! one transaction each, and answer each request only once its rows are committed. Several
//! committers (each with its own connection) keep commits overlapping, so waiting for one
//! commit's WAL flush does not idle the others.
//!
//! - The queue is bounded in rows (a semaphore): when it is full, [`Writer::store`] fails at
//!   once with [`WriteError::Overloaded`] instead of letting memory grow.
//! - When a commit fails for lack of a database, the writer marks itself unhealthy: requests
//!   then fail at once with [`WriteError::Unavailable`] until a probe reaches the database
//!   again (every [`PROBE_INTERVAL`]).
//! - After a commit, the rows are appended to the JSONL backup (if configured) before the
//!   requests are answered.
//! - [`WriterTask::shutdown`] stops taking rows, commits everything queued, and returns.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use sqlx::{ConnectOptions, PgConnection, PgPool};
use tokio::sync::{mpsc, oneshot, watch, OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio::task::JoinHandle;

use crate::ingest::backup::BackupWriter;
use crate::model::prediction::Prediction;
use crate::store;

/// How often an unhealthy writer checks whether the database is back.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// Rows waiting to be committed, at most.
    pub queue_rows: usize,
    /// Rows per transaction, at most.
    pub max_rows_per_commit: usize,
    /// Commits in flight at once (one database connection each).
    pub committers: usize,
    /// Directory of the JSONL backup; None keeps no backup.
    pub backup_dir: Option<PathBuf>,
}

impl Default for WriterConfig {
    fn default() -> Self {
        Self {
            queue_rows: 50_000,
            max_rows_per_commit: 10_000,
            committers: 4,
            backup_dir: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    #[error("the write queue is full")]
    Overloaded,
    #[error("the database is unavailable")]
    Unavailable,
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error("{0} rows is more than the write queue holds")]
    TooLarge(usize),
}

struct Job {
    rows: Vec<Prediction>,
    // Dropped once the rows are committed (or failed), giving their room back.
    _permit: OwnedSemaphorePermit,
    reply: oneshot::Sender<Result<(), WriteError>>,
}

/// The handle request handlers use; cheap to clone.
#[derive(Clone, Debug)]
pub struct Writer {
    jobs: mpsc::UnboundedSender<Job>,
    room: Arc<Semaphore>,
    healthy: Arc<AtomicBool>,
    capacity: usize,
}

/// The running writer; keep it to shut down cleanly.
pub struct WriterTask {
    stop: watch::Sender<bool>,
    committers: Vec<JoinHandle<()>>,
    probe: JoinHandle<()>,
}

/// What the committers share.
struct Shared {
    // tokio Mutex: a committer holds it while awaiting the next job.
    jobs: tokio::sync::Mutex<mpsc::UnboundedReceiver<Job>>,
    pool: PgPool,
    max_rows: usize,
    backup: Option<Arc<Mutex<BackupWriter>>>,
    room: Arc<Semaphore>,
    healthy: Arc<AtomicBool>,
    capacity: usize,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Job({} rows)", self.rows.len())
    }
}

impl Writer {
    /// Starts the writer task on the current runtime.
    pub fn spawn(pool: PgPool, config: WriterConfig) -> Result<(Writer, WriterTask)> {
        let backup = match &config.backup_dir {
            Some(dir) => Some(Arc::new(Mutex::new(BackupWriter::new(dir)?))),
            None => None,
        };
        let capacity = config.queue_rows.max(1);
        let (jobs, rx) = mpsc::unbounded_channel();
        let room = Arc::new(Semaphore::new(capacity));
        let healthy = Arc::new(AtomicBool::new(true));
        let (stop, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            jobs: tokio::sync::Mutex::new(rx),
            pool: pool.clone(),
            max_rows: config.max_rows_per_commit.max(1),
            backup,
            room: room.clone(),
            healthy: healthy.clone(),
            capacity,
        });
        let committers = (0..config.committers.max(1))
            .map(|i| tokio::spawn(run(shared.clone(), stop_rx.clone(), i + 1)))
            .collect();
        let probe = tokio::spawn(probe(pool, healthy.clone()));
        let writer = Writer {
            jobs,
            room,
            healthy,
            capacity,
        };
        Ok((
            writer,
            WriterTask {
                stop,
                committers,
                probe,
            },
        ))
    }

    /// Queues the rows and waits until they are committed.
    pub async fn store(&self, rows: Vec<Prediction>) -> Result<(), WriteError> {
        if rows.is_empty() {
            return Ok(());
        }
        if rows.len() > self.capacity {
            return Err(WriteError::TooLarge(rows.len()));
        }
        if !self.is_healthy() {
            return Err(WriteError::Unavailable);
        }
        let permit = self
            .room
            .clone()
            .try_acquire_many_owned(rows.len() as u32)
            .map_err(|e| match e {
                TryAcquireError::Closed => WriteError::ShuttingDown,
                TryAcquireError::NoPermits => WriteError::Overloaded,
            })?;
        self.record_depth();
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job {
                rows,
                _permit: permit,
                reply,
            })
            .map_err(|_| WriteError::ShuttingDown)?;
        answer.await.map_err(|_| WriteError::ShuttingDown)?
    }

    /// False after a failed commit, until the database answers again.
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Rows waiting to be committed.
    pub fn queued_rows(&self) -> usize {
        self.capacity - self.room.available_permits()
    }

    fn record_depth(&self) {
        metrics::gauge!("scorewatch_writer_queue_rows").set(self.queued_rows() as f64);
    }
}

impl WriterTask {
    /// Stops accepting rows, commits what is queued, and waits for the task to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.committers {
            if let Err(e) = task.await {
                tracing::error!(target: "scorewatch::writer", error = %e, "a committer task failed");
            }
        }
        self.probe.abort();
        tracing::info!(target: "scorewatch::writer", "prediction writer stopped: queue flushed");
    }
}

/// One committer: takes every job waiting (up to `max_rows` rows), commits them in one
/// transaction, answers them, repeats; after the stop signal, drains the queue and ends.
///
/// `slot` (1, 2, ...) is the committer's summary slot: its counts go to rows of its own
/// (see [`crate::store::summaries::SummaryAdditions`]), so that commits never wait for each other.
async fn run(shared: Arc<Shared>, mut stop: watch::Receiver<bool>, slot: usize) {
    // Each committer's own connection, outside the pool: when the database goes away a new
    // connection fails at once (the pool would retry until its acquire timeout), so
    // requests get their 503 quickly; and a busy pool never delays commits.
    let mut conn: Option<PgConnection> = None;
    loop {
        let jobs = {
            let mut rx = shared.jobs.lock().await;
            let first = loop {
                if *stop.borrow() {
                    // No new rows: the closed semaphore turns `store` calls into
                    // ShuttingDown, and the closed channel lets `recv` drain what is
                    // queued, then end.
                    shared.room.close();
                    rx.close();
                }
                tokio::select! {
                    job = rx.recv() => break job,
                    changed = stop.changed() => {
                        if changed.is_err() {
                            // The WriterTask was dropped without shutdown: stop as well.
                            shared.room.close();
                            rx.close();
                        }
                    }
                }
            };
            let Some(first) = first else { break };
            let mut n = first.rows.len();
            let mut jobs = vec![first];
            while n < shared.max_rows {
                match rx.try_recv() {
                    Ok(job) => {
                        n += job.rows.len();
                        jobs.push(job);
                    }
                    Err(_) => break,
                }
            }
            jobs
        };
        let mut jobs = jobs;
        let rows: Vec<Prediction> = jobs
            .iter_mut()
            .flat_map(|j| std::mem::take(&mut j.rows))
            .collect();
        let result = commit(
            &shared.pool,
            slot,
            &mut conn,
            rows,
            shared.backup.as_ref(),
            &shared.healthy,
        )
        .await;
        for job in jobs {
            // The request may have gone (client disconnected): its rows are stored anyway.
            let _ = job.reply.send(result);
        }
        metrics::gauge!("scorewatch_writer_queue_rows")
            .set((shared.capacity - shared.room.available_permits()) as f64);
    }
}

/// How long the writer waits for a new connection before answering 503.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Statements a committer keeps prepared: one per commit shape (rows, minutes and summary
/// cells touched), which repeat under steady traffic.
const STATEMENT_CACHE: usize = 256;

async fn connect(pool: &PgPool) -> Result<PgConnection> {
    let options = (*pool.connect_options())
        .clone()
        .statement_cache_capacity(STATEMENT_CACHE);
    match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
        Ok(conn) => Ok(conn?),
        Err(_) => Err(sqlx::Error::PoolTimedOut.into()),
    }
}

async fn commit(
    pool: &PgPool,
    slot: usize,
    conn: &mut Option<PgConnection>,
    rows: Vec<Prediction>,
    backup: Option<&Arc<Mutex<BackupWriter>>>,
    healthy: &AtomicBool,
) -> Result<(), WriteError> {
    let started = Instant::now();
    let stored = async {
        if conn.is_none() {
            *conn = Some(connect(pool).await?);
        }
        store::insert_predictions_on(conn.as_mut().expect("connected above"), &rows, slot as i32)
            .await
    }
    .await;
    metrics::histogram!("scorewatch_writer_commit_duration_seconds")
        .record(started.elapsed().as_secs_f64());
    if let Err(e) = stored {
        metrics::counter!("scorewatch_writer_commit_failures_total").increment(1);
        if matches!(e, crate::Error::Unavailable(_)) {
            healthy.store(false, Ordering::Relaxed);
            *conn = None;
        }
        tracing::error!(
            target: "scorewatch::writer",
            error = %format!("{e:#}"),
            rows = rows.len(),
            "predictions not stored"
        );
        return Err(WriteError::Unavailable);
    }
    metrics::counter!("scorewatch_writer_rows_committed_total").increment(rows.len() as u64);
    metrics::counter!("scorewatch_writer_commits_total").increment(1);
    if let Some(backup) = backup {
        let backup = backup.clone();
        let appended = tokio::task::spawn_blocking(move || {
            backup.lock().expect("backup writer").append(&rows)
        })
        .await;
        let failed = match appended {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(format!("{e:#}")),
            Err(e) => Some(e.to_string()),
        };
        if let Some(error) = failed {
            // The rows are committed: the database is the copy that counts.
            metrics::counter!("scorewatch_backup_failures_total").increment(1);
            tracing::error!(target: "scorewatch::writer", %error, "prediction backup not written");
        }
    }
    Ok(())
}

/// Marks the writer healthy again once the database answers.
async fn probe(pool: PgPool, healthy: Arc<AtomicBool>) {
    let mut tick = tokio::time::interval(PROBE_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if healthy.load(Ordering::Relaxed) {
            continue;
        }
        let ping = tokio::time::timeout(
            Duration::from_secs(2),
            sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&pool),
        )
        .await;
        if matches!(ping, Ok(Ok(_))) {
            tracing::info!(target: "scorewatch::writer", "database reachable again: accepting predictions");
            healthy.store(true, Ordering::Relaxed);
        }
    }
}
