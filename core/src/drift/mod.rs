//! Data drift: the statistics ([`ks`], [`stats`]) and the per-feature analysis of a window
//! of predictions against the training reference ([`analysis`]).

pub mod analysis;
pub mod ks;
pub mod sort;
pub mod stats;
