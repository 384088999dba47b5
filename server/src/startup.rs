//! Assembling the router and running the server until a shutdown signal.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use axum::extract::FromRef;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list_with_exclusions_and_ssg_and_context, LeptosRoutes};
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

use scorewatch_core::keys::KeyCache;
use scorewatch_core::registry::ActiveModel;
use scorewatch_core::state::{ApiSettings, AppState};
use scorewatch_core::writer::{Writer, WriterConfig, WriterTask};

/// Largest accepted request body outside the predict routes (which set their own).
pub const BODY_LIMIT_BYTES: usize = 16 * 1024 * 1024;

/// Starts the prediction writer and assembles the shared state.
pub fn start_services(
    pool: sqlx::PgPool,
    model: std::sync::Arc<ActiveModel>,
    settings: ApiSettings,
    writer: WriterConfig,
) -> Result<(AppState, WriterTask)> {
    if writer.queue_rows < settings.max_batch {
        anyhow::bail!(
            "the write queue ({} rows) must hold at least one full batch ({} applications)",
            writer.queue_rows,
            settings.max_batch
        );
    }
    let (handle, task) = Writer::spawn(pool.clone(), writer)?;
    let state = AppState {
        pool,
        model,
        writer: handle,
        keys: KeyCache::default(),
        settings,
        started_at: chrono::Utc::now(),
    };
    Ok((state, task))
}

/// The router's state: the shared application state plus Leptos' options.
#[derive(Clone)]
pub struct ServerState {
    pub app: AppState,
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

/// Leptos options for serving the compiled site from `site_root`.
///
/// `cargo leptos build` puts a content hash in the client's file names
/// (`hash-files` in the workspace manifest) and writes the hashes to `hash.txt` beside the
/// server executable; when that file is there, the page shell links the hashed names.
pub fn leptos_options(site_root: PathBuf, addr: SocketAddr) -> LeptosOptions {
    const HASH_FILE: &str = "hash.txt";
    let hash_files = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(HASH_FILE).is_file()))
        .unwrap_or(false);
    LeptosOptions::builder()
        .output_name("scorewatch")
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .hash_file(HASH_FILE.into())
        .hash_files(hash_files)
        .build()
}

/// The whole application: API, probes, pages, server functions and static files.
pub fn router(state: ServerState) -> Router {
    crate::observe::metrics_handle();
    // Every render gets the state: each request's, the route listing's (it renders the
    // application once, and a component's server call can start during it) and the
    // fallback's.
    let provide_state = {
        let app_state = state.app.clone();
        move || provide_context(app_state.clone())
    };
    let (routes, _) = generate_route_list_with_exclusions_and_ssg_and_context(
        app::App,
        None,
        provide_state.clone(),
    );
    let shell_options = state.leptos.clone();
    crate::api::routes(state.app.settings.batch_body_limit)
        .leptos_routes_with_context(&state, routes, provide_state.clone(), move || {
            app::shell(shell_options.clone())
        })
        .fallback(crate::static_files::fallback::<ServerState>(provide_state))
        .layer(axum::middleware::from_fn_with_state(
            state.app.clone(),
            crate::signin::guard,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(axum::middleware::from_fn(crate::observe::track))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Binds `addr` (port 0 picks a free port) and returns the listener and the real address.
pub async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr} (is another server running there? use --addr)")
    })?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// Serves until `stop` completes, then stops accepting connections and lets in-flight
/// requests finish.
pub async fn serve_until(
    listener: TcpListener,
    router: Router,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(stop)
        .await
        .context("server error")
}

pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown requested");
}
