//! The two-sample Kolmogorov-Smirnov test, two-sided, with the p-value `scipy.stats.ks_2samp`
//! gives under its default `method='auto'`:
//!
//! - exact when the larger sample has at most [`MAX_EXACT_N`] values: the share of lattice
//!   paths from (0, 0) to (m, n) that leave the band |i/m - j/n| < D (Hodges' "inside"
//!   counting), computed as a probability recursion that stays in [0, 1] without
//!   overflow (Viehmann 2021);
//! - otherwise asymptotic: the one-sample Kolmogorov distribution of D_N with
//!   N = round(m n / (m + n)), evaluated as Simard and L'Ecuyer (2011) choose between
//!   exact and approximate methods: Ruben-Gambino at the extremes, Durbin's matrix (in the
//!   form of Marsaglia, Tsang and Wang 2003), twice Smirnov's one-sided probability, and
//!   the Pelz-Good (1976) series.
//!
//! Ties are handled as scipy does: the empirical distribution functions are compared at
//! every observed value, counting all values equal to it.

/// Largest sample size for which the exact p-value is computed.
pub const MAX_EXACT_N: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KsMethod {
    Exact,
    Asymptotic,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KsResult {
    /// The largest distance between the two empirical distribution functions.
    pub statistic: f64,
    pub p_value: f64,
    pub method: KsMethod,
}

/// The two-sided two-sample KS test of two ascending samples without NaN. None when a
/// sample is empty.
pub fn ks_2samp(a: &[f64], b: &[f64]) -> Option<KsResult> {
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let d = statistic(a, b);
    if n1.max(n2) <= MAX_EXACT_N {
        let (g, lcm, h) = lattice(n1, n2, d);
        let d = h as f64 / lcm as f64;
        let p_value = if h == 0 {
            1.0
        } else {
            prob_outside_band(n1 as u64, n2 as u64, g, h)
        };
        return Some(KsResult {
            statistic: d,
            p_value: p_value.clamp(0.0, 1.0),
            method: KsMethod::Exact,
        });
    }
    let (m, n) = if n1 >= n2 {
        (n1 as f64, n2 as f64)
    } else {
        (n2 as f64, n1 as f64)
    };
    let en = (m * n / (m + n)).round_ties_even();
    Some(KsResult {
        statistic: d,
        p_value: kolmogorov_sf(en as u64, d).clamp(0.0, 1.0),
        method: KsMethod::Asymptotic,
    })
}

/// sup |F_a - F_b| over all observed values (F counts values <= x).
/// The KS statistic exactly as [`ks_2samp`] reports it (and `scipy.stats.ks_2samp`): the
/// largest distance between the empirical distribution functions of two ascending samples
/// without NaN, snapped to the lattice of multiples of 1/lcm(m, n) when the exact method
/// applies. None when a sample is empty. Costs one merge pass, no p-value.
pub fn ks_statistic(a: &[f64], b: &[f64]) -> Option<f64> {
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let d = statistic(a, b);
    if n1.max(n2) <= MAX_EXACT_N {
        let (_, lcm, h) = lattice(n1, n2, d);
        return Some(h as f64 / lcm as f64);
    }
    Some(d)
}

/// gcd(m, n), lcm(m, n) and the statistic as a whole number of 1/lcm steps.
fn lattice(n1: usize, n2: usize, d: f64) -> (u64, u64, u64) {
    let g = gcd(n1 as u64, n2 as u64);
    let lcm = (n1 as u64 / g) * n2 as u64;
    (g, lcm, (d * lcm as f64).round_ties_even() as u64)
}

fn statistic(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0, 0);
    let (mut max_diff, mut min_diff) = (0.0f64, 0.0f64);
    while i < a.len() || j < b.len() {
        let x = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => unreachable!(),
        };
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        let diff = i as f64 / n1 - j as f64 / n2;
        max_diff = max_diff.max(diff);
        min_diff = min_diff.min(diff);
    }
    max_diff.max((-min_diff).clamp(0.0, 1.0))
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Share of monotone lattice paths from (0, 0) to (m, n) that touch |i n' - j m'| >= h,
/// where m' = m/g and n' = n/g: P(D >= h / lcm(m, n)) under the null hypothesis.
///
/// Column by column, `a[j]` is the probability that a uniformly chosen path to (i, j) has
/// already left the band; cells outside the band are 1. A path to (i, j) comes from
/// (i-1, j) with probability i/(i+j) and from (i, j-1) with probability j/(i+j).
fn prob_outside_band(m: u64, n: u64, g: u64, h: u64) -> f64 {
    let (m, n) = if m >= n { (m, n) } else { (n, m) };
    let (mg, ng) = ((m / g) as i64, (n / g) as i64);
    let (h, n_us) = (h as i64, n as usize);
    let floor_div = |x: i64, y: i64| x.div_euclid(y);
    let ceil_div = |x: i64, y: i64| -((-x).div_euclid(y));
    // Inside the band: (ng i - h) / mg < j < (ng i + h) / mg.
    let band = |i: i64| {
        let lo = (floor_div(ng * i - h, mg) + 1).clamp(0, n as i64) as usize;
        let hi = ceil_div(ng * i + h, mg).clamp(0, n as i64 + 1) as usize;
        (lo, hi)
    };
    let mut a = vec![1.0f64; n_us + 1];
    let (_, hi0) = band(0);
    a[..hi0].fill(0.0);
    let mut prev_lo = 0usize;
    for i in 1..=m as i64 {
        let (lo, hi) = band(i);
        if hi <= lo {
            return 1.0;
        }
        // Cells that dropped below the band are now outside.
        if lo > prev_lo {
            a[prev_lo..lo].fill(1.0);
        }
        let fi = i as f64;
        for j in lo..hi {
            let left = if j == 0 { 0.0 } else { a[j - 1] };
            let fj = j as f64;
            a[j] = (fi * a[j] + fj * left) / (fi + fj);
        }
        prev_lo = lo;
    }
    a[n_us]
}

