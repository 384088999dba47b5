//! The training reference: per-feature statistics of the data the model was trained on,
//! and what drift detection needs later without reading the CSV again.

use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// Default number of reference rows kept per feature for the two-sample tests.
pub const DEFAULT_SAMPLE_SIZE: usize = 20_000;
/// Default number of reference-quantile bins for PSI.
pub const DEFAULT_PSI_BINS: usize = 10;

/// Reference rows read from a CSV, features in model order (NaN = missing).
pub struct ReferenceData {
    pub feature_names: Vec<String>,
    /// Row-major, `feature_names.len()` values per row.
    pub rows: Vec<f64>,
    pub n_rows: usize,
}

/// Reads a data CSV: a reference sample, a test set, a hold-out (optionally
/// gzip-compressed, detected by its first bytes). Every model feature must be a column;
/// other columns (ids, the target) are ignored.
///
/// One rule for values, the same as the predict API's: an empty field and the tokens
/// pandas writes or reads for a missing value (`NaN`, `nan`, `NA`, `null`, ...) are
/// missing; every other field must be a finite number, read with a correctly rounded
/// parser. An infinite value (`inf`, `-Infinity`, or a number beyond the double range)
/// is refused with its row and column, as the API refuses it: counting it as a present
/// value would make the reference differ from what production can send. A UTF-8 byte
/// order mark and Windows line endings read as plain files do.
///
/// # Errors
/// A missing feature column, a field that is not a number, a non-finite value (naming
/// the file, the row as a line number and the column), an unreadable file, no data rows.
pub fn read_csv(path: &Path, feature_names: &[String], max_rows: usize) -> Result<ReferenceData> {
    let (mut csv, header) = open_csv(path)?;
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut columns = Vec::with_capacity(feature_names.len());
    let mut absent = Vec::new();
    for name in feature_names {
        match header.iter().position(|h| h == name) {
            Some(i) => columns.push(i),
            None => absent.push(name.as_str()),
        }
    }
    if !absent.is_empty() {
        bail!(
            "{} lacks {} of the model's features: {}{}",
            path.display(),
            absent.len(),
            absent
                .iter()
                .take(10)
                .copied()
                .collect::<Vec<_>>()
                .join(", "),
            if absent.len() > 10 { ", ..." } else { "" }
        );
    }
    let mut rows = Vec::new();
    let mut n_rows = 0;
    for (line, record) in csv.records().enumerate() {
        if n_rows == max_rows {
            break;
        }
        let record =
            record.with_context(|| format!("reading {} at row {}", path.display(), line + 2))?;
        for (&col, name) in columns.iter().zip(feature_names) {
            let field = record.get(col).unwrap_or("");
            let value = parse_field(field).map_err(|why| {
                anyhow::anyhow!(
                    "{} row {} (line {}), column {name}: {field:?} {why}",
                    path.display(),
                    line + 1,
                    line + 2
                )
            })?;
            rows.push(value);
        }
        n_rows += 1;
    }
    if n_rows == 0 {
        bail!("{} has no data rows", path.display());
    }
    Ok(ReferenceData {
        feature_names: feature_names.to_vec(),
        rows,
        n_rows,
    })
}

/// A CSV reader over a plain or gzip-compressed file.
pub type CsvReader = csv::Reader<Box<dyn Read>>;

/// A data CSV opened for reading (gzip recognised by its first bytes), with its header (a
/// UTF-8 byte order mark removed).
pub fn open_csv(path: &Path) -> Result<(CsvReader, Vec<String>)> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut buffered = std::io::BufReader::new(file);
    let gzip = std::io::BufRead::fill_buf(&mut buffered)
        .with_context(|| format!("reading {}", path.display()))?
        .starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read> = if gzip {
        Box::new(std::io::BufReader::new(flate2::read::GzDecoder::new(
            buffered,
        )))
    } else {
        Box::new(buffered)
    };
    let mut csv = csv::Reader::from_reader(reader);
    let header = csv
        .headers()
        .with_context(|| format!("reading the header of {}", path.display()))?
        .iter()
        .enumerate()
        .map(|(i, h)| {
            if i == 0 {
                h.trim_start_matches('\u{feff}').to_string()
            } else {
                h.to_string()
            }
        })
        .collect();
    Ok((csv, header))
}

