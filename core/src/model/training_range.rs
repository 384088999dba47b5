//! What the model saw in training, feature by feature: the reference's smallest and largest
//! value, and for a feature with few distinct values (a flag, a one-hot column, a small
//! count: at most [`MAX_CATEGORIES`]) the values themselves. An application with a value
//! outside it is still scored (a tree ensemble answers beyond its last split as at it), but
//! the answer says which features lie outside, so that a typing error (EXT_SOURCE_2 = 5
//! where scores lie in 0..1) or an impossible value (a gender code of 1.332) is seen.

use serde::Serialize;

/// Features with at most this many distinct reference values are checked value by value
/// (the drift analysis's limit for categorical features, too).
pub const MAX_CATEGORIES: usize = 10;

/// One feature's training values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeatureRange {
    /// Smallest and largest non-missing reference value; None when every value was missing.
    pub min_max: Option<(f64, f64)>,
    /// Every distinct reference value, ascending, when there are at most
    /// [`MAX_CATEGORIES`] of them and the stored sample holds them all.
    pub values: Option<Vec<f64>>,
}

impl FeatureRange {
    /// The range of a reference summary: `min`/`max`, `n_distinct` (over all reference rows)
    /// and the stored `sorted_sample` (ascending). The distinct values are kept only when
    /// the sample holds all `n_distinct` of them.
    pub fn from_reference(
        min: Option<f64>,
        max: Option<f64>,
        n_distinct: usize,
        sorted_sample: &[f64],
    ) -> Self {
        let values = (n_distinct <= MAX_CATEGORIES).then(|| {
            let mut v = sorted_sample.to_vec();
            v.dedup_by(|a, b| a == b);
            v
        });
        FeatureRange {
            min_max: min.zip(max),
            values: values.filter(|v| v.len() == n_distinct && !v.is_empty()),
        }
    }
}

/// Why a value is outside what the model saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutsideReason {
    /// Below the smallest training value.
    BelowMin,
    /// Above the largest training value.
    AboveMax,
    /// Within the range, but the feature took only a few values in training and this is
    /// none of them (e.g. 1.332 for a 0/1 flag).
    UnseenValue,
    /// The feature was missing in every training row.
    NeverPresent,
}

/// One feature of an application outside what the model saw in training.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OutsideTraining {
    pub feature: String,
    /// The application's value.
    pub value: f64,
    pub reason: OutsideReason,
    /// Smallest and largest training value (null when the feature was never present).
    pub training_min: Option<f64>,
    pub training_max: Option<f64>,
    /// The feature's training values when it had at most 10 of them, else null.
    pub training_values: Option<Vec<f64>>,
}

/// The training ranges of every feature of a model version, in model order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrainingRange {
    names: Vec<String>,
    features: Vec<FeatureRange>,
}

impl TrainingRange {
    /// `features` in model order, one per name. An empty range checks nothing.
    pub fn new(names: Vec<String>, features: Vec<FeatureRange>) -> Self {
        debug_assert_eq!(names.len(), features.len());
        TrainingRange { names, features }
    }

    /// The range of the feature at `index` (model order), if known.
    pub fn feature(&self, index: usize) -> Option<&FeatureRange> {
        self.features.get(index)
    }

    /// The features of `values` (model order; NaN = missing, never outside) that lie
    /// outside the training values, in model order.
    pub fn check(&self, values: &[f64]) -> Vec<OutsideTraining> {
        self.features
            .iter()
            .zip(values)
            .zip(&self.names)
            .filter_map(|((range, &value), name)| {
                let reason = reason(range, value)?;
                Some(OutsideTraining {
                    feature: name.clone(),
                    value,
                    reason,
                    training_min: range.min_max.map(|m| m.0),
                    training_max: range.min_max.map(|m| m.1),
                    training_values: range.values.clone(),
                })
            })
            .collect()
    }
}

/// Why `value` is outside `range`, or None when it is inside (or missing).
pub fn reason(range: &FeatureRange, value: f64) -> Option<OutsideReason> {
    if value.is_nan() {
        return None;
    }
    let Some((min, max)) = range.min_max else {
        return Some(OutsideReason::NeverPresent);
    };
    if value < min {
        Some(OutsideReason::BelowMin)
    } else if value > max {
        Some(OutsideReason::AboveMax)
    } else if range.values.as_ref().is_some_and(|vs| !vs.contains(&value)) {
        Some(OutsideReason::UnseenValue)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_outside_the_range_or_unseen_are_named() {
        let flag = FeatureRange::from_reference(Some(0.0), Some(1.0), 2, &[0.0, 0.0, 1.0]);
        assert_eq!(flag.values, Some(vec![0.0, 1.0]));
        let score = FeatureRange::from_reference(Some(0.01), Some(0.9), 500, &[0.01, 0.5, 0.9]);
        assert_eq!(score.values, None);
        // The sample lacks one of the 3 categories: no value-by-value check.
        let partial = FeatureRange::from_reference(Some(0.0), Some(2.0), 3, &[0.0, 2.0]);
        assert_eq!(partial.values, None);
        let never = FeatureRange::from_reference(None, None, 0, &[]);
        let r = TrainingRange::new(
            vec!["FLAG".into(), "EXT".into(), "CODE".into(), "GONE".into()],
            vec![flag, score, partial, never],
        );
        assert!(r.check(&[0.0, 0.5, 1.5, f64::NAN]).is_empty());
        assert!(r.check(&[-0.0, 0.01, 2.0, f64::NAN]).is_empty(), "-0 is 0");
        let out = r.check(&[0.5, 5.0, -1.0, 3.0]);
        let reasons: Vec<(&str, OutsideReason)> =
            out.iter().map(|o| (o.feature.as_str(), o.reason)).collect();
        assert_eq!(
            reasons,
            [
                ("FLAG", OutsideReason::UnseenValue),
                ("EXT", OutsideReason::AboveMax),
                ("CODE", OutsideReason::BelowMin),
                ("GONE", OutsideReason::NeverPresent),
            ]
        );
        assert_eq!(out[1].training_max, Some(0.9));
        assert_eq!(out[0].training_values, Some(vec![0.0, 1.0]));
    }
}
