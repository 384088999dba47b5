//! Dashboard sign-in: an API key of role viewer, officer or admin opens a session kept in
//! an HTTP-only cookie. Viewers read, officers also score, admins also run drift detection.
//! A server started without sign-in (`--dashboard-sign-in auto` on loopback for direct
//! visits, or `never`) treats those visitors as admin.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Who is signed in, as the top bar shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    pub name: String,
    pub role: String,
    /// False when the server runs without dashboard sign-in.
    pub signed_in: bool,
}

/// What a server function needs.
#[cfg(feature = "ssr")]
#[derive(Debug, Clone, Copy)]
pub enum Need {
    Read,
    Score,
    Admin,
}

/// Whether a request with these headers must sign in: never treats a request that came
/// through a proxy (`Forwarded`, `X-Forwarded-For`, `X-Real-IP`) as the local user.
#[cfg(feature = "ssr")]
pub fn sign_in_required(
    policy: scorewatch_core::state::DashboardSignIn,
    headers: &http::HeaderMap,
) -> bool {
    const FORWARDING: [&str; 3] = ["forwarded", "x-forwarded-for", "x-real-ip"];
    policy.required(FORWARDING.iter().any(|h| headers.contains_key(*h)))
}

/// The caller of the current request, checked against `need`. Errors say what to do, and
/// the response answers 401 (not signed in) or 403 (the role may not).
#[cfg(feature = "ssr")]
pub async fn require(need: Need) -> Result<UserView, ServerFnError> {
    check(need, true).await
}

/// [`require`]; a refusal sets the response's status only when `report` (asking who is
/// signed in is not a refused request).
#[cfg(feature = "ssr")]
async fn check(need: Need, report: bool) -> Result<UserView, ServerFnError> {
    let refuse = |status: http::StatusCode, message: String| {
        if report {
            crate::user_error(status, message)
        } else {
            ServerFnError::new(message)
        }
    };
    use scorewatch_core::access::{self, Permission};
    use scorewatch_core::state::AppState;
    let state = expect_context::<AppState>();
    let parts = use_context::<http::request::Parts>();
    let empty = http::HeaderMap::new();
    let headers = parts.as_ref().map_or(&empty, |p| &p.headers);
    if !sign_in_required(state.settings.dashboard_sign_in, headers) {
        return Ok(UserView {
            name: "local user".into(),
            role: "admin".into(),
            signed_in: false,
        });
    }
    let token = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| access::session_token(c).map(str::to_owned));
    let caller = match token {
        Some(t) => access::session_caller(&state.pool, &t)
            .await
            .map_err(crate::read_failed("checking a dashboard session"))?,
        None => None,
    };
    let Some(caller) = caller else {
        return Err(refuse(
            http::StatusCode::UNAUTHORIZED,
            "not signed in (or the session ended): sign in again at /login".into(),
        ));
    };
    let (permission, what) = match need {
        Need::Read => (Permission::Read, "see the dashboard"),
        Need::Score => (
            Permission::Predict,
            "score applications (officers and admins can)",
        ),
        Need::Admin => (Permission::Admin, "do this (admins only)"),
    };
    if !caller.role.allows(permission) {
        return Err(refuse(
            http::StatusCode::FORBIDDEN,
            format!("your role ({}) may not {what}", caller.role),
        ));
    }
    Ok(UserView {
        name: caller.name,
        role: caller.role.as_str().into(),
        signed_in: true,
    })
}

/// Who is using the dashboard; None when nobody is signed in.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<UserView>, ServerFnError> {
    Ok(check(Need::Read, false).await.ok())
}

/// Signs in with an API key; sets the session cookie and returns where to go next.
#[server(endpoint = "sign_in")]
pub async fn sign_in(key: String, next: String) -> Result<String, ServerFnError> {
    use scorewatch_core::access::{self, Role, SESSION_COOKIE, SESSION_HOURS};
    use scorewatch_core::state::AppState;
    let state = expect_context::<AppState>();
    if key.trim().is_empty() {
        return Err(ServerFnError::new("paste an API key"));
    }
    let signed = access::sign_in(&state.pool, &key)
        .await
        .map_err(crate::read_failed("signing in"))?;
    let Some((caller, token)) = signed else {
        tracing::warn!("dashboard sign-in with an unknown or revoked key");
        return Err(ServerFnError::new("unknown or revoked key"));
    };
    if caller.role == Role::Scorer {
        access::end_session(&state.pool, &token).await.ok();
        return Err(ServerFnError::new(
            "this key only scores through the API; the dashboard needs a viewer, officer or admin key",
        ));
    }
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}",
        SESSION_HOURS * 3600
    );
    let response = expect_context::<leptos_axum::ResponseOptions>();
    if let Ok(v) = http::HeaderValue::from_str(&cookie) {
        response.append_header(http::header::SET_COOKIE, v);
    }
    tracing::info!(key_id = caller.key_id, role = %caller.role, "signed in to the dashboard");
    // Only paths of this site: never an absolute URL from the query string.
    let next = if next.starts_with('/') && !next.starts_with("//") {
        next
    } else {
        "/".into()
    };
    Ok(next)
}

/// Ends the session and clears the cookie.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), ServerFnError> {
    use scorewatch_core::access::{self, SESSION_COOKIE};
    use scorewatch_core::state::AppState;
    let state = expect_context::<AppState>();
    if let Some(parts) = use_context::<http::request::Parts>() {
        for c in parts.headers.get_all(http::header::COOKIE).iter() {
            if let Some(t) = c.to_str().ok().and_then(access::session_token) {
                access::end_session(&state.pool, t).await.ok();
            }
        }
    }
    let response = expect_context::<leptos_axum::ResponseOptions>();
    let cookie = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    if let Ok(v) = http::HeaderValue::from_str(&cookie) {
        response.append_header(http::header::SET_COOKIE, v);
    }
    Ok(())
}
