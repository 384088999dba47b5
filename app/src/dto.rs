//! Data the server sends to the pages; plain serde types compiled for both sides.

use serde::{Deserialize, Serialize};

/// The overview's headline numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverviewStats {
    pub model_id: i64,
    pub model_name: String,
    pub model_sha256: String,
    pub n_features: usize,
    pub threshold: f64,
    pub predictions: i64,
}
