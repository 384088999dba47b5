//! The performance statistics against scikit-learn, scipy and exact values (written by
//! `core/tests/reference/performance_values.py` into
//! `core/tests/fixtures/performance_reference.json`, data included): values to 1e-12
//! absolute, p-values to 1e-9 relative.

use serde_json::Value;

use scorewatch_core::performance::calibration::{self, MasterScale};
use scorewatch_core::performance::discrimination::{self, Confusion};

fn fixture() -> Value {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/performance_reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn labels(v: &Value) -> Vec<bool> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() == 1)
        .collect()
}

/// `got` equals `want` (null = None) within `abs` absolute.
fn check_abs(case: &str, what: &str, got: Option<f64>, want: &Value, abs: f64) {
    match (got, want.as_f64()) {
        (None, None) => {}
        (Some(g), Some(w)) => assert!(
            (g - w).abs() <= abs,
            "{case}: {what} = {g:e}, reference {w:e} (off by {:e})",
            (g - w).abs()
        ),
        (g, _) => panic!("{case}: {what} = {g:?}, reference {want}"),
    }
}

/// `got` equals `want` within `rel` relative (exactly when the reference is 0).
fn check_rel(case: &str, what: &str, got: Option<f64>, want: &Value, rel: f64) {
    match (got, want.as_f64()) {
        (None, None) => {}
        (Some(g), Some(w)) => {
            let ok = if w == 0.0 {
                g == 0.0
            } else {
                ((g - w) / w).abs() <= rel
            };
            assert!(ok, "{case}: {what} = {g:e}, reference {w:e}");
        }
        (g, _) => panic!("{case}: {what} = {g:?}, reference {want}"),
    }
}

#[test]
fn discrimination_matches_sklearn_scipy_and_exact_delong() {
    let f = fixture();
    let cases = f["discrimination"].as_array().unwrap();
    assert!(cases.len() >= 12);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let scores = floats(&c["scores"]);
        let defaulted = labels(&c["labels"]);
        let e = &c["expected"];
        let auc = discrimination::roc_auc_delong(&scores, &defaulted);
        check_abs(name, "roc_auc", auc.map(|a| a.auc), &e["roc_auc"], 1e-12);
        check_abs(name, "gini", auc.map(|a| a.gini()), &e["gini"], 1e-12);
        check_abs(
            name,
            "delong_variance",
            auc.and_then(|a| a.variance),
            &e["delong_variance"],
            1e-12,
        );
        check_abs(
            name,
            "ci_low",
            auc.and_then(|a| a.ci_low),
            &e["ci_low"],
            1e-12,
        );
        check_abs(
            name,
            "ci_high",
            auc.and_then(|a| a.ci_high),
            &e["ci_high"],
            1e-12,
        );
        check_abs(
            name,
            "ks_separation",
            discrimination::ks_separation(&scores, &defaulted),
            &e["ks_separation"],
            1e-12,
        );
        check_abs(
            name,
            "brier",
            discrimination::brier(&scores, &defaulted),
            &e["brier"],
            1e-12,
        );
        check_abs(
            name,
            "log_loss",
            discrimination::log_loss(&scores, &defaulted),
            &e["log_loss"],
            1e-12,
        );
        let test =
            auc.and_then(|a| discrimination::ecb_auc_test(&a, c["auc_initial"].as_f64().unwrap()));
        let no_test = e["ecb_auc_test"].is_null() || e["ecb_auc_test"]["p_value"].is_null();
        match (&test, no_test) {
            (None, true) => {}
            (Some(t), false) => {
                check_rel(
                    name,
                    "ECB statistic",
                    Some(t.statistic),
                    &e["ecb_auc_test"]["statistic"],
                    1e-9,
                );
                check_rel(
                    name,
                    "ECB p-value",
                    Some(t.p_value),
                    &e["ecb_auc_test"]["p_value"],
                    1e-9,
                );
            }
            _ => panic!("{name}: ECB test {test:?}, reference {}", e["ecb_auc_test"]),
        }
        let threshold = c["threshold"].as_f64().unwrap();
        let confusion = Confusion::at_threshold(&scores, &defaulted, threshold);
        let want = &e["confusion"];
        assert_eq!(
            confusion.true_positives,
            want["tp"].as_u64().unwrap(),
            "{name}: tp"
        );
        assert_eq!(
            confusion.false_positives,
            want["fp"].as_u64().unwrap(),
            "{name}: fp"
        );
        assert_eq!(
            confusion.true_negatives,
            want["tn"].as_u64().unwrap(),
            "{name}: tn"
        );
        assert_eq!(
            confusion.false_negatives,
            want["fn"].as_u64().unwrap(),
            "{name}: fn"
        );
        check_abs(
            name,
            "approval_rate",
            confusion.approval_rate(),
            &want["approval_rate"],
            1e-12,
        );
        check_abs(
            name,
            "default_rate_approved",
            confusion.default_rate_approved(),
            &want["default_rate_approved"],
            1e-12,
        );
    }
}

