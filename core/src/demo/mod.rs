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
//! Parts: [`recipes`] (the columns and how each is drawn), this file (generating, writing
//! the files and training).

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{ensure, Context, Result};
use flate2::write::GzEncoder;
use flate2::Compression;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, Exp, LogNormal, Normal, Poisson};
use serde::{Deserialize, Serialize};

use self::recipes::{Base, ColumnRecipe, Driver, Recipe, Stat, Table, CATEGORICALS};
use crate::artifacts::{ModelCard, TrainingMetrics};
use crate::model::roc_auc::roc_auc;

pub mod recipes;

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

/// The generated table: one row per applicant, features in catalog order, NaN = missing.
pub struct Generated {
    pub columns: Vec<ColumnRecipe>,
    pub ids: Vec<i64>,
    pub rows: Vec<Vec<f64>>,
    pub target: Vec<u8>,
}

impl Generated {
    pub fn feature_names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }
}

/// One applicant's hidden profile; drivers and the target are computed from it.
struct Profile {
    risk: f64,
    age_years: f64,
    years_employed: Option<f64>,
    income: f64,
    credit: f64,
    payment_rate: f64,
    goods_ratio: f64,
    male: bool,
    own_car: bool,
    own_realty: bool,
    family: f64,
    ext: [f64; 3],
    ext_present: [bool; 3],
    region_rating: f64,
    higher_education: bool,
}

