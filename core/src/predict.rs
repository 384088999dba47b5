//! Scoring parsed applications into predictions ready to store.

use std::time::Instant;

use anyhow::Result;
use chrono::Utc;
use uuid::Uuid;

use crate::application::Application;
use crate::registry::ActiveModel;
use crate::scoring::Decision;
use crate::store::{NewPrediction, Source};

/// Scores applications with the active model (one LightGBM call for all of them). The
/// inference time of each is the call's time divided by the number of rows. CPU-bound:
/// call it off the async executor.
pub fn score(
    active: &ActiveModel,
    applications: &[Application],
    source: Source,
    request_id: Option<&str>,
) -> Result<Vec<NewPrediction>> {
    let n_features = active.model.n_features();
    let mut flat = Vec::with_capacity(applications.len() * n_features);
    for a in applications {
        flat.extend_from_slice(a.features());
    }
    let started = Instant::now();
    let probabilities = active.model.predict(&flat)?;
    let per_row_ms = started.elapsed().as_secs_f64() * 1e3 / applications.len().max(1) as f64;
    let threshold = active.model.threshold();
    let now = Utc::now();
    Ok(applications
        .iter()
        .zip(probabilities)
        .map(|(a, probability)| NewPrediction {
            id: Uuid::now_v7(),
            created_at: now,
            model_version: active.version.id,
            sk_id_curr: a.sk_id_curr(),
            features: a.features().to_vec(),
            probability,
            decision: Decision::from_probability(probability, threshold),
            threshold,
            inference_time_ms: per_row_ms,
            source,
            request_id: request_id.map(str::to_owned),
        })
        .collect())
}
