//! Every path that turns text into a number gives the double the text denotes: random bit
//! patterns (every magnitude, subnormals, -0.0) written as Rust's shortest text and read
//! back through the API's JSON parsers (one application, a batch), the JSONL backup, a data
//! CSV (reference, test set, simulator) and a model card give the same bits. And what
//! scorewatch writes ([`numbers::shortest`]) reads back the same way.

use std::io::Write;
use std::path::PathBuf;

use rand::{Rng, SeedableRng};

use scorewatch_core::artifacts::ModelCard;
use scorewatch_core::drift::reference;
use scorewatch_core::ingest::backup::{self, BackupWriter};
use scorewatch_core::model::application::Application;
use scorewatch_core::model::booster::Model;
use scorewatch_core::model::prediction::Decision;
use scorewatch_core::model::prediction::{Prediction, Source};
use scorewatch_core::numbers::shortest;
use scorewatch_core::simulate::TestSet;

fn model() -> Model {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../artifacts/model.txt");
    Model::from_text(&std::fs::read_to_string(path).unwrap(), 0.494).unwrap()
}

/// Finite doubles from random bit patterns, plus known hard cases and the edges.
fn doubles(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut out = vec![
        0.36363636363636365,
        1.0000000180025095e-35,
        0.26,
        0.1,
        -0.0,
        0.0,
        f64::MIN_POSITIVE,
        5e-324,
        -5e-324,
        f64::MAX,
        f64::MIN,
        f64::from_bits(0x000f_ffff_ffff_ffff), // the largest subnormal
        9007199254740994.0,
        5.348979999999998e-166,
    ];
    while out.len() < n {
        let x = f64::from_bits(rng.gen());
        if x.is_finite() {
            out.push(x);
        }
        // Subnormals and small magnitudes are rare among random bit patterns: add some.
        let sub = f64::from_bits(rng.gen::<u64>() & 0x800f_ffff_ffff_ffff);
        out.push(sub);
    }
    out.truncate(n);
    out
}

/// Both spellings a writer may use: Rust's `Debug` (shortest, scientific for extremes) and
/// scorewatch's own [`shortest`].
fn spellings(x: f64) -> [String; 2] {
    [format!("{x:?}"), shortest(x)]
}

fn same_bits(got: &[f64], want: &[f64], path: &str) {
    assert_eq!(got.len(), want.len(), "{path}");
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.to_bits(), w.to_bits(), "{path}: {w:?} read as {g:?}");
    }
}

#[test]
fn api_json_reads_every_double_exactly() {
    let m = model();
    let names = m.feature_names();
    let values = doubles(20_000, 1);
    for spelling in 0..2 {
        for chunk in values.chunks(names.len()) {
            let body: Vec<String> = names
                .iter()
                .zip(chunk)
                .map(|(n, v)| format!("\"{n}\": {}", spellings(*v)[spelling]))
                .collect();
            let application = format!("{{\"features\": {{{}}}}}", body.join(", "));
            let one = Application::from_json(application.as_bytes(), &m)
                .unwrap()
                .unwrap();
            same_bits(&one.features()[..chunk.len()], chunk, "predict");
            let batch = format!("{{\"applications\": [{application}, {application}]}}");
            for a in Application::batch_from_json(batch.as_bytes(), &m).unwrap() {
                same_bits(&a.unwrap().features()[..chunk.len()], chunk, "batch");
            }
        }
    }
}

#[test]
fn backup_lines_read_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let values = doubles(4_000, 2);
    let rows: Vec<Prediction> = values
        .chunks(40)
        .enumerate()
        .map(|(i, chunk)| Prediction {
            id: uuid::Uuid::now_v7(),
            created_at: chrono::Utc::now(),
            model_version: 1,
            sk_id_curr: Some(i as i64),
            features: chunk.to_vec(),
            probability: chunk[0].abs().min(1.0),
            decision: Decision::Approved,
            threshold: 0.5,
            inference_time_ms: chunk[1].abs(),
            source: Source::Api,
            request_id: None,
        })
        .collect();
    let mut writer = BackupWriter::new(dir.path()).unwrap();
    writer.append(&rows).unwrap();
    drop(writer);
    let mut read = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        backup::read_chunks(&entry.unwrap().path(), 1_000, |chunk, _| {
            read.extend(chunk);
            Ok(())
        })
        .unwrap();
    }
    assert_eq!(read.len(), rows.len());
    for (r, w) in read.iter().zip(&rows) {
        same_bits(&r.features, &w.features, "backup");
        same_bits(
            &[r.probability, r.inference_time_ms],
            &[w.probability, w.inference_time_ms],
            "backup",
        );
    }
}

