//! Models of every kind a user may bring, saved by LightGBM 4.7's Python package, scored
//! by scorewatch exactly as LightGBM Python scores them, or refused with a message that
//! names the problem. Models and reference values: `core/tests/reference/model_zoo.py`
//! and `core/tests/reference/demo_thresholds.py`.

use std::path::PathBuf;

use scorewatch_core::model::application::Application;
use scorewatch_core::model::booster::{ExplainError, Model};
use scorewatch_core::model::file::ModelFile;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

#[derive(serde::Deserialize)]
struct Cases {
    models: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    file: String,
    expect: String,
    objective_line: Option<String>,
    #[serde(default)]
    feature_names: Vec<String>,
    #[serde(default)]
    rows: Vec<Vec<Option<f64>>>,
    #[serde(default)]
    probability: Vec<f64>,
    #[serde(default)]
    raw_score: Vec<f64>,
    #[serde(default)]
    threshold_rows: Vec<usize>,
}

/// The tests of this file run one at a time: one of them counts the models parsed by the
/// whole process.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(fixtures().join("models/cases.json")).unwrap();
    serde_json::from_str::<Cases>(&text).unwrap().models
}

fn model_bytes(file: &str) -> Vec<u8> {
    std::fs::read(fixtures().join("models").join(file)).unwrap()
}

fn flat(rows: &[Vec<Option<f64>>]) -> Vec<f64> {
    rows.iter()
        .flatten()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect()
}

fn assert_close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-12,
        "{what}: scorewatch {got:?}, LightGBM Python {want:?}"
    );
}

#[test]
fn accepted_models_score_like_lightgbm_python() {
    let _serial = serial();
    let mut n = 0;
    for case in cases().iter().filter(|c| c.expect == "accept") {
        let file = ModelFile::parse(&model_bytes(&case.file))
            .unwrap_or_else(|e| panic!("{}: {e}", case.file));
        assert_eq!(file.feature_names(), case.feature_names, "{}", case.file);
        let model = Model::load(&file, 0.5).unwrap_or_else(|e| panic!("{}: {e:#}", case.file));
        assert_eq!(model.feature_names(), case.feature_names);
        let rows = flat(&case.rows);
        let batch = model.predict(&rows).unwrap();
        let raw = model.raw_scores(&rows).unwrap();
        let width = model.n_features();
        for (i, want) in case.probability.iter().enumerate() {
            let what = format!("{} row {i}", case.file);
            assert_close(batch[i], *want, &what);
            assert_close(raw[i], case.raw_score[i], &format!("{what} raw score"));
            // The single-row path, which the predict API takes for one application.
            let one = model.predict(&rows[i * width..(i + 1) * width]).unwrap();
            assert_close(one[0], *want, &format!("{what} (single row)"));
        }
        assert!(!case.threshold_rows.is_empty(), "{}", case.file);
        n += 1;
    }
    assert_eq!(n, 11, "every accepted kind is checked");
}

#[test]
fn refused_objectives_are_named() {
    let _serial = serial();
    let mut n = 0;
    for case in cases().iter().filter(|c| c.expect == "refuse") {
        let text = String::from_utf8(model_bytes(&case.file)).unwrap();
        let err = format!("{:#}", Model::from_text(&text, 0.5).unwrap_err());
        let named = match &case.objective_line {
            Some(line) => {
                let objective = line
                    .trim_start_matches("objective=")
                    .split(' ')
                    .next()
                    .unwrap();
                format!("`{objective}`")
            }
            None => "custom objective".to_string(),
        };
        assert!(err.contains(&named), "{}: {err}", case.file);
        assert!(err.contains("`binary` or `cross_entropy`"), "{err}");
        n += 1;
    }
    assert_eq!(n, 5);
}

