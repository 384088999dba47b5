//! A performance report of a cohort: the predictions made in a window of time, the outcomes
//! known for them, and what can be estimated for those still unlabelled.

use serde::{Deserialize, Serialize};

use super::calibration::{self, Calibration, GradeCalibration, MasterScale};
use super::cbpe::{self, Calibrator};
use super::discrimination::{self, AucTest, Confusion};

/// One prediction of the cohort: its score (probability of default), whether it was refused,
/// and its outcome when one is recorded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CohortRow {
    pub score: f64,
    pub refused: bool,
    pub defaulted: Option<bool>,
}

/// The labelled hold-out of a model version: rows the model was not trained on, with their
/// scores and outcomes. It calibrates the estimate and gives the AUC at initial validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Holdout {
    pub scores: Vec<f64>,
    pub defaulted: Vec<bool>,
}

/// What a report is computed with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Settings {
    /// A p-value below this (AUC test or portfolio Jeffreys test) makes the report WARNING.
    pub warning_level: f64,
    /// A p-value below this makes it ALERT.
    pub alert_level: f64,
    /// Fewer labelled predictions than this: INSUFFICIENT_DATA.
    pub min_labelled: u64,
    /// Fewer defaults (or fewer non-defaults) than this among them: INSUFFICIENT_DATA.
    pub min_defaults: u64,
    /// PD bounds of a user-defined master scale; empty = deciles of the reference scores.
    pub master_scale: Vec<f64>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            warning_level: 0.05,
            alert_level: 0.01,
            min_labelled: 100,
            min_defaults: 10,
            master_scale: Vec::new(),
        }
    }
}

impl Settings {
    /// Errors when a level is outside (0, 1) or the alert level is above the warning level.
    pub fn validate(&self) -> crate::Result<()> {
        for (name, v) in [
            ("warning level", self.warning_level),
            ("alert level", self.alert_level),
        ] {
            if !(v > 0.0 && v < 1.0) {
                return Err(crate::Error::Invalid(format!(
                    "the {name} must be strictly between 0 and 1, got {v}"
                )));
            }
        }
        if self.alert_level > self.warning_level {
            return Err(crate::Error::Invalid(
                "the alert level must not exceed the warning level".into(),
            ));
        }
        if !self.master_scale.is_empty() {
            MasterScale::from_bounds(self.master_scale.clone())?;
        }
        Ok(())
    }
}

/// A report's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Ok,
    Warning,
    Alert,
    InsufficientData,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warning => "WARNING",
            Status::Alert => "ALERT",
            Status::InsufficientData => "INSUFFICIENT_DATA",
        }
    }

    /// Reads a stored status.
    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Ok,
            Status::Warning,
            Status::Alert,
            Status::InsufficientData,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// Every figure of a report. A figure that cannot be computed is `None` (JSON `null`) and
/// [`Metrics::notes`] says why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Metrics {
    /// Which population the realised figures are computed on.
    pub population: String,
    /// Predictions in the window, and by decision.
    pub n_predictions: u64,
    pub n_approved: u64,
    pub n_refused: u64,
    /// Predictions with a recorded outcome, and by decision.
    pub n_labelled: u64,
    pub n_labelled_approved: u64,
    pub n_labelled_refused: u64,
    /// Defaults among the labelled predictions.
    pub n_defaults: u64,
    /// Realised ROC AUC of the labelled predictions (= scikit-learn's `roc_auc_score`).
    pub roc_auc: Option<f64>,
    /// 95% confidence interval from the DeLong variance.
    pub roc_auc_ci_low: Option<f64>,
    pub roc_auc_ci_high: Option<f64>,
    /// DeLong variance of the realised AUC.
    pub roc_auc_variance: Option<f64>,
    /// Gini = 2·AUC − 1.
    pub gini: Option<f64>,
    /// Kolmogorov-Smirnov separation of the scores of defaulters and non-defaulters.
    pub ks_separation: Option<f64>,
    /// Brier score (mean squared error of the PD).
    pub brier: Option<f64>,
    /// Log loss (natural logarithm, PD clipped to [2⁻⁵², 1 − 2⁻⁵²]).
    pub log_loss: Option<f64>,
    /// Share of the window's predictions approved.
    pub approval_rate: Option<f64>,
    /// Observed default rate among the labelled approved predictions.
    pub default_rate_approved: Option<f64>,
    /// Confusion matrix of the labelled predictions at the decision threshold.
    pub confusion: Confusion,
    /// CBPE: the ROC AUC expected for the whole window from the calibrated scores.
    pub estimated_roc_auc: Option<f64>,
    /// The estimate ∓ 3 sampling errors, clipped to [0, 1].
    pub estimated_roc_auc_ci_low: Option<f64>,
    pub estimated_roc_auc_ci_high: Option<f64>,
    /// CBPE: expected default rate of the window (mean calibrated PD).
    pub estimated_default_rate: Option<f64>,
    /// CBPE: expected default rate among the window's approved predictions.
    pub estimated_default_rate_approved: Option<f64>,
    /// The ECB test of the realised AUC against the AUC at initial validation.
    pub auc_test: Option<AucTest>,
    /// The AUC at initial validation the test compares with (also when the test cannot
    /// run), and where it comes from ("holdout" or "model card").
    #[serde(default)]
    pub auc_initial: Option<f64>,
    pub auc_initial_source: Option<String>,
    /// Jeffreys test of the portfolio (all labelled predictions).
    pub jeffreys_p_value: Option<f64>,
    /// Mean PD and observed default rate of the labelled predictions.
    pub mean_pd: Option<f64>,
    pub default_rate: Option<f64>,
    /// Herfindahl index Σ (nᵍ/N)² of the labelled predictions' grades, and its ECB form.
    pub herfindahl: Option<f64>,
    pub herfindahl_ecb: Option<f64>,
    /// PSI of the window's grade distribution against the reference scores'.
    pub grade_psi: Option<f64>,
    /// Why a figure is missing or the status is what it is.
    pub notes: Vec<String>,
}

