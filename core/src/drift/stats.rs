//! Distances and tests between a reference sample and a current window, and the
//! corrections for testing many features at once. Plain functions of plain data.
//!
//! Conventions (what scipy or the usual credit-risk practice does unless said):
//! - Missing values never enter these: each feature's missing-rate change is tested on its
//!   own ([`missing_rate_test`]).
//! - PSI and Jensen-Shannon use the same bins: the reference deciles' inner edges (stored
//!   at `init`), with bin i = (e_{i-1}, e_i] and the outer bins open. Shares are floored at
//!   [`PSI_FLOOR`] before the logarithm, so an empty bin counts as 0.01% instead of making
//!   PSI infinite (the floor applies to PSI only; Jensen-Shannon is finite with zeros).
//! - Wasserstein-1 is divided by the reference standard deviation (population form, as
//!   Evidently does), itself floored at 0.001.
//! - Finite values of any magnitude give finite results: where a plain sum could overflow
//!   (or lose digits to subnormal numbers), values are multiplied by a power of two first,
//!   which is exact, and the result is scaled back; a result whose true value exceeds
//!   `f64::MAX` saturates there. Inputs that need no scaling give the plain computation's
//!   result bit for bit.

use statrs::distribution::{ChiSquared, ContinuousCDF};

use crate::drift::reference::{mean_std, pow2};

/// Smallest share used in PSI's logarithm.
pub const PSI_FLOOR: f64 = 1e-4;

/// Index of the bin of `x` among bins bounded by ascending inner `edges`.
fn bin_of(edges: &[f64], x: f64) -> usize {
    edges.partition_point(|&e| e < x)
}

/// Shares of values per bin (values without NaN).
pub fn bin_shares(edges: &[f64], values: &[f64]) -> Vec<f64> {
    let mut counts = vec![0.0; edges.len() + 1];
    for &v in values {
        counts[bin_of(edges, v)] += 1.0;
    }
    let n = values.len().max(1) as f64;
    counts.iter_mut().for_each(|c| *c /= n);
    counts
}

/// [`bin_shares`] of ascending values, counted by bisection at each edge.
pub fn bin_shares_sorted(edges: &[f64], sorted: &[f64]) -> Vec<f64> {
    let n = sorted.len().max(1) as f64;
    let mut below = 0;
    let mut shares = Vec::with_capacity(edges.len() + 1);
    for &e in edges {
        let upto = sorted.partition_point(|&v| v <= e);
        shares.push(upto.saturating_sub(below) as f64 / n);
        below = below.max(upto);
    }
    shares.push((sorted.len() - below) as f64 / n);
    shares
}

/// Population stability index: sum (c - r) ln(c / r) over bins, shares floored at
/// [`PSI_FLOOR`].
pub fn psi(reference_shares: &[f64], current_shares: &[f64]) -> f64 {
    reference_shares
        .iter()
        .zip(current_shares)
        .map(|(&r, &c)| {
            let (r, c) = (r.max(PSI_FLOOR), c.max(PSI_FLOOR));
            (c - r) * (c / r).ln()
        })
        .sum()
}

/// Jensen-Shannon distance (the square root of the divergence, natural logarithm), as
/// `scipy.spatial.distance.jensenshannon`.
pub fn jensen_shannon(p: &[f64], q: &[f64]) -> f64 {
    let sp: f64 = p.iter().sum();
    let sq: f64 = q.iter().sum();
    if sp <= 0.0 || sq <= 0.0 {
        return f64::NAN;
    }
    let kl = |a: f64, m: f64| if a > 0.0 { a * (a / m).ln() } else { 0.0 };
    let js: f64 = p
        .iter()
        .zip(q)
        .map(|(&a, &b)| {
            let (a, b) = (a / sp, b / sq);
            let m = (a + b) / 2.0;
            kl(a, m) + kl(b, m)
        })
        .sum::<f64>()
        / 2.0;
    js.max(0.0).sqrt()
}

/// Reference standard deviations below this (in the values' units) count as this in
/// [`wasserstein_norm`]: a constant reference feature gets a finite distance.
pub const STD_FLOOR: f64 = 0.001;

/// Largest magnitude of ascending values (0 for none).
fn max_abs_sorted(sorted: &[f64]) -> f64 {
    match (sorted.first(), sorted.last()) {
        (Some(a), Some(b)) => a.abs().max(b.abs()),
        _ => 0.0,
    }
}

