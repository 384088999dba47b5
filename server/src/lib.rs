//! The `scorewatch` binary's library: the command line, the HTTP server and what runs
//! beside it.
//!
//! Layout:
//! - [`config`]: every subcommand's options (clap), and where the database and the local
//!   state are.
//! - [`commands`]: what each subcommand does, one module per subcommand.
//! - [`application`]: the server assembled from its parts (writer, state, router,
//!   background tasks, socket), used by `serve` and by the tests.
//! - [`router`]: every route and layer; [`state`]: the state the router shares.
//! - [`api`]: the REST handlers, their error type, API keys and the OpenAPI document.
//! - [`signin`]: the dashboard pages' sign-in redirect.
//! - [`static_files`]: the compiled client and other files, compressed and cached by name.
//! - [`drift_scheduler`]: the scheduled drift reports and their webhook alerts;
//!   [`performance_scheduler`]: the same for performance reports.
//! - [`observability`]: logging to stdout and into `api_logs`, Prometheus metrics and the
//!   access log.
//!
//! Dependencies run one way: `commands` -> `application` -> `router` -> `api` -> `state`,
//! with `config` and `observability` below them all.

pub mod api;
pub mod application;
pub mod commands;
pub mod config;
pub mod drift_scheduler;
pub mod observability;
pub mod performance_scheduler;
pub mod router;
pub mod schedule;
pub mod signin;
pub mod state;
pub mod static_files;
