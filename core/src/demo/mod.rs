//! `scorewatch demo-data`: a deterministic synthetic credit data set shaped like the public
//! Home Credit Default Risk data, a LightGBM model trained on it, and the artifacts the
//! product loads by default.
//!
//! Every applicant gets a latent profile (risk, age, income, ...) from which the driver
//! columns are computed; the target is drawn from a logistic model of a handful of those
//! columns, so that feature importance means something. The many other columns follow
//! plausible marginals with the real data's missingness. Same seed, same bytes: one
//! ChaCha stream drawn in a fixed order, LightGBM in deterministic mode, no timestamps.
//!
//! Parts: [`recipes`] (the columns and how each is drawn), [`generate`] (drawing the
//! applicants), [`files`] (writing them), this file (training the model and writing every
//! artifact).

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{ensure, Context, Result};
use serde::{Deserialize, Serialize};

use crate::artifacts::{ModelCard, TrainingMetrics};
use crate::model::roc_auc::roc_auc;

pub mod files;
pub mod generate;
pub mod recipes;

pub use files::{write_csv_gz, write_outcomes_gz};
pub use generate::{generate, Generated};

/// The anomaly value of `DAYS_EMPLOYED` for pensioners in the real data (about 1000 years).
pub const DAYS_EMPLOYED_ANOMALY: f64 = 365_243.0;
/// The decision threshold written into the demo model card.
pub const DEMO_THRESHOLD: f64 = 0.494;
/// The default rate the generator calibrates to.
pub const TARGET_DEFAULT_RATE: f64 = 0.08;

/// What to generate and where.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    pub out_dir: PathBuf,
    pub seed: u64,
    /// Applicants used for training and validation.
    pub train_rows: usize,
    /// Applicants held out as the test set the simulator replays (no target column).
    pub test_rows: usize,
    /// How many training applicants go into the reference sample.
    pub reference_rows: usize,
    /// Upper bound on boosting rounds (early stopping usually ends sooner).
    pub max_rounds: usize,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            out_dir: PathBuf::from("artifacts"),
            seed: 42,
            train_rows: 40_000,
            test_rows: 5_000,
            reference_rows: 20_000,
            max_rounds: 1_000,
        }
    }
}

/// What `demo-data` produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoSummary {
    pub files: Vec<PathBuf>,
    pub default_rate: f64,
    pub metrics: TrainingMetrics,
}

/// LightGBM parameters of the demo model. Deterministic mode and fixed seeds make the
/// model file reproducible; `is_unbalance` reweights the 8% minority class.
pub fn training_params(seed: u64, max_rounds: usize) -> serde_json::Value {
    serde_json::json!({
        "objective": "binary",
        "metric": "auc",
        "num_iterations": max_rounds,
        "early_stopping_rounds": 50,
        "learning_rate": 0.05,
        "num_leaves": 31,
        "min_data_in_leaf": 50,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "is_unbalance": true,
        "seed": seed,
        "deterministic": true,
        "force_col_wise": true,
        "num_threads": 2,
        "verbosity": -1,
    })
}

/// The steps of [`build`], in order, each reported to its `progress` callback as it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildStep {
    Generating,
    Training,
    Evaluating,
    Writing,
}

impl BuildStep {
    /// How many steps there are.
    pub const COUNT: u64 = 4;

    /// The step's position, 0 to [`BuildStep::COUNT`] - 1.
    pub fn index(self) -> u64 {
        self as u64
    }

    /// What the step does, for a progress display.
    pub fn describe(self) -> &'static str {
        match self {
            BuildStep::Generating => "generating applicants",
            BuildStep::Training => "training LightGBM",
            BuildStep::Evaluating => "evaluating",
            BuildStep::Writing => "writing artifacts",
        }
    }
}

