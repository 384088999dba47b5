//! The server's integration tests, one binary (LightGBM and the whole server are linked
//! once): every test gets a fresh database from `#[sqlx::test]` (DATABASE_URL) and builds
//! the application as `serve` does.
//!
//! - `api`: the REST API and probes, keys and sign-in, metrics.
//! - `dashboard`: the traffic summaries the dashboard and Grafana read.
//! - `drift`: drift detection end to end, the drift API and the scheduler.
//! - `logs`: the service's own logs shipped into `api_logs`.
//! - `models`: models of every kind scored like LightGBM Python.
//! - `performance`: outcomes and performance reports through the API.
//! - `storage`: the write queue, backup and replay, shutdown, a PostgreSQL restart.
//! - `common`: what they share.
//!
//! Tests run in parallel threads of one process: whatever is process-wide (the metrics
//! recorder, Leptos' render switch) is shared, so tests compare metrics before and after
//! instead of expecting exact totals, and log capture is per thread.

mod api;
mod common;
mod dashboard;
mod drift;
mod logs;
mod models;
mod performance;
mod storage;
