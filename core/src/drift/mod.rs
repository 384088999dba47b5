//! Data drift: whether recent inputs and scores still look like the training reference.
//!
//! Parts:
//! - statistics: [`ks`] (two-sample Kolmogorov-Smirnov), [`stats`] (chi-squared, PSI,
//!   Wasserstein, Jensen-Shannon, multiple-test corrections), [`sort`] (radix sort of
//!   floats in `total_cmp` order);
//! - [`reference`] — the training reference (per-feature statistics and samples) and the
//!   data files it is read from;
//! - [`window`] — which predictions a window holds, parsed once, with an explicit end;
//! - [`blocks`] — windows read fast from per-minute column blocks;
//! - [`analysis`] — the per-feature analysis of a window against the reference, the
//!   correction and the status;
//! - [`reports`] — running a report over a window and storing it; [`html_report`]: a
//!   stored report as one self-contained HTML page.

pub mod analysis;
pub mod blocks;
pub mod html_report;
pub mod ks;
pub mod reference;
pub mod reports;
pub mod sort;
pub mod stats;
pub mod window;
