//! The local JSONL backup of stored predictions: one JSON object per line, one file per UTC
//! day (`predictions-YYYY-MM-DD.jsonl`). Lines are appended after the database committed the
//! rows, so the backup never holds a decision the API did not acknowledge; `scorewatch
//! replay-backup` puts back whatever the database lost.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::prediction::Decision;
use crate::model::prediction::Prediction;

/// One line of the backup.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    id: Uuid,
    created_at: DateTime<Utc>,
    model_version: i64,
    sk_id_curr: Option<i64>,
    /// Model feature order; null = missing.
    features: Vec<Option<f64>>,
    probability: f64,
    decision: Decision,
    threshold: f64,
    inference_time_ms: f64,
    source: String,
    request_id: Option<String>,
}

impl From<&Prediction> for Record {
    fn from(p: &Prediction) -> Self {
        Record {
            id: p.id,
            created_at: p.created_at,
            model_version: p.model_version,
            sk_id_curr: p.sk_id_curr,
            features: p
                .features
                .iter()
                .map(|v| (!v.is_nan()).then_some(*v))
                .collect(),
            probability: p.probability,
            decision: p.decision,
            threshold: p.threshold,
            inference_time_ms: p.inference_time_ms,
            source: p.source.as_str().to_owned(),
            request_id: p.request_id.clone(),
        }
    }
}

impl TryFrom<Record> for Prediction {
    type Error = anyhow::Error;

    fn try_from(r: Record) -> Result<Self> {
        Ok(Prediction {
            id: r.id,
            created_at: r.created_at,
            model_version: r.model_version,
            sk_id_curr: r.sk_id_curr,
            features: r
                .features
                .into_iter()
                .map(|v| v.unwrap_or(f64::NAN))
                .collect(),
            probability: r.probability,
            decision: r.decision,
            threshold: r.threshold,
            inference_time_ms: r.inference_time_ms,
            source: r.source.parse().map_err(anyhow::Error::msg)?,
            request_id: r.request_id,
        })
    }
}

/// The file that holds the predictions of `day`.
pub fn file_for(dir: &Path, day: NaiveDate) -> PathBuf {
    dir.join(format!("predictions-{}.jsonl", day.format("%Y-%m-%d")))
}

/// Appends predictions to the day's file, opening the next day's file at midnight UTC.
#[derive(Debug)]
pub struct BackupWriter {
    dir: PathBuf,
    current: Option<(NaiveDate, BufWriter<File>)>,
}

impl BackupWriter {
    pub fn new(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the backup directory {}", dir.display()))?;
        Ok(Self {
            dir: dir.to_owned(),
            current: None,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends the rows and hands them to the operating system (flush, no fsync: the
    /// database is the durable copy, this file is the second one).
    pub fn append(&mut self, rows: &[Prediction]) -> Result<()> {
        let today = Utc::now().date_naive();
        if self.current.as_ref().map(|(d, _)| *d) != Some(today) {
            let path = file_for(&self.dir, today);
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .with_context(|| format!("opening {}", path.display()))?;
            self.current = Some((today, BufWriter::new(file)));
        }
        let (_, out) = self.current.as_mut().expect("opened above");
        for row in rows {
            crate::numbers::write_json(&mut *out, &Record::from(row))?;
            out.write_all(b"\n")?;
        }
        out.flush().context("writing the prediction backup")?;
        Ok(())
    }
}

/// Reads a backup file in chunks of `chunk` predictions, calling `f` with each chunk and
/// the number of bytes read so far. A line that is not a prediction stops the reading with
/// its line number (a file cut short by a crash ends with a partial line: that one is
/// reported as such).
pub fn read_chunks(
    path: &Path,
    chunk: usize,
    mut f: impl FnMut(Vec<Prediction>, u64) -> Result<()>,
) -> Result<()> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut reader = BufReader::new(file);
    let mut line = String::new();
    let mut rows = Vec::with_capacity(chunk);
    let mut read = 0u64;
    let mut number = 0usize;
    loop {
        line.clear();
        let n = reader.read_line(&mut line)?;
        if n == 0 {
            break;
        }
        read += n as u64;
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        let record: Record = serde_json::from_str(&line).with_context(|| {
            if line.ends_with('\n') {
                format!("{}:{number}: not a prediction", path.display())
            } else {
                format!("{}:{number}: incomplete last line", path.display())
            }
        })?;
        rows.push(Prediction::try_from(record)?);
        if rows.len() == chunk {
            f(
                std::mem::replace(&mut rows, Vec::with_capacity(chunk)),
                read,
            )?;
        }
    }
    if !rows.is_empty() {
        f(rows, read)?;
    }
    Ok(())
}

/// What a replay did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Replayed {
    pub read: u64,
    pub inserted: u64,
}

/// Inserts the predictions of a backup file that the database does not have, `chunk` per
/// transaction; `progress` gets the bytes read so far.
pub async fn replay(
    pool: &sqlx::PgPool,
    path: &Path,
    chunk: usize,
    progress: impl Fn(u64),
) -> Result<Replayed> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let owned = path.to_owned();
    let chunk = chunk.max(1);
    let reader = tokio::task::spawn_blocking(move || {
        read_chunks(&owned, chunk, |rows, bytes| {
            tx.blocking_send((rows, bytes))
                .map_err(|_| anyhow::anyhow!("the database side stopped"))
        })
    });
    let mut done = Replayed::default();
    while let Some((rows, bytes)) = rx.recv().await {
        done.read += rows.len() as u64;
        done.inserted += crate::store::insert_missing_predictions(pool, &rows)
            .await
            .with_context(|| format!("replaying {}", path.display()))?;
        progress(bytes);
    }
    reader.await??;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::prediction::Source;

    fn prediction(i: i64) -> Prediction {
        Prediction {
            id: Uuid::now_v7(),
            created_at: Utc::now(),
            model_version: 1,
            sk_id_curr: Some(i),
            features: vec![0.5, f64::NAN, -3.0],
            probability: 0.25,
            decision: Decision::Approved,
            threshold: 0.5,
            inference_time_ms: 0.1,
            source: Source::Api,
            request_id: None,
        }
    }

    #[test]
    fn appended_rows_read_back_identically_missing_values_included() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = BackupWriter::new(dir.path()).unwrap();
        let rows: Vec<_> = (0..5).map(prediction).collect();
        w.append(&rows[..2]).unwrap();
        w.append(&rows[2..]).unwrap();
        let path = file_for(dir.path(), Utc::now().date_naive());
        let mut back = Vec::new();
        read_chunks(&path, 2, |chunk, _| {
            assert!(chunk.len() <= 2);
            back.extend(chunk);
            Ok(())
        })
        .unwrap();
        assert_eq!(back.len(), 5);
        for (a, b) in rows.iter().zip(&back) {
            assert_eq!(a.id, b.id);
            assert_eq!(a.sk_id_curr, b.sk_id_curr);
            assert_eq!(a.features[0], b.features[0]);
            assert!(b.features[1].is_nan());
        }
    }

    #[test]
    fn a_truncated_last_line_is_reported_with_its_line_number() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = BackupWriter::new(dir.path()).unwrap();
        w.append(&[prediction(1)]).unwrap();
        let path = file_for(dir.path(), Utc::now().date_naive());
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"id\": \"0192");
        std::fs::write(&path, text).unwrap();
        let err = read_chunks(&path, 10, |_, _| Ok(())).unwrap_err();
        assert!(
            format!("{err:#}").contains(":2: incomplete last line"),
            "{err:#}"
        );
    }
}