#[test]
fn calibration_by_grade_matches_numpy_and_scipy() {
    let f = fixture();
    for c in f["calibration"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let reference = floats(&c["reference_scores"]);
        let scores = floats(&c["scores"]);
        let defaulted = labels(&c["labels"]);
        let e = &c["expected"];
        let scale = MasterScale::from_reference(&reference, calibration::DEFAULT_GRADES).unwrap();
        let edges = floats(&e["edges"]);
        assert_eq!(scale.bounds.len(), edges.len(), "{name}");
        for (g, w) in scale.bounds.iter().zip(&edges) {
            assert!((g - w).abs() <= 1e-15, "{name}: edge {g} vs {w}");
        }
        let got = calibration::calibration(&scale, &scores, &defaulted);
        let want_grades = e["grades"].as_array().unwrap();
        assert_eq!(got.grades.len(), want_grades.len(), "{name}");
        for (g, w) in got.grades.iter().zip(want_grades) {
            let what = format!("{name} grade {}", g.grade);
            assert_eq!(g.grade as u64, w["grade"].as_u64().unwrap(), "{what}");
            assert_eq!(g.n, w["n"].as_u64().unwrap(), "{what}: n");
            assert_eq!(
                g.defaults,
                w["defaults"].as_u64().unwrap(),
                "{what}: defaults"
            );
            check_abs(&what, "pd_low", Some(g.pd_low), &w["pd_low"], 1e-15);
            check_abs(&what, "pd_high", Some(g.pd_high), &w["pd_high"], 1e-15);
            check_abs(&what, "mean_pd", g.mean_pd, &w["mean_pd"], 1e-12);
            check_abs(
                &what,
                "default_rate",
                g.default_rate,
                &w["default_rate"],
                1e-12,
            );
            check_rel(
                &what,
                "Jeffreys",
                g.jeffreys_p_value,
                &w["jeffreys_p_value"],
                1e-9,
            );
        }
        let p = &e["portfolio"];
        assert_eq!(got.portfolio.n, p["n"].as_u64().unwrap(), "{name}");
        assert_eq!(
            got.portfolio.defaults,
            p["defaults"].as_u64().unwrap(),
            "{name}"
        );
        check_abs(
            name,
            "portfolio mean_pd",
            got.portfolio.mean_pd,
            &p["mean_pd"],
            1e-12,
        );
        check_abs(
            name,
            "portfolio default_rate",
            got.portfolio.default_rate,
            &p["default_rate"],
            1e-12,
        );
        check_rel(
            name,
            "portfolio Jeffreys",
            got.portfolio.jeffreys_p_value,
            &p["jeffreys_p_value"],
            1e-9,
        );
        check_abs(name, "herfindahl", got.herfindahl, &e["herfindahl"], 1e-12);
        check_abs(
            name,
            "herfindahl_ecb",
            got.herfindahl_ecb,
            &e["herfindahl_ecb"],
            1e-12,
        );
        check_abs(
            name,
            "grade_psi",
            calibration::grade_psi(&scale, &reference, &scores),
            &e["grade_psi"],
            1e-12,
        );
    }
}

#[test]
fn jeffreys_matches_scipy_beta_cdf() {
    let f = fixture();
    for c in f["jeffreys"].as_array().unwrap() {
        let (n, d, pd) = (
            c["n"].as_u64().unwrap(),
            c["defaults"].as_u64().unwrap(),
            c["mean_pd"].as_f64().unwrap(),
        );
        check_rel(
            &format!("Jeffreys n={n} d={d} pd={pd}"),
            "p-value",
            calibration::jeffreys_p_value(n, d, pd),
            &c["p_value"],
            1e-9,
        );
    }
}
