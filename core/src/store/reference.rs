//! `training_reference` and `reference_scores`: the training reference of a model
//! version (per-feature statistics and sorted samples, the reference scores), and the
//! drift baseline read from it. Samples are stored in the [`crate::codec`] format.

use anyhow::Context;
use sqlx::{PgPool, Row};

use crate::drift::reference::FeatureReference;
use crate::error::Result;

/// Replaces a model version's reference statistics and reference scores, in the caller's
/// transaction.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn store_reference(
    tx: &mut sqlx::PgConnection,
    model_version: i64,
    features: &[FeatureReference],
    scores: &[f64],
    refusal_rate: f64,
) -> Result<()> {
    sqlx::query("DELETE FROM training_reference WHERE model_version = $1")
        .bind(model_version)
        .execute(&mut *tx)
        .await?;
    for (position, f) in features.iter().enumerate() {
        sqlx::query(
            "INSERT INTO training_reference (model_version, feature, position, mean, std, median, q25, q75, \
             min, max, missing_rate, n_samples, n_distinct, sorted_sample, psi_bin_edges) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(model_version)
        .bind(&f.feature)
        .bind(position as i32)
        .bind(f.mean)
        .bind(f.std)
        .bind(f.median)
        .bind(f.q25)
        .bind(f.q75)
        .bind(f.min)
        .bind(f.max)
        .bind(f.missing_rate)
        .bind(f.n_samples as i64)
        .bind(f.n_distinct as i32)
        .bind(crate::codec::encode_values(&f.sorted_sample))
        .bind(&f.psi_bin_edges)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO reference_scores (model_version, scores, refusal_rate) VALUES ($1, $2, $3) \
         ON CONFLICT (model_version) DO UPDATE SET scores = EXCLUDED.scores, refusal_rate = EXCLUDED.refusal_rate",
    )
    .bind(model_version)
    .bind(scores)
    .bind(refusal_rate)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Number of features with reference statistics for a model version.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn reference_feature_count(pool: &PgPool, model_version: i64) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM training_reference WHERE model_version = $1")
            .bind(model_version)
            .fetch_one(pool)
            .await?,
    )
}

/// The drift baseline of a model version: per-feature reference data in model order, the
/// reference scores and refusal rate. None if the version has no reference.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn drift_baseline(
    pool: &PgPool,
    model_version: i64,
) -> Result<Option<crate::drift::analysis::Baseline>> {
    use crate::drift::analysis::{Baseline, FeatureBaseline};
    let importances: Vec<f64> =
        sqlx::query_scalar("SELECT importances FROM model_versions WHERE id = $1")
            .bind(model_version)
            .fetch_one(pool)
            .await?;
    let rows = sqlx::query(
        "SELECT feature, position, sorted_sample, psi_bin_edges, missing_rate, n_samples, n_distinct \
           FROM training_reference WHERE model_version = $1 ORDER BY position",
    )
    .bind(model_version)
    .fetch_all(pool)
    .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let features = rows
        .into_iter()
        .map(|r| {
            let position: i32 = r.get("position");
            let n_samples: i64 = r.get("n_samples");
            let n_distinct: i32 = r.get("n_distinct");
            Ok(FeatureBaseline {
                feature: r.get("feature"),
                sorted_sample: crate::codec::decode_values(r.get("sorted_sample"))?,
                psi_edges: r.get("psi_bin_edges"),
                missing_rate: r.get("missing_rate"),
                n_samples: n_samples as usize,
                n_distinct: n_distinct as usize,
                importance: importances.get(position as usize).copied().unwrap_or(0.0),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let scores: Option<(Vec<f64>, f64)> = sqlx::query_as(
        "SELECT scores, refusal_rate FROM reference_scores WHERE model_version = $1",
    )
    .bind(model_version)
    .fetch_optional(pool)
    .await?;
    let (mut scores, refusal_rate) = scores.unwrap_or_default();
    scores.sort_unstable_by(f64::total_cmp);
    Ok(Some(Baseline {
        features,
        scores,
        refusal_rate,
    }))
}

/// A feature's reference statistics, as shown on the model page.
#[derive(Debug, Clone)]
pub struct ReferenceStats {
    pub feature: String,
    pub mean: Option<f64>,
    pub std: Option<f64>,
    pub median: Option<f64>,
    pub q25: Option<f64>,
    pub q75: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub missing_rate: f64,
}

/// Reference statistics of a model version's features, in model order.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn reference_stats(pool: &PgPool, model_version: i64) -> Result<Vec<ReferenceStats>> {
    let rows = sqlx::query(
        "SELECT feature, mean, std, median, q25, q75, min, max, missing_rate \
           FROM training_reference WHERE model_version = $1 ORDER BY position",
    )
    .bind(model_version)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| reference_stats_row(&r)).collect())
}

fn reference_stats_row(r: &sqlx::postgres::PgRow) -> ReferenceStats {
    ReferenceStats {
        feature: r.get("feature"),
        mean: r.get("mean"),
        std: r.get("std"),
        median: r.get("median"),
        q25: r.get("q25"),
        q75: r.get("q75"),
        min: r.get("min"),
        max: r.get("max"),
        missing_rate: r.get("missing_rate"),
    }
}

/// Reference statistics and the sorted non-missing sample of the named features of a
/// model version (for placing one application's values among the training rows).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn reference_samples(
    pool: &PgPool,
    model_version: i64,
    features: &[String],
) -> Result<Vec<(ReferenceStats, Vec<f64>)>> {
    let rows = sqlx::query(
        "SELECT feature, mean, std, median, q25, q75, min, max, missing_rate, sorted_sample \
           FROM training_reference WHERE model_version = $1 AND feature = ANY($2)",
    )
    .bind(model_version)
    .bind(features)
    .fetch_all(pool)
    .await
    .context("reading reference samples")?;
    rows.into_iter()
        .map(|r| {
            let sample = crate::codec::decode_values(r.get("sorted_sample"))?;
            Ok((reference_stats_row(&r), sample))
        })
        .collect()
}

