//! Calibration by PD grade: scores mapped to grades of a master scale, and per grade the
//! number of rows, defaults, mean predicted PD, observed default rate and the Jeffreys test;
//! the same for the whole portfolio; the concentration of the grade distribution
//! (Herfindahl index) and its stability against the reference (PSI).

use statrs::distribution::{Beta, ContinuousCDF};

use crate::drift::reference::quantile_sorted;
use crate::drift::stats::psi;

/// Number of grades of the default master scale (the reference scores' deciles).
pub const DEFAULT_GRADES: usize = 10;

/// A master scale: ascending inner PD bounds. Grade g (1-based) covers (bound[g−2], bound[g−1]]:
/// grade 1 runs from 0 to the first bound inclusive, the last grade from the last bound
/// (exclusive) to 1. K bounds make K + 1 grades; equal bounds make empty grades.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MasterScale {
    pub bounds: Vec<f64>,
}

impl MasterScale {
    /// Grades from the `grades`-quantiles of the reference scores (interpolated linearly, as
    /// numpy's default): the default scale is the deciles, so about 10% of the reference
    /// falls in each grade. Errors when there are no reference scores or fewer than 2 grades.
    pub fn from_reference(reference_scores: &[f64], grades: usize) -> crate::Result<MasterScale> {
        if reference_scores.is_empty() {
            return Err(crate::Error::Invalid(
                "the model version has no reference scores to grade with".into(),
            ));
        }
        if grades < 2 {
            return Err(crate::Error::Invalid(
                "a master scale needs at least 2 grades".into(),
            ));
        }
        let mut sorted = reference_scores.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        let bounds = (1..grades)
            .map(|k| quantile_sorted(&sorted, k as f64 / grades as f64))
            .collect();
        Ok(MasterScale { bounds })
    }

    /// A user-defined scale of PD bounds: strictly inside (0, 1), strictly ascending, at
    /// least one.
    pub fn from_bounds(bounds: Vec<f64>) -> crate::Result<MasterScale> {
        if bounds.is_empty() {
            return Err(crate::Error::Invalid(
                "a master scale needs at least one PD bound".into(),
            ));
        }
        if let Some(b) = bounds.iter().find(|b| !(**b > 0.0 && **b < 1.0)) {
            return Err(crate::Error::Invalid(format!(
                "PD bound {b} is not strictly between 0 and 1"
            )));
        }
        if bounds.windows(2).any(|w| w[0] >= w[1]) {
            return Err(crate::Error::Invalid(
                "PD bounds must be strictly ascending".into(),
            ));
        }
        Ok(MasterScale { bounds })
    }

    /// Number of grades.
    pub fn len(&self) -> usize {
        self.bounds.len() + 1
    }

    /// Never empty: a scale has at least one grade.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The grade (1-based) of a score: 1 + the number of bounds strictly below it.
    pub fn grade_of(&self, score: f64) -> usize {
        1 + self.bounds.partition_point(|&b| b < score)
    }

    /// The PD range of grade g (1-based): (low, high], with 0 and 1 at the ends.
    pub fn range(&self, grade: usize) -> (f64, f64) {
        let low = if grade == 1 {
            0.0
        } else {
            self.bounds[grade - 2]
        };
        let high = if grade == self.len() {
            1.0
        } else {
            self.bounds[grade - 1]
        };
        (low, high)
    }

    /// Shares of `scores` in each grade; all zero when empty.
    pub fn shares(&self, scores: &[f64]) -> Vec<f64> {
        let mut counts = vec![0u64; self.len()];
        for &s in scores {
            counts[self.grade_of(s) - 1] += 1;
        }
        let n = scores.len().max(1) as f64;
        counts.into_iter().map(|c| c as f64 / n).collect()
    }
}

/// Jeffreys test of a PD against observed defaults (ECB instructions for reporting
/// validation results, 2019, PD calibration): the p-value is the CDF at `mean_pd` of the
/// Jeffreys posterior Beta(D + ½, N − D + ½). Small when the observed default rate is
/// significantly above the predicted PD (PD underestimated). None when n = 0.
pub fn jeffreys_p_value(n: u64, defaults: u64, mean_pd: f64) -> Option<f64> {
    if n == 0 || defaults > n {
        return None;
    }
    let beta = Beta::new(defaults as f64 + 0.5, (n - defaults) as f64 + 0.5).ok()?;
    Some(beta.cdf(mean_pd))
}

/// One grade's calibration, or the portfolio's.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct GradeCalibration {
    /// 1-based grade; 0 for the portfolio.
    pub grade: usize,
    pub pd_low: f64,
    pub pd_high: f64,
    /// Labelled rows in the grade.
    pub n: u64,
    pub defaults: u64,
    /// Mean predicted PD of the grade's labelled rows; None when empty.
    pub mean_pd: Option<f64>,
    /// defaults / n; None when empty.
    pub default_rate: Option<f64>,
    pub jeffreys_p_value: Option<f64>,
}

