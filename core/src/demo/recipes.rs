//! The demo data set's columns: 419 numeric features named as in the public Home Credit
//! Default Risk data after the usual preparation (categoricals one-hot encoded, bureau and
//! previous-application tables aggregated per applicant).
//!
//! Each column carries the recipe that draws its values, so that the generator in
//! [`crate::demo`] stays a loop over this table. Category labels are sanitised to
//! `[A-Za-z0-9_]` because LightGBM rejects special characters in feature names.
//!
//! Why one file of about 700 lines: it is one table, a recipe per column, read best whole.

/// How one column's values are drawn for one applicant.
#[derive(Debug, Clone, PartialEq)]
pub enum Recipe {
    /// A column computed from the applicant's latent profile (the handful of real drivers).
    Driver(Driver),
    /// 0/1 with this probability of 1.
    Flag(f64),
    /// One level of a one-hot encoded categorical: `group` names the categorical, `weight`
    /// its relative frequency among the group's levels.
    OneHot {
        group: &'static str,
        level: &'static str,
        weight: f64,
    },
    /// A building-information ratio in [0, 1] (`*_AVG`, `*_MODE`, `*_MEDI`), missing when
    /// the building record is absent.
    Building { measure: &'static str, mean: f64 },
    /// An aggregate of a related table; `table` decides when the whole block is missing.
    Aggregate {
        table: Table,
        quantity: &'static str,
        base: Base,
        stat: Stat,
    },
    /// A small count (children, enquiries, social-circle observations).
    Count { mean: f64, missing: f64 },
}

/// Columns driven by the applicant's latent profile; these carry most of the default signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    ExtSource1,
    ExtSource2,
    ExtSource3,
    DaysBirth,
    DaysEmployed,
    DaysRegistration,
    DaysIdPublish,
    DaysLastPhoneChange,
    AmtIncome,
    AmtCredit,
    AmtAnnuity,
    AmtGoodsPrice,
    RegionPopulation,
    OwnCarAge,
    CodeGender,
    FlagOwnCar,
    FlagOwnRealty,
    CntFamMembers,
    RegionRating,
    RegionRatingCity,
    HourApprProcess,
    DaysEmployedPerc,
    IncomeCreditPerc,
    IncomePerPerson,
    AnnuityIncomePerc,
    PaymentRate,
    EducationHigher,
}

/// The related table an aggregate comes from; an applicant without records there has the
/// whole block missing, as in the real data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    Bureau,
    BureauActive,
    BureauClosed,
    Previous,
    PreviousApproved,
    PreviousRefused,
    PosCash,
    Installments,
}

/// The underlying quantity an aggregate summarises.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Base {
    /// Days before the application, negative (e.g. `DAYS_CREDIT`); the value is the scale.
    DaysAgo(f64),
    /// Days relative to the application, centred on `0.0` with this spread.
    DaysAround(f64),
    /// A log-normally distributed amount with this median.
    Amount(f64),
    /// A share in [0, 1] with this mean.
    Share(f64),
    /// Days past due: zero for most, occasionally large; higher for risky applicants.
    Delinquency(f64),
    /// A count with this mean.
    Number(f64),
    /// An hour of the day.
    Hour,
    /// A ratio near 1 (application / credit amount).
    Ratio,
}

/// The aggregation applied to the base quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    Min,
    Max,
    Mean,
    Var,
    Sum,
    Size,
}

/// One column of the demo data set.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnRecipe {
    pub name: String,
    pub recipe: Recipe,
}

/// A categorical's levels with their relative weights.
pub type Levels = &'static [(&'static str, f64)];

