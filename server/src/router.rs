//! The HTTP surface in one router: the REST API and probes ([`crate::api`]), the Leptos
//! pages and server functions, static files, and the layers every request passes through
//! (request id, access log and metrics, body limit, dashboard sign-in).

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list_with_exclusions_and_ssg_and_context, LeptosRoutes};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

use crate::state::ServerState;

/// Largest accepted request body outside the predict routes (which set their own).
pub const BODY_LIMIT_BYTES: usize = 16 * 1024 * 1024;

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

/// The whole application: API, probes, pages, server functions and static files. Installs
/// the process-wide metrics recorder if no router has yet.
pub fn build(state: ServerState) -> Router {
    crate::observability::metrics::metrics_handle();
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
        .layer(axum::middleware::from_fn(
            crate::observability::metrics::track,
        ))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}