/// The power of two by which values of largest magnitude `max_abs` are multiplied before a
/// Wasserstein area is summed. 1/4 above f64::MAX / 16: gaps between values (up to twice
/// the largest magnitude) and the area (at most the range) then stay finite. 2^256 below
/// 2^-768: every gap between distinct values is then at least 2^-818 and its product with
/// a difference of distribution functions stays normal. 1 otherwise, which leaves the
/// result bit for bit the plain computation.
fn wasserstein_scale(max_abs: f64) -> f64 {
    if max_abs > f64::MAX / 16.0 {
        0.25
    } else if max_abs < pow2(-768) {
        pow2(256)
    } else {
        1.0
    }
}

/// `x` limited to the finite range (NaN stays NaN).
fn saturate(x: f64) -> f64 {
    x.clamp(-f64::MAX, f64::MAX)
}

/// The Wasserstein area of ascending `a` and `b` (not empty), both multiplied by `s`.
fn wasserstein_area(a: &[f64], b: &[f64], s: f64) -> f64 {
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut x = a[0].min(b[0]);
    let mut area = 0.0;
    loop {
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        let next = match (a.get(i), b.get(j)) {
            (Some(&p), Some(&q)) => p.min(q),
            (Some(&p), None) => p,
            (None, Some(&q)) => q,
            (None, None) => break,
        };
        area += (i as f64 / na - j as f64 / nb).abs() * (next * s - x * s);
        x = next;
    }
    area
}

/// Wasserstein-1 distance between two ascending samples of finite values (the area between
/// their empirical distribution functions), in the values' units, as
/// `scipy.stats.wasserstein_distance`. NaN when a sample is empty. Finite for any finite
/// values: samples beyond +-f64::MAX / 16 or below 2^-768 in magnitude are summed scaled by
/// a power of two; a distance above `f64::MAX` (only possible with values of both signs
/// near +-1.7e308) saturates at `f64::MAX`.
pub fn wasserstein(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return f64::NAN;
    }
    let s = wasserstein_scale(max_abs_sorted(a).max(max_abs_sorted(b)));
    saturate(wasserstein_area(a, b, s) / s)
}

/// Population standard deviation of finite values in any order, in their units (NaN for
/// none). Finite for any finite values: one scan finds the extremes, and the sums run on
/// values scaled by a power of two when the plain ones could overflow or underflow.
/// Exactly 0 for constant values.
pub fn std_population(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    mean_std(values, lo, hi, 0).1
}

/// [`std_population`] of ascending values.
fn std_population_sorted(sorted: &[f64]) -> f64 {
    match (sorted.first(), sorted.last()) {
        (Some(&lo), Some(&hi)) => mean_std(sorted, lo, hi, 0).1,
        _ => f64::NAN,
    }
}

/// A Wasserstein area computed on values multiplied by `s`, over the population standard
/// deviation of ascending `reference` floored at [`STD_FLOOR`] (in the values' units),
/// saturated at `f64::MAX`.
fn per_reference_std(area_scaled: f64, s: f64, reference: &[f64]) -> f64 {
    let std = std_population_sorted(reference);
    // `std` (at most the largest magnitude) times `s` stays normal: `s` is 1/4 or 1, or
    // 2^256 only for values so small that `std` is floored.
    saturate(area_scaled / (std.max(STD_FLOOR) * s))
}

/// [`wasserstein`] divided by the population standard deviation of `reference` floored at
/// [`STD_FLOOR`] (Evidently's normed Wasserstein distance): a number of reference standard
/// deviations, unitless. Both samples ascending and finite; NaN when one is empty. Finite
/// for any finite values: the distance is summed on values scaled by a power of two where
/// it could overflow or underflow, and divided by the scaled floored deviation, so the
/// floor keeps its meaning in the values' units. A quotient above `f64::MAX` (a
/// distance of more than f64::MAX / 1000 from a constant reference, say) saturates at
/// `f64::MAX`.
pub fn wasserstein_norm(reference: &[f64], current: &[f64]) -> f64 {
    if reference.is_empty() || current.is_empty() {
        return f64::NAN;
    }
    let s = wasserstein_scale(max_abs_sorted(reference).max(max_abs_sorted(current)));
    per_reference_std(wasserstein_area(reference, current, s), s, reference)
}

