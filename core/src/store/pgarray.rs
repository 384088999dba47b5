//! Many float8 values from PostgreSQL quickly: a reader of `double precision[]` that
//! parses the binary wire format in one pass into plain `f64`s (NULL as NaN).

use sqlx::error::BoxDynError;
use sqlx::postgres::{PgTypeInfo, PgValueFormat, PgValueRef};
use sqlx::{Decode, Postgres, Type};

/// A one-dimensional `double precision[]`, NULL elements read as NaN.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Float8Array(pub Vec<f64>);

impl Type<Postgres> for Float8Array {
    fn type_info() -> PgTypeInfo {
        <Vec<f64> as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <Vec<f64> as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for Float8Array {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        if value.format() == PgValueFormat::Text {
            let v = <Vec<Option<f64>> as Decode<Postgres>>::decode(value)?;
            return Ok(Self(v.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect()));
        }
        let mut out = Vec::new();
        parse_binary(value.as_bytes()?, &mut out)?;
        Ok(Self(out))
    }
}

/// Appends the elements of a binary `float8[]` (NULL as NaN) to `out`.
pub fn parse_binary(bytes: &[u8], out: &mut Vec<f64>) -> Result<(), BoxDynError> {
    let word = |at: usize| -> Result<i32, BoxDynError> {
        bytes
            .get(at..at + 4)
            .map(|b| i32::from_be_bytes(b.try_into().expect("four bytes")))
            .ok_or_else(|| "truncated double precision[]".into())
    };
    let ndim = word(0)?;
    const FLOAT8_OID: i32 = 701;
    if word(8)? != FLOAT8_OID {
        return Err("not a double precision[]".into());
    }
    if ndim == 0 {
        return Ok(());
    }
    if ndim != 1 {
        return Err(format!("a double precision[] of {ndim} dimensions, expected 1").into());
    }
    let n = word(12)?;
    let n = usize::try_from(n).map_err(|_| "negative array length")?;
    out.reserve(n);
    let mut at = 20;
    for _ in 0..n {
        match word(at)? {
            -1 => {
                out.push(f64::NAN);
                at += 4;
            }
            8 => {
                let b = bytes
                    .get(at + 4..at + 12)
                    .ok_or("truncated double precision[]")?;
                out.push(f64::from_be_bytes(b.try_into().expect("eight bytes")));
                at += 12;
            }
            len => return Err(format!("a float8 element of {len} bytes").into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{get_f64s, put_f64s};

    #[test]
    fn bytes_round_trip_every_value() {
        let values = [0.0, -0.0, 1.5, -2.25e300, f64::MIN_POSITIVE, f64::INFINITY];
        let mut bytes = Vec::new();
        put_f64s(&mut bytes, &values);
        assert_eq!(bytes.len(), 48);
        assert_eq!(&bytes[16..24], &1.5f64.to_be_bytes());
        let mut back = Vec::new();
        get_f64s(&bytes, &mut back);
        assert_eq!(
            back.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            values.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn binary_arrays_are_parsed_with_nulls() {
        // '{1.5,NULL,-2}'::float8[] as PostgreSQL sends it.
        let mut wire = Vec::new();
        for w in [1i32, 1, 701, 3, 1] {
            wire.extend_from_slice(&w.to_be_bytes());
        }
        wire.extend_from_slice(&8i32.to_be_bytes());
        wire.extend_from_slice(&1.5f64.to_be_bytes());
        wire.extend_from_slice(&(-1i32).to_be_bytes());
        wire.extend_from_slice(&8i32.to_be_bytes());
        wire.extend_from_slice(&(-2.0f64).to_be_bytes());
        let mut out = Vec::new();
        parse_binary(&wire, &mut out).unwrap();
        assert_eq!(out.len(), 3);
        assert_eq!((out[0], out[2]), (1.5, -2.0));
        assert!(out[1].is_nan());
        assert!(parse_binary(&wire[..wire.len() - 3], &mut out).is_err());
    }
}
