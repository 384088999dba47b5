"""Reference values for scorewatch's statistics on values of extreme magnitude: near 1e160,
up to +-1.7e308 with both signs, constant features, tiny normal and subnormal numbers.

Writes core/tests/fixtures/extreme_values.json, read by core/tests/drift_stats.rs.

numpy, scipy and pandas overflow here themselves (np.std of values near 1e160 squares
them: inf; the difference of +-1.7e308 is inf) or underflow (squares of 1e-300 are 0), so
the reference values are computed exactly with fractions.Fraction (every float is a
fraction: sums, differences, quantile interpolation, the Wasserstein area and the KS
statistic are exact) and decimal.Decimal at 50 digits for the square roots and the one
division by a square root. Each is rounded to the nearest float once, at the end. As a check
on the formulas (not on the arithmetic), the same statistics from numpy (linear quantiles,
np.std), pandas (sample std, ddof=1) and scipy (wasserstein_distance, ks_2samp) on the
samples multiplied by a power of two 2^-k, which is exact, are compared with the exact
ones, scaled back, wherever that scaling loses nothing.

A value whose true result exceeds the largest float is written as "max": scorewatch
saturates there.

The samples come from the 64-bit LCG of drift_values.py and only exact or once-rounded
IEEE operations (x = u * scale + shift), so the Rust test regenerates them bit for bit.

    python3 -m venv /tmp/statenv && /tmp/statenv/bin/pip install numpy scipy pandas
    /tmp/statenv/bin/python core/tests/reference/extreme_values.py
"""
import decimal
import json
import math
import pathlib
from fractions import Fraction

import numpy as np
import pandas as pd
import scipy
from scipy import stats

MASK = (1 << 64) - 1
FMAX = Fraction(np.finfo(float).max)
STD_FLOOR = Fraction(0.001)  # the float 0.001, as scorewatch's floor
QUANTILES = {"q25": 0.25, "median": 0.5, "q75": 0.75}

decimal.getcontext().prec = 50


def sample(seed, n, kind, scale, shift):
    state = seed & MASK

    def uniform():
        nonlocal state
        state = (state * 6364136223846793005 + 1442695040888963407) & MASK
        return (state >> 11) * (1.0 / 9007199254740992.0)

    out = []
    for _ in range(n):
        u = uniform()
        if kind == "uniform":
            x = u
        elif kind == "sym":
            x = 2.0 * u - 1.0
        elif kind == "sign":
            x = -1.0 if u < 0.5 else 1.0
        elif kind == "const":
            x = 0.0
        else:
            raise ValueError(kind)
        out.append(x * scale + shift)
    return out


def spec(seed, n, kind, scale=1.0, shift=0.0):
    return {"seed": seed, "n": n, "kind": kind, "scale": scale, "shift": shift}


def data(s):
    return sorted(sample(s["seed"], s["n"], s["kind"], s["scale"], s["shift"]))


def to_float(x):
    """Nearest float of an exact Fraction or Decimal; "max" beyond the largest float."""
    if isinstance(x, Fraction):
        return "max" if abs(x) > FMAX else float(x)
    f = float(x)
    return "max" if math.isinf(f) else f


def dec(fr):
    return decimal.Decimal(fr.numerator) / decimal.Decimal(fr.denominator)


def mean(xs):
    return sum(map(Fraction, xs), Fraction(0)) / len(xs)


def variance(xs, ddof):
    m = mean(xs)
    return sum(((Fraction(x) - m) ** 2 for x in xs), Fraction(0)) / (len(xs) - ddof)


def quantile(sorted_xs, q):
    # The position as scorewatch (and numpy) compute it in floating point, then the exact
    # interpolation between the two order statistics.
    h = float(len(sorted_xs) - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, len(sorted_xs) - 1)
    t = Fraction(h - lo)
    a, b = Fraction(sorted_xs[lo]), Fraction(sorted_xs[hi])
    return a + t * (b - a)


def ecdf_steps(a, b):
    """(F_a - F_b, gap to the next value) at each distinct value of the merged samples."""
    points = sorted(set(a) | set(b))
    out = []
    i = j = 0
    for k, x in enumerate(points[:-1]):
        while i < len(a) and a[i] <= x:
            i += 1
        while j < len(b) and b[j] <= x:
            j += 1
        diff = Fraction(i, len(a)) - Fraction(j, len(b))
        out.append((diff, Fraction(points[k + 1]) - Fraction(x)))
    return out


def wasserstein(a, b):
    return sum((abs(d) * gap for d, gap in ecdf_steps(a, b)), Fraction(0))


def ks_statistic(a, b):
    points = sorted(set(a) | set(b))
    best = Fraction(0)
    i = j = 0
    for x in points:
        while i < len(a) and a[i] <= x:
            i += 1
        while j < len(b) and b[j] <= x:
            j += 1
        best = max(best, abs(Fraction(i, len(a)) - Fraction(j, len(b))))
    return best


def wasserstein_norm(ref, cur):
    w = wasserstein(ref, cur)
    var = variance(ref, 0)
    if var < STD_FLOOR**2:
        return w / STD_FLOOR
    return dec(w) / dec(var).sqrt()


def exponent(xs):
    m = max(abs(x) for x in xs)
    return math.frexp(m)[1] if m > 0 else 0


def scaled(xs, k):
    """xs * 2^-k, or None when that is not exact (a value would lose digits)."""
    out = [math.ldexp(x, -k) for x in xs]
    if any(math.ldexp(y, k) != x for x, y in zip(xs, out)):
        return None
    return out