/// P(D_n >= x) for the one-sample two-sided Kolmogorov statistic.
pub fn kolmogorov_sf(n: u64, x: f64) -> f64 {
    if n == 0 || x.is_nan() {
        return f64::NAN;
    }
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let nf = n as f64;
    let t = nf * x;
    if t <= 1.0 {
        // Ruben-Gambino: P(D_n < x) = n!/n^n (2t - 1)^n for 1/(2n) < x <= 1/n.
        if t <= 0.5 {
            return 1.0;
        }
        let cdf = if n <= 140 {
            (1..=n)
                .map(|i| i as f64 * (1.0 / nf) * (2.0 * t - 1.0))
                .product()
        } else {
            (ln_factorial_over_power(n) + nf * (2.0 * t - 1.0).ln()).exp()
        };
        return (1.0 - cdf).clamp(0.0, 1.0);
    }
    if t >= nf - 1.0 {
        return (2.0 * (1.0 - x).powf(nf)).clamp(0.0, 1.0);
    }
    if x >= 0.5 {
        // The one-sided tails cannot both be crossed: exactly twice Smirnov's.
        return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
    }
    let nxx = t * x;
    if n <= 140 {
        if nxx <= 4.0 {
            // Durbin's matrix is exact; here its matrices stay small (k <= 2 sqrt(n)).
            return (1.0 - durbin_cdf(n, x)).clamp(0.0, 1.0);
        }
        return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
    }
    if nxx >= 370.0 {
        return 0.0;
    }
    if nxx >= 2.2 {
        return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
    }
    let cdf = if nxx >= 18.0 {
        1.0
    } else if n <= 100_000 && nf * x.powf(1.5) <= 1.4 {
        durbin_cdf(n, x)
    } else {
        pelz_good_cdf(n, x)
    };
    (1.0 - cdf).clamp(0.0, 1.0)
}

/// ln(n! / n^n) by Stirling's series (n > 140, where it is accurate to double precision).
fn ln_factorial_over_power(n: u64) -> f64 {
    let nf = n as f64;
    // B_2j / (2j (2j-1)) for j = 1..8.
    const C: [f64; 8] = [
        1.0 / 12.0,
        -1.0 / 360.0,
        1.0 / 1260.0,
        -1.0 / 1680.0,
        1.0 / 1188.0,
        -691.0 / 360360.0,
        1.0 / 156.0,
        -3617.0 / 122400.0,
    ];
    let r = 1.0 / nf;
    let r2 = r * r;
    let mut series = 0.0;
    for c in C.iter().rev() {
        series = series * r2 + c;
    }
    nf.ln() / 2.0 - nf + (2.0 * std::f64::consts::PI).ln() / 2.0 + r * series
}

