//! Scoring parsed applications into predictions ready to store, and the one use case every
//! way of scoring goes through ([`score_and_store`]: the REST API's single and batch routes
//! and the dashboard's score form).
//!
//! Parts: [`score`] (LightGBM probabilities into [`Prediction`]s), [`explain`] (SHAP
//! contributions, largest first), [`score_and_store`] (both, off the async executor when
//! the work is more than one row, then stored through the writer and counted in the
//! metrics).

use std::time::Instant;

use anyhow::Result;
use chrono::Utc;
use serde::Serialize;
use uuid::Uuid;

use crate::ingest::writer::WriteError;
use crate::model::application::Application;
use crate::model::booster::ExplainError;
use crate::model::prediction::{Decision, Prediction, Source};
use crate::model::registry::ActiveModel;
use crate::state::AppState;

/// Scores applications with the active model (one LightGBM call for all of them). The
/// inference time of each is the call's time divided by the number of rows. CPU-bound:
/// call it off the async executor.
pub fn score(
    active: &ActiveModel,
    applications: &[Application],
    source: Source,
    request_id: Option<&str>,
) -> Result<Vec<Prediction>> {
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
        .map(|(a, probability)| Prediction {
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

/// Whether the applications of a [`ScoreRequest`] are explained, and with how many
/// contributions each (`top`; 0 means every feature).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Explain {
    /// No explanation.
    No,
    /// Explained, or refused before anything is scored when the model cannot be explained
    /// ([`ScoreError::NotExplainable`]): the API's `explain=true`.
    Required { top: usize },
    /// Explained when the model can be; scored and stored either way: the dashboard.
    IfAvailable { top: usize },
}

/// Applications to score and store, with where they came from.
#[derive(Debug)]
pub struct ScoreRequest {
    /// Parsed and validated applications, in the caller's order.
    pub applications: Vec<Application>,
    pub source: Source,
    /// The HTTP request's id, stored with each prediction.
    pub request_id: Option<String>,
    pub explain: Explain,
}

/// The explanations of a [`Scored`] batch.
#[derive(Debug, Clone)]
pub enum Explanations {
    /// None was asked for.
    NotAsked,
    /// Asked for only if available, and the model cannot be explained (linear trees); the
    /// sentence says why.
    Unavailable(String),
    /// One per application, in order.
    Given(Vec<Explanation>),
}

/// One stored decision, as its caller answers it (the features stay in the database).
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    pub prediction_id: Uuid,
    pub sk_id_curr: Option<i64>,
    /// Probability of default, in [0, 1].
    pub probability: f64,
    pub decision: Decision,
    pub threshold: f64,
    pub model_version: i64,
    /// The model's compute time per application of its batch, in milliseconds.
    pub inference_time_ms: f64,
    /// Features the application left missing (NaN).
    pub n_missing_features: usize,
    /// Features whose value lies outside what the model saw in training, in model order.
    pub outside_training: Vec<crate::model::training_range::OutsideTraining>,
}

/// What [`score_and_store`] did: each application's stored (committed) decision, in
/// order, and the explanations.
#[derive(Debug)]
pub struct Scored {
    pub decisions: Vec<Decided>,
    pub explanations: Explanations,
}

/// Why [`score_and_store`] stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    /// An explanation was required of a model that cannot give one; nothing was scored.
    #[error("{}", ExplainError::Unavailable)]
    NotExplainable,
    /// The writer refused or failed to store the predictions: nothing is stored.
    #[error(transparent)]
    Store(#[from] WriteError),
    /// LightGBM failed, or the scoring task stopped.
    #[error("the model could not score the applications")]
    Internal(#[source] anyhow::Error),
}

/// Scores the applications with the active model, explains them as asked, stores every
/// prediction (answered once committed) and counts them in the metrics:
/// `scorewatch_predictions_total{decision,source}` and the
/// `scorewatch_prediction_probability` histogram, after the commit, so only stored
/// predictions are counted. One row without explanation is scored on the calling task (it
/// takes microseconds); anything more on a blocking thread.
///
/// Errors: [`ScoreError::NotExplainable`] before scoring, [`ScoreError::Store`] when the
/// writer refuses (queue full, database down, shutting down, batch larger than its
/// queue), [`ScoreError::Internal`] when LightGBM fails.
pub async fn score_and_store(
    state: &AppState,
    request: ScoreRequest,
) -> Result<Scored, ScoreError> {
    let active = state.model.clone();
    let ScoreRequest {
        applications,
        source,
        request_id,
        explain,
    } = request;
    if matches!(explain, Explain::Required { .. }) && !active.model.explainable() {
        return Err(ScoreError::NotExplainable);
    }
    let inline = explain == Explain::No && applications.len() == 1;
    let work = move || -> Result<(Vec<Prediction>, Scored), ScoreError> {
        let predictions = score(&active, &applications, source, request_id.as_deref())
            .map_err(ScoreError::Internal)?;
        let explanations = match explain {
            Explain::No => Explanations::NotAsked,
            Explain::Required { top } | Explain::IfAvailable { top } => {
                match explain_or_not(&active, &applications, top)? {
                    Ok(given) => Explanations::Given(given),
                    Err(why) => Explanations::Unavailable(why),
                }
            }
        };
        let decisions = predictions
            .iter()
            .zip(&applications)
            .map(|(p, a)| Decided {
                prediction_id: p.id,
                sk_id_curr: p.sk_id_curr,
                probability: p.probability,
                decision: p.decision,
                threshold: p.threshold,
                model_version: p.model_version,
                inference_time_ms: p.inference_time_ms,
                n_missing_features: a.n_missing(),
                outside_training: active.training.check(a.features()),
            })
            .collect();
        Ok((
            predictions,
            Scored {
                decisions,
                explanations,
            },
        ))
    };
    let (predictions, scored) = if inline {
        work()?
    } else {
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| ScoreError::Internal(e.into()))??
    };
    state.writer.store(predictions).await?;
    count_stored(&scored.decisions, source);
    Ok(scored)
}

/// SHAP explanations, or why the model gives none; a LightGBM failure is an error.
fn explain_or_not(
    active: &ActiveModel,
    applications: &[Application],
    top: usize,
) -> Result<Result<Vec<Explanation>, String>, ScoreError> {
    match explain(active, applications, top) {
        Ok(given) => Ok(Ok(given)),
        Err(ExplainError::Unavailable) => Ok(Err(ExplainError::Unavailable.to_string())),
        Err(ExplainError::Failed(e)) => Err(ScoreError::Internal(e)),
    }
}

/// Counts committed predictions in the Prometheus metrics.
fn count_stored(predictions: &[Decided], source: Source) {
    let histogram = metrics::histogram!("scorewatch_prediction_probability");
    let mut refused = 0u64;
    for p in predictions {
        histogram.record(p.probability);
        refused += u64::from(p.decision == Decision::Refused);
    }
    let approved = predictions.len() as u64 - refused;
    metrics::counter!("scorewatch_predictions_total", "decision" => "APPROVED", "source" => source.as_str())
        .increment(approved);
    metrics::counter!("scorewatch_predictions_total", "decision" => "REFUSED", "source" => source.as_str())
        .increment(refused);
}