/// A computed report: its status, figures and grades.
#[derive(Debug, Clone, PartialEq)]
pub struct Computed {
    pub status: Status,
    pub metrics: Metrics,
    pub grades: Vec<GradeCalibration>,
}

/// The validation AUC a model card recorded at training (`valid_auc` of the metrics stored
/// with the model version), if any.
pub fn card_auc(metrics: &serde_json::Value) -> Option<f64> {
    metrics
        .get("valid_auc")
        .and_then(|v| v.as_f64())
        .filter(|a| a.is_finite())
}

/// Computes a report of `rows` (every prediction of the window).
///
/// `reference_scores` are the model version's reference scores (the default master scale's
/// deciles and the grade PSI); `holdout` (optional) calibrates the estimate and gives the AUC
/// at initial validation, else `card_auc` (the model card's validation AUC) is used for the
/// test and nothing is estimated.
pub fn compute(
    rows: &[CohortRow],
    reference_scores: &[f64],
    holdout: Option<&Holdout>,
    card_auc: Option<f64>,
    settings: &Settings,
) -> crate::Result<Computed> {
    settings.validate()?;
    let mut notes = Vec::new();
    let scale = if settings.master_scale.is_empty() {
        MasterScale::from_reference(reference_scores, calibration::DEFAULT_GRADES)?
    } else {
        MasterScale::from_bounds(settings.master_scale.clone())?
    };

    let n_predictions = rows.len() as u64;
    let n_refused = rows.iter().filter(|r| r.refused).count() as u64;
    let n_approved = n_predictions - n_refused;
    let mut scores = Vec::new();
    let mut defaulted = Vec::new();
    let (mut n_labelled_approved, mut n_labelled_refused) = (0u64, 0u64);
    for r in rows {
        if let Some(d) = r.defaulted {
            scores.push(r.score);
            defaulted.push(d);
            if r.refused {
                n_labelled_refused += 1;
            } else {
                n_labelled_approved += 1;
            }
        }
    }
    let n_labelled = scores.len() as u64;
    let n_defaults = defaulted.iter().filter(|&&d| d).count() as u64;
    let population = if n_labelled_refused == 0 {
        "labelled predictions (all approved: refused applicants have no outcome)"
    } else {
        "labelled predictions (approved and refused)"
    }
    .to_string();

    if n_predictions == 0 {
        notes.push("the window holds no predictions".into());
    } else if n_labelled == 0 {
        notes.push(
            "no prediction of the window has an outcome yet: realised figures need outcomes".into(),
        );
    }
    let auc = discrimination::roc_auc_delong(&scores, &defaulted);
    if n_labelled > 0 && auc.is_none() {
        notes.push(format!(
            "ROC AUC, Gini, KS and the AUC test are undefined: the {n_labelled} labelled predictions are all {}",
            if n_defaults == 0 { "non-defaults" } else { "defaults" }
        ));
    }
    if let Some(a) = &auc {
        if a.variance.is_none() {
            notes.push(
                "the DeLong variance needs at least two defaults and two non-defaults".into(),
            );
        }
    }
    // The hold-out's AUC, else (no hold-out, or one of a single class) the model card's.
    let auc_initial = holdout
        .and_then(|h| discrimination::roc_auc_delong(&h.scores, &h.defaulted))
        .map(|e| (e.auc, "holdout".to_string()))
        .or(card_auc.map(|a| (a, "model card".to_string())));
    if auc_initial.is_none() {
        notes.push("no AUC at initial validation is known (no hold-out, no validation AUC on the model card): the AUC test is skipped".into());
    }
    let auc_test = match (&auc, &auc_initial) {
        (Some(a), Some((init, _))) => {
            let t = discrimination::ecb_auc_test(a, *init);
            if t.is_none() && a.variance.is_some() {
                notes.push("the AUC test needs a positive variance (the scores do not separate any pair differently)".into());
            }
            t
        }
        _ => None,
    };

    let calib: Calibration = calibration::calibration(&scale, &scores, &defaulted);
    let window_scores: Vec<f64> = rows.iter().map(|r| r.score).collect();
    // The decision stored with each prediction (its threshold may have changed since).
    let mut confusion = Confusion::default();
    for r in rows {
        if let Some(d) = r.defaulted {
            confusion.count(r.refused, d);
        }
    }

    // Estimation (CBPE) over the whole window.
    let (mut est_auc, mut est_low, mut est_high, mut est_dr, mut est_dr_app) =
        (None, None, None, None, None);
    match holdout {
        None => notes.push(
            "no labelled hold-out is registered for this model version (scorewatch init --holdout FILE): nothing is estimated".into(),
        ),
        Some(h) => match Calibrator::fit(&h.scores, &h.defaulted) {
            Err(e) => notes.push(format!("the hold-out cannot calibrate the estimate: {e}")),
            Ok(cal) if n_predictions > 0 => {
                let calibrated = cal.apply(&window_scores);
                let est = cbpe::estimate_roc_auc(&window_scores, &calibrated);
                if est.is_none() {
                    notes.push("the estimated ROC AUC is undefined: the calibrated PDs of the window are all 0 or all 1".into());
                }
                est_auc = est;
                if let (Some(e), Some(se)) = (est, cal.roc_auc_sampling_error(n_predictions as usize)) {
                    est_low = Some((e - 3.0 * se).max(0.0));
                    est_high = Some((e + 3.0 * se).min(1.0));
                }
                est_dr = cbpe::mean(&calibrated);
                let approved: Vec<f64> = calibrated
                    .iter()
                    .zip(rows)
                    .filter(|(_, r)| !r.refused)
                    .map(|(&p, _)| p)
                    .collect();
                est_dr_app = cbpe::mean(&approved);
            }
            Ok(_) => {}
        },
    }

    let sufficient = n_labelled >= settings.min_labelled
        && n_defaults >= settings.min_defaults
        && n_labelled - n_defaults >= settings.min_defaults;
    let jeffreys = calib.portfolio.jeffreys_p_value;
    let status = if !sufficient {
        notes.push(format!(
            "too few outcomes to test: {n_labelled} labelled with {n_defaults} defaults (at least {} labelled and {} of each outcome are needed)",
            settings.min_labelled, settings.min_defaults
        ));
        Status::InsufficientData
    } else {
        let mut status = Status::Ok;
        let mut judge = |what: &str, p: Option<f64>| {
            if let Some(p) = p {
                let s = if p < settings.alert_level {
                    Status::Alert
                } else if p < settings.warning_level {
                    Status::Warning
                } else {
                    return;
                };
                notes.push(format!(
                    "{what}: p-value {p:.3e} is below the {} level",
                    if s == Status::Alert {
                        "alert"
                    } else {
                        "warning"
                    }
                ));
                if s == Status::Alert || status == Status::Ok {
                    status = s;
                }
            }
        };
        judge(
            "the AUC is lower than at initial validation (ECB AUC test)",
            auc_test.map(|t| t.p_value),
        );
        judge(
            "defaults exceed the predicted PD (portfolio Jeffreys test)",
            jeffreys,
        );
        status
    };

    let metrics = Metrics {
        population,
        n_predictions,
        n_approved,
        n_refused,
        n_labelled,
        n_labelled_approved,
        n_labelled_refused,
        n_defaults,
        roc_auc: auc.map(|a| a.auc),
        roc_auc_ci_low: auc.and_then(|a| a.ci_low),
        roc_auc_ci_high: auc.and_then(|a| a.ci_high),
        roc_auc_variance: auc.and_then(|a| a.variance),
        gini: auc.map(|a| a.gini()),
        ks_separation: discrimination::ks_separation(&scores, &defaulted),
        brier: discrimination::brier(&scores, &defaulted),
        log_loss: discrimination::log_loss(&scores, &defaulted),
        approval_rate: (n_predictions > 0).then(|| n_approved as f64 / n_predictions as f64),
        default_rate_approved: confusion.default_rate_approved(),
        confusion,
        estimated_roc_auc: est_auc,
        estimated_roc_auc_ci_low: est_low,
        estimated_roc_auc_ci_high: est_high,
        estimated_default_rate: est_dr,
        estimated_default_rate_approved: est_dr_app,
        auc_test,
        auc_initial: auc_initial.as_ref().map(|(a, _)| *a),
        auc_initial_source: auc_initial.map(|(_, s)| s),
        jeffreys_p_value: jeffreys,
        mean_pd: calib.portfolio.mean_pd,
        default_rate: calib.portfolio.default_rate,
        herfindahl: calib.herfindahl,
        herfindahl_ecb: calib.herfindahl_ecb,
        grade_psi: calibration::grade_psi(&scale, reference_scores, &window_scores),
        notes,
    };
    Ok(Computed {
        status,
        metrics,
        grades: calib.grades,
    })
}