/// The outcome column of a labelled data CSV (`TARGET`: 1 = defaulted, 0 = not), one value
/// per data row, for at most `max_rows` rows.
///
/// # Errors
/// No such column, or a value other than 0 or 1 (naming the row and line).
pub fn read_target(path: &Path, column: &str, max_rows: usize) -> Result<Vec<bool>> {
    let (mut csv, header) = open_csv(path)?;
    let col = header.iter().position(|h| h == column).with_context(|| {
        format!(
            "{} has no {column} column (the observed outcome, 0 or 1)",
            path.display()
        )
    })?;
    let mut out = Vec::new();
    for (line, record) in csv.records().enumerate() {
        if out.len() == max_rows {
            break;
        }
        let record =
            record.with_context(|| format!("reading {} at row {}", path.display(), line + 2))?;
        let field = record.get(col).unwrap_or("").trim();
        out.push(parse_outcome(field).with_context(|| {
            format!(
                "{} row {} (line {}), column {column}: {field:?}",
                path.display(),
                line + 1,
                line + 2
            )
        })?);
    }
    Ok(out)
}

/// An outcome field: `1` (or `1.0`, `true`) is a default, `0` (`0.0`, `false`) is not.
pub fn parse_outcome(field: &str) -> Result<bool> {
    match field.trim() {
        "1" | "1.0" | "true" | "True" | "TRUE" => Ok(true),
        "0" | "0.0" | "false" | "False" | "FALSE" => Ok(false),
        _ => bail!("an outcome must be 1 (defaulted) or 0 (did not default)"),
    }
}

/// Field text that means a missing value: empty, or one of the tokens pandas reads as NaN
/// by default (`pandas.read_csv`'s `na_values`).
const MISSING_TOKENS: [&str; 19] = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
];

/// One data field: `Ok(NaN)` when missing, `Ok(v)` for a finite number, `Err(why)`
/// otherwise.
pub fn parse_field(field: &str) -> std::result::Result<f64, &'static str> {
    let field = field.trim();
    if MISSING_TOKENS.contains(&field) {
        return Ok(f64::NAN);
    }
    match field.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(v) if v.is_nan() => Ok(f64::NAN),
        Ok(_) => Err("is not a finite number: infinite values are refused (leave the field empty for a missing value)"),
        Err(_) => Err("is not a number"),
    }
}

/// Summary of one feature over the reference rows. Statistics over non-missing values;
/// `None` when every value is missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureReference {
    pub feature: String,
    pub mean: Option<f64>,
    /// Sample standard deviation (n - 1 in the denominator, as pandas).
    pub std: Option<f64>,
    pub median: Option<f64>,
    pub q25: Option<f64>,
    pub q75: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub missing_rate: f64,
    pub n_samples: usize,
    pub n_distinct: usize,
    pub sorted_sample: Vec<f64>,
    pub psi_bin_edges: Vec<f64>,
}

/// The `q`-quantile (`0 <= q <= 1`) of ascending, finite `sorted` values (not empty), in
/// their units, with linear interpolation between order statistics (numpy's default,
/// pandas' `quantile`). Finite for any finite values: where the difference of the two
/// neighbouring order statistics overflows, the interpolation is weighted instead.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    assert!(!sorted.is_empty(), "quantile of nothing");
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    lerp(sorted[lo], sorted[hi], h - lo as f64)
}

/// `a + t (b - a)` for `0 <= t <= 1`. When `b - a` exceeds `f64::MAX` (opposite signs
/// near the limits) it is `a (1 - t) + b t` instead: its two terms have opposite signs, so
/// it cannot overflow, and it is exactly `a` at `t = 0` and `b` at `t = 1`.
pub fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let d = b - a;
    if d.is_finite() {
        a + t * d
    } else {
        a * (1.0 - t) + b * t
    }
}

