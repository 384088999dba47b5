//! Shipping the service's own log events into `api_logs` (read by the dashboard's logs page),
//! in batches, without ever blocking or failing the code that logs: events go through a
//! bounded channel and are dropped (and counted in `scorewatch_log_events_dropped_total`)
//! when it is full or the database fails.
//!
//! Parts: [`channel`] makes the tracing layer ([`ShipLayer`]) and its queue ([`LogQueue`]);
//! [`start`] gives the queue a database and returns the running [`Shipper`].
//!
//! Shipped: events at INFO and above from scorewatch's own crates. Not shipped: this
//! module's own events (a database outage would otherwise feed itself) and everything from
//! libraries (sqlx, hyper, ...), which stay on stdout.

use std::time::Duration;

use chrono::Utc;
use serde_json::{Map, Value};
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use scorewatch_core::store::{self, LogEntry};

const TARGET: &str = "scorewatch::logship";
/// Events held in memory while waiting for the database, at most.
pub const QUEUE: usize = 10_000;
/// Rows per INSERT.
const BATCH: usize = 1_000;
/// Pause between batches, so that events arriving together are written together.
const LINGER: Duration = Duration::from_millis(200);

/// The tracing layer: turns events into rows and hands them to the shipper.
pub struct ShipLayer {
    tx: mpsc::Sender<LogEntry>,
}

/// The receiving end, until [`start`] gives it a database.
pub struct LogQueue {
    rx: mpsc::Receiver<LogEntry>,
}

/// A layer and the queue it fills.
pub fn channel() -> (ShipLayer, LogQueue) {
    let (tx, rx) = mpsc::channel(QUEUE);
    (ShipLayer { tx }, LogQueue { rx })
}

fn shipped(target: &str, level: &Level) -> bool {
    *level <= Level::INFO
        && (target.starts_with("scorewatch") || target.starts_with("app"))
        && !target.starts_with(TARGET)
}

impl<S: Subscriber> Layer<S> for ShipLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if !shipped(meta.target(), meta.level()) {
            return;
        }
        let mut visitor = Fields::default();
        event.record(&mut visitor);
        let mut f = visitor.0;
        let take_str = |f: &mut Map<String, Value>, k: &str| match f.remove(k) {
            Some(Value::String(s)) => Some(s),
            Some(other) => Some(other.to_string()),
            None => None,
        };
        let row = LogEntry {
            id: 0,
            ts: Utc::now(),
            level: level_name(meta.level()).to_owned(),
            target: meta.target().to_owned(),
            message: take_str(&mut f, "message").unwrap_or_default(),
            request_id: take_str(&mut f, "request_id").filter(|s| !s.is_empty()),
            method: take_str(&mut f, "method"),
            path: take_str(&mut f, "path"),
            status: f
                .remove("status")
                .and_then(|v| v.as_i64())
                .and_then(|v| i32::try_from(v).ok()),
            latency_ms: f.remove("latency_ms").and_then(|v| v.as_f64()),
            fields: Value::Object(f),
        };
        match self.tx.try_send(row) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                metrics::counter!("scorewatch_log_events_dropped_total").increment(1);
            }
            // No shipper (a CLI command, or the server has stopped shipping): stdout only.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARN",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBUG",
        Level::TRACE => "TRACE",
    }
}

#[derive(Default)]
struct Fields(Map<String, Value>);

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().into(), Value::from(format!("{value:?}")));
    }
}

/// The running shipper.
pub struct Shipper {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// Starts writing queued events into `api_logs`.
pub fn start(queue: LogQueue, pool: PgPool) -> Shipper {
    let (stop, stop_rx) = oneshot::channel();
    let task = tokio::spawn(run(queue.rx, stop_rx, pool));
    Shipper { stop, task }
}

impl Shipper {
    /// Ships what is queued, then stops.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

async fn run(mut rx: mpsc::Receiver<LogEntry>, mut stop: oneshot::Receiver<()>, pool: PgPool) {
    let mut buf = Vec::with_capacity(BATCH);
    let mut closing = false;
    loop {
        let n = tokio::select! {
            n = rx.recv_many(&mut buf, BATCH) => n,
            _ = &mut stop, if !closing => {
                closing = true;
                rx.close();
                continue;
            }
        };
        if n == 0 {
            break;
        }
        if let Err(e) = store::insert_logs(&pool, &buf).await {
            metrics::counter!("scorewatch_log_events_dropped_total").increment(buf.len() as u64);
            tracing::warn!(target: TARGET, error = %e.log_message(), dropped = buf.len(), "log events not shipped to api_logs");
        }
        buf.clear();
        if !closing {
            tokio::select! {
                _ = tokio::time::sleep(LINGER) => {}
                _ = &mut stop => {
                    closing = true;
                    rx.close();
                }
            }
        }
    }
}
