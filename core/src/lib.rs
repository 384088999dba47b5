//! scorewatch's domain: scoring with LightGBM, the training reference, storage in
//! PostgreSQL (embedded or external) and the synthetic demo data set.
//!
//! Layout:
//! - [`catalog`], [`demo`]: the demo data set's columns and its generator / trainer.
//! - [`model_file`], [`scoring`], [`application`]: the model file checked, the loaded
//!   model, and the typed input it scores.
//! - [`reference`], [`metrics`]: statistics of the training data and of the model.
//! - [`embedded`], [`store`]: the database and every query.
//! - [`registry`]: registering a model version with its reference, loading the active one.
//! - [`predict`]: scoring applications into storable predictions.
//! - [`drift`]: drift statistics and the analysis of a window against the reference.
//! - [`reports`], [`html_report`]: drift reports over windows of stored predictions, and
//!   their self-contained HTML form.
//! - [`numbers`]: numbers as text, read and written exactly.
//! - [`simulate`]: test-set traffic with injected drift.
//! - [`writer`], [`backup`]: group commit of predictions, and their JSONL backup.
//! - [`keys`]: API keys and roles.
//! - [`state`]: what request handlers and server functions share.
//! - [`traffic`]: volume, decisions, latency and scores over time, from summaries.

pub mod application;
pub mod artifacts;
pub mod backup;
pub mod catalog;
pub mod columns;
pub mod demo;
pub mod drift;
pub mod embedded;
pub mod html_report;
pub mod keys;
pub mod metrics;
pub mod model_file;
pub mod numbers;
pub mod pgarray;
pub mod predict;
pub mod reference;
pub mod registry;
pub mod reports;
pub mod scoring;
pub mod simulate;
pub mod state;
pub mod store;
pub mod traffic;
pub mod writer;