/// Every categorical that is one-hot encoded: name, levels with relative weights, and the
/// share of applicants for whom it is missing (all levels 0).
pub const CATEGORICALS: &[(&str, Levels, f64)] = &[
    (
        "NAME_CONTRACT_TYPE",
        &[("Cash_loans", 0.905), ("Revolving_loans", 0.095)],
        0.0,
    ),
    (
        "NAME_TYPE_SUITE",
        &[
            ("Children", 0.011),
            ("Family", 0.131),
            ("Group_of_people", 0.001),
            ("Other_A", 0.003),
            ("Other_B", 0.006),
            ("Spouse_partner", 0.037),
            ("Unaccompanied", 0.811),
        ],
        0.004,
    ),
    (
        "NAME_INCOME_TYPE",
        &[
            ("Businessman", 0.0001),
            ("Commercial_associate", 0.233),
            ("Maternity_leave", 0.0001),
            ("Pensioner", 0.18),
            ("State_servant", 0.071),
            ("Student", 0.0001),
            ("Unemployed", 0.0001),
            ("Working", 0.516),
        ],
        0.0,
    ),
    (
        "NAME_EDUCATION_TYPE",
        &[
            ("Academic_degree", 0.0005),
            ("Higher_education", 0.243),
            ("Incomplete_higher", 0.033),
            ("Lower_secondary", 0.012),
            ("Secondary_secondary_special", 0.71),
        ],
        0.0,
    ),
    (
        "NAME_FAMILY_STATUS",
        &[
            ("Civil_marriage", 0.097),
            ("Married", 0.639),
            ("Separated", 0.064),
            ("Single_not_married", 0.148),
            ("Unknown", 0.0001),
            ("Widow", 0.052),
        ],
        0.0,
    ),
    (
        "NAME_HOUSING_TYPE",
        &[
            ("Co_op_apartment", 0.004),
            ("House_apartment", 0.887),
            ("Municipal_apartment", 0.036),
            ("Office_apartment", 0.009),
            ("Rented_apartment", 0.016),
            ("With_parents", 0.048),
        ],
        0.0,
    ),
    (
        "OCCUPATION_TYPE",
        &[
            ("Accountants", 0.032),
            ("Cleaning_staff", 0.015),
            ("Cooking_staff", 0.019),
            ("Core_staff", 0.09),
            ("Drivers", 0.06),
            ("HR_staff", 0.002),
            ("High_skill_tech_staff", 0.037),
            ("IT_staff", 0.002),
            ("Laborers", 0.179),
            ("Low_skill_Laborers", 0.007),
            ("Managers", 0.069),
            ("Medicine_staff", 0.028),
            ("Private_service_staff", 0.009),
            ("Realty_agents", 0.002),
            ("Sales_staff", 0.104),
            ("Secretaries", 0.004),
            ("Security_staff", 0.022),
            ("Waiters_barmen_staff", 0.004),
        ],
        0.313,
    ),
    (
        "WEEKDAY_APPR_PROCESS_START",
        &[
            ("FRIDAY", 0.164),
            ("MONDAY", 0.165),
            ("SATURDAY", 0.11),
            ("SUNDAY", 0.053),
            ("THURSDAY", 0.164),
            ("TUESDAY", 0.175),
            ("WEDNESDAY", 0.169),
        ],
        0.0,
    ),
    ("ORGANIZATION_TYPE", ORGANIZATION_LEVELS, 0.0),
    (
        "FONDKAPREMONT_MODE",
        &[
            ("not_specified", 0.018),
            ("org_spec_account", 0.018),
            ("reg_oper_account", 0.24),
            ("reg_oper_spec_account", 0.039),
        ],
        0.684,
    ),
    (
        "HOUSETYPE_MODE",
        &[
            ("block_of_flats", 0.491),
            ("specific_housing", 0.005),
            ("terraced_house", 0.004),
        ],
        0.502,
    ),
    (
        "WALLSMATERIAL_MODE",
        &[
            ("Block", 0.03),
            ("Mixed", 0.007),
            ("Monolithic", 0.006),
            ("Others", 0.005),
            ("Panel", 0.215),
            ("Stone_brick", 0.211),
            ("Wooden", 0.017),
        ],
        0.509,
    ),
    (
        "EMERGENCYSTATE_MODE",
        &[("No", 0.518), ("Yes", 0.008)],
        0.474,
    ),
];

