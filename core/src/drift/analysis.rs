//! One window of predictions against the training reference: every statistic for every
//! feature, which features drifted, and the window's status. No database here: the caller
//! brings the reference and the window.
//!
//! A feature drifts when its distribution test (KS for numeric features, chi-square for
//! features with at most [`Settings::max_categories`] distinct reference values) or its
//! missing-rate test rejects at `alpha` after the multiple-testing correction, which is
//! applied to all the window's tests together. With `--method psi|wasserstein|js` the
//! distribution test is replaced by that distance over its threshold.
//!
//! Why one file of about 700 lines: the analysis of a window is one computation whose
//! steps share private per-feature state; the last hundred lines are its tests.

use serde::{Deserialize, Serialize};

use super::ks;
use super::sort::Sorter;
use super::stats::{self, Correction};

/// What decides that a feature's distribution drifted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// KS (numeric) or chi-square (categorical) p-value, corrected, below alpha.
    Test,
    /// PSI at or above `psi_threshold`.
    Psi,
    /// Wasserstein-1 / reference std at or above `wasserstein_threshold`.
    Wasserstein,
    /// Jensen-Shannon distance at or above `js_threshold`.
    Js,
}

impl std::str::FromStr for Method {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "test" | "ks" => Ok(Method::Test),
            "psi" => Ok(Method::Psi),
            "wasserstein" => Ok(Method::Wasserstein),
            "js" | "jensen-shannon" => Ok(Method::Js),
            other => Err(format!(
                "unknown method {other:?}: expected test, psi, wasserstein or js"
            )),
        }
    }
}

/// The knobs of a drift analysis (stored with each report).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub method: Method,
    pub alpha: f64,
    pub correction: Correction,
    pub psi_threshold: f64,
    pub wasserstein_threshold: f64,
    pub js_threshold: f64,
    /// Share of drifted features from which the window is WARNING.
    pub warning_share: f64,
    /// Share of drifted features above which the window is ALERT.
    pub alert_share: f64,
    /// Fewer predictions than this: INSUFFICIENT_DATA, nothing tested.
    pub min_predictions: usize,
    /// Features with at most this many distinct reference values are categorical.
    pub max_categories: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            method: Method::Test,
            alpha: 0.05,
            correction: Correction::Bh,
            psi_threshold: 0.25,
            wasserstein_threshold: 0.1,
            js_threshold: 0.1,
            warning_share: 0.1,
            alert_share: 0.3,
            min_predictions: 30,
            max_categories: 10,
        }
    }
}

/// What drift detection keeps of one feature's training data.
#[derive(Debug, Clone)]
pub struct FeatureBaseline {
    pub feature: String,
    /// Non-missing reference values, ascending.
    pub sorted_sample: Vec<f64>,
    /// Inner edges of the reference-quantile bins.
    pub psi_edges: Vec<f64>,
    pub missing_rate: f64,
    pub n_samples: usize,
    pub n_distinct: usize,
    pub importance: f64,
}

/// The reference: features in model order, and the model's scores on the reference rows.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub features: Vec<FeatureBaseline>,
    /// Ascending.
    pub scores: Vec<f64>,
    pub refusal_rate: f64,
}

/// One feature's values in a window (NaN = missing), in no particular order: listed one by
/// one, and counted (a value and how many times it occurs, as column blocks keep columns
/// of few distinct values; a value may be counted more than once).
#[derive(Debug, Clone, Default)]
pub struct Column {
    pub values: Vec<f64>,
    pub counted: Vec<(f64, u32)>,
}

impl Column {
    /// How many values, missing ones included.
    pub fn len(&self) -> usize {
        self.values.len() + self.counted.iter().map(|&(_, c)| c as usize).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn clear(&mut self) {
        self.values.clear();
        self.counted.clear();
    }

    /// Every value, counted ones repeated.
    pub fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        let counted = self
            .counted
            .iter()
            .flat_map(|&(v, c)| std::iter::repeat_n(v, c as usize));
        self.values.iter().copied().chain(counted)
    }

    /// The values that are not missing into `out` (cleared first); returns whether they
    /// are in ascending order (when they were all counted).
    fn present_into(&self, counted: &mut Vec<(f64, u32)>, out: &mut Vec<f64>) -> bool {
        out.clear();
        out.extend(self.values.iter().filter(|v| !v.is_nan()));
        counted.clear();
        counted.extend(self.counted.iter().filter(|(v, _)| !v.is_nan()));
        counted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        for &(v, c) in counted.iter() {
            out.extend(std::iter::repeat_n(v, c as usize));
        }
        self.values.is_empty()
    }
}

