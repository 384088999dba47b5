//! Confidence-based performance estimation (CBPE), as NannyML 0.13's `CBPE` for binary
//! classification: before outcomes arrive, the model's scores are calibrated on a labelled
//! hold-out, and each calibrated PD is read as the probability that the row defaults. The
//! expected ROC curve of a cohort follows: at each threshold, the expected true positives
//! are the sum of the calibrated PDs above it, the expected false positives the sum of
//! their complements.
//!
//! Steps, each equal to NannyML's (and to the numpy / scikit-learn / scipy functions it
//! calls) to the last bit, checked by `core/tests/cbpe.rs` against values NannyML 0.13.1
//! computed (`core/tests/reference/cbpe_values.py`):
//!
//! - Calibration: isotonic regression of the outcome on the score over the hold-out
//!   (scikit-learn's `IsotonicRegression(out_of_bounds="clip")`): rows sorted by score then
//!   outcome, scores closer than 1e-15 to the first of their run merged (their outcomes
//!   averaged, weighted by count), the pool-adjacent-violators algorithm as scipy's
//!   `isotonic_regression` runs it, interior points equal to both neighbours dropped; a
//!   score is clipped to the hold-out's range and interpolated linearly as `numpy.interp`.
//!   **Difference:** NannyML calibrates only when a 10-fold shuffled check finds the expected
//!   calibration error lower after calibration; that check is random (on a perfectly
//!   calibrated reference it chose to calibrate 24 times in 40 seeds). Here the hold-out
//!   always calibrates ([`CalibrationMode::Isotonic`]), which is what NannyML does whenever
//!   its check says so; [`CalibrationMode::None`] is its other branch.
//! - Expected ROC AUC ([`estimate_roc_auc`]): rows ordered by the uncalibrated score,
//!   descending; cumulative sums of the calibrated PDs (expected true positives) and of
//!   their complements (expected false positives), each rounded to 5 decimals as NannyML
//!   does; rates against the totals; the trapezoidal area.
//! - Sampling error ([`Calibrator::roc_auc_sampling_error`]): NannyML's, from the hold-out
//!   with the uncalibrated scores: the population standard deviation σ of the positives'
//!   placement values (the share of negatives ranked below each positive; the minority
//!   class is the positive one), then σ / √(n · share of positives) for a cohort of n. A
//!   positive ranked first is left out, as NannyML does. Ties are ranked by row order
//!   (NannyML's unstable sort leaves their order to numpy). The band shown is the estimate
//!   ∓ 3 sampling errors. It is narrow: it is only the positives' half of DeLong's variance
//!   and ignores the calibration's own error, so it understates the spread when the cohort
//!   has shifted (about half the actual spread on a shifted test cohort).
//! - Expected default rate: the mean calibrated PD ([`mean`]; NannyML's true-positive plus
//!   false-negative rates of its confusion matrix normalised by all rows add up to it).

/// Whether the hold-out calibrates the scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CalibrationMode {
    /// Isotonic regression on the hold-out (the default).
    #[default]
    Isotonic,
    /// The scores are taken as calibrated.
    None,
}

/// Sum in numpy's pairwise order (`numpy.add.reduce` on contiguous doubles): blocks of 8
/// running sums up to 128 values, halves above.
pub fn pairwise_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        return a.iter().fold(-0.0, |s, v| s + v);
    }
    if n <= 128 {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let full = n - n % 8;
        let mut i = 8;
        while i < full {
            for j in 0..8 {
                r[j] += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for v in &a[full..] {
            res += v;
        }
        return res;
    }
    let mut half = n / 2;
    half -= half % 8;
    pairwise_sum(&a[..half]) + pairwise_sum(&a[half..])
}

/// Mean as numpy computes it; None when empty.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| (0.0 + pairwise_sum(values)) / values.len() as f64)
}

/// Population standard deviation as `numpy.std`; None when empty.
fn std_population(values: &[f64]) -> Option<f64> {
    let m = mean(values)?;
    let squares: Vec<f64> = values.iter().map(|v| (v - m) * (v - m)).collect();
    Some(((0.0 + pairwise_sum(&squares)) / values.len() as f64).sqrt())
}

/// An isotonic (non-decreasing) step-and-slope function of the score.
#[derive(Debug, Clone, PartialEq)]
struct Isotonic {
    x_min: f64,
    x_max: f64,
    xs: Vec<f64>,
    ys: Vec<f64>,
}

/// Scores closer than this to the first of their run are one point (numpy's float64
/// `resolution`, as scikit-learn's `_make_unique`).
const MERGE_GAP: f64 = 1e-15;

