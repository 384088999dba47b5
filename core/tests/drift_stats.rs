//! The drift statistics against scipy (values written by
//! `core/tests/reference/drift_values.py` into `core/tests/fixtures/drift_reference.json`;
//! the samples are regenerated here bit for bit from the same generator).

use serde_json::Value;

use scorewatch_core::drift::ks::{self, KsMethod};
use scorewatch_core::drift::stats::{self, Correction};

fn fixture() -> Value {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/drift_reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The reference script's generator: a 64-bit LCG and exact arithmetic only.
fn sample(spec: &Value) -> Vec<f64> {
    let mut state = spec["seed"].as_u64().unwrap();
    let n = spec["n"].as_u64().unwrap() as usize;
    let kind = spec["kind"].as_str().unwrap();
    let shift = spec["shift"].as_f64().unwrap();
    let param = spec["param"].as_f64().unwrap();
    let mut uniform = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 * (1.0 / 9007199254740992.0)
    };
    (0..n)
        .map(|_| {
            let x = match kind {
                "uniform" => uniform(),
                "tri" => uniform() + uniform(),
                "sq" => {
                    let u = uniform();
                    u * u
                }
                "ties" => (uniform() * param).floor() / param,
                other => panic!("unknown kind {other}"),
            };
            x + shift
        })
        .collect()
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// Relative agreement, with an absolute floor for values near zero.
fn close(got: f64, want: f64, rel: f64) -> bool {
    if want == 0.0 {
        return got.abs() < 1e-300 || got == 0.0;
    }
    ((got - want) / want).abs() < rel || (got - want).abs() < 1e-15
}

#[test]
fn ks_2samp_matches_scipy_exact_and_asymptotic() {
    let f = fixture();
    for case in f["ks_2samp"].as_array().unwrap() {
        let a = sorted(sample(&case["a"]));
        let b = sorted(sample(&case["b"]));
        let r = ks::ks_2samp(&a, &b).unwrap();
        let want_d = case["statistic"].as_f64().unwrap();
        let want_p = case["p_value"].as_f64().unwrap();
        let method = if case["method"] == "exact" {
            KsMethod::Exact
        } else {
            KsMethod::Asymptotic
        };
        let label = format!("n={}/{} {:?}", a.len(), b.len(), case["b"]["kind"]);
        assert_eq!(r.method, method, "{label}");
        assert!(
            close(r.statistic, want_d, 1e-12),
            "{label}: D {} vs {want_d}",
            r.statistic
        );
        assert!(
            close(r.p_value, want_p, 1e-9),
            "{label}: p {} vs {want_p}",
            r.p_value
        );
    }
}

#[test]
fn kolmogorov_distribution_matches_scipy_kstwo_on_every_branch() {
    let f = fixture();
    for case in f["kstwo_sf"].as_array().unwrap() {
        let n = case["n"].as_u64().unwrap();
        let x = case["x"].as_f64().unwrap();
        let want = case["sf"].as_f64().unwrap();
        let got = ks::kolmogorov_sf(n, x);
        assert!(
            close(got, want, 1e-9),
            "kstwo.sf({x}, {n}) = {want}, got {got}"
        );
    }
}

#[test]
fn smirnov_matches_scipy() {
    let f = fixture();
    for case in f["smirnov"].as_array().unwrap() {
        let n = case["n"].as_u64().unwrap();
        let d = case["d"].as_f64().unwrap();
        let want = case["sf"].as_f64().unwrap();
        let got = ks::smirnov_sf(n, d);
        assert!(
            close(got, want, 1e-10),
            "smirnov({n}, {d}) = {want}, got {got}"
        );
    }
}

#[test]
fn psi_jensen_shannon_and_wasserstein_match_numpy_and_scipy() {
    let f = fixture();
    for case in f["distances"].as_array().unwrap() {
        let reference = sorted(sample(&case["reference"]));
        let current = sorted(sample(&case["current"]));
        let edges: Vec<f64> = serde_json::from_value(case["edges"].clone()).unwrap();
        let r = stats::bin_shares(&edges, &reference);
        let c = stats::bin_shares(&edges, &current);
        let psi = stats::psi(&r, &c);
        let js = stats::jensen_shannon(&r, &c);
        let wd = stats::wasserstein(&reference, &current);
        let wn = stats::wasserstein_norm(&reference, &current);
        for (name, got, key) in [
            ("psi", psi, "psi"),
            ("js", js, "jensen_shannon"),
            ("wasserstein", wd, "wasserstein"),
            ("wasserstein_norm", wn, "wasserstein_norm"),
        ] {
            let want = case[key].as_f64().unwrap();
            assert!(close(got, want, 1e-9), "{name}: {got} vs {want}");
        }
    }
}

#[test]
fn chi_square_matches_scipy_chi2_contingency() {
    let f = fixture();
    for case in f["chi2_contingency"].as_array().unwrap() {
        let r: Vec<f64> = serde_json::from_value(case["reference"].clone()).unwrap();
        let c: Vec<f64> = serde_json::from_value(case["current"].clone()).unwrap();
        let got = stats::chi_square_2xk(&r, &c).unwrap();
        assert!(close(
            got.statistic,
            case["statistic"].as_f64().unwrap(),
            1e-10
        ));
        assert!(
            close(got.p_value, case["p_value"].as_f64().unwrap(), 1e-8),
            "{got:?} vs {case}"
        );
        assert_eq!(got.dof as u64, case["dof"].as_u64().unwrap());
    }
}

#[test]
fn corrections_match_scipy_false_discovery_control() {
    let f = fixture();
    let m = &f["multiple_testing"];
    let p: Vec<f64> = serde_json::from_value(m["p_values"].clone()).unwrap();
    for (correction, key) in [
        (Correction::Bh, "bh"),
        (Correction::Bonferroni, "bonferroni"),
    ] {
        let want: Vec<f64> = serde_json::from_value(m[key].clone()).unwrap();
        let got = stats::adjust(&p, correction);
        for (g, w) in got.iter().zip(&want) {
            assert!(close(*g, *w, 1e-12), "{key}: {got:?} vs {want:?}");
        }
    }
    assert_eq!(stats::adjust(&p, Correction::None), p);
    let with_nan = stats::adjust(&[0.01, f64::NAN, 0.02], Correction::Bonferroni);
    assert_eq!(with_nan[0], 0.02);
    assert!(with_nan[1].is_nan());
}

#[test]
fn missing_rate_change_is_detected() {
    // 5% missing in the reference, 40% in a window of 50: clearly different.
    let t = stats::missing_rate_test(1000, 20000, 20, 50).unwrap();
    assert!(t.p_value < 1e-10, "{t:?}");
    // Same rate: no evidence.
    let same = stats::missing_rate_test(1000, 20000, 5, 100).unwrap();
    assert!(same.p_value > 0.5, "{same:?}");
    // Nothing missing anywhere: no test.
    assert!(stats::missing_rate_test(0, 20000, 0, 50).is_none());
}

/// Evidently computes the normed Wasserstein distance and the KS p-value the same way:
/// values from `core/tests/reference/evidently_values.py` (Evidently 0.7.23).
#[test]
fn wasserstein_norm_and_ks_match_evidently() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/evidently_reference.json");
    let f: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for case in f["cases"].as_array().unwrap() {
        let reference = sorted(sample(&case["reference"]));
        let current = sorted(sample(&case["current"]));
        let wn = stats::wasserstein_norm(&reference, &current);
        let want = case["wasserstein_norm"].as_f64().unwrap();
        assert!(
            close(wn, want, 1e-9),
            "wasserstein_norm {wn} vs Evidently {want}"
        );
        let p = ks::ks_2samp(&reference, &current).unwrap().p_value;
        let want = case["ks_p_value"].as_f64().unwrap();
        assert!(close(p, want, 1e-9), "KS p {p} vs Evidently {want}");
    }
}