const ORGANIZATION_LEVELS: &[(&str, f64)] = &[
    ("Advertising", 0.001),
    ("Agriculture", 0.008),
    ("Bank", 0.008),
    ("Business_Entity_Type_1", 0.019),
    ("Business_Entity_Type_2", 0.034),
    ("Business_Entity_Type_3", 0.221),
    ("Cleaning", 0.001),
    ("Construction", 0.022),
    ("Culture", 0.001),
    ("Electricity", 0.003),
    ("Emergency", 0.002),
    ("Government", 0.034),
    ("Hotel", 0.003),
    ("Housing", 0.01),
    ("Industry_type_1", 0.003),
    ("Industry_type_10", 0.0004),
    ("Industry_type_11", 0.009),
    ("Industry_type_12", 0.001),
    ("Industry_type_13", 0.0002),
    ("Industry_type_2", 0.001),
    ("Industry_type_3", 0.011),
    ("Industry_type_4", 0.003),
    ("Industry_type_5", 0.002),
    ("Industry_type_6", 0.0004),
    ("Industry_type_7", 0.004),
    ("Industry_type_8", 0.0001),
    ("Industry_type_9", 0.011),
    ("Insurance", 0.002),
    ("Kindergarten", 0.022),
    ("Legal_Services", 0.001),
    ("Medicine", 0.036),
    ("Military", 0.009),
    ("Mobile", 0.001),
    ("Other", 0.054),
    ("Police", 0.008),
    ("Postal", 0.007),
    ("Realtor", 0.001),
    ("Religion", 0.0003),
    ("Restaurant", 0.006),
    ("School", 0.029),
    ("Security", 0.011),
    ("Security_Ministries", 0.006),
    ("Self_employed", 0.125),
    ("Services", 0.005),
    ("Telecom", 0.002),
    ("Trade_type_1", 0.001),
    ("Trade_type_2", 0.006),
    ("Trade_type_3", 0.011),
    ("Trade_type_4", 0.0002),
    ("Trade_type_5", 0.0002),
    ("Trade_type_6", 0.002),
    ("Trade_type_7", 0.025),
    ("Transport_type_1", 0.001),
    ("Transport_type_2", 0.007),
    ("Transport_type_3", 0.004),
    ("Transport_type_4", 0.018),
    ("University", 0.004),
    ("XNA", 0.18),
];

/// Building-information measures; each comes as `_AVG`, `_MODE` and `_MEDI`.
const BUILDING: &[(&str, f64)] = &[
    ("APARTMENTS", 0.117),
    ("BASEMENTAREA", 0.088),
    ("YEARS_BEGINEXPLUATATION", 0.977),
    ("YEARS_BUILD", 0.752),
    ("COMMONAREA", 0.045),
    ("ELEVATORS", 0.079),
    ("ENTRANCES", 0.15),
    ("FLOORSMAX", 0.226),
    ("FLOORSMIN", 0.232),
    ("LANDAREA", 0.066),
    ("LIVINGAPARTMENTS", 0.101),
    ("LIVINGAREA", 0.107),
    ("NONLIVINGAPARTMENTS", 0.009),
    ("NONLIVINGAREA", 0.028),
];

/// Share of applicants with each `FLAG_DOCUMENT_k` (k = 2..=21) provided.
const DOCUMENT_RATES: [f64; 20] = [
    0.00004, 0.71, 0.0001, 0.015, 0.088, 0.0002, 0.081, 0.004, 0.0002, 0.004, 0.0001, 0.0001,
    0.0035, 0.003, 0.0012, 0.0099, 0.0003, 0.008, 0.0006, 0.0005,
];

