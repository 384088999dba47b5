//! Model versions: registering a LightGBM model with its training reference, and loading
//! the active version for scoring.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use sqlx::PgPool;

use crate::artifacts::{self, ModelCard};
use crate::drift::reference::{self, DEFAULT_PSI_BINS, DEFAULT_SAMPLE_SIZE};
use crate::model::booster::Model;
use crate::model::file::ModelFile;
use crate::model::prediction::Decision;
use crate::performance::report::Holdout;
use crate::store::{self, ModelVersion, NewModelVersion};

/// Threshold used when neither a model card nor `--threshold` gives one.
pub const DEFAULT_THRESHOLD: f64 = 0.5;

/// What `scorewatch init` registers.
#[derive(Debug, Clone)]
pub struct InitOptions {
    pub model: PathBuf,
    pub card: Option<PathBuf>,
    pub reference: PathBuf,
    pub threshold: Option<f64>,
    pub name: Option<String>,
    pub sample_size: usize,
    pub psi_bins: usize,
    /// Reference rows read from the CSV (all of them by default).
    pub max_reference_rows: usize,
    /// Labelled rows the model was not trained on (CSV with the features and `TARGET`):
    /// scored and stored, they calibrate the performance estimate (CBPE) and give the AUC
    /// at initial validation.
    pub holdout: Option<PathBuf>,
}

impl InitOptions {
    /// The demo artifacts in `dir`.
    pub fn demo(dir: &Path) -> Self {
        Self {
            model: dir.join(artifacts::MODEL_FILE),
            card: Some(dir.join(artifacts::MODEL_CARD_FILE)),
            reference: dir.join(artifacts::REFERENCE_FILE),
            threshold: None,
            name: None,
            sample_size: DEFAULT_SAMPLE_SIZE,
            psi_bins: DEFAULT_PSI_BINS,
            max_reference_rows: usize::MAX,
            holdout: Some(dir.join(artifacts::VALIDATION_FILE)).filter(|p| p.exists()),
        }
    }
}

/// What `init` did.
#[derive(Debug, Clone)]
pub struct InitReport {
    pub model_version: i64,
    pub new_version: bool,
    pub sha256: String,
    pub name: String,
    pub n_features: usize,
    /// The training objective as the file states it (`binary sigmoid:1`, `cross_entropy`).
    pub objective: String,
    pub n_reference_rows: usize,
    pub threshold: f64,
    pub reference_refusal_rate: f64,
    /// Rows of the labelled hold-out and their ROC AUC (None without a hold-out, or an AUC
    /// when it holds one class only).
    pub holdout: Option<(usize, Option<f64>)>,
}