/// The generator of `core/tests/reference/extreme_values.py`: the LCG above, then
/// `x * scale + shift`; ascending.
fn extreme_sample(spec: &Value) -> Vec<f64> {
    let mut state = spec["seed"].as_u64().unwrap();
    let n = spec["n"].as_u64().unwrap() as usize;
    let kind = spec["kind"].as_str().unwrap();
    let scale = spec["scale"].as_f64().unwrap();
    let shift = spec["shift"].as_f64().unwrap();
    let values = (0..n).map(|_| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let u = (state >> 11) as f64 * (1.0 / 9007199254740992.0);
        let x = match kind {
            "uniform" => u,
            "sym" => 2.0 * u - 1.0,
            "sign" => {
                if u < 0.5 {
                    -1.0
                } else {
                    1.0
                }
            }
            "const" => 0.0,
            other => panic!("unknown kind {other}"),
        };
        x * scale + shift
    });
    sorted(values.collect())
}

/// An expected value: a number, or "max" where the true value exceeds `f64::MAX` and the
/// result saturates.
fn expected(v: &Value) -> f64 {
    if v == "max" {
        f64::MAX
    } else {
        v.as_f64().unwrap()
    }
}

/// Within 1e-12 relative, or one step of the subnormal grid: below 2.2e-308 a float holds
/// fewer digits than 1e-12 asks, and the exact value rounded once can differ by that step.
fn agrees(got: f64, want: f64) -> bool {
    got == want || (got - want).abs() <= (1e-12 * want.abs()).max(f64::from_bits(1))
}

