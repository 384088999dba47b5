//! Scoring with a LightGBM model: probability of default and the decision it implies.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// Approve or refuse: an application is refused when its probability of default reaches
/// the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Decision {
    Approved,
    Refused,
}

impl Decision {
    pub fn from_probability(probability: f64, threshold: f64) -> Self {
        if probability >= threshold {
            Decision::Refused
        } else {
            Decision::Approved
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approved => "APPROVED",
            Decision::Refused => "REFUSED",
        }
    }
}

impl std::str::FromStr for Decision {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "APPROVED" => Ok(Decision::Approved),
            "REFUSED" => Ok(Decision::Refused),
            other => Err(format!(
                "decision must be APPROVED or REFUSED, got {other:?}"
            )),
        }
    }
}

/// A LightGBM booster that may be shared between threads.
struct SharedBooster(lightgbm3::Booster);

// SAFETY: LightGBM's C API serialises booster access itself: predictions take a shared lock
// on the booster, training and reloading an exclusive one. This wrapper exposes only
// prediction calls (no fast-config handle, which would be per-thread state).
unsafe impl Send for SharedBooster {}
unsafe impl Sync for SharedBooster {}

/// A booster prepared for LightGBM's single-row fast path. Its fast-config handle holds
/// per-call buffers, so one thread at a time may use it: the pool hands each out to one
/// caller.
struct FastBooster(lightgbm3::Booster);

// SAFETY: used by one thread at a time (taken out of the pool's mutex, put back after the
// call); nothing in it is tied to the thread that created it.
unsafe impl Send for FastBooster {}

/// Fast single-row boosters, created on demand (one per thread scoring at the same time)
/// and reused.
struct FastPool {
    text: String,
    free: std::sync::Mutex<Vec<FastBooster>>,
}

impl FastPool {
    /// Pools never hold more boosters than this; extra ones are dropped after use.
    const MAX_IDLE: usize = 16;

    fn new_booster(text: &str) -> Result<FastBooster> {
        let mut b = lightgbm3::Booster::from_string(text)
            .context("LightGBM could not read the model text")?;
        b.single_row_fast_init::<f64>(Some(&serde_json::json!({"num_threads": 1})))
            .context("preparing LightGBM's single-row path")?;
        Ok(FastBooster(b))
    }

    fn predict(&self, row: &[f64]) -> Result<f64> {
        let taken = self.free.lock().expect("booster pool").pop();
        let booster = match taken {
            Some(b) => b,
            None => Self::new_booster(&self.text)?,
        };
        let p = booster
            .0
            .predict_single_row_fast(row)
            .context("LightGBM prediction failed")?;
        let mut free = self.free.lock().expect("booster pool");
        if free.len() < Self::MAX_IDLE {
            free.push(booster);
        }
        p.first()
            .copied()
            .context("LightGBM returned no prediction")
    }
}

/// A loaded model: the booster, its ordered feature names and the decision threshold.
pub struct Model {
    booster: SharedBooster,
    fast: FastPool,
    feature_names: Vec<String>,
    // Fx hashing: looked up once per feature of every request, with trusted keys.
    index: rustc_hash::FxHashMap<String, usize>,
    threshold: f64,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("n_features", &self.feature_names.len())
            .field("threshold", &self.threshold)
            .finish()
    }
}

impl Model {
    /// Loads a model from LightGBM's text format (what `booster.save_model` writes).
    pub fn from_text(text: &str, threshold: f64) -> Result<Self> {
        if !(threshold > 0.0 && threshold < 1.0) {
            bail!("the decision threshold must lie strictly between 0 and 1, got {threshold}");
        }
        let booster = lightgbm3::Booster::from_string(text)
            .context("LightGBM could not read the model text")?;
        if booster.num_classes() != 1 {
            bail!(
                "expected a binary classifier (one output), the model has {} classes",
                booster.num_classes()
            );
        }
        let feature_names = booster
            .feature_name()
            .context("reading the model's feature names")?;
        let index = feature_names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        Ok(Self {
            booster: SharedBooster(booster),
            // One booster ready, so the first request does not pay for loading it.
            fast: FastPool {
                text: text.to_owned(),
                free: std::sync::Mutex::new(vec![FastPool::new_booster(text)?]),
            },
            feature_names,
            index,
            threshold,
        })
    }

    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// Position of a feature in the model's input vector.
    pub fn feature_index(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    pub fn n_features(&self) -> usize {
        self.feature_names.len()
    }

    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// Probabilities of default for rows laid end to end in model feature order
    /// (NaN = missing). CPU-bound: call it off the async executor.
    pub fn predict(&self, rows: &[f64]) -> Result<Vec<f64>> {
        self.check_rows(rows)?;
        let n = self.n_features();
        if rows.len() == n {
            // One application (the API's common case): LightGBM's single-row fast path
            // skips the per-call setup of the general one.
            return Ok(vec![self.fast.predict(rows)?]);
        }
        let threads = if rows.len() / n >= 1_000 { 0 } else { 1 };
        self.booster
            .0
            .predict_with_params(rows, n as i32, true, &format!("num_threads={threads}"))
            .context("LightGBM prediction failed")
    }

    /// Raw scores (log-odds) for rows laid end to end, one per row.
    pub fn raw_scores(&self, rows: &[f64]) -> Result<Vec<f64>> {
        self.check_rows(rows)?;
        self.booster
            .0
            .raw_scores(rows, self.n_features() as i32, true)
            .context("LightGBM raw scores failed")
    }

    /// SHAP values (LightGBM's `pred_contrib`): for each row, one contribution per feature in
    /// model order followed by the base value; they add up to the row's raw score.
    pub fn contributions(&self, rows: &[f64]) -> Result<Vec<f64>> {
        self.check_rows(rows)?;
        self.booster
            .0
            .predict_contrib(rows, self.n_features() as i32, true)
            .context("LightGBM contributions failed")
    }

    fn check_rows(&self, rows: &[f64]) -> Result<()> {
        let n = self.n_features();
        if rows.is_empty() || !rows.len().is_multiple_of(n) {
            bail!(
                "expected a whole number of rows of {n} features, got {} values",
                rows.len()
            );
        }
        Ok(())
    }

    /// Gain importance per feature, in model feature order.
    pub fn importances(&self) -> Result<Vec<f64>> {
        self.booster
            .0
            .feature_importance(lightgbm3::ImportanceType::Gain)
            .context("reading feature importances")
    }
}
