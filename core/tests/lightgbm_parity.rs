//! scorewatch's probabilities equal those of LightGBM's own Python package for the same
//! model file and rows (reference written by `core/tests/reference/lightgbm_predictions.py`).

use std::path::PathBuf;

use scorewatch_core::drift::reference;
use scorewatch_core::model::booster::Model;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[derive(serde::Deserialize)]
struct Expected {
    sk_id_curr: Vec<i64>,
    probability: Vec<f64>,
}

#[test]
fn probabilities_match_lightgbm_python() {
    let root = repo_root();
    let text = std::fs::read_to_string(root.join("artifacts/model.txt")).unwrap();
    let model = Model::from_text(&text, 0.494).unwrap();
    let expected: Expected = serde_json::from_str(
        &std::fs::read_to_string(root.join("core/tests/fixtures/lightgbm_predictions.json"))
            .unwrap(),
    )
    .unwrap();
    let n = expected.probability.len();
    let data = reference::read_csv(
        &root.join("artifacts/test.csv.gz"),
        model.feature_names(),
        n,
    )
    .unwrap();
    assert_eq!(data.n_rows, n);
    assert_eq!(expected.sk_id_curr.len(), n);

    let batch = model.predict(&data.rows).unwrap();
    let width = model.n_features();
    for (i, want) in expected.probability.iter().enumerate() {
        assert!(
            (batch[i] - want).abs() < 1e-12,
            "row {i} (SK_ID_CURR {}): scorewatch {} vs LightGBM Python {want}",
            expected.sk_id_curr[i],
            batch[i]
        );
        // The single-row path (what the predict API uses) gives the same number.
        let one = model
            .predict(&data.rows[i * width..(i + 1) * width])
            .unwrap();
        assert!((one[0] - want).abs() < 1e-12, "row {i} single-row path");
    }
    let spread = expected
        .probability
        .iter()
        .cloned()
        .fold(f64::NEG_INFINITY, f64::max)
        - expected
            .probability
            .iter()
            .cloned()
            .fold(f64::INFINITY, f64::min);
    assert!(
        spread > 0.3,
        "the reference rows should span a range of scores"
    );
}