/// The full, ordered list of the demo data set's 419 features.
pub fn columns() -> Vec<ColumnRecipe> {
    let mut cols = Vec::with_capacity(419);
    let mut push = |name: String, recipe: Recipe| cols.push(ColumnRecipe { name, recipe });
    use Driver as D;

    let application = [
        ("CODE_GENDER", D::CodeGender),
        ("FLAG_OWN_CAR", D::FlagOwnCar),
        ("FLAG_OWN_REALTY", D::FlagOwnRealty),
    ];
    for (name, d) in application {
        push(name.into(), Recipe::Driver(d));
    }
    push(
        "CNT_CHILDREN".into(),
        Recipe::Count {
            mean: 0.42,
            missing: 0.0,
        },
    );
    let money = [
        ("AMT_INCOME_TOTAL", D::AmtIncome),
        ("AMT_CREDIT", D::AmtCredit),
        ("AMT_ANNUITY", D::AmtAnnuity),
        ("AMT_GOODS_PRICE", D::AmtGoodsPrice),
        ("REGION_POPULATION_RELATIVE", D::RegionPopulation),
        ("DAYS_BIRTH", D::DaysBirth),
        ("DAYS_EMPLOYED", D::DaysEmployed),
        ("DAYS_REGISTRATION", D::DaysRegistration),
        ("DAYS_ID_PUBLISH", D::DaysIdPublish),
        ("OWN_CAR_AGE", D::OwnCarAge),
    ];
    for (name, d) in money {
        push(name.into(), Recipe::Driver(d));
    }
    let flags = [
        ("FLAG_MOBIL", 0.99999),
        ("FLAG_EMP_PHONE", 0.82),
        ("FLAG_WORK_PHONE", 0.2),
        ("FLAG_CONT_MOBILE", 0.998),
        ("FLAG_PHONE", 0.281),
        ("FLAG_EMAIL", 0.057),
    ];
    for (name, p) in flags {
        push(name.into(), Recipe::Flag(p));
    }
    let more = [
        ("CNT_FAM_MEMBERS", D::CntFamMembers),
        ("REGION_RATING_CLIENT", D::RegionRating),
        ("REGION_RATING_CLIENT_W_CITY", D::RegionRatingCity),
        ("HOUR_APPR_PROCESS_START", D::HourApprProcess),
    ];
    for (name, d) in more {
        push(name.into(), Recipe::Driver(d));
    }
    let region_flags = [
        ("REG_REGION_NOT_LIVE_REGION", 0.015),
        ("REG_REGION_NOT_WORK_REGION", 0.051),
        ("LIVE_REGION_NOT_WORK_REGION", 0.041),
        ("REG_CITY_NOT_LIVE_CITY", 0.078),
        ("REG_CITY_NOT_WORK_CITY", 0.23),
        ("LIVE_CITY_NOT_WORK_CITY", 0.18),
    ];
    for (name, p) in region_flags {
        push(name.into(), Recipe::Flag(p));
    }
    for (name, d) in [
        ("EXT_SOURCE_1", D::ExtSource1),
        ("EXT_SOURCE_2", D::ExtSource2),
        ("EXT_SOURCE_3", D::ExtSource3),
    ] {
        push(name.into(), Recipe::Driver(d));
    }
    for suffix in ["AVG", "MODE", "MEDI"] {
        for (measure, mean) in BUILDING {
            push(
                format!("{measure}_{suffix}"),
                Recipe::Building {
                    measure,
                    mean: *mean,
                },
            );
        }
    }
    push(
        "TOTALAREA_MODE".into(),
        Recipe::Building {
            measure: "TOTALAREA",
            mean: 0.103,
        },
    );
    for (name, mean) in [
        ("OBS_30_CNT_SOCIAL_CIRCLE", 1.42),
        ("DEF_30_CNT_SOCIAL_CIRCLE", 0.14),
        ("OBS_60_CNT_SOCIAL_CIRCLE", 1.41),
        ("DEF_60_CNT_SOCIAL_CIRCLE", 0.1),
    ] {
        push(
            name.into(),
            Recipe::Count {
                mean,
                missing: 0.0033,
            },
        );
    }
    push(
        "DAYS_LAST_PHONE_CHANGE".into(),
        Recipe::Driver(D::DaysLastPhoneChange),
    );
    for (k, rate) in (2..=21).zip(DOCUMENT_RATES) {
        push(format!("FLAG_DOCUMENT_{k}"), Recipe::Flag(rate));
    }
    for (period, mean) in [
        ("HOUR", 0.006),
        ("DAY", 0.007),
        ("WEEK", 0.034),
        ("MON", 0.27),
        ("QRT", 0.27),
        ("YEAR", 1.9),
    ] {
        push(
            format!("AMT_REQ_CREDIT_BUREAU_{period}"),
            Recipe::Count {
                mean,
                missing: 0.135,
            },
        );
    }
    for (group, levels, _) in CATEGORICALS {
        for (level, weight) in *levels {
            push(
                format!("{group}_{level}"),
                Recipe::OneHot {
                    group,
                    level,
                    weight: *weight,
                },
            );
        }
    }
    for (name, d) in [
        ("DAYS_EMPLOYED_PERC", D::DaysEmployedPerc),
        ("INCOME_CREDIT_PERC", D::IncomeCreditPerc),
        ("INCOME_PER_PERSON", D::IncomePerPerson),
        ("ANNUITY_INCOME_PERC", D::AnnuityIncomePerc),
        ("PAYMENT_RATE", D::PaymentRate),
    ] {
        push(name.into(), Recipe::Driver(d));
    }

    aggregates(&mut push);
    cols
}