impl From<Vec<f64>> for Column {
    fn from(values: Vec<f64>) -> Self {
        Self {
            values,
            counted: Vec::new(),
        }
    }
}

/// A window of stored predictions, one column per feature in model order.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub columns: Vec<Column>,
    pub n_rows: usize,
    pub probabilities: Vec<f64>,
    pub n_refused: usize,
}

impl Window {
    /// An empty window of `n_features` columns.
    pub fn new(n_features: usize) -> Self {
        Self {
            columns: vec![Column::default(); n_features],
            ..Self::default()
        }
    }

    /// A window from rows laid out one after the other (`n_features` values each).
    pub fn from_rows(
        rows: &[f64],
        n_features: usize,
        probabilities: Vec<f64>,
        n_refused: usize,
    ) -> Self {
        let n_rows = rows.len() / n_features.max(1);
        let columns = (0..n_features)
            .map(|j| {
                (0..n_rows)
                    .map(|i| rows[i * n_features + j])
                    .collect::<Vec<_>>()
                    .into()
            })
            .collect();
        Self {
            columns,
            n_rows,
            probabilities,
            n_refused,
        }
    }

    /// Adds one prediction (its features in model order).
    pub fn push(
        &mut self,
        features: impl IntoIterator<Item = f64>,
        probability: f64,
        refused: bool,
    ) {
        for (column, v) in self.columns.iter_mut().zip(features) {
            column.values.push(v);
        }
        self.probabilities.push(probability);
        self.n_refused += usize::from(refused);
        self.n_rows += 1;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Ok,
    Warning,
    Alert,
    InsufficientData,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warning => "WARNING",
            Status::Alert => "ALERT",
            Status::InsufficientData => "INSUFFICIENT_DATA",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Status::Ok,
            Status::Warning,
            Status::Alert,
            Status::InsufficientData,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// Every statistic of one feature in one window.
#[derive(Debug, Clone, Serialize)]
pub struct FeatureResult {
    pub feature: String,
    /// `ks`, `chi2`, or `missing` (no values to compare: only the missing rate is tested).
    pub test: &'static str,
    pub ks_statistic: Option<f64>,
    pub ks_p_value: Option<f64>,
    pub chi2_statistic: Option<f64>,
    pub chi2_p_value: Option<f64>,
    pub missing_p_value: Option<f64>,
    /// The smaller of the corrected distribution and missing-rate p-values.
    pub p_adjusted: Option<f64>,
    pub psi: Option<f64>,
    pub wasserstein_norm: Option<f64>,
    pub jensen_shannon: Option<f64>,
    pub missing_rate_ref: f64,
    pub missing_rate_cur: f64,
    pub importance: f64,
    pub drift: bool,
}

/// The window's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub n_reference: usize,
    pub n_current: usize,
    pub n_features_analyzed: usize,
    pub n_features_drifted: usize,
    pub drift_share: f64,
    pub weighted_drift_share: Option<f64>,
    pub status: Status,
    pub score_psi: Option<f64>,
    pub score_ks_statistic: Option<f64>,
    pub score_ks_p_value: Option<f64>,
    pub refusal_rate_ref: f64,
    pub refusal_rate_cur: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub summary: Summary,
    pub features: Vec<FeatureResult>,
}

impl Analysis {
    /// The drifted features, most significant first (smallest corrected p-value, then the
    /// most important).
    pub fn most_drifted(&self) -> Vec<&FeatureResult> {
        let mut drifted: Vec<&FeatureResult> = self.features.iter().filter(|f| f.drift).collect();
        drifted.sort_by(|a, b| {
            a.p_adjusted
                .unwrap_or(1.0)
                .total_cmp(&b.p_adjusted.unwrap_or(1.0))
                .then(b.importance.total_cmp(&a.importance))
        });
        drifted
    }
}

/// The status of a window where `share` of the analysed features drifted.
pub fn status_for(share: f64, settings: &Settings) -> Status {
    if share < settings.warning_share {
        Status::Ok
    } else if share <= settings.alert_share {
        Status::Warning
    } else {
        Status::Alert
    }
}

/// One feature's statistics before the window's multiple-testing correction.
#[derive(Debug, Clone)]
pub struct Tested {
    result: FeatureResult,
    p_dist: f64,
    p_missing: f64,
}

/// `present`: the window's values of the feature that are not missing (ascending when
/// `sorted`), of `n_total`.
fn analyse_feature(
    base: &FeatureBaseline,
    present: &mut [f64],
    sorted: bool,
    n_total: usize,
    settings: &Settings,
    sorter: &mut Sorter,
) -> Tested {
    let n_missing = n_total - present.len();
    let missing_rate_cur = if n_total == 0 {
        0.0
    } else {
        n_missing as f64 / n_total as f64
    };
    let ref_missing = (base.missing_rate * base.n_samples as f64).round() as usize;
    let p_missing = stats::missing_rate_test(ref_missing, base.n_samples, n_missing, n_total)
        .map_or(f64::NAN, |t| t.p_value);
    let mut result = FeatureResult {
        feature: base.feature.clone(),
        test: "missing",
        ks_statistic: None,
        ks_p_value: None,
        chi2_statistic: None,
        chi2_p_value: None,
        missing_p_value: (!p_missing.is_nan()).then_some(p_missing),
        p_adjusted: None,
        psi: None,
        wasserstein_norm: None,
        jensen_shannon: None,
        missing_rate_ref: base.missing_rate,
        missing_rate_cur,
        importance: base.importance,
        drift: false,
    };
    let mut p_dist = f64::NAN;
    let reference = &base.sorted_sample;
    if !present.is_empty() && !reference.is_empty() {
        let categorical = base.n_distinct <= settings.max_categories;
        let (r_shares, c_shares) = if categorical {
            let (categories, r, c) = if sorted {
                stats::category_counts(reference, present)
            } else {
                stats::category_counts_unsorted(reference, present)
            };
            let chi = stats::chi_square_2xk(&r, &c);
            result.test = "chi2";
            if let Some(chi) = chi {
                result.chi2_statistic = Some(chi.statistic);
                result.chi2_p_value = Some(chi.p_value);
                p_dist = chi.p_value;
            } else {
                // One category on both sides: nothing can differ.
                p_dist = 1.0;
                result.chi2_p_value = Some(1.0);
            }
            result.wasserstein_norm = Some(stats::wasserstein_counts_norm(
                &categories,
                &r,
                &c,
                reference,
            ));
            let (nr, nc) = (reference.len() as f64, present.len() as f64);
            (
                r.iter().map(|x| x / nr).collect::<Vec<_>>(),
                c.iter().map(|x| x / nc).collect::<Vec<_>>(),
            )
        } else {
            if !sorted {
                sorter.sort(present);
            }
            let ks = ks::ks_2samp(reference, present).expect("both samples non-empty");
            result.test = "ks";
            result.ks_statistic = Some(ks.statistic);
            result.ks_p_value = Some(ks.p_value);
            p_dist = ks.p_value;
            result.wasserstein_norm = Some(stats::wasserstein_norm(reference, present));
            (
                stats::bin_shares_sorted(&base.psi_edges, reference),
                stats::bin_shares_sorted(&base.psi_edges, present),
            )
        };
        result.psi = Some(stats::psi(&r_shares, &c_shares));
        result.jensen_shannon = Some(stats::jensen_shannon(&r_shares, &c_shares));
    }
    Tested {
        result,
        p_dist,
        p_missing,
    }
}

/// Analyses a window. Features are spread over the machine's cores.
pub fn analyse(baseline: &Baseline, window: &Window, settings: &Settings) -> Analysis {
    let tested = test_features(baseline, 0, &window.columns, settings);
    conclude(
        baseline,
        tested,
        window.n_rows,
        &window.probabilities,
        window.n_refused,
        settings,
    )
}

/// The statistics of features `first..first + columns.len()` of a window (its columns in
/// that order), spread over the machine's cores. [`conclude`] takes those of every
/// feature; a window can be tested a group of features at a time.
pub fn test_features(
    baseline: &Baseline,
    first: usize,
    columns: &[Column],
    settings: &Settings,
) -> Vec<Tested> {
    let count = columns.len();
    let longest = columns.iter().map(Column::len).max().unwrap_or(0);
    let threads = std::thread::available_parallelism()
        .map(|p| p.get())
        .unwrap_or(1)
        .clamp(1, count.max(1));
    // Features dealt out in turn (costly ones are not all on one thread), each worker
    // reusing one column buffer.
    let mut numbered: Vec<(usize, Tested)> = Vec::with_capacity(count);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let mut present = Vec::with_capacity(longest);
                    let mut counted = Vec::new();
                    let mut sorter = Sorter::default();
                    (t..count)
                        .step_by(threads)
                        .map(|k| {
                            let sorted = columns[k].present_into(&mut counted, &mut present);
                            let base = &baseline.features[first + k];
                            let n_total = columns[k].len();
                            let tested = analyse_feature(
                                base,
                                &mut present,
                                sorted,
                                n_total,
                                settings,
                                &mut sorter,
                            );
                            (k, tested)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            numbered.extend(h.join().expect("a drift worker panicked"));
        }
    });
    numbered.sort_unstable_by_key(|(k, _)| *k);
    numbered.into_iter().map(|(_, t)| t).collect()
}

