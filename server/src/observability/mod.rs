//! What the service tells its operators about itself.
//!
//! - [`logging`]: the process's log subscriber (stdout, text or JSON), installed by `main`.
//! - [`log_shipping`]: the subscriber's layer and task that copy log events into `api_logs`.
//! - [`metrics`]: Prometheus metrics (`GET /metrics`) and the per-request access log.

pub mod log_shipping;
pub mod logging;
pub mod metrics;
