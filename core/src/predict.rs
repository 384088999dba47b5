//! Scoring parsed applications into predictions ready to store.

use std::time::Instant;

use anyhow::Result;
use chrono::Utc;
use serde::Serialize;
use uuid::Uuid;

use crate::application::Application;
use crate::registry::ActiveModel;
use crate::scoring::{Decision, ExplainError};
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

/// Why the model decided: SHAP contributions in log-odds. `base_value` plus every feature's
/// contribution equals `raw_score`; the response lists the largest contributions and sums
/// the others into `other_contribution`, so the equality holds for what is shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Explanation {
    /// The model's expected raw score (log-odds) over its training data.
    pub base_value: f64,
    /// This application's raw score (log-odds); its probability is the logistic of it.
    pub raw_score: f64,
    /// Largest absolute contributions first.
    pub contributions: Vec<Contribution>,
    /// Sum of the contributions not listed.
    pub other_contribution: f64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Contribution {
    pub feature: String,
    /// The application's value; null when missing.
    pub value: Option<f64>,
    /// Positive pushes towards refusal (higher probability of default).
    pub contribution: f64,
}

/// Explains each application with its `top` largest contributions (all when `top` is 0 or
/// larger than the feature count). CPU-bound: call it off the async executor.
///
/// # Errors
/// [`ExplainError::Unavailable`] when the model cannot be explained (linear trees).
pub fn explain(
    active: &ActiveModel,
    applications: &[Application],
    top: usize,
) -> Result<Vec<Explanation>, ExplainError> {
    let model = &active.model;
    let n = model.n_features();
    let mut flat = Vec::with_capacity(applications.len() * n);
    for a in applications {
        flat.extend_from_slice(a.features());
    }
    let contributions = model.contributions(&flat)?;
    let raw = model.raw_scores(&flat)?;
    let names = model.feature_names();
    let top = if top == 0 { n } else { top.min(n) };
    Ok(applications
        .iter()
        .zip(contributions.chunks_exact(n + 1))
        .zip(raw)
        .map(|((a, c), raw_score)| {
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&i, &j| c[j].abs().total_cmp(&c[i].abs()));
            let shown = &order[..top];
            let other_contribution = order[top..].iter().map(|&i| c[i]).sum();
            Explanation {
                base_value: c[n],
                raw_score,
                contributions: shown
                    .iter()
                    .map(|&i| Contribution {
                        feature: names[i].clone(),
                        value: Some(a.features()[i]).filter(|v| !v.is_nan()),
                        contribution: c[i],
                    })
                    .collect(),
                other_contribution,
            }
        })
        .collect())
}