/// The window's verdict from the statistics of every feature (in model order, from
/// [`test_features`]) and the window's scores.
pub fn conclude(
    baseline: &Baseline,
    tested: Vec<Tested>,
    n_rows: usize,
    probabilities: &[f64],
    n_refused: usize,
    settings: &Settings,
) -> Analysis {
    let n_features = baseline.features.len();
    let n = n_rows;
    let refusal_rate_cur = (n > 0).then(|| n_refused as f64 / n as f64);
    let mut summary = Summary {
        n_reference: baseline
            .features
            .iter()
            .map(|f| f.n_samples)
            .max()
            .unwrap_or(0),
        n_current: n,
        n_features_analyzed: 0,
        n_features_drifted: 0,
        drift_share: 0.0,
        weighted_drift_share: None,
        status: Status::InsufficientData,
        score_psi: None,
        score_ks_statistic: None,
        score_ks_p_value: None,
        refusal_rate_ref: baseline.refusal_rate,
        refusal_rate_cur,
    };
    if n < settings.min_predictions.max(1) {
        return Analysis {
            summary,
            features: Vec::new(),
        };
    }
    assert_eq!(tested.len(), n_features, "every feature is tested");

    // One correction over every test of the window: distribution and missing rate.
    let all_p: Vec<f64> = tested
        .iter()
        .flat_map(|t| [t.p_dist, t.p_missing])
        .collect();
    let adjusted = stats::adjust(&all_p, settings.correction);
    let mut features = Vec::with_capacity(n_features);
    let (mut analysed, mut drifted) = (0usize, 0usize);
    let (mut weight_all, mut weight_drifted) = (0.0, 0.0);
    for (k, t) in tested.into_iter().enumerate() {
        let (adj_dist, adj_missing) = (adjusted[2 * k], adjusted[2 * k + 1]);
        let mut r = t.result;
        let p_min = [adj_dist, adj_missing]
            .into_iter()
            .filter(|p| !p.is_nan())
            .fold(f64::NAN, f64::min);
        r.p_adjusted = (!p_min.is_nan()).then_some(p_min);
        let missing_drift = !adj_missing.is_nan() && adj_missing < settings.alpha;
        let dist_drift = match settings.method {
            Method::Test => !adj_dist.is_nan() && adj_dist < settings.alpha,
            Method::Psi => r.psi.is_some_and(|v| v >= settings.psi_threshold),
            Method::Wasserstein => r
                .wasserstein_norm
                .is_some_and(|v| v >= settings.wasserstein_threshold),
            Method::Js => r.jensen_shannon.is_some_and(|v| v >= settings.js_threshold),
        };
        let testable = !t.p_dist.is_nan() || !t.p_missing.is_nan();
        r.drift = dist_drift || missing_drift;
        if testable {
            analysed += 1;
            weight_all += r.importance;
            if r.drift {
                drifted += 1;
                weight_drifted += r.importance;
            }
        }
        features.push(r);
    }
    summary.n_features_analyzed = analysed;
    summary.n_features_drifted = drifted;
    summary.drift_share = if analysed == 0 {
        0.0
    } else {
        drifted as f64 / analysed as f64
    };
    summary.weighted_drift_share = (weight_all > 0.0).then(|| weight_drifted / weight_all);
    summary.status = if analysed == 0 {
        Status::InsufficientData
    } else {
        status_for(summary.drift_share, settings)
    };

    let mut scores = probabilities.to_vec();
    Sorter::default().sort(&mut scores);
    if let Some(ks) = ks::ks_2samp(&baseline.scores, &scores) {
        summary.score_ks_statistic = Some(ks.statistic);
        summary.score_ks_p_value = Some(ks.p_value);
        let edges = score_edges(&baseline.scores);
        summary.score_psi = Some(stats::psi(
            &stats::bin_shares(&edges, &baseline.scores),
            &stats::bin_shares(&edges, &scores),
        ));
    }
    Analysis { summary, features }
}

