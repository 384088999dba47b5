//! The `scorewatch` binary's library: command line, HTTP API, server startup.
//!
//! Layout:
//! - [`cli`]: the subcommands and their options.
//! - [`api`]: REST handlers and the API error type.
//! - [`startup`]: router assembly, binding, graceful shutdown.
//! - [`telemetry`]: logging setup.

pub mod api;
pub mod cli;
pub mod startup;
pub mod telemetry;
