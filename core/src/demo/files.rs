//! Writing the demo data set's files.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use flate2::write::GzEncoder;
use flate2::Compression;

use super::generate::Generated;

/// Writes a CSV (gzip-compressed): `SK_ID_CURR`, optionally `TARGET`, then the features;
/// a missing value is an empty field, every other value its shortest exact text
/// ([`crate::numbers::shortest`]), which pandas reads back bit for bit.
pub fn write_csv_gz(
    path: &Path,
    data: &Generated,
    rows: std::ops::Range<usize>,
    with_target: bool,
) -> Result<()> {
    let file = fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    // No file name or mtime in the gzip header: same input, same bytes.
    let gz = flate2::GzBuilder::new().write(file, Compression::best());
    let mut out = csv::Writer::from_writer(gz);
    let mut header = vec!["SK_ID_CURR".to_string()];
    if with_target {
        header.push("TARGET".into());
    }
    header.extend(data.feature_names());
    out.write_record(&header)?;
    let mut record = Vec::with_capacity(header.len());
    for i in rows {
        record.clear();
        record.push(data.ids[i].to_string());
        if with_target {
            record.push(data.target[i].to_string());
        }
        record.extend(data.rows[i].iter().map(|v| {
            if v.is_nan() {
                String::new()
            } else {
                crate::numbers::shortest(*v)
            }
        }));
        out.write_record(&record)?;
    }
    let gz: GzEncoder<fs::File> = out
        .into_inner()
        .map_err(|e| anyhow::anyhow!("flushing CSV: {e}"))?;
    gz.finish()?.sync_all()?;
    Ok(())
}

/// Writes the outcomes of `rows` (gzip-compressed CSV): `SK_ID_CURR`, `TARGET`.
pub fn write_outcomes_gz(
    path: &Path,
    data: &Generated,
    rows: std::ops::Range<usize>,
) -> Result<()> {
    let file = fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let gz = flate2::GzBuilder::new().write(file, Compression::best());
    let mut out = csv::Writer::from_writer(gz);
    out.write_record(["SK_ID_CURR", "TARGET"])?;
    for i in rows {
        out.write_record([data.ids[i].to_string(), data.target[i].to_string()])?;
    }
    let gz: GzEncoder<fs::File> = out
        .into_inner()
        .map_err(|e| anyhow::anyhow!("flushing CSV: {e}"))?;
    gz.finish()?.sync_all()?;
    Ok(())
}