/// Draws `n` applicants with ids starting at `first_id`.
pub fn generate(n: usize, seed: u64, first_id: i64) -> Generated {
    let columns = recipes::columns();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rows = Vec::with_capacity(n);
    let mut logits = Vec::with_capacity(n);
    for _ in 0..n {
        let (row, logit) = draw_applicant(&columns, &mut rng);
        rows.push(row);
        logits.push(logit);
    }
    let intercept = calibrate_intercept(&logits, TARGET_DEFAULT_RATE);
    let target = logits
        .iter()
        .map(|l| u8::from(rng.gen::<f64>() < sigmoid(intercept + l)))
        .collect();
    let ids = (0..n as i64).map(|i| first_id + i).collect();
    Generated {
        columns,
        ids,
        rows,
        target,
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The intercept that makes the mean default probability equal `rate` (bisection: the mean
/// of sigmoids is increasing in the intercept).
fn calibrate_intercept(logits: &[f64], rate: f64) -> f64 {
    let mean_at = |b: f64| logits.iter().map(|l| sigmoid(b + l)).sum::<f64>() / logits.len() as f64;
    let (mut lo, mut hi) = (-20.0, 20.0);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if mean_at(mid) < rate {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Amounts are recorded in cents: the double nearest to a whole number of cents.
fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `x` to `d` decimals, as a source that records that many keeps it (scores, ratios of a
/// building survey, a region's population share).
fn decimals(x: f64, d: i32) -> f64 {
    let scale = 10f64.powi(d);
    (x * scale).round() / scale
}

/// Rounds to six significant digits, for statistics without a natural unit (variances,
/// ratios of amounts): keeps the files small and the values plausible.
fn round_sig(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let digits = 6 - 1 - x.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

fn normal(rng: &mut ChaCha8Rng, mean: f64, sd: f64) -> f64 {
    Normal::new(mean, sd).expect("valid normal").sample(rng)
}

fn choose_level(
    rng: &mut ChaCha8Rng,
    levels: &[(&'static str, f64)],
    missing: f64,
) -> Option<&'static str> {
    if rng.gen::<f64>() < missing {
        return None;
    }
    let total: f64 = levels.iter().map(|(_, w)| w).sum();
    let mut u = rng.gen::<f64>() * total;
    for (level, w) in levels {
        if u < *w {
            return Some(level);
        }
        u -= w;
    }
    levels.last().map(|(l, _)| *l)
}

fn draw_applicant(columns: &[ColumnRecipe], rng: &mut ChaCha8Rng) -> (Vec<f64>, f64) {
    let categories: HashMap<&'static str, Option<&'static str>> = CATEGORICALS
        .iter()
        .map(|(group, levels, missing)| (*group, choose_level(rng, levels, *missing)))
        .collect();
    let income_type = categories["NAME_INCOME_TYPE"];
    let pensioner = income_type == Some("Pensioner");
    let risk = normal(rng, 0.0, 1.0);
    let age_years = if pensioner {
        rng.gen_range(55.0..69.0f64)
    } else {
        rng.gen_range(21.0..66.0f64)
    };
    let years_employed = (!pensioner).then(|| {
        let cap = (age_years - 18.0).max(0.2);
        let mean = 3.0 + 0.15 * (age_years - 21.0) - 0.8 * risk.max(-1.0);
        (Exp::new(1.0 / mean.max(0.5))
            .expect("valid exp")
            .sample(rng))
        .min(cap)
        .max(0.05)
    });
    let income = cents(
        LogNormal::new((147_150f64).ln() + 0.1 * (-risk), 0.5)
            .expect("valid lognormal")
            .sample(rng)
            .clamp(25_650.0, 5_000_000.0),
    );
    let credit = cents(
        (income
            * LogNormal::new(1.2, 0.55)
                .expect("valid lognormal")
                .sample(rng))
        .clamp(45_000.0, 4_050_000.0),
    );
    let payment_rate = (0.05 + 0.012 * risk + normal(rng, 0.0, 0.018)).clamp(0.0223, 0.1245);
    let ext_mu = [0.2, 0.55, 0.2];
    let mut ext = [0.0; 3];
    for (k, mu) in ext_mu.iter().enumerate() {
        ext[k] = sigmoid(mu - 0.9 * risk + normal(rng, 0.0, 0.6) + 0.01 * (age_years - 43.0));
    }
    let ext_present = [
        rng.gen::<f64>() >= 0.564,
        rng.gen::<f64>() >= 0.002,
        rng.gen::<f64>() >= 0.198,
    ];
    let profile = Profile {
        risk,
        age_years,
        years_employed,
        income,
        credit,
        payment_rate,
        goods_ratio: rng.gen_range(0.78..1.0),
        male: rng.gen::<f64>() < 0.34 + 0.03 * risk,
        own_car: rng.gen::<f64>() < 0.34,
        own_realty: rng.gen::<f64>() < 0.69,
        family: 1.0
            + Poisson::new(1.15f64)
                .expect("valid poisson")
                .sample(rng)
                .min(8.0),
        ext,
        ext_present,
        region_rating: if rng.gen::<f64>() < 0.74 {
            2.0
        } else if rng.gen::<f64>() < 0.6 + 0.1 * risk {
            3.0
        } else {
            1.0
        },
        higher_education: categories["NAME_EDUCATION_TYPE"] == Some("Higher_education"),
    };

    let mut blocks: HashMap<Table, bool> = HashMap::new();
    let mut aggregates: HashMap<(Table, &'static str), (f64, f64, f64)> = HashMap::new();
    let mut buildings: HashMap<&'static str, Option<f64>> = HashMap::new();
    let building_present = rng.gen::<f64>() < 0.5;
    let mut row = Vec::with_capacity(columns.len());
    for col in columns {
        let value = match &col.recipe {
            Recipe::Driver(d) => driver_value(*d, &profile, rng),
            Recipe::Flag(p) => f64::from(u8::from(rng.gen::<f64>() < *p)),
            Recipe::OneHot { group, level, .. } => match categories[group] {
                None => 0.0,
                Some(chosen) => f64::from(u8::from(chosen == *level)),
            },
            Recipe::Building { measure, mean } => decimals(
                {
                    let base = *buildings.entry(measure).or_insert_with(|| {
                        let sparse = matches!(
                            *measure,
                            "COMMONAREA"
                                | "NONLIVINGAPARTMENTS"
                                | "LIVINGAPARTMENTS"
                                | "FLOORSMIN"
                                | "YEARS_BUILD"
                        );
                        (building_present && !(sparse && rng.gen::<f64>() < 0.35)).then(|| {
                            let concentration = 8.0;
                            Beta::new(mean * concentration, (1.0 - mean) * concentration)
                                .expect("valid beta")
                                .sample(rng)
                        })
                    });
                    match base {
                        None => f64::NAN,
                        Some(v) => (v * rng.gen_range(0.93..1.07)).clamp(0.0, 1.0),
                    }
                },
                4,
            ),
            Recipe::Count { mean, missing } => {
                if rng.gen::<f64>() < *missing {
                    f64::NAN
                } else {
                    Poisson::new(*mean).expect("valid poisson").sample(rng)
                }
            }
            Recipe::Aggregate {
                table,
                quantity,
                base,
                stat,
            } => {
                let present = *blocks
                    .entry(*table)
                    .or_insert_with(|| rng.gen::<f64>() < table_presence(*table));
                if present {
                    let (center, spread, count) = *aggregates
                        .entry((*table, *quantity))
                        .or_insert_with(|| aggregate_latent(*base, profile.risk, rng));
                    aggregate_value(*stat, *base, center, spread, count)
                } else {
                    f64::NAN
                }
            }
        };
        row.push(value);
    }
    let logit = default_logit(columns, &row, &profile, rng);
    (row, logit)
}

fn table_presence(table: Table) -> f64 {
    match table {
        Table::Bureau => 0.857,
        Table::BureauActive => 0.70,
        Table::BureauClosed => 0.75,
        Table::Previous => 0.946,
        Table::PreviousApproved => 0.93,
        Table::PreviousRefused => 0.40,
        Table::PosCash => 0.94,
        Table::Installments => 0.948,
    }
}

/// (center, spread, number of records) of one related-table quantity for one applicant.
fn aggregate_latent(base: Base, risk: f64, rng: &mut ChaCha8Rng) -> (f64, f64, f64) {
    let count = 1.0 + Poisson::new(4.0).expect("valid poisson").sample(rng);
    match base {
        Base::DaysAgo(scale) => {
            let c = -Exp::new(1.0 / scale)
                .expect("valid exp")
                .sample(rng)
                .min(2922.0);
            (c, rng.gen_range(0.1..0.6) * -c, count)
        }
        Base::DaysAround(scale) => (
            normal(rng, 0.0, scale),
            scale * rng.gen_range(0.2..0.8),
            count,
        ),
        Base::Amount(median) => {
            let c = LogNormal::new(median.ln(), 0.9)
                .expect("valid lognormal")
                .sample(rng);
            (c, c * rng.gen_range(0.1..0.8), count)
        }
        Base::Share(mean) => {
            let m = (mean * (1.0 + 0.3 * risk)).clamp(0.0005, 0.995);
            let c = Beta::new(m * 4.0, (1.0 - m) * 4.0)
                .expect("valid beta")
                .sample(rng);
            (c, c.min(1.0 - c) * 0.5, count)
        }
        Base::Delinquency(scale) => {
            let p_late = (0.12 * (1.0 + 1.2 * risk)).clamp(0.01, 0.7);
            let c = if rng.gen::<f64>() < p_late {
                Exp::new(1.0 / (scale * 8.0))
                    .expect("valid exp")
                    .sample(rng)
            } else {
                0.0
            };
            (c, c * 0.8, count)
        }
        Base::Number(mean) => {
            let c = Poisson::new(mean).expect("valid poisson").sample(rng);
            (c, (c * 0.5).sqrt(), c.max(1.0))
        }
        Base::Hour => (rng.gen_range(8.0..17.0), rng.gen_range(0.5..3.0), count),
        Base::Ratio => (
            (1.0 + normal(rng, 0.0, 0.12)).clamp(0.1, 3.0),
            rng.gen_range(0.01..0.3),
            count,
        ),
    }
}

/// One aggregate of `count` related records, with the precision real records give it:
/// each record's value is whole days, whole hours, a count, or an amount in cents, so a
/// minimum, maximum or sum is one of those, a mean is a sum over `count` (k/n), a share of
/// records with a property is k/n; variances and ratios keep six significant digits.
fn aggregate_value(stat: Stat, base: Base, center: f64, spread: f64, count: f64) -> f64 {
    if let Base::Share(_) = base {
        // k of the `count` records have the property.
        let k = (center * count).round().clamp(0.0, count);
        let p = k / count;
        return match stat {
            Stat::Mean => p,
            Stat::Min => f64::from(u8::from(k == count)),
            Stat::Max => f64::from(u8::from(k > 0.0)),
            Stat::Sum => k,
            Stat::Size => count,
            Stat::Var if count < 2.0 => f64::NAN,
            Stat::Var => p * (1.0 - p) * count / (count - 1.0),
        };
    }
    let unit: fn(f64) -> f64 = match base {
        Base::Amount(_) => cents,
        Base::Ratio => round_sig,
        _ => f64::round,
    };
    match stat {
        Stat::Mean => unit(center * count) / count,
        Stat::Min => unit((center - spread).max(if center >= 0.0 { 0.0 } else { f64::MIN })),
        Stat::Max => unit(center + spread),
        Stat::Var if count < 2.0 => f64::NAN,
        Stat::Var => round_sig(spread * spread),
        Stat::Sum => unit(center * count),
        Stat::Size => count,
    }
}

fn driver_value(d: Driver, p: &Profile, rng: &mut ChaCha8Rng) -> f64 {
    let annuity = cents(p.credit * p.payment_rate);
    let days_employed = p
        .years_employed
        .map_or(DAYS_EMPLOYED_ANOMALY, |y| -(y * 365.25).round());
    match d {
        // External scores come from bureaus with six decimals.
        Driver::ExtSource1 => present(p.ext_present[0], decimals(p.ext[0], 6)),
        Driver::ExtSource2 => present(p.ext_present[1], decimals(p.ext[1], 6)),
        Driver::ExtSource3 => present(p.ext_present[2], decimals(p.ext[2], 6)),
        Driver::DaysBirth => -(p.age_years * 365.25).round(),
        Driver::DaysEmployed => days_employed,
        Driver::DaysRegistration => {
            -(rng.gen_range(0.0..(p.age_years - 18.0).max(1.0)) * 365.25).round()
        }
        Driver::DaysIdPublish => -rng.gen_range(0.0..6_500.0f64).round(),
        Driver::DaysLastPhoneChange => -Exp::new(1.0f64 / 960.0)
            .expect("valid exp")
            .sample(rng)
            .min(4_292.0)
            .round(),
        Driver::AmtIncome => p.income,
        Driver::AmtCredit => p.credit,
        Driver::AmtAnnuity => annuity,
        Driver::AmtGoodsPrice => {
            present(rng.gen::<f64>() >= 0.001, cents(p.credit * p.goods_ratio))
        }
        Driver::RegionPopulation => {
            decimals(Beta::new(2.0, 90.0).expect("valid beta").sample(rng), 6)
        }
        Driver::OwnCarAge => present(
            p.own_car,
            Exp::new(1.0f64 / 12.0)
                .expect("valid exp")
                .sample(rng)
                .min(65.0)
                .round(),
        ),
        Driver::CodeGender => f64::from(u8::from(p.male)),
        Driver::FlagOwnCar => f64::from(u8::from(p.own_car)),
        Driver::FlagOwnRealty => f64::from(u8::from(p.own_realty)),
        Driver::CntFamMembers => p.family,
        Driver::RegionRating => p.region_rating,
        Driver::RegionRatingCity => {
            (p.region_rating + if rng.gen::<f64>() < 0.1 { -1.0 } else { 0.0 }).max(1.0)
        }
        Driver::HourApprProcess => rng.gen_range(6.0..21.0f64).round(),
        Driver::DaysEmployedPerc => days_employed / -(p.age_years * 365.25).round(),
        Driver::IncomeCreditPerc => p.income / p.credit,
        Driver::IncomePerPerson => p.income / p.family,
        Driver::AnnuityIncomePerc => annuity / p.income,
        // Derived features are computed from the recorded amounts.
        Driver::PaymentRate => annuity / p.credit,
        Driver::EducationHigher => f64::from(u8::from(p.higher_education)),
    }
}

fn present(is_present: bool, value: f64) -> f64 {
    if is_present {
        value
    } else {
        f64::NAN
    }
}

/// The default log-odds (without intercept): mostly the external scores, age, employment,
/// payment rate, gender, education and past delinquency, plus unobserved noise.
fn default_logit(columns: &[ColumnRecipe], row: &[f64], p: &Profile, rng: &mut ChaCha8Rng) -> f64 {
    let value = |name: &str| {
        columns
            .iter()
            .position(|c| c.name == name)
            .map(|i| row[i])
            .filter(|v| !v.is_nan())
    };
    let mut logit = 0.0;
    logit -= 2.6 * (p.ext[1] - 0.5) + 2.4 * (p.ext[2] - 0.5) + 1.4 * (p.ext[0] - 0.5);
    logit += 0.025 * (43.0 - p.age_years);
    logit += match p.years_employed {
        Some(y) if y < 1.0 => 0.45,
        Some(y) => -0.03 * y.min(15.0),
        None => -0.2,
    };
    logit += 9.0 * (p.payment_rate - 0.05);
    logit += if p.male { 0.3 } else { 0.0 };
    logit -= if p.higher_education { 0.4 } else { 0.0 };
    logit += 0.25 * (p.region_rating - 2.0);
    if let Some(dpd) = value("INSTAL_DPD_MEAN") {
        logit += 0.35 * (1.0 + dpd).ln();
    }
    if let Some(refused) = value("PREV_NAME_CONTRACT_STATUS_Refused_MEAN") {
        logit += 0.8 * refused;
    }
    logit + 0.35 * p.risk + normal(rng, 0.0, 1.0)
}

/// Writes a CSV (gzip-compressed): `SK_ID_CURR`, optionally `TARGET`, then the features;
/// a missing value is an empty field, every other value its shortest exact text
/// ([`crate::numbers::shortest`]), which pandas reads back bit for bit.
pub fn write_csv_gz(
    path: &Path,
    data: &Generated,
    rows: std::ops::Range<usize>,
    with_target: bool,
) -> Result<()> {
    let file = fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    // No file name or mtime in the gzip header: same input, same bytes.
    let gz = flate2::GzBuilder::new().write(file, Compression::best());
    let mut out = csv::Writer::from_writer(gz);
    let mut header = vec!["SK_ID_CURR".to_string()];
    if with_target {
        header.push("TARGET".into());
    }
    header.extend(data.feature_names());
    out.write_record(&header)?;
    let mut record = Vec::with_capacity(header.len());
    for i in rows {
        record.clear();
        record.push(data.ids[i].to_string());
        if with_target {
            record.push(data.target[i].to_string());
        }
        record.extend(data.rows[i].iter().map(|v| {
            if v.is_nan() {
                String::new()
            } else {
                crate::numbers::shortest(*v)
            }
        }));
        out.write_record(&record)?;
    }
    let gz: GzEncoder<fs::File> = out
        .into_inner()
        .map_err(|e| anyhow::anyhow!("flushing CSV: {e}"))?;
    gz.finish()?.sync_all()?;
    Ok(())
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

    Ok(DemoSummary {
        files: vec![model_path, card_path, reference_path, test_path],
        default_rate: metrics.default_rate,
        metrics,
    })
}

#[cfg(test)]
mod tests {
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
