//! API keys: roles, creation, revocation and verification. Keys are shown once when created
//! and stored only as SHA-256 hashes (they carry 160 random bits, so a plain hash is enough:
//! unlike passwords there is nothing to guess).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// API clients (loan-origination systems): predict, and nothing else.
    Scorer,
    /// Read everything: predictions, model, drift reports, logs.
    Viewer,
    /// A viewer who also scores applications in the dashboard.
    Officer,
    /// Everything, including running drift detection and managing keys.
    Admin,
}

/// The permissions the API and the dashboard check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Predict,
    Read,
    /// Record observed outcomes: systems that feed them (scorer keys) and admins; an
    /// officer scores in the browser but does not rewrite what defaulted.
    RecordOutcomes,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Scorer, Role::Viewer, Role::Officer, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Scorer => "scorer",
            Role::Viewer => "viewer",
            Role::Officer => "officer",
            Role::Admin => "admin",
        }
    }

    pub fn allows(self, permission: Permission) -> bool {
        match permission {
            Permission::Predict => matches!(self, Role::Scorer | Role::Officer | Role::Admin),
            Permission::Read => matches!(self, Role::Viewer | Role::Officer | Role::Admin),
            Permission::RecordOutcomes => matches!(self, Role::Scorer | Role::Admin),
            Permission::Admin => self == Role::Admin,
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?}: expected scorer, viewer, officer or admin"))
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Keys start with this, so that scanners and people recognise them.
pub const KEY_PREFIX: &str = "sw_";
/// Characters of the key kept in clear to tell keys apart in listings.
const SHOWN_CHARS: usize = 11;

fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// A key as listed (never the key itself).
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Creates a key; returns its id and the key, which is not stored and cannot be shown again.
pub async fn create(pool: &PgPool, name: &str, role: Role) -> Result<(i64, String)> {
    if name.trim().is_empty() {
        return Err(Error::invalid("a key needs a name (who or what uses it)"));
    }
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let key = format!("{KEY_PREFIX}{}", hex::encode(bytes));
    let id = sqlx::query_scalar(
        "INSERT INTO api_keys (name, role, key_hash, prefix) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(name.trim())
    .bind(role.as_str())
    .bind(hash(&key))
    .bind(&key[..SHOWN_CHARS])
    .fetch_one(pool)
    .await?;
    Ok((id, key))
}

/// Every key, newest first, revoked ones included.
pub async fn list(pool: &PgPool) -> Result<Vec<KeyInfo>> {
    let rows = sqlx::query(
        "SELECT id, name, role, prefix, created_at, last_used_at, revoked_at FROM api_keys ORDER BY id DESC",
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            let role: String = r.get("role");
            Ok(KeyInfo {
                id: r.get("id"),
                name: r.get("name"),
                role: role.parse().map_err(anyhow::Error::msg)?,
                prefix: r.get("prefix"),
                created_at: r.get("created_at"),
                last_used_at: r.get("last_used_at"),
                revoked_at: r.get("revoked_at"),
            })
        })
        .collect()
}

/// What [`revoke`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoked {
    /// The one active key that matched, by id and visible prefix, is revoked.
    One { id: i64, prefix: String },
    /// No active key has this id or a visible prefix starting so.
    NoMatch,
    /// Several active keys match (their visible prefixes); none was revoked.
    Ambiguous(Vec<String>),
}

/// Revokes the active key with this id, or whose visible prefix starts with `id_or_prefix`
/// (`sw_1a2b` for `sw_1a2b3c4d`), if exactly one matches.
pub async fn revoke(pool: &PgPool, id_or_prefix: &str) -> Result<Revoked> {
    let id: Option<i64> = id_or_prefix.parse().ok();
    let mut tx = pool.begin().await?;
    let matches: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, prefix FROM api_keys WHERE revoked_at IS NULL \
           AND (id = $1 OR starts_with(prefix, $2)) ORDER BY id FOR UPDATE",
    )
    .bind(id)
    .bind(id_or_prefix)
    .fetch_all(&mut *tx)
    .await?;
    let (id, prefix) = match matches.as_slice() {
        [] => return Ok(Revoked::NoMatch),
        [(id, prefix)] => (*id, prefix.clone()),
        many => {
            return Ok(Revoked::Ambiguous(
                many.iter().map(|(_, p)| p.clone()).collect(),
            ))
        }
    };
    sqlx::query("UPDATE api_keys SET revoked_at = now() WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Revoked::One { id, prefix })
}

/// Number of keys not revoked.
pub async fn count_active(pool: &PgPool) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM api_keys WHERE revoked_at IS NULL")
            .fetch_one(pool)
            .await?,
    )
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub key_id: i64,
    pub name: String,
    pub role: Role,
}

/// Verifies keys against the database, remembering answers for a short time so that a busy
/// API does not query `api_keys` on every request. A revoked key stops working within
/// [`KeyCache::TTL`].
#[derive(Clone, Debug, Default)]
pub struct KeyCache {
    // std Mutex: held only to read or insert a map entry, never across an await.
    entries: Arc<Mutex<HashMap<String, Verified>>>,
}

/// When a key hash was checked, and whose it was (None: unknown or revoked).
type Verified = (Instant, Option<Caller>);

impl KeyCache {
    pub const TTL: Duration = Duration::from_secs(10);