/// A chi-square test's statistic, degrees of freedom and p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChiSquare {
    pub statistic: f64,
    pub dof: usize,
    pub p_value: f64,
}

/// Pearson's chi-square test of independence on a 2 x K table of counts (reference row,
/// current row), without continuity correction: `scipy.stats.chi2_contingency(table,
/// correction=False)`. Categories empty in both rows are dropped. None with fewer than two
/// categories or an empty row.
pub fn chi_square_2xk(reference: &[f64], current: &[f64]) -> Option<ChiSquare> {
    let cols: Vec<(f64, f64)> = reference
        .iter()
        .zip(current)
        .map(|(&r, &c)| (r, c))
        .filter(|(r, c)| r + c > 0.0)
        .collect();
    let nr: f64 = cols.iter().map(|c| c.0).sum();
    let nc: f64 = cols.iter().map(|c| c.1).sum();
    if cols.len() < 2 || nr == 0.0 || nc == 0.0 {
        return None;
    }
    let total = nr + nc;
    let statistic: f64 = cols
        .iter()
        .map(|&(r, c)| {
            let col = r + c;
            let (er, ec) = (nr * col / total, nc * col / total);
            (r - er).powi(2) / er + (c - ec).powi(2) / ec
        })
        .sum();
    let dof = cols.len() - 1;
    let p_value = ChiSquared::new(dof as f64)
        .map(|d| d.sf(statistic))
        .unwrap_or(f64::NAN);
    Some(ChiSquare {
        statistic,
        dof,
        p_value,
    })
}

/// The union of categories of two ascending samples, and each sample's count per
/// category (one merge pass).
pub fn category_counts(reference: &[f64], current: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (mut categories, mut r, mut c) = (Vec::new(), Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < reference.len() || j < current.len() {
        let x = match (reference.get(i), current.get(j)) {
            (Some(&a), Some(&b)) => a.min(b),
            (Some(&a), None) => a,
            (None, Some(&b)) => b,
            (None, None) => unreachable!(),
        };
        let (i0, j0) = (i, j);
        while i < reference.len() && reference[i] == x {
            i += 1;
        }
        while j < current.len() && current[j] == x {
            j += 1;
        }
        categories.push(x);
        r.push((i - i0) as f64);
        c.push((j - j0) as f64);
    }
    (categories, r, c)
}

/// [`category_counts`] of an ascending reference with few categories and a current sample
/// in any order: each current value is looked up among the reference's categories (no
/// sorting), and only values the reference never had are sorted.
pub fn category_counts_unsorted(
    reference: &[f64],
    current: &[f64],
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (known, reference_counts, _) = category_counts(reference, &[]);
    let mut counts = vec![0.0; known.len()];
    let mut unknown = Vec::new();
    for &v in current {
        match known.iter().position(|&k| k == v) {
            Some(i) => counts[i] += 1.0,
            None => unknown.push(v),
        }
    }
    unknown.sort_unstable_by(f64::total_cmp);
    let (new, _, new_counts) = category_counts(&[], &unknown);
    // Merge the two ascending, disjoint category lists.
    let (mut categories, mut rc, mut cc) = (Vec::new(), Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < known.len() || j < new.len() {
        if j >= new.len() || (i < known.len() && known[i] < new[j]) {
            categories.push(known[i]);
            rc.push(reference_counts[i]);
            cc.push(counts[i]);
            i += 1;
        } else {
            categories.push(new[j]);
            rc.push(0.0);
            cc.push(new_counts[j]);
            j += 1;
        }
    }
    (categories, rc, cc)
}

/// The Wasserstein area of counts `a`, `b` over ascending `categories` multiplied by `s`.
fn counts_area(categories: &[f64], a: &[f64], b: &[f64], s: f64) -> f64 {
    let (na, nb): (f64, f64) = (a.iter().sum(), b.iter().sum());
    let (mut ca, mut cb, mut area) = (0.0, 0.0, 0.0);
    for k in 0..categories.len().saturating_sub(1) {
        ca += a[k];
        cb += b[k];
        area += (ca / na - cb / nb).abs() * (categories[k + 1] * s - categories[k] * s);
    }
    area
}

/// Wasserstein-1 between two samples given as counts (`a`, `b`, one per category) over the
/// same ascending finite `categories`, in the categories' units (equal to [`wasserstein`]
/// of the samples themselves). NaN when a sample is empty; overflow handled as there.
pub fn wasserstein_counts(categories: &[f64], a: &[f64], b: &[f64]) -> f64 {
    let (na, nb): (f64, f64) = (a.iter().sum(), b.iter().sum());
    if na == 0.0 || nb == 0.0 {
        return f64::NAN;
    }
    let s = wasserstein_scale(max_abs_sorted(categories));
    saturate(counts_area(categories, a, b, s) / s)
}

/// [`wasserstein_counts`] over the population standard deviation of the ascending
/// `reference` sample floored at [`STD_FLOOR`], as [`wasserstein_norm`] (same overflow
/// handling and saturation).
pub fn wasserstein_counts_norm(categories: &[f64], a: &[f64], b: &[f64], reference: &[f64]) -> f64 {
    let (na, nb): (f64, f64) = (a.iter().sum(), b.iter().sum());
    if na == 0.0 || nb == 0.0 || reference.is_empty() {
        return f64::NAN;
    }
    let s = wasserstein_scale(max_abs_sorted(categories));
    per_reference_std(counts_area(categories, a, b, s), s, reference)
}

/// Has the share of missing values changed? The 2 x 2 chi-square test (missing, present)
/// x (reference, current), without continuity correction. None when nothing is missing in
/// either, or everything is.
pub fn missing_rate_test(
    ref_missing: usize,
    ref_total: usize,
    cur_missing: usize,
    cur_total: usize,
) -> Option<ChiSquare> {
    chi_square_2xk(
        &[ref_missing as f64, (ref_total - ref_missing) as f64],
        &[cur_missing as f64, (cur_total - cur_missing) as f64],
    )
}

/// How p-values of many tests are adjusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Correction {
    /// Benjamini-Hochberg: controls the false discovery rate.
    Bh,
    /// Bonferroni: controls the family-wise error rate (stricter).
    Bonferroni,
    None,
}

impl std::str::FromStr for Correction {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "bh" | "fdr_bh" => Ok(Correction::Bh),
            "bonferroni" => Ok(Correction::Bonferroni),
            "none" => Ok(Correction::None),
            other => Err(format!(
                "unknown correction {other:?}: expected bh, bonferroni or none"
            )),
        }
    }
}

