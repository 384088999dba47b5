//! The byte format of stored float columns: the column blocks of [`crate::drift::blocks`] (a
//! cache, rebuilt on demand) and the sorted reference samples of
//! `training_reference.sorted_sample` (not a cache: written once when a model is
//! registered, read by every drift report afterwards).
//!
//! A column starts with a one-byte tag that says how the rest is written, and the tag is
//! the format's version: tags are only ever added, never given a new meaning, so bytes
//! written by any version of scorewatch keep decoding. Format 1 (every stored byte today):
//! - tag 0 (raw): n big-endian IEEE 754 float8s;
//! - tag 1 (dictionary): the number of entries minus one (one byte, so 1 to 256 entries),
//!   the entries as big-endian float8s, then one entry index (one byte) per row.
//!
//! A reader refuses a tag it does not know, a truncated column and an index past the
//! dictionary's end, instead of guessing. `codec::tests::stored_format_1_samples_decode`
//! holds bytes in format 1 written out by hand: any change that misreads them fails it.

use anyhow::{bail, Context, Result};

use crate::drift::analysis::Column;

/// Appends `values` as big-endian float8s to `out`.
pub fn put_f64s(out: &mut Vec<u8>, values: &[f64]) {
    out.reserve(values.len() * 8);
    for v in values {
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// Appends the big-endian float8s of `bytes` to `out` (a trailing partial value is ignored).
pub fn get_f64s(bytes: &[u8], out: &mut Vec<f64>) {
    out.extend(
        bytes
            .chunks_exact(8)
            .map(|b| f64::from_be_bytes(b.try_into().expect("eight bytes"))),
    );
}

/// How a column is kept in a block: its values as they are, or, with at most 256
/// distinct values (flags, categories, counts), a dictionary and one byte per row.
pub const RAW: u8 = 0;
pub const DICTIONARY: u8 = 1;

/// Appends one column: `RAW` then n big-endian float8s, or `DICTIONARY`, the number of
/// entries minus one, the entries (big-endian float8s) and one entry index per row.
pub fn encode_column(out: &mut Vec<u8>, values: &[f64]) {
    let mut entries: Vec<u64> = Vec::new();
    let mut index: rustc_hash::FxHashMap<u64, u8> = Default::default();
    let mut codes = Vec::with_capacity(values.len());
    for v in values {
        let bits = v.to_bits();
        let code = match index.get(&bits) {
            Some(&c) => c,
            None if entries.len() < 256 => {
                let c = entries.len() as u8;
                index.insert(bits, c);
                entries.push(bits);
                c
            }
            None => {
                out.push(RAW);
                put_f64s(out, values);
                return;
            }
        };
        codes.push(code);
    }
    if entries.is_empty() {
        out.push(RAW);
        return;
    }
    out.push(DICTIONARY);
    out.push((entries.len() - 1) as u8);
    for bits in entries {
        out.extend_from_slice(&bits.to_be_bytes());
    }
    out.extend_from_slice(&codes);
}

/// One column written by [`encode_column`].
enum Encoded<'a> {
    /// Big-endian float8s.
    Raw(&'a [u8]),
    /// Big-endian float8s, and one index into them per row.
    Dictionary { entries: &'a [u8], codes: &'a [u8] },
}

/// The column of `n_rows` values at the start of `bytes`, and the bytes after it; None if
/// they do not hold one.
fn split_column(bytes: &[u8], n_rows: usize) -> Option<(Encoded<'_>, &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    match tag {
        RAW => {
            let (values, rest) = rest.split_at_checked(n_rows * 8)?;
            Some((Encoded::Raw(values), rest))
        }
        DICTIONARY => {
            let (&k, rest) = rest.split_first()?;
            let (entries, rest) = rest.split_at_checked((k as usize + 1) * 8)?;
            let (codes, rest) = rest.split_at_checked(n_rows)?;
            Some((Encoded::Dictionary { entries, codes }, rest))
        }
        _ => None,
    }
}

/// Adds one column of `n_rows` values to `out` (a dictionary's values counted); returns
/// the bytes after it, or None if they do not hold one.
pub fn decode_column<'a>(bytes: &'a [u8], n_rows: usize, out: &mut Column) -> Option<&'a [u8]> {
    let (column, rest) = split_column(bytes, n_rows)?;
    match column {
        Encoded::Raw(values) => get_f64s(values, &mut out.values),
        Encoded::Dictionary { entries, codes } => {
            let mut counts = [0u32; 256];
            for &c in codes {
                counts[c as usize] += 1;
            }
            for (c, &n) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
                // A code past the dictionary's end makes the column malformed.
                let entry = entries.get(c * 8..c * 8 + 8)?;
                out.counted
                    .push((f64::from_be_bytes(entry.try_into().ok()?), n));
            }
        }
    }
    Some(rest)
}

