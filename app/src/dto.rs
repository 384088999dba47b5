//! Data the server sends to the pages; plain serde types compiled for both sides.

use serde::{Deserialize, Serialize};

/// The overview: headline numbers and traffic over the chosen range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverviewData {
    pub model_id: i64,
    pub model_name: String,
    pub model_sha256: String,
    pub n_features: usize,
    pub threshold: f64,
    /// Every prediction ever stored.
    pub predictions: i64,
    /// `YYYY-MM-DD HH:MM` (UTC).
    pub from: String,
    pub to: String,
    /// "minute", "15 minutes", "hour"...
    pub step: String,
    pub in_range: TrafficPoint,
    /// One per step, oldest first.
    pub series: Vec<TrafficPoint>,
    /// Score histogram of the range, 50 bins of 0.02.
    pub score_approved: Vec<i64>,
    pub score_refused: Vec<i64>,
    /// Server-side latency of the predict requests in the range (the access log): how
    /// many, and p50 / p95 / p99 in ms.
    pub n_requests: i64,
    pub request_latency: Option<[f64; 3]>,
    /// The active model's scheduled drift report of the newest window (any trigger when
    /// the scheduler never reported).
    pub latest_drift: Option<DriftReportRow>,
    /// The active model's newest conclusive scheduled performance report (see
    /// `store::headline_performance_report`).
    pub latest_performance: Option<PerformanceRow>,
}

/// Traffic of one step (or of the whole range).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrafficPoint {
    /// `MM-DD HH:MM` (UTC).
    pub label: String,
    pub n_approved: i64,
    pub n_refused: i64,
    pub refusal_rate: Option<f64>,
    /// The model's compute time per application (ms), percentiles from the histogram.
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

#[cfg(feature = "ssr")]
pub fn traffic_point(b: &scorewatch_core::traffic::TrafficBucket) -> TrafficPoint {
    TrafficPoint {
        label: b.start.format("%m-%d %H:%M").to_string(),
        n_approved: b.n_approved,
        n_refused: b.n_refused,
        refusal_rate: b.refusal_rate(),
        p50: b.latency_quantile(0.50),
        p95: b.latency_quantile(0.95),
        p99: b.latency_quantile(0.99),
    }
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
    /// Share of the model's gain carried by the drifted features.
    pub weighted_drift_share: Option<f64>,
    pub status: String,
    pub score_psi: Option<f64>,
    /// test, psi, wasserstein or js: what decided that a feature drifted.
    pub method: String,
    /// cli, api, schedule or backfill.
    pub trigger: String,
    /// The status bands this report was judged with (its stored settings): WARNING from
    /// this share of drifted features, ALERT from `alert_share`.
    pub warning_share: f64,
    pub alert_share: f64,
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
    /// Jensen–Shannon distance (categorical features).
    pub jensen_shannon: Option<f64>,
    pub missing_rate_ref: f64,
    pub missing_rate_cur: f64,
    pub importance: Option<f64>,
    pub drift: bool,
}

/// One feature of a report, reference against window: shares on shared bins and ECDFs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureDistribution {
    pub feature: String,
    pub n_reference: usize,
    pub n_window: usize,
    /// Bin edges (one more than the shares).
    pub edges: Vec<f64>,
    pub reference_shares: Vec<f64>,
    pub window_shares: Vec<f64>,
    /// ECDFs evaluated on a common grid.
    pub grid: Vec<f64>,
    pub reference_ecdf: Vec<f64>,
    pub window_ecdf: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReportDetail {
    pub report: DriftReportRow,
    pub features: Vec<DriftFeatureRow>,
}

/// A status band of a report's stored settings; the analysis' default where a report has
/// none.
#[cfg(feature = "ssr")]
fn share_setting(settings: &serde_json::Value, name: &str, default: f64) -> f64 {
    settings
        .get(name)
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(default)
}

