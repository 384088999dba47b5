//! The files a model comes with: the LightGBM text model, its card, the reference sample
//! and the test set; names and formats shared by `demo-data`, `init` and `serve`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const MODEL_FILE: &str = "model.txt";
pub const MODEL_CARD_FILE: &str = "model_card.json";
pub const REFERENCE_FILE: &str = "reference.csv.gz";
pub const TEST_FILE: &str = "test.csv.gz";
/// The demo's validation split with `TARGET`: rows the model was not trained on, registered
/// as the labelled hold-out (`scorewatch init --holdout`).
pub const VALIDATION_FILE: &str = "validation.csv.gz";
/// The true outcome of every test-set row (`SK_ID_CURR`, `TARGET`), from the generator's
/// default process.
pub const TEST_OUTCOMES_FILE: &str = "test_outcomes.csv.gz";

/// Quality measured when the model was trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingMetrics {
    pub train_auc: f64,
    pub valid_auc: f64,
    pub best_iteration: usize,
    pub n_train: usize,
    pub n_valid: usize,
    pub default_rate: f64,
}

/// What a model file does not say about itself: its name, decision threshold and how it
/// was trained.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelCard {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub threshold: f64,
    #[serde(default)]
    pub seed: u64,
    pub feature_names: Vec<String>,
    pub metrics: TrainingMetrics,
    #[serde(default)]
    pub params: serde_json::Value,
}

impl ModelCard {
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading model card {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("parsing model card {}", path.display()))
    }
}

/// Hex SHA-256 of a file's bytes: a model version's identity.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The default artifacts directory: `SCOREWATCH_ARTIFACTS`, else `artifacts/` next to the
/// current directory.
pub fn default_dir() -> PathBuf {
    std::env::var_os("SCOREWATCH_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("artifacts"))
}
