//! `model_versions`: registering a model version, the active one, feature names.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};

use crate::error::Result;

/// A registered model version, as stored.
#[derive(Debug, Clone)]
pub struct ModelVersion {
    pub id: i64,
    pub sha256: String,
    pub name: String,
    pub feature_names: Vec<String>,
    pub threshold: f64,
    pub importances: Vec<f64>,
    pub metrics: serde_json::Value,
    pub model_text: String,
    pub created_at: DateTime<Utc>,
}

/// What registering a model stores.
pub struct NewModelVersion<'a> {
    pub sha256: &'a str,
    pub name: &'a str,
    pub feature_names: &'a [String],
    pub threshold: f64,
    pub importances: &'a [f64],
    pub metrics: &'a serde_json::Value,
    pub model_text: &'a str,
}

/// Inserts a model version (or finds it by hash) and makes it the active one, in the
/// caller's transaction (with [`store_reference`], so that nothing is half-registered).
/// Returns its id and whether it was new.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn register_model(
    tx: &mut sqlx::PgConnection,
    m: &NewModelVersion<'_>,
) -> Result<(i64, bool)> {
    let existing: Option<i64> =
        sqlx::query_scalar("SELECT id FROM model_versions WHERE sha256 = $1")
            .bind(m.sha256)
            .fetch_optional(&mut *tx)
            .await?;
    sqlx::query("UPDATE model_versions SET active = false WHERE active")
        .execute(&mut *tx)
        .await?;
    let (id, new) = match existing {
        Some(id) => {
            sqlx::query(
                "UPDATE model_versions SET active = true, threshold = $2, name = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(m.threshold)
            .bind(m.name)
            .execute(&mut *tx)
            .await?;
            (id, false)
        }
        None => {
            let id = sqlx::query_scalar(
                "INSERT INTO model_versions \
                 (sha256, name, feature_names, threshold, importances, metrics, model_text, active) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, true) RETURNING id",
            )
            .bind(m.sha256)
            .bind(m.name)
            .bind(m.feature_names)
            .bind(m.threshold)
            .bind(m.importances)
            .bind(m.metrics)
            .bind(m.model_text)
            .fetch_one(&mut *tx)
            .await?;
            (id, true)
        }
    };
    Ok((id, new))
}

/// The active model version, if any.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn active_model(pool: &PgPool) -> Result<Option<ModelVersion>> {
    let row = sqlx::query(
        "SELECT id, sha256, name, feature_names, threshold, importances, metrics, model_text, created_at \
         FROM model_versions WHERE active",
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| ModelVersion {
        id: r.get("id"),
        sha256: r.get("sha256"),
        name: r.get("name"),
        feature_names: r.get("feature_names"),
        threshold: r.get("threshold"),
        importances: r.get("importances"),
        metrics: r.get("metrics"),
        model_text: r.get("model_text"),
        created_at: r.get("created_at"),
    }))
}

/// Feature names of the given model versions.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn feature_names(
    pool: &PgPool,
    versions: &[i64],
) -> Result<std::collections::HashMap<i64, Vec<String>>> {
    let rows: Vec<(i64, Vec<String>)> =
        sqlx::query_as("SELECT id, feature_names FROM model_versions WHERE id = ANY($1)")
            .bind(versions)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().collect())
}

/// The training metrics a model version was registered with (its card's), `{}` when none.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn model_metrics(pool: &PgPool, model_version: i64) -> Result<serde_json::Value> {
    let metrics: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT metrics FROM model_versions WHERE id = $1")
            .bind(model_version)
            .fetch_optional(pool)
            .await?;
    Ok(metrics.unwrap_or_else(|| serde_json::json!({})))
}