/// Generates the data set, trains the model and writes every artifact into `cfg.out_dir`,
/// calling `progress` as each [`BuildStep`] starts.
pub fn build(cfg: &DemoConfig, progress: impl Fn(BuildStep)) -> Result<DemoSummary> {
    ensure!(cfg.train_rows >= 100, "--train-rows must be at least 100");
    ensure!(
        cfg.reference_rows >= 1,
        "--reference-rows must be at least 1"
    );
    fs::create_dir_all(&cfg.out_dir)
        .with_context(|| format!("creating {}", cfg.out_dir.display()))?;

    progress(BuildStep::Generating);
    let total = cfg.train_rows + cfg.test_rows;
    let data = generate(total, cfg.seed, 100_002);
    let names = data.feature_names();
    let n_features = names.len();
    let n_valid = cfg.train_rows / 5;
    let n_fit = cfg.train_rows - n_valid;

    progress(BuildStep::Training);
    let flat = |r: std::ops::Range<usize>| -> Vec<f64> {
        data.rows[r].iter().flatten().copied().collect()
    };
    let labels = |r: std::ops::Range<usize>| -> Vec<f32> {
        data.target[r].iter().map(|&t| f32::from(t)).collect()
    };
    let mut train = lightgbm3::Dataset::from_slice(
        &flat(0..n_fit),
        &labels(0..n_fit),
        n_features as i32,
        true,
    )?;
    train.set_feature_names(&names)?;
    let mut valid = lightgbm3::Dataset::from_slice_with_reference(
        &flat(n_fit..cfg.train_rows),
        &labels(n_fit..cfg.train_rows),
        n_features as i32,
        true,
        Some(&train),
    )?;
    valid.set_feature_names(&names)?;
    let params = training_params(cfg.seed, cfg.max_rounds);
    let booster = lightgbm3::Booster::train_with_valid(train, Some(valid), &params)?;

    progress(BuildStep::Evaluating);
    let auc_of = |r: std::ops::Range<usize>| -> Result<f64> {
        let scores = booster.predict_with_params(
            &flat(r.clone()),
            n_features as i32,
            true,
            "num_threads=2",
        )?;
        Ok(roc_auc(&scores, &data.target[r]))
    };
    let metrics = TrainingMetrics {
        train_auc: auc_of(0..n_fit)?,
        valid_auc: auc_of(n_fit..cfg.train_rows)?,
        best_iteration: booster.num_iterations() as usize,
        n_train: n_fit,
        n_valid,
        default_rate: data.target[..cfg.train_rows]
            .iter()
            .map(|&t| f64::from(t))
            .sum::<f64>()
            / cfg.train_rows as f64,
    };

    progress(BuildStep::Writing);
    let model_path = cfg.out_dir.join(crate::artifacts::MODEL_FILE);
    booster.save_file(model_path.to_str().context("model path is not UTF-8")?)?;
    let card = ModelCard {
        name: "scorewatch-demo".into(),
        description: "LightGBM binary classifier trained on synthetic applicants shaped like the Home Credit Default Risk data".into(),
        threshold: DEMO_THRESHOLD,
        seed: cfg.seed,
        feature_names: names,
        metrics: metrics.clone(),
        params,
    };
    let card_path = cfg.out_dir.join(crate::artifacts::MODEL_CARD_FILE);
    let mut f = fs::File::create(&card_path)?;
    crate::numbers::write_json_pretty(&mut f, &card)?;
    f.write_all(b"\n")?;
    let reference_path = cfg.out_dir.join(crate::artifacts::REFERENCE_FILE);
    write_csv_gz(
        &reference_path,
        &data,
        0..cfg.reference_rows.min(cfg.train_rows),
        true,
    )?;
    let test_path = cfg.out_dir.join(crate::artifacts::TEST_FILE);
    write_csv_gz(&test_path, &data, cfg.train_rows..total, false)?;
    let validation_path = cfg.out_dir.join(crate::artifacts::VALIDATION_FILE);
    write_csv_gz(&validation_path, &data, n_fit..cfg.train_rows, true)?;
    let outcomes_path = cfg.out_dir.join(crate::artifacts::TEST_OUTCOMES_FILE);
    write_outcomes_gz(&outcomes_path, &data, cfg.train_rows..total)?;

    Ok(DemoSummary {
        files: vec![
            model_path,
            card_path,
            reference_path,
            test_path,
            validation_path,
            outcomes_path,
        ],
        default_rate: metrics.default_rate,
        metrics,
    })
}

#[cfg(test)]
mod tests {
    use super::generate::{cents, round_sig};
    use super::*;

