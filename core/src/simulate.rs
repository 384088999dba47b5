//! Production traffic from the test set, with drift injected on purpose: what `scorewatch
//! simulate` sends and what the drift acceptance tests analyse.
//!
//! Drift of intensity `a` on a feature x (missing values stay missing):
//! - `shift`:   x' = x + a * sd(x), sd over the whole test set;
//! - `scale`:   x' = x * (1 + a);
//! - `missing`: x' is missing with probability a.
//!
//! Concept drift of share `c` (outcomes only, inputs untouched): each row's outcome is, with
//! probability c, the outcome of another test row drawn at random instead of its own. The
//! default rate stays the same, the scores stay the same, but that share of outcomes no
//! longer depends on the applicant: the model's discriminatory power falls while no input
//! drifts.

use std::path::Path;

use anyhow::{bail, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::drift::reference;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriftKind {
    Shift,
    Scale,
    Missing,
}

impl std::str::FromStr for DriftKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "shift" => Ok(DriftKind::Shift),
            "scale" => Ok(DriftKind::Scale),
            "missing" => Ok(DriftKind::Missing),
            other => Err(format!(
                "unknown drift kind {other:?}: expected shift, scale or missing"
            )),
        }
    }
}

/// The original scenario: 8 batches of 50, three clean, three with gradual drift, two with
/// sudden drift.
pub const DEFAULT_INTENSITIES: [f64; 8] = [0.0, 0.0, 0.0, 0.1, 0.2, 0.3, 0.5, 0.7];

/// Test applications in model feature order (NaN = missing), with each feature's standard
/// deviation.
pub struct TestSet {
    pub feature_names: Vec<String>,
    pub rows: Vec<f64>,
    pub n_rows: usize,
    stds: Vec<f64>,
}

impl TestSet {
    pub fn load(path: &Path, feature_names: &[String]) -> Result<Self> {
        let data = reference::read_csv(path, feature_names, usize::MAX)?;
        if data.n_rows == 0 {
            bail!("{} has no rows", path.display());
        }
        let n = feature_names.len();
        let stds = (0..n)
            .map(|j| {
                let present: Vec<f64> = (0..data.n_rows)
                    .map(|i| data.rows[i * n + j])
                    .filter(|v| !v.is_nan())
                    .collect();
                crate::drift::stats::std_population(&present)
            })
            .collect();
        Ok(Self {
            feature_names: feature_names.to_vec(),
            rows: data.rows,
            n_rows: data.n_rows,
            stds,
        })
    }

    pub fn n_features(&self) -> usize {
        self.feature_names.len()
    }

    /// Rows `start..start + size` (wrapping around the test set), with drift of `intensity`
    /// applied to the features at `drifted` (all features when empty).
    pub fn batch(
        &self,
        start: usize,
        size: usize,
        intensity: f64,
        kind: DriftKind,
        drifted: &[usize],
        seed: u64,
    ) -> Vec<Vec<f64>> {
        let n = self.n_features();
        let all: Vec<usize> = (0..n).collect();
        let drifted = if drifted.is_empty() {
            &all[..]
        } else {
            drifted
        };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..size)
            .map(|k| {
                let i = (start + k) % self.n_rows;
                let mut row = self.rows[i * n..(i + 1) * n].to_vec();
                if intensity != 0.0 {
                    for &j in drifted {
                        let x = row[j];
                        if x.is_nan() {
                            continue;
                        }
                        row[j] = match kind {
                            DriftKind::Shift => {
                                let sd = self.stds[j];
                                x + intensity * if sd.is_finite() { sd } else { 0.0 }
                            }
                            DriftKind::Scale => x * (1.0 + intensity),
                            DriftKind::Missing => {
                                if rng.gen::<f64>() < intensity {
                                    f64::NAN
                                } else {
                                    x
                                }
                            }
                        };
                    }
                }
                row
            })
            .collect()
    }
}

/// The true outcomes of the test rows, in test-set order (`TARGET` of the demo's
/// `test_outcomes.csv.gz`). Errors when the file does not have `n_rows` rows.
pub fn load_outcomes(path: &Path, n_rows: usize) -> Result<Vec<bool>> {
    let outcomes = reference::read_target(path, "TARGET", usize::MAX)?;
    if outcomes.len() != n_rows {
        bail!(
            "{} has {} outcomes for a test set of {n_rows} rows: they must be the same rows, in order",
            path.display(),
            outcomes.len()
        );
    }
    Ok(outcomes)
}

/// The outcome of test row `i` (wrapping around) under concept drift of share `share`
/// (0 = its own outcome, 1 = always another row's), drawn with `rng`.
pub fn outcome_with_concept_drift(
    outcomes: &[bool],
    i: usize,
    share: f64,
    rng: &mut impl Rng,
) -> bool {
    let own = outcomes[i % outcomes.len()];
    if share > 0.0 && rng.gen::<f64>() < share {
        outcomes[rng.gen_range(0..outcomes.len())]
    } else {
        own
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concept_drift_keeps_the_default_rate_and_breaks_the_link() {
        let outcomes: Vec<bool> = (0..10_000).map(|i| i % 10 == 0).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let clean: Vec<bool> = (0..10_000)
            .map(|i| outcome_with_concept_drift(&outcomes, i, 0.0, &mut rng))
            .collect();
        assert_eq!(clean, outcomes);
        let drifted: Vec<bool> = (0..10_000)
            .map(|i| outcome_with_concept_drift(&outcomes, i, 1.0, &mut rng))
            .collect();
        let rate = drifted.iter().filter(|&&d| d).count() as f64 / 10_000.0;
        assert!((rate - 0.1).abs() < 0.02, "{rate}");
        let kept = drifted
            .iter()
            .zip(&outcomes)
            .filter(|(a, b)| **a && **b)
            .count();
        // Independent of the row: about 10% of the defaulters' rows stay defaults.
        assert!(kept < 200, "{kept}");
    }
}