/// The training ranges of a model version's features, in model order (see
/// [`crate::model::training_range`]); empty when the version has no reference.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn training_ranges(
    pool: &PgPool,
    model_version: i64,
) -> Result<crate::model::training_range::TrainingRange> {
    use crate::model::training_range::{FeatureRange, TrainingRange, MAX_CATEGORIES};
    let rows = sqlx::query(
        "SELECT feature, min, max, n_distinct, \
                CASE WHEN n_distinct <= $2 THEN sorted_sample END AS sample \
           FROM training_reference WHERE model_version = $1 ORDER BY position",
    )
    .bind(model_version)
    .bind(MAX_CATEGORIES as i32)
    .fetch_all(pool)
    .await
    .context("reading training ranges")?;
    let mut names = Vec::with_capacity(rows.len());
    let mut features = Vec::with_capacity(rows.len());
    for r in rows {
        let sample = match r.get::<Option<Vec<u8>>, _>("sample") {
            Some(bytes) => crate::codec::decode_values(&bytes)?,
            None => Vec::new(),
        };
        names.push(r.get::<String, _>("feature"));
        features.push(FeatureRange::from_reference(
            r.get("min"),
            r.get("max"),
            r.get::<i32, _>("n_distinct").max(0) as usize,
            &sample,
        ));
    }
    Ok(TrainingRange::new(names, features))
}

/// The sorted non-missing reference sample of one feature.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn reference_sample(
    pool: &PgPool,
    model_version: i64,
    feature: &str,
) -> Result<Option<(usize, Vec<f64>)>> {
    let row: Option<(i32, Vec<u8>)> = sqlx::query_as(
        "SELECT position, sorted_sample FROM training_reference \
          WHERE model_version = $1 AND feature = $2",
    )
    .bind(model_version)
    .bind(feature)
    .fetch_optional(pool)
    .await
    .context("reading a reference sample")?;
    row.map(|(p, s)| Ok((p as usize, crate::codec::decode_values(&s)?)))
        .transpose()
}

/// The reference scores of a model version (the model's probabilities on its reference
/// rows), ascending; empty when none are stored.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn reference_scores(pool: &PgPool, model_version: i64) -> Result<Vec<f64>> {
    let scores: Option<Vec<f64>> =
        sqlx::query_scalar("SELECT scores FROM reference_scores WHERE model_version = $1")
            .bind(model_version)
            .fetch_optional(pool)
            .await?;
    let mut scores = scores.unwrap_or_default();
    scores.sort_unstable_by(f64::total_cmp);
    Ok(scores)
}