/// Values near 1e160, up to +-1.7e308 with both signs, constant, tiny and subnormal: every
/// statistic finite and equal to the exact value (fractions, in
/// `core/tests/reference/extreme_values.py`).
#[test]
fn statistics_of_extreme_magnitudes_are_finite_and_exact() {
    use scorewatch_core::drift::html_report;
    use scorewatch_core::drift::reference::summarize;

    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/extreme_values.json");
    let f: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for case in f["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let reference = extreme_sample(&case["reference"]);
        let current = extreme_sample(&case["current"]);
        let summary = summarize(name, &reference, reference.len(), 10);
        let ks = ks::ks_2samp(&reference, &current).unwrap();
        for (what, got) in [
            ("mean", summary.mean.unwrap()),
            ("std", summary.std.unwrap()),
            ("median", summary.median.unwrap()),
            ("q25", summary.q25.unwrap()),
            ("q75", summary.q75.unwrap()),
            ("min", summary.min.unwrap()),
            ("max", summary.max.unwrap()),
            ("std_pop", stats::std_population(&reference)),
            ("wasserstein", stats::wasserstein(&reference, &current)),
            (
                "wasserstein_norm",
                stats::wasserstein_norm(&reference, &current),
            ),
            ("ks", ks.statistic),
        ] {
            let want = expected(&case[what]);
            assert!(got.is_finite(), "{name} {what}: {got}");
            assert!(agrees(got, want), "{name} {what}: {got:e} vs {want:e}");
        }
        assert!(
            summary.psi_bin_edges.iter().all(|e| e.is_finite())
                && summary.psi_bin_edges.windows(2).all(|w| w[0] < w[1]),
            "{name}: {:?}",
            summary.psi_bin_edges
        );

        // The categorical form of the normed distance agrees with the per-value one.
        let (categories, r, c) = stats::category_counts(&reference, &current);
        let by_counts = stats::wasserstein_counts_norm(&categories, &r, &c, &reference);
        let want = expected(&case["wasserstein_norm"]);
        assert!(agrees(by_counts, want), "{name} counts: {by_counts:e}");
        let w_counts = stats::wasserstein_counts(&categories, &r, &c);
        let want = expected(&case["wasserstein"]);
        assert!(agrees(w_counts, want), "{name} counts: {w_counts:e}");

        // Shares on the PSI bins and the chart bins: finite, summing to 1.
        let rs = stats::bin_shares_sorted(&summary.psi_bin_edges, &reference);
        let cs = stats::bin_shares_sorted(&summary.psi_bin_edges, &current);
        let (psi, js) = (stats::psi(&rs, &cs), stats::jensen_shannon(&rs, &cs));
        assert!(
            psi.is_finite() && js.is_finite(),
            "{name}: psi {psi}, js {js}"
        );
        let h = html_report::histogram(name, &reference, &current).unwrap();
        assert!(
            h.edges.iter().all(|e| e.is_finite()) && h.edges.windows(2).all(|w| w[0] <= w[1]),
            "{name}: {:?}",
            h.edges
        );
        for shares in [&h.reference, &h.current] {
            let total: f64 = shares.iter().sum();
            assert!((total - 1.0).abs() < 1e-12, "{name}: {shares:?}");
        }
    }
}