    #[test]
    fn calibration_hits_the_target_rate() {
        let data = generate(20_000, 7, 1);
        let rate =
            data.target.iter().map(|&t| f64::from(t)).sum::<f64>() / data.target.len() as f64;
        assert!(
            (rate - TARGET_DEFAULT_RATE).abs() < 0.01,
            "default rate {rate}"
        );
    }

    #[test]
    fn marginals_look_like_the_real_data() {
        let data = generate(5_000, 3, 1);
        let col = |name: &str| {
            let i = data.columns.iter().position(|c| c.name == name).unwrap();
            data.rows.iter().map(move |r| r[i]).collect::<Vec<_>>()
        };
        let missing = |v: &[f64]| v.iter().filter(|x| x.is_nan()).count() as f64 / v.len() as f64;
        let ext1 = col("EXT_SOURCE_1");
        assert!(
            (0.5..0.62).contains(&missing(&ext1)),
            "EXT_SOURCE_1 missing {}",
            missing(&ext1)
        );
        assert!(ext1
            .iter()
            .filter(|x| !x.is_nan())
            .all(|x| (0.0..=1.0).contains(x)));
        let employed = col("DAYS_EMPLOYED");
        let anomalies = employed
            .iter()
            .filter(|&&d| d == DAYS_EMPLOYED_ANOMALY)
            .count() as f64
            / 5_000.0;
        assert!(
            (0.14..0.23).contains(&anomalies),
            "anomaly share {anomalies}"
        );
        assert!(col("DAYS_BIRTH")
            .iter()
            .all(|&d| (-25_300.0..=-7_600.0).contains(&d)));
        let credit = col("AMT_CREDIT");
        let mean = credit.iter().sum::<f64>() / credit.len() as f64;
        let mut sorted = credit.clone();
        sorted.sort_by(f64::total_cmp);
        assert!(
            mean > sorted[sorted.len() / 2],
            "AMT_CREDIT should be right-skewed"
        );
        // one-hot groups sum to at most one per applicant
        let contract: Vec<_> = [
            "NAME_CONTRACT_TYPE_Cash_loans",
            "NAME_CONTRACT_TYPE_Revolving_loans",
        ]
        .iter()
        .map(|n| col(n))
        .collect();
        for (cash, revolving) in contract[0].iter().zip(&contract[1]) {
            assert_eq!(cash + revolving, 1.0);
        }
    }

    #[test]
    fn same_seed_same_rows() {
        let a = generate(300, 11, 1);
        let b = generate(300, 11, 1);
        let bits = |g: &Generated| {
            g.rows
                .iter()
                .flatten()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&a), bits(&b));
        assert_eq!(a.target, b.target);
        assert_ne!(bits(&a), bits(&generate(300, 12, 1)));
    }

    /// Values carry the precision of their source: no share of records like 5e-166, amounts
    /// in whole cents, days and counts whole, shares of records k/n.
    #[test]
    fn values_carry_the_precision_of_their_source() {
        let g = generate(3_000, 42, 1);
        let names = g.feature_names();
        for (j, name) in names.iter().enumerate() {
            // Means, variances and ratios are computed from records, not recorded.
            let derived = ["_MEAN", "_VAR", "_PERC", "_RATIO"]
                .iter()
                .any(|s| name.ends_with(s));
            let kind_amount = name.contains("AMT_") && !derived;
            let kind_days = name.contains("DAYS_") && !derived;
            for row in &g.rows {
                let x = row[j];
                if x.is_nan() || x == 0.0 {
                    continue;
                }
                assert!(
                    x.abs() >= 1e-6,
                    "{name} = {x:e}: no real record is that small"
                );
                if kind_amount {
                    assert_eq!(cents(x), x, "{name} = {x}: amounts are whole cents");
                }
                if kind_days {
                    assert_eq!(x.round(), x, "{name} = {x}: days are whole");
                }
            }
        }
    }

    #[test]
    fn rounding_keeps_six_significant_digits() {
        assert_eq!(round_sig(123_456_789.0), 123_457_000.0);
        assert_eq!(round_sig(0.000_123_456_789), 0.000_123_457);
        assert!(round_sig(f64::NAN).is_nan());
    }
}
