//! Production traffic from the test set, with drift injected on purpose: what `scorewatch
//! simulate` sends and what the drift acceptance tests analyse.
//!
//! Drift of intensity `a` on a feature x (missing values stay missing), by the feature's kind
//! as the test set shows it ([`ColumnKind`]):
//! - a number (amount, day count, score, ratio):
//!   - `shift`:   x' = x + a * sd(x), sd over the whole test set;
//!   - `scale`:   x' = x * (1 + a);
//!
//!   then kept possible: a column of whole numbers stays whole (rounded), a column that is
//!   never negative (or never positive, as day counts before the application) keeps its
//!   sign (clamped at 0), a column within [0, 1] stays within it; the code 365243 ("not
//!   employed" in DAYS_EMPLOYED) is a code, not a number of days, and is left as it is;
//! - a 0/1 flag: with `shift` or `scale` its mix changes, not its values: a 0 becomes 1 with
//!   probability min(a, 1);
//! - a level of a one-hot group (0/1 columns named `GROUP_level` with exactly one 1 per
//!   row): with probability min(a, 1) the row's level moves to the group's next level, so
//!   the mix changes and each row keeps exactly one level;
//! - `missing`: x' is missing with probability a (a one-hot group's levels together).
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

/// The code some day counts use instead of a number of days (365243: "not employed" in
/// DAYS_EMPLOYED): drift leaves it as it is.
pub const DAYS_CODE: f64 = 365_243.0;

/// What a test-set column holds, as its values show; decides how drift changes it.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnKind {
    /// Numbers: drift moves them, then clamps them to `low..=high` (None: unbounded) and
    /// rounds them when `whole`.
    Number {
        whole: bool,
        low: Option<f64>,
        high: Option<f64>,
    },
    /// A 0/1 flag on its own.
    Flag,
    /// One level of a one-hot group: the group's columns (model indices, in order) and this
    /// column's place among them.
    Level { group: Vec<usize>, place: usize },
}

/// Test applications in model feature order (NaN = missing), with each feature's standard
/// deviation and kind.
pub struct TestSet {
    pub feature_names: Vec<String>,
    pub rows: Vec<f64>,
    pub n_rows: usize,
    stds: Vec<f64>,
    kinds: Vec<ColumnKind>,
}

impl TestSet {
    pub fn load(path: &Path, feature_names: &[String]) -> Result<Self> {
        let data = reference::read_csv(path, feature_names, usize::MAX)?;
        if data.n_rows == 0 {
            bail!("{} has no rows", path.display());
        }
        let n = feature_names.len();
        let column = |j: usize| -> Vec<f64> {
            (0..data.n_rows)
                .map(|i| data.rows[i * n + j])
                .filter(|v| !v.is_nan() && *v != DAYS_CODE)
                .collect()
        };
        let stds = (0..n)
            .map(|j| crate::drift::stats::std_population(&column(j)))
            .collect();
        let kinds = column_kinds(feature_names, &data.rows, data.n_rows);
        Ok(Self {
            feature_names: feature_names.to_vec(),
            rows: data.rows,
            n_rows: data.n_rows,
            stds,
            kinds,
        })
    }

    pub fn n_features(&self) -> usize {
        self.feature_names.len()
    }

    /// The kind of each column, in model order.
    pub fn kinds(&self) -> &[ColumnKind] {
        &self.kinds
    }