#[cfg(feature = "ssr")]
pub fn report_row(r: &scorewatch_core::store::DriftReport) -> DriftReportRow {
    let fmt = "%Y-%m-%d %H:%M";
    let defaults = scorewatch_core::drift::analysis::Settings::default();
    DriftReportRow {
        id: r.id,
        window_start: r.window_start.format(fmt).to_string(),
        window_end: r.window_end.format(fmt).to_string(),
        n_current: r.n_current,
        n_features_analyzed: r.n_features_analyzed,
        n_features_drifted: r.n_features_drifted,
        drift_share: r.drift_share,
        weighted_drift_share: r.weighted_drift_share,
        status: r.status.clone(),
        score_psi: r.score_psi,
        method: r
            .settings
            .get("method")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("test")
            .to_owned(),
        trigger: r.trigger.clone(),
        warning_share: share_setting(&r.settings, "warning_share", defaults.warning_share),
        alert_share: share_setting(&r.settings, "alert_share", defaults.alert_share),
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
        jensen_shannon: f.jensen_shannon,
        missing_rate_ref: f.missing_rate_ref,
        missing_rate_cur: f.missing_rate_cur,
        importance: f.importance,
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
    /// Training metrics (AUC, rows, default rate...), in the model card's order.
    pub metrics: Vec<ModelMetric>,
    /// Most important first.
    pub features: Vec<ModelFeature>,
}

/// One training metric of the model card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetric {
    /// The card's key, e.g. `valid_auc`.
    pub key: String,
    /// For people, e.g. "ROC AUC, validation".
    pub label: String,
    /// Rounded for reading, e.g. `0.8678` or `32,000` or `8.02%`.
    pub text: String,
    /// The card's value exactly as it is written there (JSON).
    pub exact: String,
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
    /// How many predictions match the filters (all pages).
    pub total: i64,
    /// Pass back to get the next (older) page; None on the last page.
    pub next_cursor: Option<String>,
}

/// A field of the scoring form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreField {
    pub name: String,
    /// What the values mean ("amount", "days relative to the application", ...).
    pub unit: String,
    pub median: Option<f64>,
    pub q25: Option<f64>,
    pub q75: Option<f64>,
    pub missing_rate: Option<f64>,
    /// Smallest and largest training value.
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The training values, when the feature had at most 10.
    pub values: Option<Vec<f64>>,
}

/// What the scoring form sends: its fields as typed, and optional JSON for the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreInput {
    pub fields: Vec<(String, String)>,
    pub json: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreResultView {
    pub prediction_id: String,
    pub probability: f64,
    pub decision: String,
    pub threshold: f64,
    /// None when the model cannot be explained; `explanation_notice` says why.
    pub explanation: Option<ExplanationView>,
    /// Why there is no explanation, for people (with `explanation` None).
    pub explanation_notice: Option<String>,
    /// Features outside what the model saw in training.
    pub outside_training: Vec<OutsideView>,
}

/// A feature of an application outside what the model saw in training, said for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutsideView {
    pub feature: String,
    pub value: f64,
    /// E.g. "5 is above the largest training value, 0.8963".
    pub text: String,
}

#[cfg(feature = "ssr")]
pub fn outside_view(o: &scorewatch_core::model::training_range::OutsideTraining) -> OutsideView {
    use crate::pages::readable;
    use scorewatch_core::model::training_range::OutsideReason;
    let value = readable(o.value);
    let text = match o.reason {
        OutsideReason::AboveMax => format!(
            "{value} is above the largest training value, {}",
            o.training_max.map_or("–".into(), readable)
        ),
        OutsideReason::BelowMin => format!(
            "{value} is below the smallest training value, {}",
            o.training_min.map_or("–".into(), readable)
        ),
        OutsideReason::UnseenValue => format!(
            "{value} is none of its training values ({})",
            o.training_values
                .as_deref()
                .unwrap_or_default()
                .iter()
                .map(|v| readable(*v))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        OutsideReason::NeverPresent => {
            format!("{value} was given; the feature was missing in every training row")
        }
    };
    OutsideView {
        feature: o.feature.clone(),
        value: o.value,
        text,
    }
}

/// SHAP contributions (log-odds): base value + contributions + other = raw score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplanationView {
    pub base_value: f64,
    pub raw_score: f64,
    pub contributions: Vec<ContributionView>,
    pub other_contribution: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContributionView {
    pub feature: String,
    pub value: Option<f64>,
    pub contribution: f64,
}

#[cfg(feature = "ssr")]
pub fn explanation_view(e: &scorewatch_core::model::predict::Explanation) -> ExplanationView {
    ExplanationView {
        base_value: e.base_value,
        raw_score: e.raw_score,
        contributions: e
            .contributions
            .iter()
            .map(|c| ContributionView {
                feature: c.feature.clone(),
                value: c.value,
                contribution: c.contribution,
            })
            .collect(),
        other_contribution: e.other_contribution,
    }
}

/// One stored prediction with its explanation and where each feature sits in the reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionDetailView {
    pub row: PredictionRow,
    pub threshold: f64,
    pub model_version: i64,
    pub request_id: Option<String>,
    /// None when the prediction was made by another model version than the active one.
    pub explanation: Option<ExplanationView>,
    /// In importance order.
    pub features: Vec<FeatureAgainstReference>,
    /// Every feature outside what the model version saw in training, in model order.
    pub outside_training: Vec<OutsideView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureAgainstReference {
    pub name: String,
    pub value: Option<f64>,
    /// Share of the training reference at or below the value (None when missing).
    pub percentile: Option<f64>,
    pub median: Option<f64>,
    pub q25: Option<f64>,
    pub q75: Option<f64>,
}

/// One line of the service's own log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRow {
    pub id: i64,
    /// `YYYY-MM-DD HH:MM:SS.mmm` (UTC).
    pub ts: String,
    pub level: String,
    pub target: String,
    pub message: String,
    pub request_id: Option<String>,
    pub method: Option<String>,
    pub path: Option<String>,
    pub status: Option<i32>,
    pub latency_ms: Option<f64>,
    /// Other fields as compact JSON ("{}" when none).
    pub fields: String,
}