fn aggregates(push: &mut impl FnMut(String, Recipe)) {
    use Base::*;
    use Stat::*;
    let bureau_core: &[(&'static str, Base, &[Stat])] = &[
        ("DAYS_CREDIT", DaysAgo(1100.0), &[Min, Max, Mean, Var]),
        ("DAYS_CREDIT_ENDDATE", DaysAround(1200.0), &[Min, Max, Mean]),
        ("DAYS_CREDIT_UPDATE", DaysAgo(600.0), &[Mean]),
        ("CREDIT_DAY_OVERDUE", Delinquency(0.5), &[Max, Mean]),
        ("AMT_CREDIT_MAX_OVERDUE", Amount(300.0), &[Mean]),
        ("AMT_CREDIT_SUM", Amount(150_000.0), &[Max, Mean, Sum]),
        ("AMT_CREDIT_SUM_DEBT", Amount(40_000.0), &[Max, Mean, Sum]),
        ("AMT_CREDIT_SUM_OVERDUE", Delinquency(2.0), &[Mean]),
        ("AMT_CREDIT_SUM_LIMIT", Amount(5_000.0), &[Mean, Sum]),
        ("AMT_ANNUITY", Amount(12_000.0), &[Max, Mean]),
        ("CNT_CREDIT_PROLONG", Number(0.01), &[Sum]),
        ("MONTHS_BALANCE", DaysAround(25.0), &[Min, Max, Size]),
    ];
    emit(push, "BURO", Table::Bureau, bureau_core);
    let bureau_shares = [
        ("STATUS_0", 0.4),
        ("STATUS_1", 0.02),
        ("STATUS_2", 0.002),
        ("STATUS_3", 0.001),
        ("STATUS_4", 0.0005),
        ("STATUS_5", 0.003),
        ("STATUS_C", 0.35),
        ("STATUS_X", 0.2),
        ("CREDIT_ACTIVE_Active", 0.37),
        ("CREDIT_ACTIVE_Closed", 0.62),
        ("CREDIT_TYPE_Consumer_credit", 0.73),
        ("CREDIT_TYPE_Credit_card", 0.23),
        ("CREDIT_TYPE_Car_loan", 0.016),
        ("CREDIT_TYPE_Mortgage", 0.01),
        ("CREDIT_TYPE_Microloan", 0.007),
    ];
    for (base, mean) in bureau_shares {
        push(
            format!("BURO_{base}_MEAN"),
            Recipe::Aggregate {
                table: Table::Bureau,
                quantity: base,
                base: Share(mean),
                stat: Mean,
            },
        );
    }
    let bureau_split: &[(&'static str, Base, &[Stat])] = &[
        ("DAYS_CREDIT", DaysAgo(900.0), &[Min, Max, Mean, Var]),
        ("DAYS_CREDIT_ENDDATE", DaysAround(900.0), &[Min, Max, Mean]),
        ("DAYS_CREDIT_UPDATE", DaysAgo(300.0), &[Mean]),
        ("CREDIT_DAY_OVERDUE", Delinquency(0.5), &[Max]),
        ("AMT_CREDIT_SUM", Amount(120_000.0), &[Max, Mean, Sum]),
        ("AMT_CREDIT_SUM_DEBT", Amount(30_000.0), &[Max, Mean, Sum]),
        ("AMT_CREDIT_SUM_LIMIT", Amount(4_000.0), &[Mean]),
        ("AMT_ANNUITY", Amount(10_000.0), &[Mean]),
        ("MONTHS_BALANCE_SIZE", Number(12.0), &[Mean]),
    ];
    emit(push, "ACTIVE", Table::BureauActive, bureau_split);
    emit(push, "CLOSED", Table::BureauClosed, bureau_split);

    let previous: &[(&'static str, Base, &[Stat])] = &[
        ("AMT_ANNUITY", Amount(11_000.0), &[Min, Max, Mean]),
        ("AMT_APPLICATION", Amount(110_000.0), &[Min, Max, Mean]),
        ("AMT_CREDIT", Amount(120_000.0), &[Min, Max, Mean]),
        ("APP_CREDIT_PERC", Ratio, &[Min, Max, Mean, Var]),
        ("AMT_DOWN_PAYMENT", Amount(4_000.0), &[Min, Max, Mean]),
        ("AMT_GOODS_PRICE", Amount(110_000.0), &[Min, Max, Mean]),
        ("HOUR_APPR_PROCESS_START", Hour, &[Min, Max, Mean]),
        ("RATE_DOWN_PAYMENT", Share(0.08), &[Min, Max, Mean]),
        ("DAYS_DECISION", DaysAgo(900.0), &[Min, Max, Mean]),
        ("CNT_PAYMENT", Number(16.0), &[Mean, Sum]),
    ];
    emit(push, "PREV", Table::Previous, previous);
    let previous_shares = [
        ("NAME_CONTRACT_STATUS_Approved", 0.62),
        ("NAME_CONTRACT_STATUS_Refused", 0.17),
        ("NAME_CONTRACT_STATUS_Canceled", 0.19),
        ("NAME_CONTRACT_TYPE_Cash_loans", 0.45),
        ("NAME_CONTRACT_TYPE_Consumer_loans", 0.44),
        ("NAME_CONTRACT_TYPE_Revolving_loans", 0.11),
        ("NAME_YIELD_GROUP_high", 0.21),
        ("NAME_YIELD_GROUP_low_normal", 0.19),
        ("NAME_YIELD_GROUP_middle", 0.23),
        ("CODE_REJECT_REASON_HC", 0.1),
        ("CODE_REJECT_REASON_LIMIT", 0.03),
        ("CODE_REJECT_REASON_SCO", 0.02),
    ];
    for (base, mean) in previous_shares {
        push(
            format!("PREV_{base}_MEAN"),
            Recipe::Aggregate {
                table: Table::Previous,
                quantity: base,
                base: Share(mean),
                stat: Mean,
            },
        );
    }
    let previous_split: &[(&'static str, Base, &[Stat])] = &[
        ("AMT_ANNUITY", Amount(10_000.0), &[Min, Max, Mean]),
        ("AMT_APPLICATION", Amount(100_000.0), &[Min, Max, Mean]),
        ("AMT_CREDIT", Amount(110_000.0), &[Min, Max, Mean]),
        ("APP_CREDIT_PERC", Ratio, &[Min, Max, Mean]),
        ("DAYS_DECISION", DaysAgo(900.0), &[Min, Max, Mean]),
        ("CNT_PAYMENT", Number(14.0), &[Mean, Sum]),
    ];
    emit(push, "APPROVED", Table::PreviousApproved, previous_split);
    emit(push, "REFUSED", Table::PreviousRefused, previous_split);

    let pos: &[(&'static str, Base, &[Stat])] = &[
        ("MONTHS_BALANCE", DaysAround(20.0), &[Max, Mean, Size]),
        ("SK_DPD", Delinquency(1.0), &[Max, Mean]),
        ("SK_DPD_DEF", Delinquency(0.3), &[Max, Mean]),
    ];
    emit(push, "POS", Table::PosCash, pos);
    push(
        "POS_COUNT".into(),
        Recipe::Aggregate {
            table: Table::PosCash,
            quantity: "COUNT",
            base: Number(35.0),
            stat: Size,
        },
    );

    let installments: &[(&'static str, Base, &[Stat])] = &[
        ("NUM_INSTALMENT_VERSION", Number(2.0), &[Size]),
        ("DPD", Delinquency(1.5), &[Max, Mean, Sum]),
        ("DBD", Number(9.0), &[Max, Mean, Sum]),
        ("PAYMENT_PERC", Ratio, &[Max, Mean]),
        ("PAYMENT_DIFF", Amount(500.0), &[Max, Mean]),
        ("AMT_PAYMENT", Amount(200_000.0), &[Sum]),
    ];
    emit(push, "INSTAL", Table::Installments, installments);
    push(
        "INSTAL_COUNT".into(),
        Recipe::Aggregate {
            table: Table::Installments,
            quantity: "COUNT",
            base: Number(40.0),
            stat: Size,
        },
    );
}

fn emit(
    push: &mut impl FnMut(String, Recipe),
    prefix: &str,
    table: Table,
    spec: &[(&'static str, Base, &[Stat])],
) {
    for (base_name, base, stats) in spec {
        for stat in *stats {
            let suffix = match stat {
                Stat::Min => "MIN",
                Stat::Max => "MAX",
                Stat::Mean => "MEAN",
                Stat::Var => "VAR",
                Stat::Sum => "SUM",
                // `NUM_INSTALMENT_VERSION` counts distinct versions: the real column is `_NUNIQUE`.
                Stat::Size if *base_name == "NUM_INSTALMENT_VERSION" => "NUNIQUE",
                Stat::Size => "SIZE",
            };
            push(
                format!("{prefix}_{base_name}_{suffix}"),
                Recipe::Aggregate {
                    table,
                    quantity: base_name,
                    base: *base,
                    stat: *stat,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn has_419_unique_lightgbm_safe_names() {
        let cols = columns();
        assert_eq!(cols.len(), 419);
        let names: HashSet<_> = cols.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names.len(), cols.len(), "duplicate column names");
        for c in &cols {
            assert!(
                c.name
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_'),
                "{} has a character LightGBM rejects",
                c.name
            );
        }
        for expected in [
            "EXT_SOURCE_1",
            "DAYS_EMPLOYED",
            "FLAG_DOCUMENT_3",
            "PAYMENT_RATE",
            "BURO_DAYS_CREDIT_MEAN",
            "INSTAL_DPD_MEAN",
            "CODE_GENDER",
        ] {
            assert!(names.contains(expected), "{expected} missing");
        }
    }
}
