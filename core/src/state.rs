//! The state every request handler and server function shares.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::access::KeyCache;
use crate::ingest::writer::Writer;
use crate::model::registry::ActiveModel;

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
    /// Who must sign in to the dashboard.
    pub dashboard_sign_in: DashboardSignIn,
    /// Where the first start saved the admin key (`<data-dir>/admin-key`), as the sign-in
    /// page names it; None when the server runs without keys.
    pub admin_key_file: Option<String>,
}

/// Who must sign in to the dashboard (with an API key of role viewer, officer or admin).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DashboardSignIn {
    /// Everyone (the default).
    Always,
    /// Everyone whose request came through a proxy (it carries `Forwarded`,
    /// `X-Forwarded-For` or `X-Real-IP`); a direct visitor of a server that listens on
    /// loopback only is the machine's own user and acts as admin. The local demo's choice.
    LocalUnproxied,
    /// Nobody: whoever reaches the dashboard is an admin.
    Never,
}

impl DashboardSignIn {
    /// Whether a request must come with a session; `forwarded` is true when it carries a
    /// proxy's forwarding header.
    pub fn required(self, forwarded: bool) -> bool {
        match self {
            DashboardSignIn::Always => true,
            DashboardSignIn::LocalUnproxied => forwarded,
            DashboardSignIn::Never => false,
        }
    }
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            max_batch: 10_000,
            batch_body_limit: 256 * 1024 * 1024,
            require_keys: true,
            dashboard_sign_in: DashboardSignIn::Always,
            admin_key_file: Some(".scorewatch/admin-key".into()),
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