/// A performance report as the performance page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerformanceRow {
    pub id: i64,
    /// `YYYY-MM-DD HH:MM` (UTC).
    pub window_start: String,
    pub window_end: String,
    pub status: String,
    /// cli, api, schedule, matured (the scheduled report again once outcomes matured) or
    /// backfill.
    pub trigger: String,
    pub n_predictions: u64,
    pub n_approved: u64,
    pub n_refused: u64,
    pub n_labelled: u64,
    pub n_labelled_approved: u64,
    pub n_labelled_refused: u64,
    pub n_defaults: u64,
    pub roc_auc: Option<f64>,
    pub roc_auc_ci_low: Option<f64>,
    pub roc_auc_ci_high: Option<f64>,
    pub gini: Option<f64>,
    pub ks_separation: Option<f64>,
    pub brier: Option<f64>,
    pub estimated_roc_auc: Option<f64>,
    pub estimated_roc_auc_ci_low: Option<f64>,
    pub estimated_roc_auc_ci_high: Option<f64>,
    pub estimated_default_rate: Option<f64>,
    pub auc_initial: Option<f64>,
    pub auc_test_statistic: Option<f64>,
    pub auc_test_p_value: Option<f64>,
    pub jeffreys_p_value: Option<f64>,
    pub mean_pd: Option<f64>,
    pub default_rate: Option<f64>,
    pub herfindahl: Option<f64>,
    pub grade_psi: Option<f64>,
    /// The levels the report was judged with.
    pub warning_level: f64,
    pub alert_level: f64,
    pub population: String,
    pub notes: Vec<String>,
}

/// One PD grade of a performance report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradeRow {
    pub grade: usize,
    pub pd_low: f64,
    pub pd_high: f64,
    pub n: u64,
    pub defaults: u64,
    pub mean_pd: Option<f64>,
    pub default_rate: Option<f64>,
    pub jeffreys_p_value: Option<f64>,
}

/// A performance report with its grades.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerformanceDetail {
    pub report: PerformanceRow,
    pub grades: Vec<GradeRow>,
}

#[cfg(feature = "ssr")]
pub fn performance_row(r: &scorewatch_core::store::PerformanceReport) -> PerformanceRow {
    let fmt = "%Y-%m-%d %H:%M";
    let m = &r.metrics;
    PerformanceRow {
        id: r.id,
        window_start: r.window_start.format(fmt).to_string(),
        window_end: r.window_end.format(fmt).to_string(),
        status: r.status.clone(),
        trigger: r.trigger.clone(),
        n_predictions: m.n_predictions,
        n_approved: m.n_approved,
        n_refused: m.n_refused,
        n_labelled: m.n_labelled,
        n_labelled_approved: m.n_labelled_approved,
        n_labelled_refused: m.n_labelled_refused,
        n_defaults: m.n_defaults,
        roc_auc: m.roc_auc,
        roc_auc_ci_low: m.roc_auc_ci_low,
        roc_auc_ci_high: m.roc_auc_ci_high,
        gini: m.gini,
        ks_separation: m.ks_separation,
        brier: m.brier,
        estimated_roc_auc: m.estimated_roc_auc,
        estimated_roc_auc_ci_low: m.estimated_roc_auc_ci_low,
        estimated_roc_auc_ci_high: m.estimated_roc_auc_ci_high,
        estimated_default_rate: m.estimated_default_rate,
        auc_initial: m.auc_initial,
        auc_test_statistic: m.auc_test.map(|t| t.statistic),
        auc_test_p_value: m.auc_test.map(|t| t.p_value),
        jeffreys_p_value: m.jeffreys_p_value,
        mean_pd: m.mean_pd,
        default_rate: m.default_rate,
        herfindahl: m.herfindahl,
        grade_psi: m.grade_psi,
        warning_level: r.settings.warning_level,
        alert_level: r.settings.alert_level,
        population: m.population.clone(),
        notes: m.notes.clone(),
    }
}

#[cfg(feature = "ssr")]
pub fn grade_row(g: &scorewatch_core::performance::calibration::GradeCalibration) -> GradeRow {
    GradeRow {
        grade: g.grade,
        pd_low: g.pd_low,
        pd_high: g.pd_high,
        n: g.n,
        defaults: g.defaults,
        mean_pd: g.mean_pd,
        default_rate: g.default_rate,
        jeffreys_p_value: g.jeffreys_p_value,
    }
}
