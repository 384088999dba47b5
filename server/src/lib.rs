//! The `scorewatch` binary's library: command line, HTTP API, server startup.
//!
//! Layout:
//! - [`cli`]: the subcommands and their options.
//! - [`api`]: REST handlers and the API error type.
//! - [`startup`]: router assembly, binding, graceful shutdown.
//! - [`static_files`]: the compiled client and other files, compressed and cached by name.
//! - [`telemetry`], [`logship`]: logging to stdout and into `api_logs`.
//! - [`observe`]: the access log and Prometheus metrics.
//! - [`monitor`]: the drift scheduler and its webhook alerts.
//! - [`simulate`]: the traffic simulator (an HTTP client of the API).

pub mod api;
pub mod cli;
pub mod logship;
pub mod monitor;
pub mod observe;
pub mod signin;
pub mod simulate;
pub mod startup;
pub mod static_files;
pub mod telemetry;