/// Decile edges of the reference scores (deduplicated).
fn score_edges(sorted_scores: &[f64]) -> Vec<f64> {
    let mut edges: Vec<f64> = (1..10)
        .map(|k| crate::drift::reference::quantile_sorted(sorted_scores, k as f64 / 10.0))
        .collect();
    edges.dedup();
    edges
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feature(
        name: &str,
        sample: Vec<f64>,
        missing_rate: f64,
        n_distinct: usize,
    ) -> FeatureBaseline {
        let mut sorted_sample = sample;
        sorted_sample.sort_by(f64::total_cmp);
        let psi_edges = (1..4)
            .map(|k| sorted_sample[k * sorted_sample.len() / 4])
            .collect();
        FeatureBaseline {
            feature: name.into(),
            n_samples: sorted_sample.len(),
            sorted_sample,
            psi_edges,
            missing_rate,
            n_distinct,
            importance: 1.0,
        }
    }

    /// Counted the way column blocks count a dictionary: per part of `part` rows.
    fn counted(values: &[f64], part: usize) -> Column {
        let mut column = Column::default();
        for chunk in values.chunks(part) {
            let mut counts: Vec<(f64, u32)> = Vec::new();
            for &v in chunk {
                match counts.iter_mut().find(|(x, _)| x.to_bits() == v.to_bits()) {
                    Some((_, c)) => *c += 1,
                    None => counts.push((v, 1)),
                }
            }
            column.counted.extend(counts);
        }
        column
    }

    #[test]
    fn counted_values_are_analysed_like_listed_ones() {
        let n = 900;
        // A small count with missing values (numeric: KS), a flag (categorical: chi-square)
        // and a feature half listed, half counted.
        let count: Vec<f64> = (0..n)
            .map(|i| {
                if i % 11 == 0 {
                    f64::NAN
                } else {
                    ((i * 7) % 23) as f64
                }
            })
            .collect();
        let flag: Vec<f64> = (0..n).map(|i| ((i * 13) % 5 == 0) as u8 as f64).collect();
        let mixed: Vec<f64> = (0..n).map(|i| ((i * 31) % 17) as f64 - 0.5).collect();
        let baseline = Baseline {
            features: vec![
                feature(
                    "count",
                    (0..2000).map(|i| (i % 20) as f64).collect(),
                    0.05,
                    20,
                ),
                feature(
                    "flag",
                    (0..2000).map(|i| (i % 4 == 0) as u8 as f64).collect(),
                    0.0,
                    2,
                ),
                feature(
                    "mixed",
                    (0..2000).map(|i| (i % 19) as f64).collect(),
                    0.0,
                    19,
                ),
            ],
            scores: (0..100).map(|i| i as f64 / 100.0).collect(),
            refusal_rate: 0.1,
        };
        let probabilities: Vec<f64> = (0..n).map(|i| (i % 97) as f64 / 97.0).collect();
        let listed = Window {
            columns: vec![
                count.clone().into(),
                flag.clone().into(),
                mixed.clone().into(),
            ],
            n_rows: n,
            probabilities: probabilities.clone(),
            n_refused: 40,
        };
        let mut half = counted(&mixed[n / 2..], 128);
        half.values = mixed[..n / 2].to_vec();
        let counted = Window {
            columns: vec![counted(&count, 100), counted(&flag, 333), half],
            n_rows: n,
            probabilities,
            n_refused: 40,
        };
        let settings = Settings::default();
        let a = serde_json::to_value(analyse(&baseline, &listed, &settings)).unwrap();
        let b = serde_json::to_value(analyse(&baseline, &counted, &settings)).unwrap();
        assert_eq!(a, b);
        let tests: Vec<&str> = a["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["test"].as_str().unwrap())
            .collect();
        assert_eq!(tests, ["ks", "chi2", "ks"]);
        assert!(a["features"][0]["missing_rate_cur"].as_f64().unwrap() > 0.09);
    }
}