    /// Rows `start..start + size` (wrapping around the test set), with drift of `intensity`
    /// applied to the features at `drifted` (all features when empty), each by its kind
    /// (see the module's documentation).
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
        let mut is_drifted = vec![drifted.is_empty(); n];
        for &j in drifted {
            is_drifted[j] = true;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let chance = intensity.clamp(0.0, 1.0);
        (0..size)
            .map(|k| {
                let i = (start + k) % self.n_rows;
                let original = &self.rows[i * n..(i + 1) * n];
                let mut row = original.to_vec();
                if intensity == 0.0 {
                    return row;
                }
                for j in (0..n).filter(|&j| is_drifted[j]) {
                    let x = original[j];
                    match (&self.kinds[j], kind) {
                        (_, _) if x.is_nan() => {}
                        (ColumnKind::Level { group, place }, DriftKind::Missing) => {
                            // Decided once per group, at its first level.
                            if *place == 0 && rng.gen::<f64>() < intensity {
                                for &g in group {
                                    row[g] = f64::NAN;
                                }
                            }
                        }
                        (_, DriftKind::Missing) => {
                            if rng.gen::<f64>() < intensity {
                                row[j] = f64::NAN;
                            }
                        }
                        (ColumnKind::Flag, _) => {
                            if x == 0.0 && rng.gen::<f64>() < chance {
                                row[j] = 1.0;
                            }
                        }
                        (ColumnKind::Level { group, place }, _) => {
                            // The hot level moves on; decided once per group.
                            if x == 1.0 && rng.gen::<f64>() < chance {
                                let next = group[(place + 1) % group.len()];
                                row[j] = 0.0;
                                row[next] = 1.0;
                            }
                        }
                        (ColumnKind::Number { whole, low, high }, _) => {
                            if x == DAYS_CODE {
                                continue;
                            }
                            let moved = match kind {
                                DriftKind::Shift => {
                                    let sd = self.stds[j];
                                    x + intensity * if sd.is_finite() { sd } else { 0.0 }
                                }
                                _ => x * (1.0 + intensity),
                            };
                            let mut v = moved;
                            if *whole {
                                v = v.round();
                            }
                            if let Some(l) = low {
                                v = v.max(*l);
                            }
                            if let Some(h) = high {
                                v = v.min(*h);
                            }
                            row[j] = v;
                        }
                    }
                }
                row
            })
            .collect()
    }
}