def check(label, exact, approx, rel=1e-9, magnitude=0):
    """approx within rel of exact, or within rel x magnitude (rounding noise of a zero)."""
    e = exact if isinstance(exact, decimal.Decimal) else dec(exact)
    a = decimal.Decimal(approx)
    tol = decimal.Decimal(rel) * max(abs(e), decimal.Decimal(magnitude))
    assert abs(a - e) <= tol, (label, float(e), float(approx))


def cross_check(name, ref, cur, case):
    """numpy / pandas / scipy on exactly scaled samples against the exact values."""
    k = exponent(ref)
    ref_s = scaled(ref, k)
    std_pop = None
    if ref_s is not None:
        std_pop = decimal.Decimal(np.std(ref_s)) * decimal.Decimal(2) ** k
        back = lambda v: decimal.Decimal(float(v)) * decimal.Decimal(2) ** k  # noqa: E731
        check(f"{name} mean", case["_mean"], back(np.mean(ref_s)))
        magnitude = decimal.Decimal(2) ** k
        if len(ref) > 1:
            check(f"{name} std", case["_std"], back(pd.Series(ref_s).std()),
                  magnitude=magnitude)
        check(f"{name} std_population", case["_std_pop"], back(np.std(ref_s)),
              magnitude=magnitude)
        for key, q in QUANTILES.items():
            check(f"{name} {key}", case["_" + key], back(np.quantile(ref_s, q)))
    k = max(exponent(ref), exponent(cur))
    ref_s, cur_s = scaled(ref, k), scaled(cur, k)
    if ref_s is not None and cur_s is not None:
        w = decimal.Decimal(stats.wasserstein_distance(ref_s, cur_s)) * decimal.Decimal(2) ** k
        check(f"{name} wasserstein", case["_wasserstein"], w)
        # Only where the reference's std is above the floor (exactly; numpy's own rounding
        # noise on a constant sample is not).
        if std_pop is not None and case["_std_pop"] >= dec(STD_FLOOR):
            check(f"{name} wasserstein_norm", case["_wasserstein_norm"], w / std_pop)
        d = stats.ks_2samp(ref_s, cur_s).statistic
        check(f"{name} ks", case["_ks"], d, rel=1e-12)


def main():
    cases = {
        # The issue: the reference std overflowed, so the normed distance came out 0. The
        # current sample is shifted by half a standard deviation of U(0, 1e160).
        "near_1e160": (spec(101, 2000, "uniform", 1e160),
                       spec(102, 500, "uniform", 1e160, 0.5e160 / math.sqrt(12.0))),
        # Both signs up to +-1.7e308: differences of values exceed the largest float.
        "mixed_max": (spec(103, 1000, "sym", 1.7e308),
                      spec(104, 400, "sym", 0.85e308, 0.8e308)),
        # Only +-1.7e308: quantiles interpolate across the sign change, the sample std
        # (about 1.1 x 1.7e308) exceeds the largest float.
        "sign_extremes": (spec(105, 5, "sign", 1.7e308),
                          spec(106, 7, "const", 1.0, 1.7e308)),
        # A distance of 3.4e308: saturates.
        "opposite_constants": (spec(107, 10, "const", 1.0, -1.7e308),
                               spec(108, 10, "const", 1.0, 1.7e308)),
        # Constant features: std 0, floored at 0.001.
        "constant": (spec(109, 100, "const", 1.0, 3.0),
                     spec(110, 50, "uniform", 2.0, 2.0)),
        "constant_huge": (spec(111, 100, "const", 1.0, 1e300),
                          spec(112, 80, "uniform", 1e300, 1e300)),
        # An ordinary reference against a window near 1e307: its std must survive the
        # scaling the distance needs.
        "ordinary_vs_huge": (spec(113, 1000, "uniform"),
                             spec(114, 100, "uniform", 1e307, 1e307)),
        # Squares of deviations underflow without scaling.
        "tiny_normal": (spec(115, 1000, "uniform", 1e-300),
                        spec(116, 300, "uniform", 1e-300, 0.3e-300)),
        "subnormal": (spec(117, 1000, "uniform", 1e-320),
                      spec(118, 300, "uniform", 1e-320, 2e-321)),
    }
    out_cases = []
    for name, (ref_spec, cur_spec) in cases.items():
        ref, cur = data(ref_spec), data(cur_spec)
        assert all(math.isfinite(x) for x in ref + cur), name
        exact = {
            "_mean": mean(ref),
            "_std": dec(variance(ref, 1)).sqrt() if len(ref) > 1 else None,
            "_std_pop": dec(variance(ref, 0)).sqrt(),
            "_wasserstein": wasserstein(ref, cur),
            "_wasserstein_norm": wasserstein_norm(ref, cur),
            "_ks": ks_statistic(ref, cur),
        }
        for key, q in QUANTILES.items():
            exact["_" + key] = quantile(ref, q)
        cross_check(name, ref, cur, exact)
        case = {"name": name, "reference": ref_spec, "current": cur_spec,
                "min": ref[0], "max": ref[-1]}
        for key, value in exact.items():
            case[key[1:]] = to_float(value)
        out_cases.append(case)
        print(name, {k: case[k] for k in ("mean", "std", "wasserstein_norm", "ks")})

    raw = data(cases["near_1e160"][0])
    with np.errstate(over="ignore"):
        print("numpy on the raw 1e160 sample: np.std =", np.std(raw))

    out = {
        "generated_by": "core/tests/reference/extreme_values.py",
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "cases": out_cases,
    }
    path = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "extreme_values.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
