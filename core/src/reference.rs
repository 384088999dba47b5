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

/// Reads a reference CSV (optionally gzip-compressed, detected by the `.gz` extension).
/// Every model feature must be a column; other columns (ids, the target) are ignored.
/// Empty fields and `NaN`/`nan` are missing values.
pub fn read_csv(path: &Path, feature_names: &[String], max_rows: usize) -> Result<ReferenceData> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let reader: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut csv = csv::Reader::from_reader(std::io::BufReader::new(reader));
    let header = csv
        .headers()
        .with_context(|| format!("reading the header of {}", path.display()))?
        .clone();
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
            let field = record.get(col).unwrap_or("").trim();
            let value = match field {
                "" | "NaN" | "nan" | "NA" | "null" => f64::NAN,
                v => v.parse::<f64>().with_context(|| {
                    format!(
                        "{} row {}: {name} = {v:?} is not a number",
                        path.display(),
                        line + 2
                    )
                })?,
            };
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

/// The `q`-quantile of ascending `sorted` values with linear interpolation between order
/// statistics (numpy's default, pandas' `quantile`).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    assert!(!sorted.is_empty(), "quantile of nothing");
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Summarises one feature's values (NaN = missing).
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
        let mean = present.iter().sum::<f64>() / n as f64;
        let std = (n > 1).then(|| {
            (present.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        });
        (Some(mean), std)
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

    #[test]
    fn all_missing_has_no_statistics() {
        let r = summarize("X", &[f64::NAN, f64::NAN], 10, 10);
        assert_eq!(r.missing_rate, 1.0);
        assert!(r.mean.is_none() && r.median.is_none() && r.psi_bin_edges.is_empty());
    }
}