#[test]
fn data_csv_reads_every_double_exactly() {
    let values = doubles(6_000, 3);
    let names: Vec<String> = (0..6).map(|i| format!("F{i}")).collect();
    for spelling in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.csv");
        let mut f = std::fs::File::create(&path).unwrap();
        writeln!(f, "SK_ID_CURR,{},TARGET", names.join(",")).unwrap();
        for (i, row) in values.chunks(6).enumerate() {
            let fields: Vec<String> = row
                .iter()
                .map(|v| spellings(*v)[spelling].clone())
                .collect();
            writeln!(f, "{i},{},0", fields.join(",")).unwrap();
        }
        drop(f);
        let data = reference::read_csv(&path, &names, usize::MAX).unwrap();
        same_bits(&data.rows, &values, "reference CSV");
        // The simulator reads its test set through the same reader.
        let test = TestSet::load(&path, &names).unwrap();
        same_bits(&test.rows, &values, "simulator test set");
    }
}

#[test]
fn model_card_numbers_read_exactly() {
    let card = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../artifacts/model_card.json"),
    )
    .unwrap();
    let mut card: serde_json::Value = serde_json::from_str(&card).unwrap();
    card["threshold"] = serde_json::Value::String("THRESHOLD".into());
    let template = card.to_string();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("card.json");
    for x in doubles(500, 4) {
        for s in spellings(x) {
            std::fs::write(&path, template.replacen("\"THRESHOLD\"", &s, 1)).unwrap();
            let read = ModelCard::read(&path).unwrap();
            assert_eq!(read.threshold.to_bits(), x.to_bits(), "model card: {s}");
        }
    }
}

#[test]
fn infinite_values_in_data_files_are_refused_with_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let names = vec!["A".to_string(), "B".to_string()];
    for bad in ["inf", "-inf", "Infinity", "1e999", "-1e400"] {
        let path = dir.path().join("bad.csv");
        std::fs::write(&path, format!("A,B\n1,2\n3,{bad}\n")).unwrap();
        let err = format!(
            "{:#}",
            reference::read_csv(&path, &names, usize::MAX)
                .err()
                .unwrap()
        );
        assert!(
            err.contains("row 2") && err.contains("column B") && err.contains("finite"),
            "{bad}: {err}"
        );
    }
    // Missing values: empty fields and pandas' tokens.
    let path = dir.path().join("missing.csv");
    std::fs::write(&path, "A,B\n,NaN\nNA,nan\n<NA>,null\n").unwrap();
    let data = reference::read_csv(&path, &names, usize::MAX).unwrap();
    assert!(data.rows.iter().all(|v| v.is_nan()));
}

#[test]
fn byte_order_mark_and_windows_line_endings_read_like_plain_files() {
    let dir = tempfile::tempdir().unwrap();
    let names = vec!["A".to_string(), "B".to_string()];
    let plain = "A,B\n0.1,\n-9461,2.5e-8\n";
    let windows = format!("\u{feff}{}", plain.replace('\n', "\r\n"));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(windows.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let read = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        reference::read_csv(&path, &names, usize::MAX).unwrap().rows
    };
    let want = read("plain.csv", plain.as_bytes());
    for (name, bytes) in [
        ("windows.csv", windows.as_bytes()),
        // Compressed without the .gz name: recognised by its first bytes.
        ("windows-compressed.csv", &gz[..]),
        ("windows.csv.gz", &gz[..]),
    ] {
        let got = read(name, bytes);
        assert_eq!(got.len(), want.len(), "{name}");
        for (g, w) in got.iter().zip(&want) {
            assert!(
                g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
                "{name}"
            );
        }
    }
}
