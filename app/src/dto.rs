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

/// One drift report in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReportRow {
    pub id: i64,
    /// `YYYY-MM-DD HH:MM` (UTC).
    pub window_start: String,
    pub window_end: String,
    pub n_current: i64,
    pub n_features_analyzed: i32,
    pub n_features_drifted: i32,
    pub drift_share: f64,
    pub status: String,
    pub score_psi: Option<f64>,
}

/// One feature of a drift report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftFeatureRow {
    pub feature: String,
    pub test: String,
    pub p_adjusted: Option<f64>,
    pub ks_statistic: Option<f64>,
    pub psi: Option<f64>,
    pub wasserstein_norm: Option<f64>,
    pub missing_rate_ref: f64,
    pub missing_rate_cur: f64,
    pub drift: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReportDetail {
    pub report: DriftReportRow,
    pub features: Vec<DriftFeatureRow>,
}

#[cfg(feature = "ssr")]
pub fn report_row(r: &scorewatch_core::store::DriftReport) -> DriftReportRow {
    let fmt = "%Y-%m-%d %H:%M";
    DriftReportRow {
        id: r.id,
        window_start: r.window_start.format(fmt).to_string(),
        window_end: r.window_end.format(fmt).to_string(),
        n_current: r.n_current,
        n_features_analyzed: r.n_features_analyzed,
        n_features_drifted: r.n_features_drifted,
        drift_share: r.drift_share,
        status: r.status.clone(),
        score_psi: r.score_psi,
    }
}

#[cfg(feature = "ssr")]
pub fn feature_row(f: &scorewatch_core::store::DriftFeature) -> DriftFeatureRow {
    DriftFeatureRow {
        feature: f.feature.clone(),
        test: f.test.clone(),
        p_adjusted: f.p_adjusted,
        ks_statistic: f.ks_statistic,
        psi: f.psi,
        wasserstein_norm: f.wasserstein_norm,
        missing_rate_ref: f.missing_rate_ref,
        missing_rate_cur: f.missing_rate_cur,
        drift: f.drift,
    }
}

/// The model page: the active version's card and its features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCardView {
    pub id: i64,
    pub name: String,
    pub sha256: String,
    pub created_at: String,
    pub threshold: f64,
    /// Training metrics by name (AUC, rows, default rate...), as the model card has them.
    pub metrics: Vec<(String, String)>,
    /// Most important first.
    pub features: Vec<ModelFeature>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFeature {
    pub name: String,
    pub importance: f64,
    /// Share of the total gain.
    pub importance_share: f64,
    pub median: Option<f64>,
    pub q25: Option<f64>,
    pub q75: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub missing_rate: Option<f64>,
}

/// One stored prediction in the predictions list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionRow {
    pub id: String,
    /// `YYYY-MM-DD HH:MM:SS` (UTC).
    pub created_at: String,
    pub sk_id_curr: Option<i64>,
    pub probability: f64,
    pub decision: String,
    pub source: String,
    pub inference_time_ms: f64,
    pub n_missing: usize,
}

/// A page of predictions, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionPageView {
    pub rows: Vec<PredictionRow>,
    /// Pass back to get the next (older) page; None on the last page.
    pub next_cursor: Option<String>,
}
