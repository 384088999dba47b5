//! scorewatch's domain: the model and its predictions, data drift, traffic over time,
//! storage in PostgreSQL (embedded or external), and the synthetic demo data set.
//!
//! Layout (each module's own documentation lists its parts):
//! - [`model`] — the LightGBM model file checked and loaded, the loan application it scores,
//!   predictions and their explanations, the registry of model versions, and the one use
//!   case every way of scoring goes through ([`model::predict::score_and_store`]).
//! - [`drift`] — statistics, which predictions a window holds, the training reference, the
//!   analysis of a window against it, column blocks for reading windows fast, stored
//!   reports and their HTML form.
//! - [`performance`] — outcomes against predictions: ROC AUC, Gini, DeLong, the ECB AUC
//!   test, calibration by PD grade with Jeffreys tests, and CBPE estimates before outcomes.
//! - [`traffic`] — the arithmetic of volume, latency and score histograms over time.
//! - [`store`] — every SQL statement, one file per group of tables; [`embedded`]: the
//!   embedded PostgreSQL cluster.
//! - [`ingest`] — group commit of predictions and their JSONL backup.
//! - [`access`] — API keys, roles and dashboard sessions.
//! - [`demo`] — the demo data set (column recipes, generator, trainer).
//! - [`simulate`] — test-set traffic with injected drift.
//! - [`codec`] — the byte format of stored float columns; [`numbers`]: numbers as text,
//!   read and written exactly; [`artifacts`]: the files a model version is made of.
//! - [`state`] — what request handlers and server functions share; [`error`]: the domain's
//!   error kinds.

pub mod access;
pub mod artifacts;
pub mod codec;
pub mod demo;
pub mod drift;
pub mod embedded;
pub mod error;
pub mod ingest;
pub mod model;
pub mod numbers;
pub mod performance;
pub mod simulate;
pub mod state;
pub mod store;
pub mod traffic;

pub use error::{Error, Result};
