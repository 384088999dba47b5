//! The state every request handler and server function shares.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::keys::KeyCache;
use crate::registry::ActiveModel;
use crate::writer::Writer;

/// Limits and switches of the API.
#[derive(Clone, Debug)]
pub struct ApiSettings {
    /// Applications per batch request, at most.
    pub max_batch: usize,
    /// Largest body of a batch request, in bytes (a full 419-feature application is about
    /// 10 KB of JSON).
    pub batch_body_limit: usize,
    /// Require an API key on the API (off only for local experiments).
    pub require_keys: bool,
    /// Require signing in to the dashboard (off: everyone who reaches it is an admin,
    /// the single-user default of a server that listens on loopback only).
    pub dashboard_sign_in: bool,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            max_batch: 10_000,
            batch_body_limit: 256 * 1024 * 1024,
            require_keys: true,
            dashboard_sign_in: true,
        }
    }
}

/// Database pool, active model, prediction writer and key cache; cheap to clone
/// (everything behind `Arc`s).
#[derive(Clone, Debug)]
pub struct AppState {
    pub pool: PgPool,
    pub model: Arc<ActiveModel>,
    pub writer: Writer,
    pub keys: KeyCache,
    pub settings: ApiSettings,
    pub started_at: DateTime<Utc>,
}
