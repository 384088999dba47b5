//! Scoring with a LightGBM model: probability of default and the decision it implies.

use anyhow::{bail, Context, Result};

/// A LightGBM booster shared by every thread that scores.
///
/// One parsed copy of the model serves all requests: LightGBM's prediction calls take a
/// shared lock on the booster, and its single-row fast path (the handle prepared once at
/// load) takes its own lock around its buffers. Requests that find the fast path busy
/// use the general path of the same booster instead of waiting, so a burst of
/// concurrent single rows never parses the model again.
struct SharedBooster {
    booster: lightgbm3::Booster,
    /// Held while a thread uses the fast path; `try_lock` decides who does.
    fast: std::sync::Mutex<()>,
}

// SAFETY: LightGBM's C API serialises booster access itself (prediction calls take a
// shared lock on the booster; the fast-path handle locks its own buffers), and this
// wrapper exposes prediction calls only, never training or reloading.
unsafe impl Send for SharedBooster {}
unsafe impl Sync for SharedBooster {}

impl SharedBooster {
    fn predict_one(&self, row: &[f64]) -> Result<f64> {
        let p = match self.fast.try_lock() {
            Ok(_guard) => self.booster.predict_single_row_fast(row),
            Err(_) => {
                self.booster
                    .predict_with_params(row, row.len() as i32, true, "num_threads=1")
            }
        }
        .context("LightGBM prediction failed")?;
        p.first()
            .copied()
            .context("LightGBM returned no prediction")
    }
}

/// How many times this process has parsed a model text into a LightGBM booster: once per
/// [`Model::load`], never while scoring.
static BOOSTERS_PARSED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The number of model texts this process has parsed into LightGBM boosters (one per
/// loaded model; scoring, concurrent or not, parses nothing).
pub fn boosters_parsed() -> usize {
    BOOSTERS_PARSED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Why SHAP values could not be given.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// The model has linear trees, for which LightGBM computes no SHAP values.
    #[error(
        "explanations are not available for this model: it has linear trees, for which \
         LightGBM computes no SHAP values (score without explain=true)"
    )]
    Unavailable,
    /// LightGBM failed (not a property of the model).
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// A loaded model: the booster, its ordered feature names and the decision threshold.
pub struct Model {
    booster: SharedBooster,
    feature_names: Vec<String>,
    // Fx hashing: looked up once per feature of every request, with trusted keys.
    index: rustc_hash::FxHashMap<String, usize>,
    threshold: f64,
    explainable: bool,
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
    /// Loads a model from LightGBM's text format (what `booster.save_model` writes),
    /// checked first by [`ModelFile::parse`](crate::model::file::ModelFile::parse): only
    /// binary classifiers of LightGBM 4 are accepted.
    ///
    /// # Errors
    /// The file's problem ([`ModelFileError`](crate::model::file::ModelFileError)), a
    /// threshold outside (0, 1), or LightGBM refusing the text.
    pub fn from_text(text: &str, threshold: f64) -> Result<Self> {
        let file = crate::model::file::ModelFile::parse(text.as_bytes())?;
        Self::load(&file, threshold)
    }

    /// Loads a checked model file. Parses it once, and prepares LightGBM's single-row path.
    pub fn load(file: &crate::model::file::ModelFile, threshold: f64) -> Result<Self> {
        if !(threshold > 0.0 && threshold < 1.0) {
            bail!("the decision threshold must lie strictly between 0 and 1, got {threshold}");
        }
        let mut booster = lightgbm3::Booster::from_string(file.text())
            .map_err(|e| anyhow::anyhow!("LightGBM could not load the model: {e}"))?;
        BOOSTERS_PARSED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let feature_names = file.feature_names().to_vec();
        if booster.num_classes() != 1 || booster.num_features() as usize != feature_names.len() {
            bail!(
                "LightGBM read {} outputs and {} features where the file declares 1 and {}",
                booster.num_classes(),
                booster.num_features(),
                feature_names.len()
            );
        }
        booster
            .single_row_fast_init::<f64>(Some(&serde_json::json!({"num_threads": 1})))
            .context("preparing LightGBM's single-row path")?;
        let index = feature_names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        Ok(Self {
            booster: SharedBooster {
                booster,
                fast: std::sync::Mutex::new(()),
            },
            feature_names,
            index,
            threshold,
            explainable: !file.has_linear_trees(),
        })
    }

    /// False when LightGBM cannot compute SHAP values for this model (linear trees).
    pub fn explainable(&self) -> bool {
        self.explainable
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
            return Ok(vec![self.booster.predict_one(rows)?]);
        }
        let threads = if rows.len() / n >= 1_000 { 0 } else { 1 };
        self.booster
            .booster
            .predict_with_params(rows, n as i32, true, &format!("num_threads={threads}"))
            .context("LightGBM prediction failed")
    }

    /// Raw scores (log-odds) for rows laid end to end, one per row.
    pub fn raw_scores(&self, rows: &[f64]) -> Result<Vec<f64>> {
        self.check_rows(rows)?;
        self.booster
            .booster
            .raw_scores(rows, self.n_features() as i32, true)
            .context("LightGBM raw scores failed")
    }

    /// SHAP values (LightGBM's `pred_contrib`): for each row, one contribution per feature in
    /// model order followed by the base value; they add up to the row's raw score.
    ///
    /// # Errors
    /// [`ExplainError::Unavailable`] for a model with linear trees.
    pub fn contributions(&self, rows: &[f64]) -> Result<Vec<f64>, ExplainError> {
        if !self.explainable {
            return Err(ExplainError::Unavailable);
        }
        self.check_rows(rows)?;
        Ok(self
            .booster
            .booster
            .predict_contrib(rows, self.n_features() as i32, true)
            .context("LightGBM contributions failed")?)
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
            .booster
            .feature_importance(lightgbm3::ImportanceType::Gain)
            .context("reading feature importances")
    }
}
