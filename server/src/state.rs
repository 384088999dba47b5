//! The router's shared state: the application state the handlers and server functions take
//! ([`AppState`], from the core crate) next to Leptos' options, each extracted on its own
//! through [`FromRef`].

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use scorewatch_core::state::AppState;

/// The router's state: the shared application state plus Leptos' options.
#[derive(Clone)]
pub struct ServerState {
    /// Pool, active model, writer, key cache and settings.
    pub app: AppState,
    /// Where the compiled site is and how it is named, for pages and static files.
    pub leptos: LeptosOptions,
}

impl FromRef<ServerState> for AppState {
    fn from_ref(s: &ServerState) -> Self {
        s.app.clone()
    }
}

impl FromRef<ServerState> for LeptosOptions {
    fn from_ref(s: &ServerState) -> Self {
        s.leptos.clone()
    }
}