/// Registers the model (by the SHA-256 of its text, line endings normalised), makes it active, and stores the
/// reference statistics and the reference score distribution.
pub async fn init(pool: &PgPool, opts: &InitOptions) -> Result<InitReport> {
    let bytes = std::fs::read(&opts.model)
        .with_context(|| format!("reading the model file {}", opts.model.display()))?;
    let file = ModelFile::parse(&bytes)
        .with_context(|| format!("refusing the model file {}", opts.model.display()))?;
    let model_text = file.text().to_owned();
    let card = opts.card.as_deref().map(ModelCard::read).transpose()?;
    let threshold = opts
        .threshold
        .or(card.as_ref().map(|c| c.threshold))
        .unwrap_or(DEFAULT_THRESHOLD);
    let name = opts
        .name
        .clone()
        .or(card.as_ref().map(|c| c.name.clone()))
        .unwrap_or_else(|| {
            opts.model
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "model".into())
        });
    let objective = file.objective().to_string();
    let metrics = card
        .as_ref()
        .map(|c| serde_json::to_value(&c.metrics))
        .transpose()?
        .unwrap_or_else(|| serde_json::json!({}));
    let sha256 = artifacts::sha256_hex(model_text.as_bytes());

    let reference_path = opts.reference.clone();
    let (sample_size, psi_bins, max_rows) =
        (opts.sample_size, opts.psi_bins, opts.max_reference_rows);
    let holdout_path = opts.holdout.clone();
    let computed = tokio::task::spawn_blocking(move || -> Result<_> {
        let model = Model::load(&file, threshold)?;
        let importances = model.importances()?;
        let data = reference::read_csv(&reference_path, model.feature_names(), max_rows)?;
        let features = reference::summarize_all(&data, sample_size, psi_bins);
        let mut scores = model.predict(&data.rows)?;
        let refused = scores
            .iter()
            .filter(|&&p| Decision::from_probability(p, threshold) == Decision::Refused)
            .count();
        let refusal_rate = refused as f64 / scores.len() as f64;
        scores.sort_by(f64::total_cmp);
        let holdout = holdout_path
            .map(|path| -> Result<Holdout> {
                let rows = reference::read_csv(&path, model.feature_names(), usize::MAX)?;
                let defaulted = reference::read_target(&path, "TARGET", usize::MAX)?;
                Ok(Holdout {
                    scores: model.predict(&rows.rows)?,
                    defaulted,
                })
            })
            .transpose()?;
        Ok((
            model.feature_names().to_vec(),
            importances,
            features,
            scores,
            refusal_rate,
            data.n_rows,
            holdout,
        ))
    })
    .await??;
    let (feature_names, importances, features, scores, refusal_rate, n_rows, holdout) = computed;

    // Both in one transaction: a failure leaves no model without its reference.
    let mut tx = pool.begin().await?;
    let (id, new_version) = store::register_model(
        &mut tx,
        &NewModelVersion {
            sha256: &sha256,
            name: &name,
            feature_names: &feature_names,
            threshold,
            importances: &importances,
            metrics: &metrics,
            model_text: &model_text,
        },
    )
    .await?;
    store::store_reference(&mut tx, id, &features, &scores, refusal_rate).await?;
    if let (Some(h), Some(path)) = (&holdout, &opts.holdout) {
        store::save_holdout(&mut tx, id, h, &path.display().to_string()).await?;
    }
    tx.commit().await?;
    Ok(InitReport {
        model_version: id,
        new_version,
        sha256,
        name,
        n_features: feature_names.len(),
        objective,
        n_reference_rows: n_rows,
        threshold,
        reference_refusal_rate: refusal_rate,
        holdout: holdout.map(|h| {
            let auc = crate::performance::discrimination::roc_auc_delong(&h.scores, &h.defaulted)
                .map(|e| e.auc);
            (h.scores.len(), auc)
        }),
    })
}

/// Registers the demo model from `artifacts_dir` if the database has no active model.
/// Returns the report when it registered something.
pub async fn ensure_model(pool: &PgPool, artifacts_dir: &Path) -> Result<Option<InitReport>> {
    if store::active_model(pool).await?.is_some() {
        return Ok(None);
    }
    let report = init(pool, &InitOptions::demo(artifacts_dir))
        .await
        .with_context(|| format!("loading the demo model from {}", artifacts_dir.display()))?;
    Ok(Some(report))
}

/// The active model version, loaded and ready to score.
pub struct ActiveModel {
    pub version: ModelVersion,
    pub model: Model,
    /// What the model saw in training, to flag application values outside it.
    pub training: crate::model::training_range::TrainingRange,
}

impl std::fmt::Debug for ActiveModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveModel")
            .field("id", &self.version.id)
            .field("name", &self.version.name)
            .finish()
    }
}

/// Loads the active model version from the database.
pub async fn load_active(pool: &PgPool) -> Result<Option<Arc<ActiveModel>>> {
    let Some(mut version) = store::active_model(pool).await? else {
        return Ok(None);
    };
    let threshold = version.threshold;
    // The text is only needed to build the booster; don't keep megabytes of it around.
    let text = std::mem::take(&mut version.model_text);
    let model = tokio::task::spawn_blocking(move || Model::from_text(&text, threshold)).await??;
    let training = store::training_ranges(pool, version.id).await?;
    Ok(Some(Arc::new(ActiveModel {
        version,
        model,
        training,
    })))
}
