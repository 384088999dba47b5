//! The state every request handler and server function shares.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::registry::ActiveModel;

/// Database pool and active model; cheap to clone (everything behind `Arc`s).
#[derive(Clone, Debug)]
pub struct AppState {
    pub pool: PgPool,
    pub model: Arc<ActiveModel>,
    pub started_at: DateTime<Utc>,
}