/// Pool adjacent violators over `y` with weights `w`, in place (scipy's
/// `isotonic_regression`, increasing, in its order of operations).
fn pava(y: &mut [f64], w: &mut [f64]) {
    let n = y.len();
    if n == 0 {
        return;
    }
    // r[b] .. r[b + 1] are the rows of block b.
    let mut r = vec![0usize; n + 1];
    r[1] = 1;
    let mut b = 0usize;
    let (mut y_prev, mut w_prev) = (y[0], w[0]);
    let mut i = 1;
    while i < n {
        b += 1;
        let mut yb = y[i];
        let mut wb = w[i];
        if y_prev >= yb {
            b -= 1;
            let mut sb = w_prev * y_prev + wb * yb;
            wb += w_prev;
            yb = sb / wb;
            while i < n - 1 && yb >= y[i + 1] {
                i += 1;
                sb += w[i] * y[i];
                wb += w[i];
                yb = sb / wb;
            }
            while b > 0 && y[b - 1] >= yb {
                b -= 1;
                sb += w[b] * y[b];
                wb += w[b];
                yb = sb / wb;
            }
        }
        y[b] = yb;
        y_prev = yb;
        w[b] = wb;
        w_prev = wb;
        r[b + 1] = i + 1;
        i += 1;
    }
    // Spread each block's value over its rows, last block first.
    let mut last = n;
    for k in (0..=b).rev() {
        let value = y[k];
        for v in &mut y[r[k]..last] {
            *v = value;
        }
        last = r[k];
    }
}

impl Isotonic {
    /// Fits on scores (finite) and outcomes; `scores` not empty.
    fn fit(scores: &[f64], defaulted: &[bool]) -> Isotonic {
        let mut order: Vec<usize> = (0..scores.len()).collect();
        order.sort_by(|&a, &b| {
            scores[a]
                .total_cmp(&scores[b])
                .then(defaulted[a].cmp(&defaulted[b]))
        });
        let (mut xs, mut ys, mut ws) = (Vec::new(), Vec::new(), Vec::new());
        let first = order[0];
        let (mut cx, mut cy, mut cw) = (scores[first], 0.0f64, 0.0f64);
        for &k in &order {
            let x = scores[k];
            let y = f64::from(u8::from(defaulted[k]));
            if x - cx >= MERGE_GAP {
                xs.push(cx);
                ws.push(cw);
                ys.push(cy / cw);
                cx = x;
                cw = 1.0;
                cy = y;
            } else {
                cw += 1.0;
                cy += y;
            }
        }
        xs.push(cx);
        ws.push(cw);
        ys.push(cy / cw);
        pava(&mut ys, &mut ws);
        let x_min = xs[0];
        let x_max = xs[xs.len() - 1];
        let n = ys.len();
        let keep: Vec<bool> = (0..n)
            .map(|k| k == 0 || k == n - 1 || ys[k] != ys[k - 1] || ys[k] != ys[k + 1])
            .collect();
        let pick = |v: &[f64]| -> Vec<f64> {
            v.iter()
                .zip(&keep)
                .filter(|(_, &k)| k)
                .map(|(&x, _)| x)
                .collect()
        };
        Isotonic {
            x_min,
            x_max,
            xs: pick(&xs),
            ys: pick(&ys),
        }
    }

    /// The calibrated value of a score: clipped to the fitted range, then interpolated as
    /// `numpy.interp` does.
    fn predict(&self, score: f64) -> f64 {
        let t = score.max(self.x_min).min(self.x_max);
        let (xs, ys) = (&self.xs, &self.ys);
        let n = xs.len();
        if n == 1 || t <= xs[0] {
            return ys[0];
        }
        if t >= xs[n - 1] {
            return ys[n - 1];
        }
        // The last breakpoint at or below t.
        let j = xs.partition_point(|&x| x <= t) - 1;
        if xs[j] == t {
            return ys[j];
        }
        let slope = (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j]);
        slope * (t - xs[j]) + ys[j]
    }
}

/// What a labelled hold-out gives the estimation: the calibration of the scores, and the
/// components of the AUC's sampling error.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibrator {
    isotonic: Option<Isotonic>,
    /// σ of the positives' placement values and the share of positives (NannyML's
    /// `auroc_sampling_error_components`); None with one class.
    sampling: Option<(f64, f64)>,
}

impl Calibrator {
    /// Fits the default calibration ([`CalibrationMode::Isotonic`]).
    pub fn fit(scores: &[f64], defaulted: &[bool]) -> Result<Calibrator, String> {
        Calibrator::fit_with(scores, defaulted, CalibrationMode::default())
    }

    /// Fits on a hold-out's scores and outcomes. Errors (a sentence) when it is empty,
    /// lengths differ, a score is not finite, or it holds one outcome only.
    pub fn fit_with(
        scores: &[f64],
        defaulted: &[bool],
        mode: CalibrationMode,
    ) -> Result<Calibrator, String> {
        if scores.is_empty() {
            return Err("the hold-out is empty".into());
        }
        if scores.len() != defaulted.len() {
            return Err("the hold-out has not one outcome per score".into());
        }
        if scores.iter().any(|s| !s.is_finite()) {
            return Err("the hold-out has a score that is not a finite number".into());
        }
        let n_pos = defaulted.iter().filter(|&&d| d).count();
        if n_pos == 0 || n_pos == scores.len() {
            return Err(
                "the hold-out holds one outcome only (it needs defaults and non-defaults)".into(),
            );
        }
        Ok(Calibrator {
            isotonic: (mode == CalibrationMode::Isotonic).then(|| Isotonic::fit(scores, defaulted)),
            sampling: sampling_components(scores, defaulted),
        })
    }