/// The values of one column of `n_rows` values, in row order, into `out`; returns the
/// bytes after it, or None if they do not hold one.
pub fn decode_column_values<'a>(
    bytes: &'a [u8],
    n_rows: usize,
    out: &mut Vec<f64>,
) -> Option<&'a [u8]> {
    let (column, rest) = split_column(bytes, n_rows)?;
    match column {
        Encoded::Raw(values) => get_f64s(values, out),
        Encoded::Dictionary { entries, codes } => {
            let mut table = Vec::with_capacity(256);
            get_f64s(entries, &mut table);
            table.resize(256, f64::NAN);
            out.extend(codes.iter().map(|&c| table[c as usize]));
        }
    }
    Some(rest)
}

/// A sample in the column form of [`encode_column`] (used for the reference samples too).
pub fn encode_values(values: &[f64]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_column(&mut out, values);
    out
}

/// The values of one column written by [`encode_values`] (its length tells how many).
pub fn decode_values(bytes: &[u8]) -> Result<Vec<f64>> {
    let n = match bytes {
        [RAW, rest @ ..] if rest.len() % 8 == 0 => rest.len() / 8,
        [DICTIONARY, k, rest @ ..] => rest
            .len()
            .checked_sub((*k as usize + 1) * 8)
            .context("a malformed stored sample")?,
        _ => bail!("a malformed stored sample"),
    };
    let mut out = Vec::with_capacity(n);
    match decode_column_values(bytes, n, &mut out) {
        Some([]) => Ok(out),
        _ => bail!("a malformed stored sample"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes the columns, and decodes them in row order and as a window does.
    fn round_trip(columns: &[Vec<f64>]) -> (usize, Vec<Vec<f64>>, Vec<Column>) {
        let mut bytes = Vec::new();
        for c in columns {
            encode_column(&mut bytes, c);
        }
        let n = columns[0].len();
        let (mut rest, mut window_rest) = (bytes.as_slice(), bytes.as_slice());
        let (mut back, mut window) = (Vec::new(), Vec::new());
        for _ in columns {
            let mut out = Vec::new();
            rest = decode_column_values(rest, n, &mut out).expect("decodes");
            back.push(out);
            let mut column = Column::default();
            window_rest = decode_column(window_rest, n, &mut column).expect("decodes");
            window.push(column);
        }
        assert!(rest.is_empty() && window_rest.is_empty());
        (bytes.len(), back, window)
    }

    fn bits(v: &[Vec<f64>]) -> Vec<Vec<u64>> {
        v.iter()
            .map(|c| c.iter().map(|x| x.to_bits()).collect())
            .collect()
    }

    fn sorted_bits(v: impl Iterator<Item = f64>) -> Vec<u64> {
        let mut b: Vec<u64> = v.map(f64::to_bits).collect();
        b.sort_unstable();
        b
    }

    #[test]
    fn columns_come_back_bit_for_bit_in_either_form() {
        let n = 1000;
        let flags: Vec<f64> = (0..n).map(|i| (i % 3 == 0) as u8 as f64).collect();
        let with_missing: Vec<f64> = (0..n)
            .map(|i| if i % 7 == 0 { f64::NAN } else { -0.0 })
            .collect();
        let exactly_256: Vec<f64> = (0..n).map(|i| (i % 256) as f64 * 0.5).collect();
        let continuous: Vec<f64> = (0..n).map(|i| (i as f64).sqrt() * 1e5).collect();
        let columns = vec![flags, with_missing, exactly_256, continuous];
        let (size, back, window) = round_trip(&columns);
        assert_eq!(bits(&back), bits(&columns));
        // Three dictionaries (1 byte a row) and one raw column (8 bytes a row).
        assert_eq!(
            size,
            (2 + 2 * 8 + n) + (2 + 2 * 8 + n) + (2 + 256 * 8 + n) + (1 + 8 * n)
        );
        // A window counts the dictionaries' values and lists the others.
        assert_eq!(window[0].counted, vec![(1.0, 334), (0.0, 666)]);
        let counted: Vec<usize> = window.iter().map(|c| c.counted.len()).collect();
        assert_eq!(counted, vec![2, 2, 256, 0]);
        assert!(window[..3].iter().all(|c| c.values.is_empty()));
        assert_eq!(window[3].values.len(), n);
        for (c, w) in columns.iter().zip(&window) {
            assert_eq!(w.len(), n);
            assert_eq!(sorted_bits(w.iter()), sorted_bits(c.iter().copied()));
        }
    }

    #[test]
    fn samples_know_their_length() {
        for values in [vec![], vec![2.5; 10], (0..300).map(f64::from).collect()] {
            let back = decode_values(&encode_values(&values)).unwrap();
            assert_eq!(back, values);
        }
        assert!(decode_values(&[RAW, 1, 2]).is_err());
        assert!(decode_values(&[DICTIONARY, 3, 0]).is_err());
    }

    #[test]
    fn truncated_or_unknown_columns_are_refused() {
        let mut bytes = Vec::new();
        encode_column(&mut bytes, &[1.0, 2.0, 1.0]);
        let mut out = Column::default();
        assert!(decode_column(&bytes[..bytes.len() - 1], 3, &mut out).is_none());
        assert!(decode_column(&[7, 0, 0], 3, &mut out).is_none());
        assert!(decode_column(&[], 3, &mut out).is_none());
        // A row naming an entry the dictionary does not have.
        assert!(decode_column(
            &[DICTIONARY, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0],
            3,
            &mut out
        )
        .is_none());
    }

    #[test]
    fn stored_format_1_samples_decode() {
        // A dictionary of 1.5 and -0.0 with rows 1.5, -0.0, 1.5.
        let mut dictionary = vec![DICTIONARY, 1];
        dictionary.extend_from_slice(&0x3FF8_0000_0000_0000u64.to_be_bytes());
        dictionary.extend_from_slice(&0x8000_0000_0000_0000u64.to_be_bytes());
        dictionary.extend_from_slice(&[0, 1, 0]);
        let back = decode_values(&dictionary).unwrap();
        assert_eq!(
            back.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            vec![
                0x3FF8_0000_0000_0000,
                0x8000_0000_0000_0000,
                0x3FF8_0000_0000_0000
            ]
        );
        assert_eq!(encode_values(&back), dictionary);
        // Raw: 2.5, the smallest subnormal, -1e300.
        let mut raw = vec![RAW];
        for bits in [0x4004_0000_0000_0000u64, 1, (-1e300f64).to_bits()] {
            raw.extend_from_slice(&bits.to_be_bytes());
        }
        let back = decode_values(&raw).unwrap();
        assert_eq!(back, vec![2.5, f64::from_bits(1), -1e300]);
        // An empty sample is the tag alone.
        assert_eq!(decode_values(&[RAW]).unwrap(), Vec::<f64>::new());
        assert_eq!(encode_values(&[]), vec![RAW]);
    }
}