    /// The caller a key belongs to, or None for unknown and revoked keys.
    pub async fn verify(&self, pool: &PgPool, key: &str) -> Result<Option<Caller>> {
        let h = hash(key);
        if let Some((at, caller)) = self.entries.lock().expect("key cache").get(&h) {
            if at.elapsed() < Self::TTL {
                return Ok(caller.clone());
            }
        }
        let row = sqlx::query(
            "UPDATE api_keys SET last_used_at = now() WHERE key_hash = $1 AND revoked_at IS NULL \
             RETURNING id, name, role",
        )
        .bind(&h)
        .fetch_optional(pool)
        .await?;
        let caller = match row {
            Some(r) => {
                let role: String = r.get("role");
                Some(Caller {
                    key_id: r.get("id"),
                    name: r.get("name"),
                    role: role.parse().map_err(anyhow::Error::msg)?,
                })
            }
            None => None,
        };
        let mut entries = self.entries.lock().expect("key cache");
        // Unknown keys are cached too (a client retrying a bad key costs no queries), so
        // bound the map: a flood of random keys must not grow memory.
        if entries.len() > 10_000 {
            entries.retain(|_, (at, _)| at.elapsed() < Self::TTL);
        }
        entries.insert(h, (Instant::now(), caller.clone()));
        Ok(caller)
    }
}

/// The dashboard's session cookie.
pub const SESSION_COOKIE: &str = "scorewatch_session";
/// How long a dashboard session lasts.
pub const SESSION_HOURS: i64 = 12;

/// Signs a key in to the dashboard: returns the caller and a new session token, or None when
/// the key is unknown or revoked. Scorer keys (API clients) cannot sign in.
pub async fn sign_in(pool: &PgPool, key: &str) -> Result<Option<(Caller, String)>> {
    let row = sqlx::query(
        "UPDATE api_keys SET last_used_at = now() WHERE key_hash = $1 AND revoked_at IS NULL \
         RETURNING id, name, role",
    )
    .bind(hash(key.trim()))
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else {
        return Ok(None);
    };
    let role: String = r.get("role");
    let caller = Caller {
        key_id: r.get("id"),
        name: r.get("name"),
        role: role.parse().map_err(anyhow::Error::msg)?,
    };
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    sqlx::query(
        "INSERT INTO dashboard_sessions (token_hash, key_id, expires_at) \
         VALUES ($1, $2, now() + make_interval(hours => $3::INTEGER))",
    )
    .bind(hash(&token))
    .bind(caller.key_id)
    .bind(SESSION_HOURS as i32)
    .execute(pool)
    .await?;
    // Expired sessions are dropped as new ones start.
    sqlx::query("DELETE FROM dashboard_sessions WHERE expires_at < now()")
        .execute(pool)
        .await?;
    Ok(Some((caller, token)))
}

/// Whose session a token is: None when unknown, expired, or its key was revoked.
pub async fn session_caller(pool: &PgPool, token: &str) -> Result<Option<Caller>> {
    // The key counts as used (`keys list`'s "last used"), written at most every 10 seconds
    // per key, as the API's key cache does.
    let row = sqlx::query(
        "WITH caller AS ( \
           SELECT k.id, k.name, k.role, k.last_used_at FROM dashboard_sessions s \
             JOIN api_keys k ON k.id = s.key_id \
            WHERE s.token_hash = $1 AND s.expires_at > now() AND k.revoked_at IS NULL), \
         touched AS ( \
           UPDATE api_keys SET last_used_at = now() WHERE id IN ( \
             SELECT id FROM caller \
              WHERE last_used_at IS NULL OR last_used_at < now() - interval '10 seconds')) \
         SELECT id, name, role FROM caller",
    )
    .bind(hash(token))
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        let role: String = r.get("role");
        Ok(Caller {
            key_id: r.get("id"),
            name: r.get("name"),
            role: role.parse().map_err(anyhow::Error::msg)?,
        })
    })
    .transpose()
}

/// Ends a session (signing out).
pub async fn end_session(pool: &PgPool, token: &str) -> Result<()> {
    sqlx::query("DELETE FROM dashboard_sessions WHERE token_hash = $1")
        .bind(hash(token))
        .execute(pool)
        .await?;
    Ok(())
}

/// The session token in a `Cookie` header, if any.
pub fn session_token(cookie_header: &str) -> Option<&str> {
    cookie_header
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        assert_eq!(
            session_token("a=1; scorewatch_session=abc123; b=2"),
            Some("abc123")
        );
        assert_eq!(session_token("scorewatch_session="), None);
        assert_eq!(session_token("other=1"), None);
        assert_eq!(session_token("xscorewatch_session=1"), None);
    }

    #[test]
    fn roles_grant_what_the_design_says() {
        use Permission::*;
        assert!(Role::Scorer.allows(Predict) && !Role::Scorer.allows(Read));
        assert!(Role::Viewer.allows(Read) && !Role::Viewer.allows(Predict));
        assert!(Role::Officer.allows(Read) && Role::Officer.allows(Predict));
        assert!(!Role::Officer.allows(Admin));
        assert!(Role::Admin.allows(Admin) && Role::Admin.allows(Read));
        assert_eq!("officer".parse::<Role>(), Ok(Role::Officer));
        assert!("root".parse::<Role>().is_err());
    }
}