/// Smirnov's one-sided P(D_n^+ >= d), exact (Birnbaum-Tingey):
/// d * sum_{j=0}^{floor(n(1-d))} C(n, j) (1 - d - j/n)^(n-j) (d + j/n)^(j-1).
pub fn smirnov_sf(n: u64, d: f64) -> f64 {
    if d <= 0.0 {
        return 1.0;
    }
    if d >= 1.0 {
        return 0.0;
    }
    let nf = n as f64;
    let last = (nf * (1.0 - d)).floor() as u64;
    let mut ln_binom = 0.0; // ln C(n, 0)
    let mut sum = 0.0;
    for j in 0..=last {
        if j > 0 {
            ln_binom += ((n - j + 1) as f64).ln() - (j as f64).ln();
        }
        let jf = j as f64;
        let low = 1.0 - d - jf / nf;
        let high = d + jf / nf;
        let ln_term = if low <= 0.0 {
            if n == j {
                // 0^0 = 1
                ln_binom + (jf - 1.0) * high.ln()
            } else {
                continue;
            }
        } else {
            ln_binom + (nf - jf) * low.ln() + (jf - 1.0) * high.ln()
        };
        sum += ln_term.exp();
    }
    (d * sum).clamp(0.0, 1.0)
}

/// P(D_n < d) by Durbin's matrix method as Marsaglia, Tsang and Wang compute it:
/// n!/n^n times the (k, k) entry of H^n, with d = (k - h)/n.
fn durbin_cdf(n: u64, d: f64) -> f64 {
    if d >= 1.0 {
        return 1.0;
    }
    let nd = n as f64 * d;
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;
    // w[j] = 1/j!, v[j] = (1 - h^(j+1)) / (j+1)!
    let mut w = vec![0.0; m];
    let mut v = vec![0.0; m];
    let mut fac = 1.0;
    for j in 1..=m {
        w[j - 1] = fac;
        fac /= j as f64;
        v[j - 1] = (1.0 - h.powi(j as i32)) * fac;
    }
    v[m - 1] = (1.0 + (2.0 * h - 1.0).max(0.0).powi(m as i32) - 2.0 * h.powi(m as i32)) * fac;
    let mut hm = Matrix::zeros(m);
    for col in 1..m {
        for row in (col - 1)..m {
            hm.set(row, col, w[row + 1 - col]);
        }
    }
    for (row, &value) in v.iter().enumerate() {
        hm.set(row, 0, value);
    }
    for col in 0..m {
        hm.set(m - 1, col, v[m - 1 - col]);
    }
    // H^n by squaring, keeping values in range with power-of-two exponents.
    const STEP: i32 = 128;
    let big = 2f64.powi(STEP);
    let mut power = Matrix::identity(m);
    let mut power_exp = 0i64;
    let mut base_exp = 0i64;
    let mut e = n;
    while e > 0 {
        if e % 2 == 1 {
            power = power.mul(&hm);
            power_exp += base_exp;
        }
        hm = hm.mul(&hm);
        base_exp *= 2;
        if hm.get(k - 1, k - 1).abs() > big {
            hm.scale(1.0 / big);
            base_exp += STEP as i64;
        }
        e /= 2;
    }
    let mut p = power.get(k - 1, k - 1);
    let nf = n as f64;
    for i in 1..=n {
        p = i as f64 * p / nf;
        if p.abs() < 1.0 / big {
            p *= big;
            power_exp -= STEP as i64;
        }
    }
    p * 2f64.powi(power_exp.clamp(i32::MIN as i64, i32::MAX as i64) as i32)
}

/// Dense square matrix, row-major.
struct Matrix {
    n: usize,
    v: Vec<f64>,
}

impl Matrix {
    fn zeros(n: usize) -> Self {
        Self {
            n,
            v: vec![0.0; n * n],
        }
    }

    fn identity(n: usize) -> Self {
        let mut m = Self::zeros(n);
        for i in 0..n {
            m.set(i, i, 1.0);
        }
        m
    }

    fn get(&self, r: usize, c: usize) -> f64 {
        self.v[r * self.n + c]
    }

    fn set(&mut self, r: usize, c: usize, x: f64) {
        self.v[r * self.n + c] = x;
    }

    fn scale(&mut self, s: f64) {
        self.v.iter_mut().for_each(|x| *x *= s);
    }

    fn mul(&self, o: &Matrix) -> Matrix {
        let n = self.n;
        let mut out = Matrix::zeros(n);
        for r in 0..n {
            for k in 0..n {
                let a = self.v[r * n + k];
                if a == 0.0 {
                    continue;
                }
                let row = &o.v[k * n..(k + 1) * n];
                let dst = &mut out.v[r * n..(r + 1) * n];
                for (d, b) in dst.iter_mut().zip(row) {
                    *d += a * b;
                }
            }
        }
        out
    }
}