impl Correction {
    pub fn as_str(self) -> &'static str {
        match self {
            Correction::Bh => "bh",
            Correction::Bonferroni => "bonferroni",
            Correction::None => "none",
        }
    }
}

/// Adjusted p-values in the input order, as `statsmodels.stats.multitest.multipletests`
/// (`fdr_bh`, `bonferroni`). NaN p-values stay NaN and do not count as tests.
pub fn adjust(p_values: &[f64], correction: Correction) -> Vec<f64> {
    let tested: Vec<usize> = (0..p_values.len())
        .filter(|&i| !p_values[i].is_nan())
        .collect();
    let m = tested.len() as f64;
    let mut out = vec![f64::NAN; p_values.len()];
    match correction {
        Correction::None => {
            for &i in &tested {
                out[i] = p_values[i];
            }
        }
        Correction::Bonferroni => {
            for &i in &tested {
                out[i] = (p_values[i] * m).min(1.0);
            }
        }
        Correction::Bh => {
            let mut order = tested.clone();
            order.sort_by(|&a, &b| p_values[b].total_cmp(&p_values[a]));
            // From the largest p down: running minimum of p * m / rank.
            let mut running = 1.0f64;
            for (k, &i) in order.iter().enumerate() {
                let rank = m - k as f64;
                running = running.min(p_values[i] * m / rank);
                out[i] = running.min(1.0);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psi_is_zero_for_equal_shares_and_finite_for_empty_bins() {
        let r = [0.25, 0.25, 0.25, 0.25];
        assert_eq!(psi(&r, &r), 0.0);
        let c = [0.5, 0.5, 0.0, 0.0];
        let v = psi(&r, &c);
        assert!(v.is_finite() && v > 1.0);
    }

    #[test]
    fn categories_are_counted_in_one_pass() {
        let (cats, r, c) = category_counts(&[0.0, 0.0, 1.0, 2.0], &[1.0, 1.0, 3.0]);
        assert_eq!(cats, vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(r, vec![2.0, 1.0, 1.0, 0.0]);
        assert_eq!(c, vec![0.0, 2.0, 0.0, 1.0]);
    }

    #[test]
    fn bins_are_closed_on_the_right() {
        let edges = [1.0, 2.0];
        assert_eq!(
            bin_shares(&edges, &[0.5, 1.0, 1.5, 2.0, 2.5]),
            vec![0.4, 0.4, 0.2]
        );
    }

    #[test]
    fn categories_are_counted_without_sorting_the_current_sample() {
        let mut reference = vec![0.0, 1.0, 1.0, 3.0, 3.0, 3.0, -0.0];
        reference.sort_unstable_by(f64::total_cmp);
        // Known categories, new ones below, between and above them, in any order.
        let current = [3.0, 2.0, 1.0, 7.0, -1.0, 3.0, 2.0, 0.0];
        let mut sorted = current.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        let fast = category_counts_unsorted(&reference, &current);
        assert_eq!(fast, category_counts(&reference, &sorted));
        assert_eq!(fast.0, vec![-1.0, 0.0, 1.0, 2.0, 3.0, 7.0]);
        let w = wasserstein_counts(&fast.0, &fast.1, &fast.2);
        assert!((w - wasserstein(&reference, &sorted)).abs() < 1e-12, "{w}");
    }

    /// Where no scaling is needed, the results are those of the plain formulas (the code
    /// before scaling existed) bit for bit, so published reference values keep matching.
    #[test]
    fn ordinary_magnitudes_give_the_plain_results_bit_for_bit() {
        let plain_std = |v: &[f64]| {
            let n = v.len() as f64;
            let mean = v.iter().sum::<f64>() / n;
            (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt()
        };
        let plain_wasserstein = |a: &[f64], b: &[f64]| {
            let (na, nb) = (a.len() as f64, b.len() as f64);
            let (mut i, mut j, mut x, mut area) = (0, 0, a[0].min(b[0]), 0.0);
            loop {
                while i < a.len() && a[i] <= x {
                    i += 1;
                }
                while j < b.len() && b[j] <= x {
                    j += 1;
                }
                let next = match (a.get(i), b.get(j)) {
                    (Some(&p), Some(&q)) => p.min(q),
                    (Some(&p), None) => p,
                    (None, Some(&q)) => q,
                    (None, None) => break,
                };
                area += (i as f64 / na - j as f64 / nb).abs() * (next - x);
                x = next;
            }
            area
        };
        for scale in [1e-300, 1e-100, 1e-3, 1.0, 7.5, 1e10, 1e150] {
            let sample = |n: usize, k: usize, shift: f64| {
                let mut v: Vec<f64> = (0..n)
                    .map(|i| ((i * k % 101) as f64 - 30.0 + shift) * scale / 7.0)
                    .collect();
                v.sort_by(f64::total_cmp);
                v
            };
            let (a, b) = (sample(500, 37, 0.0), sample(300, 53, 4.5));
            let w = plain_wasserstein(&a, &b);
            assert_eq!(wasserstein(&a, &b).to_bits(), w.to_bits(), "{scale}");
            let norm = w / plain_std(&a).max(0.001);
            assert_eq!(
                wasserstein_norm(&a, &b).to_bits(),
                norm.to_bits(),
                "{scale}"
            );
            // Below about 2^-400 the plain squares underflow: there scaling is needed.
            if scale >= 1e-100 {
                assert_eq!(std_population(&a).to_bits(), plain_std(&a).to_bits());
            }
        }
    }

    #[test]
    fn sorted_bin_shares_equal_the_per_value_ones() {
        // Ties on the edges, repeated edges, values outside every edge.
        let edges = [-1.0, 0.0, 0.0, 2.5, 7.0];
        let mut values: Vec<f64> = (0..200)
            .map(|i| ((i * 37) % 23) as f64 * 0.5 - 3.0)
            .collect();
        values.sort_unstable_by(f64::total_cmp);
        assert_eq!(
            bin_shares_sorted(&edges, &values),
            bin_shares(&edges, &values)
        );
        assert_eq!(bin_shares_sorted(&edges, &[]), bin_shares(&edges, &[]));
    }
}