/// 2^k, exactly, for -1022 <= k <= 1023.
pub(crate) const fn pow2(k: i32) -> f64 {
    assert!(matches!(k, -1022..=1023));
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// Below this largest magnitude the squared deviations of a moment computation may fall
/// into the subnormal range and lose digits.
const MOMENT_LOW: f64 = pow2(-400);

/// The power of two `s` by which `n` values of largest magnitude `max_abs` are multiplied
/// before their mean and squared deviations are summed: 1 when the plain sums can neither
/// overflow (n (2 max_abs)^2 stays below f64::MAX / 2) nor lose digits to subnormal
/// squares, otherwise the power that brings `max_abs` into [1, 4). Multiplying by a power of
/// two is exact for normal numbers, so scaling changes results only where the plain
/// computation would overflow or underflow. (Subnormal `max_abs` gets the largest scale,
/// 2^1022, which still brings it to at least 2^-52.)
fn moment_scale(max_abs: f64, n: usize) -> f64 {
    let high = (f64::MAX / (8.0 * n.max(1) as f64)).sqrt();
    if max_abs == 0.0 || (MOMENT_LOW..=high).contains(&max_abs) {
        1.0
    } else if max_abs < f64::MIN_POSITIVE {
        pow2(1022)
    } else {
        let exponent = ((max_abs.to_bits() >> 52) & 0x7ff) as i32 - 1023;
        pow2((-exponent).clamp(-1022, 1022))
    }
}

/// Mean and standard deviation with `n - ddof` in the denominator (`ddof` 0: population,
/// 1: sample) of finite `values` whose smallest and largest are `lo` and `hi`, in the
/// values' units. Two passes over `values`, no allocation. Finite for any finite values:
/// sums run on values scaled by [`moment_scale`] and the results are scaled back; a
/// standard deviation whose true value exceeds `f64::MAX` (only possible with `ddof` 1,
/// values near +-1.7e308) saturates at `f64::MAX`. Constant values give exactly their value
/// and 0: the rounding of the summed mean would otherwise leave a deviation of the order of
/// 1e-16 times the value, which beyond 1e13 exceeds the 0.001 floor of the normed
/// Wasserstein distance. NaN for the mean of nothing and the deviation of at most `ddof`
/// values.
pub(crate) fn mean_std(values: &[f64], lo: f64, hi: f64, ddof: usize) -> (f64, f64) {
    let n = values.len();
    if n > 0 && lo == hi {
        return (hi, if n > ddof { 0.0 } else { f64::NAN });
    }
    let s = moment_scale(lo.abs().max(hi.abs()), n);
    let mean = values.iter().map(|v| v * s).sum::<f64>() / n as f64;
    let std = (values.iter().map(|v| (v * s - mean).powi(2)).sum::<f64>()
        / n.saturating_sub(ddof) as f64)
        .sqrt();
    let unscale = |x: f64| (x / s).clamp(-f64::MAX, f64::MAX);
    (unscale(mean), unscale(std))
}

/// Summarises one feature's values (NaN = missing; the rest finite): statistics in the
/// values' units, at most `sample_size` values kept (ascending) for the two-sample tests,
/// `psi_bins - 1` inner reference-quantile edges. Every statistic is finite for finite
/// values of any magnitude: sums run on values scaled by a power of two when the plain ones
/// could overflow or underflow; a sample standard deviation above `f64::MAX` (only values
/// near +-1.7e308) saturates at `f64::MAX`. A constant feature has exactly its value as
/// mean and a standard deviation of exactly 0.
pub fn summarize(
    feature: &str,
    values: &[f64],
    sample_size: usize,
    psi_bins: usize,
) -> FeatureReference {
    let mut present: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    let n = present.len();
    let missing_rate = if values.is_empty() {
        0.0
    } else {
        (values.len() - n) as f64 / values.len() as f64
    };
    let sorted_sample = {
        let mut s: Vec<f64> = values
            .iter()
            .take(sample_size)
            .copied()
            .filter(|v| !v.is_nan())
            .collect();
        s.sort_by(f64::total_cmp);
        s
    };
    present.sort_by(f64::total_cmp);
    let mut distinct = present.clone();
    distinct.dedup();
    let (mean, std) = if n == 0 {
        (None, None)
    } else {
        let (mean, std) = mean_std(&present, present[0], present[n - 1], 1);
        (Some(mean), (n > 1).then_some(std))
    };
    let q = |p: f64| (n > 0).then(|| quantile_sorted(&present, p));
    let mut psi_bin_edges: Vec<f64> = if n == 0 {
        Vec::new()
    } else {
        (1..psi_bins)
            .map(|k| quantile_sorted(&present, k as f64 / psi_bins as f64))
            .collect()
    };
    psi_bin_edges.dedup();
    FeatureReference {
        feature: feature.to_string(),
        mean,
        std,
        median: q(0.5),
        q25: q(0.25),
        q75: q(0.75),
        min: present.first().copied(),
        max: present.last().copied(),
        missing_rate,
        n_samples: values.len(),
        n_distinct: distinct.len(),
        sorted_sample,
        psi_bin_edges,
    }
}

/// Summaries of every feature of the reference data, in model order.
pub fn summarize_all(
    data: &ReferenceData,
    sample_size: usize,
    psi_bins: usize,
) -> Vec<FeatureReference> {
    let n_features = data.feature_names.len();
    data.feature_names
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let column: Vec<f64> = (0..data.n_rows)
                .map(|i| data.rows[i * n_features + j])
                .collect();
            summarize(name, &column, sample_size, psi_bins)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values: numpy/pandas, computed by `core/tests/reference/reference_values.py`.
    #[test]
    fn matches_pandas_describe() {
        let values = [
            3.5,
            f64::NAN,
            1.0,
            7.25,
            2.0,
            2.0,
            f64::NAN,
            10.0,
            -4.5,
            6.0,
        ];
        let r = summarize("X", &values, 100, 4);
        assert_eq!(r.missing_rate, 0.2);
        assert_eq!(r.n_samples, 10);
        assert_eq!(r.n_distinct, 7);
        assert!((r.mean.unwrap() - 3.40625).abs() < 1e-12);
        assert!((r.std.unwrap() - 4.427_869_327_985_446).abs() < 1e-12);
        assert!((r.median.unwrap() - 2.75).abs() < 1e-12);
        assert!((r.q25.unwrap() - 1.75).abs() < 1e-12);
        assert!((r.q75.unwrap() - 6.3125).abs() < 1e-12);
        assert_eq!(r.min, Some(-4.5));
        assert_eq!(r.max, Some(10.0));
        assert_eq!(r.psi_bin_edges, vec![1.75, 2.75, 6.3125]);
        assert_eq!(
            r.sorted_sample,
            vec![-4.5, 1.0, 2.0, 2.0, 3.5, 6.0, 7.25, 10.0]
        );
    }

    /// Across the sign change of +-f64::MAX the plain interpolation's difference
    /// overflows; the weighted one is exact at both ends and in the middle.
    #[test]
    fn quantiles_interpolate_across_the_whole_range() {
        let v = [-f64::MAX, f64::MAX];
        assert_eq!(quantile_sorted(&v, 0.0), -f64::MAX);
        assert_eq!(quantile_sorted(&v, 0.5), 0.0);
        let q75 = quantile_sorted(&v, 0.75);
        assert!((q75 / (f64::MAX / 2.0) - 1.0).abs() < 1e-15, "{q75}");
        assert_eq!(quantile_sorted(&v, 1.0), f64::MAX);
    }

    /// Where no scaling is needed, mean and sample std are the plain formulas' bit for bit.
    #[test]
    fn ordinary_magnitudes_give_the_plain_moments_bit_for_bit() {
        for scale in [1e-100, 1e-3, 1.0, 3.3, 1e10, 1e150] {
            let values: Vec<f64> = (0..2000)
                .map(|i| ((i * 37 % 101) as f64 - 30.0) * scale / 7.0)
                .collect();
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let n = sorted.len() as f64;
            let mean = sorted.iter().sum::<f64>() / n;
            let std = (sorted.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
            let r = summarize("X", &values, 10, 4);
            assert_eq!(r.mean.unwrap().to_bits(), mean.to_bits(), "{scale}");
            assert_eq!(r.std.unwrap().to_bits(), std.to_bits(), "{scale}");
        }
    }

    #[test]
    fn all_missing_has_no_statistics() {
        let r = summarize("X", &[f64::NAN, f64::NAN], 10, 10);
        assert_eq!(r.missing_rate, 1.0);
        assert!(r.mean.is_none() && r.median.is_none() && r.psi_bin_edges.is_empty());
    }
}
