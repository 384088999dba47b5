//! Scoring alone (no HTTP, no database): one application, a batch of 100, and one
//! explanation, with the demo model and rows of the demo test set.
//!
//! cargo bench -p scorewatch-core --bench scoring

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use scorewatch_core::artifacts;
use scorewatch_core::drift::reference::read_csv;
use scorewatch_core::model::booster::Model;

fn scoring(c: &mut Criterion) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../artifacts");
    let text = std::fs::read_to_string(dir.join(artifacts::MODEL_FILE)).expect("demo model");
    let model = Model::from_text(&text, 0.494).expect("model loads");
    let names = model.feature_names().to_vec();
    let test = read_csv(&dir.join(artifacts::TEST_FILE), &names, 1_000).expect("test set");
    let n = model.n_features();
    let rows = &test.rows;
    assert!(rows.len() >= 100 * n);

    let mut group = c.benchmark_group("scoring");
    group.throughput(Throughput::Elements(1));
    group.bench_function("predict_one_row", |b| {
        let mut i = 0;
        b.iter(|| {
            let row = &rows[i * n..(i + 1) * n];
            i = (i + 1) % 100;
            black_box(model.predict(black_box(row)).unwrap())
        })
    });
    group.bench_function("explain_one_row", |b| {
        b.iter(|| black_box(model.contributions(black_box(&rows[..n])).unwrap()))
    });
    for batch in [100usize, 1_000] {
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_with_input(BenchmarkId::new("predict_batch", batch), &batch, |b, &k| {
            b.iter(|| black_box(model.predict(black_box(&rows[..k * n])).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, scoring);
criterion_main!(benches);
