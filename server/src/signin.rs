//! Dashboard pages need a session when sign-in is on: a request for a page without one is
//! sent to `/login?next=<page>`. Server functions check the session (and the role) themselves.

use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use scorewatch_core::access::{self, Permission};
use scorewatch_core::state::AppState;

/// Paths that are not dashboard pages: the API, server functions, compiled assets,
/// probes, metrics and the sign-in page itself.
fn is_page(path: &str) -> bool {
    const OPEN_PREFIXES: [&str; 3] = ["/api/", "/pkg/", "/vendor/"];
    const OPEN: [&str; 5] = ["/login", "/favicon.svg", "/healthz", "/readyz", "/metrics"];
    !OPEN_PREFIXES.iter().any(|p| path.starts_with(p)) && !OPEN.contains(&path)
}

/// Percent-encodes a path and query for use as a query value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn guard(State(app): State<AppState>, req: Request, next: Next) -> Response {
    if !app::auth::sign_in_required(app.settings.dashboard_sign_in, req.headers())
        || !matches!(*req.method(), Method::GET | Method::HEAD)
        || !is_page(req.uri().path())
    {
        return next.run(req).await;
    }
    let token = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| access::session_token(c).map(str::to_owned));
    let allowed = match token {
        Some(t) => match access::session_caller(&app.pool, &t).await {
            Ok(Some(caller)) => caller.role.allows(Permission::Read),
            Ok(None) => false,
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "checking a dashboard session");
                return (
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "the database could not be read",
                )
                    .into_response();
            }
        },
        None => false,
    };
    if allowed {
        return next.run(req).await;
    }
    let wanted = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    Redirect::to(&format!("/login?next={}", encode(wanted))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_told_apart_from_everything_else() {
        for page in [
            "/",
            "/drift/3",
            "/predictions",
            "/drift/3/report.html",
            "/logs",
        ] {
            assert!(is_page(page), "{page}");
        }
        for other in [
            "/api/v1/predict",
            "/api/get_overview123",
            "/pkg/scorewatch.wasm",
            "/login",
            "/metrics",
        ] {
            assert!(!is_page(other), "{other}");
        }
        assert_eq!(encode("/drift?x=1&y=2"), "/drift%3Fx%3D1%26y%3D2");
    }
}