/// Values near 1e160: the reference std used to overflow and the normed
/// Wasserstein distance of a window shifted by about half a standard deviation came out 0.
#[test]
fn normed_wasserstein_near_1e160_is_about_a_half() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/extreme_values.json");
    let f: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let case = &f["cases"][0];
    assert_eq!(case["name"], "near_1e160");
    let wn = stats::wasserstein_norm(
        &extreme_sample(&case["reference"]),
        &extreme_sample(&case["current"]),
    );
    assert!((0.45..0.6).contains(&wn), "{wn}");
}

/// Results that exceed the largest float saturate there instead of becoming inf or NaN.
#[test]
fn results_beyond_the_largest_float_saturate() {
    let (lo, hi) = ([-f64::MAX; 3], [f64::MAX; 2]);
    assert_eq!(stats::wasserstein(&lo, &hi), f64::MAX);
    assert_eq!(stats::wasserstein_norm(&lo, &hi), f64::MAX);
    let both = [-f64::MAX, f64::MAX];
    let r = scorewatch_core::drift::reference::summarize("x", &both, 10, 4);
    assert_eq!(r.std, Some(f64::MAX));
    assert_eq!(r.mean, Some(0.0));
    assert_eq!(r.median, Some(0.0));
    assert_eq!(stats::std_population(&both), f64::MAX);
}

/// A window of extreme features through the whole analysis: every statistic finite.
#[test]
fn analysis_of_extreme_features_is_finite() {
    use scorewatch_core::drift::analysis::{
        analyse, Baseline, Column, FeatureBaseline, Settings, Window,
    };
    use scorewatch_core::drift::reference::summarize;

    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/extreme_values.json");
    let f: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = f["cases"].as_array().unwrap();
    let mut features = Vec::new();
    let mut columns = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let r = summarize(name, &extreme_sample(&case["reference"]), 20_000, 10);
        features.push(FeatureBaseline {
            feature: r.feature,
            sorted_sample: r.sorted_sample,
            psi_edges: r.psi_bin_edges,
            missing_rate: r.missing_rate,
            n_samples: r.n_samples,
            n_distinct: r.n_distinct,
            importance: 1.0,
        });
        // In no particular order, as a window arrives.
        let mut current = extreme_sample(&case["current"]);
        current.reverse();
        columns.push(Column::from(current));
    }
    let n_rows = columns.iter().map(Column::len).max().unwrap();
    let baseline = Baseline {
        features,
        scores: (0..100).map(|i| i as f64 / 100.0).collect(),
        refusal_rate: 0.1,
    };
    let window = Window {
        columns,
        n_rows,
        probabilities: (0..n_rows).map(|i| (i % 97) as f64 / 97.0).collect(),
        n_refused: 0,
    };
    let settings = Settings {
        min_predictions: 1,
        ..Settings::default()
    };
    let analysis = analyse(&baseline, &window, &settings);
    for (feature, case) in analysis.features.iter().zip(cases) {
        for (what, v) in [
            ("ks", feature.ks_statistic),
            ("chi2", feature.chi2_statistic),
            ("psi", feature.psi),
            ("wasserstein_norm", feature.wasserstein_norm),
            ("js", feature.jensen_shannon),
        ] {
            assert!(
                v.is_none_or(f64::is_finite),
                "{} {what}: {v:?}",
                feature.feature
            );
        }
        let wn = feature.wasserstein_norm.unwrap();
        let want = expected(&case["wasserstein_norm"]);
        assert!(agrees(wn, want), "{}: {wn:e} vs {want:e}", feature.feature);
    }
}