    /// The calibrated PDs of `scores`, in order.
    pub fn apply(&self, scores: &[f64]) -> Vec<f64> {
        match &self.isotonic {
            Some(iso) => scores.iter().map(|&s| iso.predict(s)).collect(),
            None => scores.to_vec(),
        }
    }

    /// NannyML's sampling error of the estimated ROC AUC of a cohort of `n` rows; None for
    /// an empty cohort.
    pub fn roc_auc_sampling_error(&self, n: usize) -> Option<f64> {
        let (std, fraction) = self.sampling?;
        (n > 0).then(|| std / (n as f64 * fraction).sqrt())
    }
}

/// σ and the positive share of NannyML's AUC sampling error (see the module doc).
fn sampling_components(scores: &[f64], defaulted: &[bool]) -> Option<(f64, f64)> {
    let n = scores.len();
    let mut y: Vec<f64> = defaulted.iter().map(|&d| f64::from(u8::from(d))).collect();
    let mut s = scores.to_vec();
    if mean(&y)? > 0.5 {
        for (yv, sv) in y.iter_mut().zip(s.iter_mut()) {
            *yv = (*yv - 1.0).abs();
            *sv = 1.0 - *sv;
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| s[a].total_cmp(&s[b]));
    let n_pos = pairwise_sum(&y);
    let n_neg = n as f64 - n_pos;
    // Ranks (0-based) of the positives, ascending; NannyML drops a positive at rank 0.
    let ranks: Vec<usize> = order
        .iter()
        .enumerate()
        .filter(|(rank, &k)| y[k] == 1.0 && *rank > 0)
        .map(|(rank, _)| rank)
        .collect();
    let placements: Vec<f64> = ranks
        .iter()
        .enumerate()
        .map(|(i, &rank)| (rank - i) as f64 / n_neg)
        .collect();
    Some((std_population(&placements)?, n_pos / n as f64))
}

/// The expected ROC AUC of a cohort from its uncalibrated scores (which order the rows)
/// and their calibrated PDs. None when it is undefined: no rows, or the rounded expected
/// positives or negatives are all zero (all PDs 0 or all 1).
pub fn estimate_roc_auc(uncalibrated: &[f64], calibrated: &[f64]) -> Option<f64> {
    assert_eq!(
        uncalibrated.len(),
        calibrated.len(),
        "one calibrated PD per score"
    );
    let n = calibrated.len();
    if n == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..n).collect();
    // Descending; equal scores have equal calibrated PDs, so their order does not matter.
    order.sort_by(|&a, &b| uncalibrated[b].total_cmp(&uncalibrated[a]));
    let round5 = |x: f64| (x * 100000.0).round_ties_even() / 100000.0;
    let mut tp = Vec::with_capacity(n + 1);
    let mut fp = Vec::with_capacity(n + 1);
    tp.push(0.0);
    fp.push(0.0);
    let mut acc = 0.0;
    for (k, &i) in order.iter().enumerate() {
        acc += calibrated[i];
        tp.push(round5(acc));
        fp.push(round5((k + 1) as f64 - acc));
    }
    let (tp_total, fp_total) = (tp[n], fp[n]);
    if tp_total == 0.0 || fp_total == 0.0 {
        return None;
    }
    let tpr: Vec<f64> = tp.iter().map(|v| v / tp_total).collect();
    let fpr: Vec<f64> = fp.iter().map(|v| v / fp_total).collect();
    let areas: Vec<f64> = (0..n)
        .map(|k| ((fpr[k + 1] - fpr[k]) * (tpr[k + 1] + tpr[k])) / 2.0)
        .collect();
    let auc = 0.0 + pairwise_sum(&areas);
    auc.is_finite().then_some(auc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_adds_in_numpys_order() {
        let v: Vec<f64> = (0..1000).map(|i| 1.0 / (i as f64 + 1.0)).collect();
        let naive: f64 = v.iter().sum();
        assert!((pairwise_sum(&v) - naive).abs() < 1e-12);
        assert_eq!(pairwise_sum(&[]), -0.0);
    }

    #[test]
    fn pava_pools_violators() {
        let mut y = vec![1.0, 3.0, 2.0, 4.0, 3.0, 5.0];
        let mut w = vec![1.0; 6];
        pava(&mut y, &mut w);
        assert_eq!(y, vec![1.0, 2.5, 2.5, 3.5, 3.5, 5.0]);
    }

    #[test]
    fn a_one_class_hold_out_is_refused() {
        assert!(Calibrator::fit(&[0.1, 0.2], &[false, false]).is_err());
        assert!(Calibrator::fit(&[], &[]).is_err());
    }
}
