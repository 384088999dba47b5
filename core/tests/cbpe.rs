//! CBPE against NannyML 0.13.1 (values written by `core/tests/reference/cbpe_values.py`
//! into `core/tests/fixtures/cbpe_reference.json`, data included): calibrated PDs bit for
//! bit, the estimated ROC AUC, its sampling error and the expected default rate to 1e-12.

use serde_json::Value;

use scorewatch_core::performance::cbpe::{self, CalibrationMode, Calibrator};

fn fixture() -> Value {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cbpe_reference.json");
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

fn close(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-12,
        "{what}: {got:e}, NannyML {want:e}"
    );
}

#[test]
fn estimates_equal_nannyml() {
    let f = fixture();
    for s in f["scenarios"].as_array().unwrap() {
        let name = s["name"].as_str().unwrap();
        let ref_scores = floats(&s["reference"]["scores"]);
        let ref_labels = labels(&s["reference"]["labels"]);
        let calibrates = s["calibration"]["needs_calibration"].as_bool().unwrap();
        let mode = if calibrates {
            CalibrationMode::Isotonic
        } else {
            CalibrationMode::None
        };
        let cal = Calibrator::fit_with(&ref_scores, &ref_labels, mode).unwrap();
        if calibrates {
            let want = floats(&s["calibration"]["reference_calibrated"]);
            let got = cal.apply(&ref_scores);
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(
                    g.to_bits(),
                    w.to_bits(),
                    "{name}: reference row {i}: {g:e} vs {w:e}"
                );
            }
        }
        for c in s["cohorts"].as_array().unwrap() {
            let n = c["spec"]["n"].as_u64().unwrap() as usize;
            let what = format!("{name} n={n}");
            let scores = floats(&c["scores"]);
            let calibrated = cal.apply(&scores);
            for (i, (g, w)) in calibrated.iter().zip(floats(&c["calibrated"])).enumerate() {
                assert_eq!(g.to_bits(), w.to_bits(), "{what}: row {i}: {g:e} vs {w:e}");
            }
            let auc = &c["roc_auc"];
            let estimated = cbpe::estimate_roc_auc(&scores, &calibrated).unwrap();
            close(
                &format!("{what} estimated AUC"),
                estimated,
                auc["estimated"].as_f64().unwrap(),
            );
            // Ties ranked by row order (NannyML leaves them to numpy's unstable sort).
            close(
                &format!("{what} sampling error"),
                cal.roc_auc_sampling_error(n).unwrap(),
                auc["sampling_error_stable_ties"].as_f64().unwrap(),
            );
            close(
                &format!("{what} expected default rate"),
                cbpe::mean(&calibrated).unwrap(),
                c["default_rate"]["expected_mean_calibrated"]
                    .as_f64()
                    .unwrap(),
            );
        }
    }
}

#[test]
fn estimate_edge_cases_equal_nannyml() {
    let f = fixture();
    for c in f["estimate_roc_auc_cases"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let got = cbpe::estimate_roc_auc(&floats(&c["uncalibrated"]), &floats(&c["calibrated"]));
        match c["estimated"].as_f64() {
            None => assert_eq!(got, None, "{name}"),
            Some(want) => close(name, got.expect(name), want),
        }
    }
}