fn calibration_of(
    grade: usize,
    range: (f64, f64),
    n: u64,
    defaults: u64,
    pd_sum: f64,
) -> GradeCalibration {
    let mean_pd = (n > 0).then(|| pd_sum / n as f64);
    GradeCalibration {
        grade,
        pd_low: range.0,
        pd_high: range.1,
        n,
        defaults,
        mean_pd,
        default_rate: (n > 0).then(|| defaults as f64 / n as f64),
        jeffreys_p_value: mean_pd.and_then(|pd| jeffreys_p_value(n, defaults, pd)),
    }
}

/// Calibration of labelled rows by grade and for the portfolio, with the grade
/// distribution's concentration and stability.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Calibration {
    /// Every grade of the scale, in order, empty ones included.
    pub grades: Vec<GradeCalibration>,
    /// All labelled rows (grade 0, PD range 0 to 1).
    pub portfolio: GradeCalibration,
    /// Herfindahl index of the grade distribution of the labelled rows, Σ (nᵍ/N)²; None
    /// when there are none.
    pub herfindahl: Option<f64>,
    /// The ECB instructions' normalised form, 1 + ln(Σ (nᵍ/N)²)/ln K for K grades (from the
    /// coefficient of variation of the shares, CV² + 1 = K·Σ (nᵍ/N)²): 0 when spread evenly,
    /// 1 when all rows are in one grade.
    pub herfindahl_ecb: Option<f64>,
}

/// Calibration of `scores` against `defaulted` (one outcome per score) on `scale`. The
/// sums run in row order.
pub fn calibration(scale: &MasterScale, scores: &[f64], defaulted: &[bool]) -> Calibration {
    assert_eq!(scores.len(), defaulted.len(), "one outcome per score");
    let k = scale.len();
    let mut n = vec![0u64; k];
    let mut d = vec![0u64; k];
    let mut sum = vec![0.0f64; k];
    for (&s, &y) in scores.iter().zip(defaulted) {
        let g = scale.grade_of(s) - 1;
        n[g] += 1;
        d[g] += u64::from(y);
        sum[g] += s;
    }
    let grades = (0..k)
        .map(|g| calibration_of(g + 1, scale.range(g + 1), n[g], d[g], sum[g]))
        .collect();
    let total = scores.len() as u64;
    let portfolio = calibration_of(0, (0.0, 1.0), total, d.iter().sum(), scores.iter().sum());
    let herfindahl = (total > 0).then(|| {
        n.iter()
            .map(|&c| {
                let share = c as f64 / total as f64;
                share * share
            })
            .sum::<f64>()
    });
    Calibration {
        grades,
        portfolio,
        herfindahl,
        herfindahl_ecb: herfindahl.map(|h| 1.0 + h.ln() / (k as f64).ln()),
    }
}

/// PSI of the cohort's grade distribution against the reference scores' (each share
/// floored at [`crate::drift::stats::PSI_FLOOR`], as for features). None when a side is
/// empty.
pub fn grade_psi(scale: &MasterScale, reference_scores: &[f64], scores: &[f64]) -> Option<f64> {
    if reference_scores.is_empty() || scores.is_empty() {
        return None;
    }
    Some(psi(&scale.shares(reference_scores), &scale.shares(scores)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_are_closed_on_the_right() {
        let scale = MasterScale::from_bounds(vec![0.1, 0.2]).unwrap();
        assert_eq!(scale.len(), 3);
        assert_eq!(scale.grade_of(0.0), 1);
        assert_eq!(scale.grade_of(0.1), 1);
        assert_eq!(scale.grade_of(0.15), 2);
        assert_eq!(scale.grade_of(0.2), 2);
        assert_eq!(scale.grade_of(1.0), 3);
        assert_eq!(scale.range(1), (0.0, 0.1));
        assert_eq!(scale.range(3), (0.2, 1.0));
    }

    #[test]
    fn bad_master_scales_are_refused() {
        assert!(MasterScale::from_bounds(vec![]).is_err());
        assert!(MasterScale::from_bounds(vec![0.2, 0.1]).is_err());
        assert!(MasterScale::from_bounds(vec![0.0, 0.1]).is_err());
        assert!(MasterScale::from_bounds(vec![0.1, f64::NAN]).is_err());
        assert!(MasterScale::from_reference(&[], 10).is_err());
    }

    #[test]
    fn empty_grades_have_no_rates() {
        let scale = MasterScale::from_bounds(vec![0.5]).unwrap();
        let c = calibration(&scale, &[0.1, 0.2], &[false, true]);
        assert_eq!(c.grades[1].n, 0);
        assert_eq!(c.grades[1].mean_pd, None);
        assert_eq!(c.grades[1].jeffreys_p_value, None);
        assert_eq!(c.portfolio.defaults, 1);
        assert_eq!(c.herfindahl, Some(1.0));
        assert_eq!(c.herfindahl_ecb, Some(1.0));
    }
}
