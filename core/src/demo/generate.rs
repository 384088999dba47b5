//! Drawing the synthetic applicants: a latent profile per applicant, the driver columns
//! computed from it, the other columns from their recipes, and the target from a logistic
//! model calibrated to [`super::TARGET_DEFAULT_RATE`].

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, Exp, LogNormal, Normal, Poisson};

use super::recipes::{self, Base, ColumnRecipe, Driver, Recipe, Stat, Table, CATEGORICALS};
use super::{DAYS_EMPLOYED_ANOMALY, TARGET_DEFAULT_RATE};

/// The generated table: one row per applicant, features in recipe order, NaN = missing.
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
pub(super) fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `x` to `d` decimals, as a source that records that many keeps it (scores, ratios of a
/// building survey, a region's population share).
pub(super) fn decimals(x: f64, d: i32) -> f64 {
    let scale = 10f64.powi(d);
    (x * scale).round() / scale
}

/// Rounds to six significant digits, for statistics without a natural unit (variances,
/// ratios of amounts): keeps the files small and the values plausible.
pub(super) fn round_sig(x: f64) -> f64 {
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
