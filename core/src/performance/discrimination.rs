//! Discriminatory power and accuracy of predicted probabilities of default against observed
//! outcomes: ROC AUC with its DeLong variance, Gini, the Kolmogorov-Smirnov separation, the
//! Brier score, log loss, the decision threshold's confusion matrix, and the ECB's test of
//! the current AUC against the AUC at initial validation.
//!
//! Scores are probabilities of default in [0, 1]; an outcome is `true` when the borrower
//! defaulted (the positive class: a higher score means riskier).

use statrs::distribution::{ContinuousCDF, Normal};

/// The two-sided 95% quantile of the standard normal distribution, Φ⁻¹(0.975).
pub const Z_95: f64 = 1.959_963_984_540_054;

/// ROC AUC with its DeLong variance and 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AucEstimate {
    /// Probability that a random defaulter scores above a random non-defaulter, ties counting
    /// one half (= scikit-learn's `roc_auc_score`).
    pub auc: f64,
    /// DeLong, DeLong and Clarke-Pearson (1988) variance of the AUC estimate; None with
    /// fewer than two rows in a class (the sample variances are undefined).
    pub variance: Option<f64>,
    /// auc ∓ [`Z_95`]·√variance, clipped to [0, 1]; None without a variance.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

impl AucEstimate {
    /// Gini = 2·AUC − 1 (the accuracy ratio).
    pub fn gini(&self) -> f64 {
        2.0 * self.auc - 1.0
    }
}

/// Mid-ranks (1-based, tied values sharing the mean of their ranks) of `values`, in their
/// original order.
fn midranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_unstable_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their mean.
        let mid = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = mid;
        }
        i = j + 1;
    }
    ranks
}

/// Sample variance (n − 1 in the denominator) by two passes.
fn sample_variance(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)
}

/// ROC AUC of `scores` (probabilities of default) against `defaulted`, with the DeLong
/// variance computed from mid-ranks (Sun and Xu 2014, "Fast implementation of DeLong's
/// algorithm"): for m defaulters X and n non-defaulters Y, the placement values are
/// V10ᵢ = (rank of Xᵢ among all − rank of Xᵢ among X)/n and
/// V01ⱼ = 1 − (rank of Yⱼ among all − rank of Yⱼ among Y)/m; AUC is the mean of V10 and
/// Var = s²(V10)/m + s²(V01)/n. O(N log N).
///
/// None when a class is absent: the AUC is undefined, and no number is made up for it.
/// Panics when the slices differ in length.
pub fn roc_auc_delong(scores: &[f64], defaulted: &[bool]) -> Option<AucEstimate> {
    assert_eq!(scores.len(), defaulted.len(), "one outcome per score");
    let positives: Vec<f64> = scores
        .iter()
        .zip(defaulted)
        .filter(|(_, &d)| d)
        .map(|(&s, _)| s)
        .collect();
    let negatives: Vec<f64> = scores
        .iter()
        .zip(defaulted)
        .filter(|(_, &d)| !d)
        .map(|(&s, _)| s)
        .collect();
    let (m, n) = (positives.len(), negatives.len());
    if m == 0 || n == 0 {
        return None;
    }
    let mut all = positives.clone();
    all.extend_from_slice(&negatives);
    let rank_all = midranks(&all);
    let rank_pos = midranks(&positives);
    let rank_neg = midranks(&negatives);
    let (mf, nf) = (m as f64, n as f64);
    let v10: Vec<f64> = (0..m).map(|i| (rank_all[i] - rank_pos[i]) / nf).collect();
    let v01: Vec<f64> = (0..n)
        .map(|j| 1.0 - (rank_all[m + j] - rank_neg[j]) / mf)
        .collect();
    // The AUC from the rank sum of the defaulters (exact in integers and halves up to 2^52).
    let rank_sum: f64 = rank_all[..m].iter().sum();
    let auc = (rank_sum - mf * (mf + 1.0) / 2.0) / (mf * nf);
    let variance =
        (m >= 2 && n >= 2).then(|| sample_variance(&v10) / mf + sample_variance(&v01) / nf);
    let (ci_low, ci_high) = match variance {
        Some(v) => {
            let half = Z_95 * v.sqrt();
            (Some((auc - half).max(0.0)), Some((auc + half).min(1.0)))
        }
        None => (None, None),
    };
    Some(AucEstimate {
        auc,
        variance,
        ci_low,
        ci_high,
    })
}

/// Kolmogorov-Smirnov separation: the largest distance between the score distributions of
/// defaulters and non-defaulters (= `scipy.stats.ks_2samp(...).statistic`). None when a
/// class is absent.
pub fn ks_separation(scores: &[f64], defaulted: &[bool]) -> Option<f64> {
    let mut pos: Vec<f64> = Vec::new();
    let mut neg: Vec<f64> = Vec::new();
    for (&s, &d) in scores.iter().zip(defaulted) {
        if d {
            pos.push(s)
        } else {
            neg.push(s)
        }
    }
    pos.sort_unstable_by(f64::total_cmp);
    neg.sort_unstable_by(f64::total_cmp);
    crate::drift::ks::ks_statistic(&pos, &neg)
}

