//! One drift analysis over all 419 features: the demo reference (20,000 rows) against a
//! window of 100,000 predictions (the test set, repeated), without the database.
//!
//! cargo bench -p scorewatch-core --bench drift

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};

use scorewatch_core::artifacts;
use scorewatch_core::drift::analysis::{analyse, Baseline, FeatureBaseline, Settings, Window};
use scorewatch_core::drift::reference::{read_csv, summarize_all};
use scorewatch_core::model::booster::Model;

fn drift(c: &mut Criterion) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../artifacts");
    let text = std::fs::read_to_string(dir.join(artifacts::MODEL_FILE)).expect("demo model");
    let model = Model::from_text(&text, 0.494).expect("model loads");
    let names = model.feature_names().to_vec();
    let reference = read_csv(&dir.join(artifacts::REFERENCE_FILE), &names, usize::MAX).unwrap();
    let importances = model.importances().unwrap();
    let features: Vec<FeatureBaseline> = summarize_all(&reference, 20_000, 10)
        .into_iter()
        .zip(importances)
        .map(|(f, importance)| FeatureBaseline {
            feature: f.feature,
            sorted_sample: f.sorted_sample,
            psi_edges: f.psi_bin_edges,
            missing_rate: f.missing_rate,
            n_samples: f.n_samples,
            n_distinct: f.n_distinct,
            importance,
        })
        .collect();
    let mut scores = model.predict(&reference.rows).unwrap();
    scores.sort_unstable_by(f64::total_cmp);
    let baseline = Baseline {
        features,
        scores,
        refusal_rate: 0.2,
    };
    let test = read_csv(&dir.join(artifacts::TEST_FILE), &names, usize::MAX).unwrap();
    let n_rows = 100_000;
    let rows: Vec<f64> = test
        .rows
        .iter()
        .copied()
        .cycle()
        .take(n_rows * names.len())
        .collect();
    let probabilities = model.predict(&rows).unwrap();
    let window = Window::from_rows(&rows, names.len(), probabilities, 0);
    let settings = Settings::default();
    let mut group = c.benchmark_group("drift");
    group.sample_size(10);
    group.bench_function("analyse_419_features_20k_ref_100k_window", |b| {
        b.iter(|| black_box(analyse(&baseline, black_box(&window), &settings)))
    });
    group.finish();
}

criterion_group!(benches, drift);
criterion_main!(benches);
