//! Model performance: is the model still right? Realised from recorded outcomes, estimated
//! before they arrive.
//!
//! Parts:
//! - [`discrimination`] — ROC AUC with the DeLong variance and confidence interval, Gini,
//!   KS separation, Brier score, log loss, the confusion matrix at the decision threshold,
//!   and the ECB's test of the current AUC against the AUC at initial validation;
//! - [`calibration`] — PD grades (master scale), per grade and portfolio Jeffreys tests,
//!   Herfindahl index, grade PSI;
//! - [`cbpe`] — confidence-based performance estimation (as NannyML's CBPE): scores
//!   calibrated on a labelled hold-out, then the expected ROC AUC and default rate of an
//!   unlabelled cohort with its sampling error;
//! - [`report`] — one cohort's report: every figure, its status and notes;
//! - [`reports`] — a window of stored predictions and outcomes, reported and stored.
//!
//! Refused applicants usually get no loan and so no outcome: every realised figure is
//! computed on the labelled predictions only, and a report counts them by decision.

pub mod calibration;
pub mod cbpe;
pub mod discrimination;
pub mod report;
pub mod reports;
