//! Model-quality metrics used when training and reporting.

/// Area under the ROC curve: the probability that a random positive scores above a random
/// negative, ties counting one half (the Mann-Whitney U statistic over n_pos * n_neg).
/// Returns NaN when one class is absent.
pub fn roc_auc(scores: &[f64], labels: &[u8]) -> f64 {
    assert_eq!(scores.len(), labels.len(), "one label per score");
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let n_pos = labels.iter().filter(|&&l| l != 0).count() as f64;
    let n_neg = labels.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return f64::NAN;
    }
    // Sum of the (mid-)ranks of the positives, tied scores sharing their average rank.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let mid_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += order[i..=j].iter().filter(|&&k| labels[k] != 0).count() as f64 * mid_rank;
        i = j + 1;
    }
    (rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference: sklearn.metrics.roc_auc_score, computed by `core/tests/reference/reference_values.py`.
    #[test]
    fn matches_sklearn_with_ties() {
        let scores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.05, 0.4, 0.6, 0.35];
        let labels = [0, 0, 1, 1, 1, 1, 0, 0, 1, 0];
        assert!((roc_auc(&scores, &labels) - 0.86).abs() < 1e-12);
    }

    #[test]
    fn one_class_is_nan() {
        assert!(roc_auc(&[0.1, 0.2], &[1, 1]).is_nan());
    }
}
