//! Numbers as text, both ways, exactly.
//!
//! Reading: every path that turns text into a double uses a correctly rounded parser
//! (Rust's `str::parse::<f64>`, serde_json with `float_roundtrip`), so the text a client or
//! a file holds denotes one double and that is the one used.
//!
//! Writing: [`shortest`] gives the shortest text that reads back to the same double, in
//! plain or scientific notation, whichever is shorter. Python's `float`, `json` and pandas'
//! `read_csv(float_precision="round_trip")` read it back bit for bit; pandas' default
//! parser, which is not correctly rounded itself, within one unit in the last place.

/// The shortest text that reads back to exactly `x`: the fewest significant digits that
/// identify the double, written plain (`0.25`, `365243`) or in scientific notation
/// (`5.34898e-166`, `1e22`), whichever has fewer characters (plain on a tie). `-0.0` is
/// written `-0`. Non-finite values are written `NaN`, `inf` and `-inf` (callers that
/// write data files refuse or omit them before).
pub fn shortest(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    // Both of Rust's formats print the shortest digits that round-trip; they differ only
    // in where the decimal point goes.
    let plain = format!("{x}");
    let scientific = format!("{x:e}");
    if scientific.len() < plain.len() {
        scientific
    } else {
        plain
    }
}

/// serde_json's compact output with every double written by [`shortest`], except `-0.0`,
/// written `-0.0` so that JSON readers keep its sign (`-0` is the integer zero to them).
/// serde_json writes non-finite doubles as `null` before this is asked.
struct ShortestFormatter;

impl serde_json::ser::Formatter for ShortestFormatter {
    fn write_f64<W: ?Sized + std::io::Write>(&mut self, w: &mut W, x: f64) -> std::io::Result<()> {
        if x == 0.0 && x.is_sign_negative() {
            return w.write_all(b"-0.0");
        }
        w.write_all(shortest(x).as_bytes())
    }
}

/// Writes `value` as compact JSON whose doubles are their shortest exact text (see
/// [`ShortestFormatter`]): Python's `json` and serde_json read every one back bit for bit.
///
/// # Errors
/// What writing to `w` or serialising `value` fails with.
pub fn write_json<W: std::io::Write, T: serde::Serialize + ?Sized>(
    w: W,
    value: &T,
) -> serde_json::Result<()> {
    value.serialize(&mut serde_json::Serializer::with_formatter(
        w,
        ShortestFormatter,
    ))
}

/// serde_json's indented output (two spaces) with doubles written as [`write_json`] writes
/// them: the layout of `serde_json::to_writer_pretty`, the numbers of [`shortest`].
struct ShortestPrettyFormatter(serde_json::ser::PrettyFormatter<'static>);

impl serde_json::ser::Formatter for ShortestPrettyFormatter {
    fn write_f64<W: ?Sized + std::io::Write>(&mut self, w: &mut W, x: f64) -> std::io::Result<()> {
        ShortestFormatter.write_f64(w, x)
    }
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// [`write_json`], indented for people (files such as the model card).
///
/// # Errors
/// What writing to `w` or serialising `value` fails with.
pub fn write_json_pretty<W: std::io::Write, T: serde::Serialize + ?Sized>(
    w: W,
    value: &T,
) -> serde_json::Result<()> {
    let formatter = ShortestPrettyFormatter(serde_json::ser::PrettyFormatter::new());
    value.serialize(&mut serde_json::Serializer::with_formatter(w, formatter))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn picks_the_shorter_notation() {
        assert_eq!(shortest(0.25), "0.25");
        assert_eq!(shortest(365243.0), "365243");
        assert_eq!(shortest(-9461.0), "-9461");
        assert_eq!(shortest(1e22), "1e22");
        assert_eq!(shortest(0.0001), "1e-4");
        assert_eq!(shortest(0.01), "0.01");
        assert_eq!(shortest(0.26), "0.26");
        assert_eq!(shortest(0.00001), "1e-5");
        assert_eq!(shortest(5.348979999999998e-166), "5.348979999999998e-166");
        assert_eq!(shortest(0.36363636363636365), "0.36363636363636365");
        assert_eq!(shortest(-0.0), "-0");
        assert_eq!(shortest(0.0), "0");
        assert_eq!(shortest(f64::MAX), "1.7976931348623157e308");
        assert_eq!(shortest(5e-324), "5e-324");
    }

    #[test]
    fn pretty_json_is_laid_out_like_serde_json() {
        let value = serde_json::json!({"a": [1, 2.5], "b": {"c": null, "d": "x"}, "e": 4050000.0});
        let mut ours = Vec::new();
        write_json_pretty(&mut ours, &value).unwrap();
        let theirs = serde_json::to_string_pretty(&value).unwrap();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            theirs.replace("4050000.0", "4.05e6")
        );
    }

    #[test]
    fn json_doubles_are_shortest_and_keep_the_sign_of_zero() {
        let mut out = Vec::new();
        write_json(&mut out, &[4050000.0, -0.0, 0.1, 1e-7, f64::NAN]).unwrap();
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "[4.05e6,-0.0,0.1,1e-7,null]"
        );
        let back: Vec<Option<f64>> = serde_json::from_slice(&out).unwrap();
        assert!(back[1].unwrap().is_sign_negative());
    }

    #[test]
    fn every_bit_pattern_reads_back_exactly() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..200_000 {
            let x = f64::from_bits(rng.gen());
            if !x.is_finite() {
                continue;
            }
            let text = shortest(x);
            let back: f64 = text.parse().unwrap();
            assert_eq!(back.to_bits(), x.to_bits(), "{x:?} written {text}");
            assert!(text.len() <= format!("{x:?}").len().max(text.len()));
        }
    }
}
