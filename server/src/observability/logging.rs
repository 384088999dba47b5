//! Where the process's log events go: the global `tracing` subscriber, writing to stdout for
//! `serve` (its access log is its output) and to stderr for every other command (whose
//! stdout carries data: tables, JSON, URLs), as text for people or one JSON object per line
//! for collectors, and, while the server runs, into `api_logs` through
//! [`super::log_shipping`].

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

use super::log_shipping::{self, LogQueue};
use crate::config::LogFormat;

/// Installs the global subscriber; `RUST_LOG` overrides the default level. Events go to
/// stdout when `to_stdout` (the server), else to stderr. Returns the queue of events to
/// ship into `api_logs` (the server starts the shipper; other commands drop it).
pub fn init(format: LogFormat, to_stdout: bool) -> LogQueue {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let terminal = if to_stdout {
        std::io::IsTerminal::is_terminal(&std::io::stdout())
    } else {
        std::io::IsTerminal::is_terminal(&std::io::stderr())
    };
    let json = match format {
        LogFormat::Auto => !terminal,
        LogFormat::Text => false,
        LogFormat::Json => true,
    };
    let writer = fmt::writer::BoxMakeWriter::new(move || -> Box<dyn std::io::Write> {
        if to_stdout {
            Box::new(std::io::stdout())
        } else {
            Box::new(std::io::stderr())
        }
    });
    let stdout = fmt::layer().with_writer(writer).with_ansi(terminal);
    let stdout = if json {
        stdout
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .boxed()
    } else {
        stdout.compact().boxed()
    };
    let (ship, queue) = log_shipping::channel();
    tracing_subscriber::registry()
        .with(filter)
        .with(stdout)
        .with(ship)
        .init();
    queue
}