/// Each column's kind from its values (`rows`: `n_rows` rows of `names.len()` values).
/// One-hot groups: 0/1 columns sharing a name prefix before an underscore whose values
/// sum to exactly 1 in every row where they are present (the longest such prefix wins).
pub fn column_kinds(names: &[String], rows: &[f64], n_rows: usize) -> Vec<ColumnKind> {
    let n = names.len();
    let values = |j: usize| (0..n_rows).map(move |i| rows[i * n + j]);
    let binary: Vec<bool> = (0..n)
        .map(|j| {
            let mut present = values(j).filter(|v| !v.is_nan()).peekable();
            present.peek().is_some() && present.all(|v| v == 0.0 || v == 1.0)
        })
        .collect();
    let mut kinds: Vec<Option<ColumnKind>> = vec![None; n];
    // Prefixes of binary columns, longest first.
    let mut prefixes: Vec<&str> = (0..n)
        .filter(|&j| binary[j])
        .flat_map(|j| {
            let name = names[j].as_str();
            name.match_indices('_').map(move |(at, _)| &name[..at])
        })
        .collect();
    prefixes.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    prefixes.dedup();
    for prefix in prefixes {
        let group: Vec<usize> = (0..n)
            .filter(|&j| {
                binary[j]
                    && kinds[j].is_none()
                    && names[j].len() > prefix.len() + 1
                    && names[j].starts_with(prefix)
                    && names[j].as_bytes()[prefix.len()] == b'_'
            })
            .collect();
        if group.len() < 2 {
            continue;
        }
        let one_hot = (0..n_rows).all(|i| {
            let levels: Vec<f64> = group.iter().map(|&j| rows[i * n + j]).collect();
            levels.iter().all(|v| v.is_nan()) || levels.iter().sum::<f64>() == 1.0
        });
        if one_hot {
            for (place, &j) in group.iter().enumerate() {
                kinds[j] = Some(ColumnKind::Level {
                    group: group.clone(),
                    place,
                });
            }
        }
    }
    kinds
        .into_iter()
        .enumerate()
        .map(|(j, kind)| {
            kind.unwrap_or_else(|| {
                if binary[j] {
                    return ColumnKind::Flag;
                }
                let present: Vec<f64> = values(j)
                    .filter(|v| !v.is_nan() && *v != DAYS_CODE)
                    .collect();
                let whole = present.iter().all(|v| v.fract() == 0.0);
                let min = present.iter().copied().fold(f64::INFINITY, f64::min);
                let max = present.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let (low, high) = if present.is_empty() {
                    (None, None)
                } else if min >= 0.0 && max <= 1.0 && !whole {
                    (Some(0.0), Some(1.0))
                } else if min >= 0.0 {
                    (Some(0.0), None)
                } else if max <= 0.0 {
                    (None, Some(0.0))
                } else {
                    (None, None)
                };
                ColumnKind::Number { whole, low, high }
            })
        })
        .collect()
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

    /// A test set of 6 rows: a one-hot group of 3 levels, a flag, a count, a day count with
    /// the 365243 code, a score in [0, 1].
    fn small() -> TestSet {
        let names: Vec<String> = [
            "NAME_TYPE_A",
            "NAME_TYPE_B",
            "NAME_TYPE_C",
            "FLAG_X",
            "CNT_CHILDREN",
            "DAYS_EMPLOYED",
            "EXT_SOURCE_2",
        ]
        .map(String::from)
        .to_vec();
        #[rustfmt::skip]
        let rows = vec![
            1.0, 0.0, 0.0, 0.0, 0.0, -100.0, 0.1,
            0.0, 1.0, 0.0, 1.0, 2.0, DAYS_CODE, 0.5,
            0.0, 0.0, 1.0, 0.0, 1.0, -3000.0, 0.9,
            1.0, 0.0, 0.0, 0.0, 0.0, -20.0, f64::NAN,
            f64::NAN, f64::NAN, f64::NAN, 0.0, 3.0, -700.0, 0.95,
            0.0, 1.0, 0.0, 1.0, 0.0, DAYS_CODE, 0.3,
        ];
        let n_rows = 6;
        let kinds = column_kinds(&names, &rows, n_rows);
        let n = names.len();
        let stds = (0..n)
            .map(|j| {
                let present: Vec<f64> = (0..n_rows)
                    .map(|i| rows[i * n + j])
                    .filter(|v| !v.is_nan() && *v != DAYS_CODE)
                    .collect();
                crate::drift::stats::std_population(&present)
            })
            .collect();
        TestSet {
            feature_names: names,
            rows,
            n_rows,
            stds,
            kinds,
        }
    }

    #[test]
    fn columns_are_told_apart_by_their_values() {
        let t = small();
        let group = vec![0, 1, 2];
        assert_eq!(
            t.kinds()[1],
            ColumnKind::Level {
                group: group.clone(),
                place: 1
            }
        );
        assert_eq!(t.kinds()[3], ColumnKind::Flag);
        assert_eq!(
            t.kinds()[4],
            ColumnKind::Number {
                whole: true,
                low: Some(0.0),
                high: None
            }
        );
        assert_eq!(
            t.kinds()[5],
            ColumnKind::Number {
                whole: true,
                low: None,
                high: Some(0.0)
            },
            "the 365243 code does not make day counts positive"
        );
        assert_eq!(
            t.kinds()[6],
            ColumnKind::Number {
                whole: false,
                low: Some(0.0),
                high: Some(1.0)
            }
        );
    }

    #[test]
    fn drift_keeps_every_value_possible() {
        let t = small();
        for kind in [DriftKind::Shift, DriftKind::Scale] {
            for intensity in [0.3, 1.0, 5.0] {
                let rows = t.batch(0, 600, intensity, kind, &[], 11);
                let mut ones = 0;
                for row in &rows {
                    let levels: Vec<f64> = row[0..3].to_vec();
                    assert!(
                        levels.iter().all(|v| v.is_nan()) || levels.iter().sum::<f64>() == 1.0,
                        "one level per row: {levels:?}"
                    );
                    assert!(row[3] == 0.0 || row[3] == 1.0);
                    ones += (row[3] == 1.0) as usize;
                    assert!(
                        row[4] >= 0.0 && row[4].fract() == 0.0,
                        "a count: {}",
                        row[4]
                    );
                    assert!(
                        row[5] == DAYS_CODE || (row[5] <= 0.0 && row[5].fract() == 0.0),
                        "days before the application, or the code: {}",
                        row[5]
                    );
                    assert!(row[6].is_nan() || (0.0..=1.0).contains(&row[6]));
                }
                // The flag's mix moved: a third of the rows have it before drift.
                assert!(ones > 200, "{kind:?} {intensity}: {ones} of 600");
                // The codes stay codes.
                let codes = rows.iter().filter(|r| r[5] == DAYS_CODE).count();
                assert_eq!(codes, 200);
            }
        }
        let missing = t.batch(0, 600, 0.5, DriftKind::Missing, &[], 3);
        for row in &missing {
            let gone = row[0..3].iter().filter(|v| v.is_nan()).count();
            assert!(
                gone == 0 || gone == 3,
                "a group goes missing whole: {row:?}"
            );
        }
        // No drift: the rows as they are.
        assert_eq!(
            format!("{:?}", t.batch(0, 6, 0.0, DriftKind::Shift, &[], 1)),
            format!(
                "{:?}",
                t.rows.chunks(7).map(<[f64]>::to_vec).collect::<Vec<_>>()
            )
        );
    }

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