/// Brier score: mean of (pᵢ − yᵢ)² (= scikit-learn's `brier_score_loss`). None when empty.
pub fn brier(scores: &[f64], defaulted: &[bool]) -> Option<f64> {
    if scores.is_empty() {
        return None;
    }
    let sum: f64 = scores
        .iter()
        .zip(defaulted)
        .map(|(&p, &d)| {
            let e = p - f64::from(u8::from(d));
            e * e
        })
        .sum();
    Some(sum / scores.len() as f64)
}

/// Log loss (cross-entropy, natural logarithm): mean of −[y ln p + (1 − y) ln(1 − p)], with p
/// clipped to [ε, 1 − ε], ε = 2⁻⁵² (machine epsilon), as scikit-learn's `log_loss` does, so a
/// probability of exactly 0 or 1 gives a large finite loss. None when empty.
pub fn log_loss(scores: &[f64], defaulted: &[bool]) -> Option<f64> {
    if scores.is_empty() {
        return None;
    }
    let eps = f64::EPSILON;
    let sum: f64 = scores
        .iter()
        .zip(defaulted)
        .map(|(&p, &d)| {
            let p = p.clamp(eps, 1.0 - eps);
            if d {
                -p.ln()
            } else {
                -(1.0 - p).ln()
            }
        })
        .sum();
    Some(sum / scores.len() as f64)
}

/// Counts at the decision threshold: an application is refused when its score is at or
/// above the threshold, approved below it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
pub struct Confusion {
    /// Refused and defaulted.
    pub true_positives: u64,
    /// Refused and did not default.
    pub false_positives: u64,
    /// Approved and did not default.
    pub true_negatives: u64,
    /// Approved and defaulted.
    pub false_negatives: u64,
}

impl Confusion {
    /// The confusion matrix of labelled rows at `threshold`.
    pub fn at_threshold(scores: &[f64], defaulted: &[bool], threshold: f64) -> Confusion {
        let mut c = Confusion::default();
        for (&s, &d) in scores.iter().zip(defaulted) {
            c.count(s >= threshold, d);
        }
        c
    }

    /// Counts one labelled row by its decision.
    pub fn count(&mut self, refused: bool, defaulted: bool) {
        match (refused, defaulted) {
            (true, true) => self.true_positives += 1,
            (true, false) => self.false_positives += 1,
            (false, false) => self.true_negatives += 1,
            (false, true) => self.false_negatives += 1,
        }
    }

    /// Rows counted.
    pub fn total(&self) -> u64 {
        self.true_positives + self.false_positives + self.true_negatives + self.false_negatives
    }

    /// Share of rows approved; None when empty.
    pub fn approval_rate(&self) -> Option<f64> {
        let t = self.total();
        (t > 0).then(|| (self.true_negatives + self.false_negatives) as f64 / t as f64)
    }

    /// Share of approved rows that defaulted; None when none was approved.
    pub fn default_rate_approved(&self) -> Option<f64> {
        let approved = self.true_negatives + self.false_negatives;
        (approved > 0).then(|| self.false_negatives as f64 / approved as f64)
    }
}

/// The test of the ECB's instructions for reporting the validation results of internal
/// models (IRB, 2019), PD discriminatory power: is the current AUC lower than the AUC at
/// initial validation?
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AucTest {
    /// The AUC at initial validation (the model card's validation AUC, or the hold-out's).
    pub auc_initial: f64,
    /// S = (AUC_init − AUC_current) / s.e.(AUC_current), the standard error from the DeLong
    /// variance.
    pub statistic: f64,
    /// One-sided p-value 1 − Φ(S): small when the current AUC is significantly lower.
    pub p_value: f64,
}

/// The ECB AUC test of `current` against `auc_initial`. None when the current estimate has
/// no variance or a variance of zero (all scores tied, or perfectly separated).
pub fn ecb_auc_test(current: &AucEstimate, auc_initial: f64) -> Option<AucTest> {
    let variance = current.variance.filter(|&v| v > 0.0)?;
    let statistic = (auc_initial - current.auc) / variance.sqrt();
    let normal = Normal::standard();
    Some(AucTest {
        auc_initial,
        statistic,
        p_value: normal.sf(statistic),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_class_has_no_auc() {
        assert!(roc_auc_delong(&[0.1, 0.2], &[true, true]).is_none());
        assert!(roc_auc_delong(&[], &[]).is_none());
        assert!(ks_separation(&[0.1, 0.2], &[false, false]).is_none());
    }

    #[test]
    fn one_of_each_class_has_an_auc_but_no_variance() {
        let e = roc_auc_delong(&[0.9, 0.1], &[true, false]).unwrap();
        assert_eq!(e.auc, 1.0);
        assert_eq!(e.variance, None);
        assert!(ecb_auc_test(&e, 0.8).is_none());
    }

    #[test]
    fn confusion_refuses_at_the_threshold() {
        let c = Confusion::at_threshold(&[0.5, 0.49, 0.7, 0.1], &[true, true, false, false], 0.5);
        assert_eq!(
            c,
            Confusion {
                true_positives: 1,
                false_positives: 1,
                true_negatives: 1,
                false_negatives: 1
            }
        );
        assert_eq!(c.approval_rate(), Some(0.5));
        assert_eq!(c.default_rate_approved(), Some(0.5));
    }
}
