//! API keys on the API: `Authorization: Bearer <key>`, checked against the role a route
//! needs. 401 without a usable key, 403 when the key's role does not allow the route.

use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use scorewatch_core::access::{Caller, Permission};
use scorewatch_core::state::AppState;

use super::error::ApiError;

/// What a route needs.
pub trait Requirement {
    const PERMISSION: Permission;
    /// For the 403 message: "this key's role (viewer) may not <WHAT>".
    const WHAT: &'static str;
}

pub struct Predict;
impl Requirement for Predict {
    const PERMISSION: Permission = Permission::Predict;
    const WHAT: &'static str = "score applications";
}

pub struct Read;
impl Requirement for Read {
    const PERMISSION: Permission = Permission::Read;
    const WHAT: &'static str = "read stored data";
}

pub struct RecordOutcomes;
impl Requirement for RecordOutcomes {
    const PERMISSION: Permission = Permission::RecordOutcomes;
    const WHAT: &'static str = "record outcomes (scorer and admin keys can)";
}

pub struct Admin;
impl Requirement for Admin {
    const PERMISSION: Permission = Permission::Admin;
    const WHAT: &'static str = "do this (admin only)";
}

/// An authorised caller (None when the server runs without keys).
pub struct Authorized<R>(pub Option<Caller>, PhantomData<R>);

impl<S, R> FromRequestParts<S> for Authorized<R>
where
    AppState: FromRef<S>,
    S: Send + Sync,
    R: Requirement,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let app = AppState::from_ref(state);
        if !app.settings.require_keys {
            return Ok(Self(None, PhantomData));
        }
        let key = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                ApiError::Unauthorized(
                    "an API key is required: send `Authorization: Bearer <key>` (create one with `scorewatch keys create`)".into(),
                )
            })?;
        let caller = app
            .keys
            .verify(&app.pool, key)
            .await
            .map_err(ApiError::from_store)?
            .ok_or_else(|| ApiError::Unauthorized("unknown or revoked API key".into()))?;
        if !caller.role.allows(R::PERMISSION) {
            return Err(ApiError::Forbidden(format!(
                "this key's role ({}) may not {}",
                caller.role,
                R::WHAT
            )));
        }
        Ok(Self(Some(caller), PhantomData))
    }
}