/// The Pelz-Good approximation of P(D_n < x): the Li-Chien/Korolyuk expansion in powers of
/// 1/sqrt(n), each term rewritten with Jacobi theta identities so that it converges fast
/// for small z = x sqrt(n).
fn pelz_good_cdf(n: u64, x: f64) -> f64 {
    use std::f64::consts::PI;
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let nf = n as f64;
    let z = nf.sqrt() * x;
    let (z2, z3, z4, z6) = (z * z, z * z * z, z.powi(4), z.powi(6));
    let pi2 = PI * PI;
    let pi4 = pi2 * pi2;
    let pi6 = pi4 * pi2;
    let q_log = -pi2 / 8.0 / z2;
    if q_log < -708.0 {
        return 0.0;
    }
    let q = q_log.exp();
    let k1a = -z2;
    let k1b = pi2 / 4.0;
    let k2a = 6.0 * z6 + 2.0 * z4;
    let k2b = (2.0 * z4 - 5.0 * z2) * pi2 / 4.0;
    let k2c = pi4 * (1.0 - 2.0 * z2) / 16.0;
    let k3d = pi6 * (5.0 - 30.0 * z2) / 64.0;
    let k3c = pi4 * (-60.0 * z2 + 212.0 * z4) / 16.0;
    let k3b = pi2 * (135.0 * z4 - 96.0 * z6) / 4.0;
    let k3a = -30.0 * z6 - 90.0 * z.powi(8);

    // Sums over odd m = 2k - 1 of c(m) q^(m^2), by Horner in q^(8k).
    let max_k = (16.0 * z / PI).ceil() as u64;
    let mut terms = [0.0f64; 4];
    for k in (1..=max_k).rev() {
        let m = (2 * k - 1) as f64;
        let (m2, m4, m6) = (m * m, m.powi(4), m.powi(6));
        let q_power = q.powf(8.0 * k as f64);
        let coeffs = [
            1.0,
            k1a + k1b * m2,
            k2a + k2b * m2 + k2c * m4,
            k3a + k3b * m2 + k3c * m4 + k3d * m6,
        ];
        for (t, c) in terms.iter_mut().zip(coeffs) {
            *t = *t * q_power + c;
        }
    }
    let sqrt_2pi = (2.0 * PI).sqrt();
    let divisors = [z, 6.0 * z4, 72.0 * z.powi(7), 6480.0 * z.powi(10)];
    for (t, dv) in terms.iter_mut().zip(divisors) {
        *t = *t * q * sqrt_2pi / dv;
    }
    // Sums over all k of k^2 q'^(k^2) terms, q' = exp(-pi^2 / (2 z^2)).
    let q2 = (-pi2 / 2.0 / z2).exp();
    let sqrt3z = 3f64.sqrt() * z;
    let (mut k2_extra, mut k3_extra) = (0.0, 0.0);
    for k in (1..=max_k).rev() {
        let kf = k as f64;
        let k2 = kf * kf;
        let qk = q2.powf(k2);
        k2_extra += k2 * qk;
        let kpi = PI * kf;
        k3_extra += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qk;
    }
    terms[2] += k2_extra * pi2 * sqrt_2pi / (-36.0 * z3);
    terms[3] += k3_extra * pi2 * sqrt_2pi / (216.0 * z6);
    terms
        .iter()
        .enumerate()
        .map(|(i, t)| t / nf.powf(i as f64 / 2.0))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistic_counts_ties_on_both_sides() {
        // F_a and F_b at 1, 2, 3: (1/3, 0), (2/3, 2/3), (1, 1) -> D = 1/3.
        let r = ks_2samp(&[1.0, 2.0, 3.0], &[2.0, 2.0, 3.0]).unwrap();
        assert!((r.statistic - 1.0 / 3.0).abs() < 1e-15);
        assert_eq!(r.method, KsMethod::Exact);
        assert!(ks_2samp(&[], &[1.0]).is_none());
    }

    #[test]
    fn identical_samples_have_p_value_one() {
        let a: Vec<f64> = (0..50).map(f64::from).collect();
        let r = ks_2samp(&a, &a).unwrap();
        assert_eq!((r.statistic, r.p_value), (0.0, 1.0));
    }
}