#[test]
fn files_lightgbm_cannot_load_are_refused_without_a_crash() {
    let _serial = serial();
    let good = String::from_utf8(model_bytes("binary.txt")).unwrap();
    let mut bad: Vec<(String, Vec<u8>)> = vec![
        ("empty".into(), Vec::new()),
        ("blank".into(), b"\n\n".to_vec()),
        (
            "not a model".into(),
            b"SK_ID_CURR,TARGET\n100002,1\n".to_vec(),
        ),
        ("JSON".into(), br#"{"tree": 1}"#.to_vec()),
        ("binary".into(), vec![0x1f, 0x8b, 0x08, 0x00, 0xff]),
        (
            "LightGBM 3 format".into(),
            good.replacen("version=v4", "version=v3", 1).into_bytes(),
        ),
        (
            "LightGBM 2 format".into(),
            good.replacen("version=v4", "version=v2", 1).into_bytes(),
        ),
    ];
    // Cut anywhere: in the header, inside trees, between them.
    let end = good.find("end of trees").unwrap();
    for cut in (10..end).step_by(1_201).chain([end, end + 3]) {
        bad.push((
            format!("cut at byte {cut}"),
            good.as_bytes()[..cut].to_vec(),
        ));
    }
    // A tree whose announced size no longer matches.
    bad.push((
        "edited tree".into(),
        good.replacen("num_leaves=", "num_leaves=1", 2).into_bytes(),
    ));
    for (what, bytes) in bad {
        let refused = ModelFile::parse(&bytes);
        assert!(refused.is_err(), "{what} was accepted");
        let message = refused.unwrap_err().to_string();
        assert!(!message.is_empty(), "{what}");
        if let Ok(text) = String::from_utf8(bytes) {
            assert!(Model::from_text(&text, 0.5).is_err(), "{what} loaded");
        }
    }
}

#[test]
fn linear_trees_are_scored_but_not_explained() {
    let _serial = serial();
    let text = String::from_utf8(model_bytes("linear_tree.txt")).unwrap();
    let model = Model::from_text(&text, 0.5).unwrap();
    assert!(!model.explainable());
    let row = vec![f64::NAN; model.n_features()];
    assert!(model.predict(&row).is_ok());
    assert!(matches!(
        model.contributions(&row),
        Err(ExplainError::Unavailable)
    ));
    let plain =
        Model::from_text(&String::from_utf8(model_bytes("binary.txt")).unwrap(), 0.5).unwrap();
    assert!(plain.explainable());
    assert!(plain.contributions(&row).is_ok());
}

#[derive(serde::Deserialize)]
struct DemoThresholds {
    base_rows: Vec<Vec<Option<f64>>>,
    cases: Vec<ThresholdCase>,
    probability: Vec<f64>,
}

#[derive(serde::Deserialize)]
struct ThresholdCase {
    base: usize,
    feature: usize,
    value: f64,
}

/// Every split threshold of the demo model, hit exactly (and one double above), scored
/// from JSON text the way the API reads it: equal to LightGBM Python.
#[test]
fn demo_model_rows_on_every_split_threshold_score_like_lightgbm_python() {
    let _serial = serial();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("artifacts/model.txt")).unwrap();
    let model = Model::from_text(&text, 0.494).unwrap();
    let t: DemoThresholds = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("demo_thresholds.json")).unwrap(),
    )
    .unwrap();
    let names = model.feature_names().to_vec();
    let mut rows = Vec::with_capacity(t.cases.len() * names.len());
    for (i, c) in t.cases.iter().enumerate() {
        let mut row: Vec<Option<f64>> = t.base_rows[c.base].clone();
        row[c.feature] = Some(c.value);
        // As a client sends it: shortest text, read by the API's parser.
        let features: Vec<String> = names
            .iter()
            .zip(&row)
            .filter_map(|(n, v)| v.map(|v| format!("{n:?}: {v:?}")))
            .collect();
        let json = format!("{{\"features\": {{{}}}}}", features.join(", "));
        let app = Application::from_json(json.as_bytes(), &model)
            .unwrap()
            .unwrap();
        assert_eq!(
            app.features()[c.feature].to_bits(),
            c.value.to_bits(),
            "case {i}: {} read from {:?}",
            names[c.feature],
            format!("{:?}", c.value)
        );
        rows.extend_from_slice(app.features());
    }
    let got = model.predict(&rows).unwrap();
    for (i, (got, want)) in got.iter().zip(&t.probability).enumerate() {
        assert_close(*got, *want, &format!("threshold case {i}"));
    }
    assert!(t.cases.len() > 1_000);
}

/// Sixteen threads scoring single rows at once on one loaded model get LightGBM's numbers,
/// and the model is parsed once, when it loads: never again while scoring.
#[test]
fn concurrent_single_rows_share_one_model() {
    let _serial = serial();
    let case = cases()
        .into_iter()
        .find(|c| c.file == "binary.txt")
        .unwrap();
    let text = String::from_utf8(model_bytes(&case.file)).unwrap();
    let model = std::sync::Arc::new(Model::from_text(&text, 0.5).unwrap());
    let parsed = scorewatch_core::model::booster::boosters_parsed();
    let rows = std::sync::Arc::new(flat(&case.rows));
    let want = std::sync::Arc::new(case.probability.clone());
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let (model, rows, want) = (model.clone(), rows.clone(), want.clone());
            std::thread::spawn(move || {
                let w = model.n_features();
                for round in 0..50 {
                    let i = (t * 7 + round) % want.len();
                    let p = model.predict(&rows[i * w..(i + 1) * w]).unwrap()[0];
                    assert_close(p, want[i], &format!("thread {t} row {i}"));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(
        scorewatch_core::model::booster::boosters_parsed(),
        parsed,
        "scoring parsed the model again"
    );
}

/// Random same-length edits inside the trees (a digit changed, as a damaged copy or a hand
/// edit would): each edited file is refused, or loads and scores without crashing the
/// process. LightGBM itself aborts or reads out of bounds on some of these.
#[test]
fn edited_trees_never_crash_the_process() {
    use rand::{Rng, SeedableRng};
    let _serial = serial();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let cases = cases();
    let (mut refused, mut loaded) = (0, 0);
    for file in ["binary.txt", "categorical.txt", "linear_tree.txt"] {
        let case = cases.iter().find(|c| c.file == file).unwrap();
        let good = String::from_utf8(model_bytes(file)).unwrap();
        let start = good.find("Tree=0").unwrap();
        let end = good.find("end of trees").unwrap();
        // The digits of the trees, each a place an edit can hit.
        let digits: Vec<usize> = (start..end)
            .filter(|&i| good.as_bytes()[i].is_ascii_digit())
            .collect();
        let rows = flat(&case.rows);
        for _ in 0..400 {
            let mut bytes = good.clone().into_bytes();
            let at = digits[rng.gen_range(0..digits.len())];
            let old = bytes[at];
            let new = loop {
                let d = b'0' + rng.gen_range(0..10u8);
                if d != old {
                    break d;
                }
            };
            bytes[at] = new;
            let text = String::from_utf8(bytes).unwrap();
            match Model::from_text(&text, 0.5) {
                Err(_) => refused += 1,
                Ok(model) => {
                    // Scoring may give other numbers (the model is another one), never a crash.
                    let _ = model.predict(&rows);
                    let w = model.n_features();
                    let _ = model.predict(&rows[..w]);
                    loaded += 1;
                }
            }
        }
    }
    assert!(
        refused > 0 && loaded > 0,
        "refused {refused}, loaded {loaded}"
    );
}
