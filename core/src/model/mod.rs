//! The model and what it produces.
//!
//! Parts:
//! - [`file`] — a LightGBM model file checked before LightGBM reads it;
//! - [`booster`] — the loaded model (one shared booster), its decision threshold, SHAP
//!   contributions;
//! - [`prediction`] — a prediction as stored and read back, its decision and its source;
//! - [`application`] — a loan application parsed once from JSON into model order;
//! - [`predict`] — scoring and explaining applications, and [`predict::score_and_store`],
//!   the use case every way of scoring goes through;
//! - [`registry`] — registering a model version with its training reference, loading the
//!   active one;
//! - [`roc_auc`] — ROC AUC of scores against labels;
//! - [`training_range`] — what the model saw in training, to flag values outside it.

pub mod application;
pub mod booster;
pub mod file;
pub mod predict;
pub mod prediction;
pub mod registry;
pub mod roc_auc;
pub mod training_range;
