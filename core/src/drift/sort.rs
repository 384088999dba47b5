//! Sorting a window's values, the largest cost of a drift analysis: a least-significant-
//! digit radix sort on 11-bit digits (six passes over a 64-bit key, a pass skipped when
//! every value has the same digit), with buffers kept from one feature to the next.

/// Bits per digit: 2,048 counters fit in the first-level cache.
const DIGIT_BITS: u32 = 11;
const BUCKETS: usize = 1 << DIGIT_BITS;
const PASSES: usize = 64usize.div_ceil(DIGIT_BITS as usize);
/// Below this many values a comparison sort is faster.
const SMALL: usize = 512;

/// An unsigned key in the order of `f64::total_cmp`: negative values have every bit
/// flipped, the others only the sign bit.
fn key(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

fn value(key: u64) -> f64 {
    f64::from_bits(if key >> 63 == 1 {
        key & !(1 << 63)
    } else {
        !key
    })
}

/// Buffers of one sorting thread, reused from one call to the next.
#[derive(Default)]
pub struct Sorter {
    keys: Vec<u64>,
    spare: Vec<u64>,
}

impl Sorter {
    /// Sorts `values` in the order of `f64::total_cmp` (-0.0 before 0.0).
    pub fn sort(&mut self, values: &mut [f64]) {
        let n = values.len();
        if n < SMALL {
            values.sort_unstable_by(f64::total_cmp);
            return;
        }
        assert!(
            n <= u32::MAX as usize,
            "too many values to count in 32 bits"
        );
        let mut counts = Box::new([[0u32; BUCKETS]; PASSES]);
        self.keys.clear();
        self.keys.extend(values.iter().map(|&x| key(x)));
        for &k in &self.keys {
            for (pass, counts) in counts.iter_mut().enumerate() {
                counts[digit(k, pass)] += 1;
            }
        }
        self.spare.clear();
        self.spare.resize(n, 0);
        for (pass, counts) in counts.iter().enumerate() {
            // Every key has the same digit: this pass would not move anything.
            if counts.iter().any(|&c| c as usize == n) {
                continue;
            }
            let mut next = [0u32; BUCKETS];
            let mut start = 0;
            for (next, &count) in next.iter_mut().zip(counts) {
                *next = start;
                start += count;
            }
            let (keys, spare) = (&self.keys[..], &mut self.spare[..]);
            for &k in keys {
                let at = &mut next[digit(k, pass)];
                spare[*at as usize] = k;
                *at += 1;
            }
            std::mem::swap(&mut self.keys, &mut self.spare);
        }
        for (x, &k) in values.iter_mut().zip(&self.keys) {
            *x = value(k);
        }
    }
}

fn digit(key: u64, pass: usize) -> usize {
    (key >> (pass as u32 * DIGIT_BITS)) as usize & (BUCKETS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    #[test]
    fn sorts_like_total_cmp() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let special = [
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE / 4.0,
            -f64::MIN_POSITIVE / 4.0,
            f64::MAX,
            f64::MIN,
            1.0,
            -1.0,
        ];
        let mut sorter = Sorter::default();
        for n in [0, 1, 7, SMALL - 1, SMALL, 5_000, 70_000] {
            let mut values: Vec<f64> = (0..n)
                .map(|i| match i % 4 {
                    // Any finite value.
                    0 => Some(f64::from_bits(next()))
                        .filter(|x| x.is_finite())
                        .unwrap_or(0.5),
                    1 => special[(next() % special.len() as u64) as usize],
                    2 => (next() % 1000) as f64 - 500.0,
                    _ => (next() % 1_000_000) as f64 / 7.0,
                })
                .collect();
            let mut expected = values.clone();
            expected.sort_by(f64::total_cmp);
            sorter.sort(&mut values);
            assert_eq!(bits(&values), bits(&expected), "n = {n}");
        }
        // Digits shared by every value (small integers) are skipped, and still sorted.
        let mut counts: Vec<f64> = (0..10_000).map(|i| ((i * 7919) % 300) as f64).collect();
        let mut expected = counts.clone();
        expected.sort_by(f64::total_cmp);
        sorter.sort(&mut counts);
        assert_eq!(bits(&counts), bits(&expected));
    }
}
