"""Reference values for scorewatch's credit-model performance statistics.

Writes core/tests/fixtures/performance_reference.json. Every input is written into the JSON
explicitly (scores and labels), so the Rust tests read the data rather than regenerate it.
The data come from the 64-bit linear congruential generator of drift_values.py, rounded to
a grid where a case wants ties. Scores are predicted probabilities of default (PD) in
[0, 1]; label 1 means defaulted, the positive class, and a higher score is riskier.
Running the script twice writes the same bytes.

    python3 -m venv /tmp/perfref && /tmp/perfref/bin/pip install numpy scipy scikit-learn
    /tmp/perfref/bin/python core/tests/reference/performance_values.py

The versions used are written under "versions". A value that is undefined is null; the
JSON never holds NaN or infinity. Floats are written with Python's repr, so they read back
bit for bit with a correctly rounding parser.

Section "discrimination", one entry per case, with these conventions:

- roc_auc: sklearn.metrics.roc_auc_score (trapezoids under the ROC curve, in floats).
  roc_auc_exact: the same area as the exact fraction U / (m n) (Mann-Whitney, ties count
  one half), rounded to the nearest float once. Both null when a class is absent.
- gini: 2 * auc - 1 from the exact AUC, rounded once.
- delong_variance: the DeLong (1988) variance of the AUC, by the midrank algorithm of Sun
  and Xu (2014). With m defaulted scores X and n non-defaulted scores Y,
      V10_i = (midrank of X_i among all - midrank of X_i among the X) / n
      V01_j = 1 - (midrank of Y_j among all - midrank of Y_j among the Y) / m
      variance = var(V10, ddof=1) / m + var(V01, ddof=1) / n.
  It is computed in exact rational arithmetic (fractions.Fraction; twice a midrank is an
  integer) and rounded to the nearest float once, so it is the correctly rounded value.
  On every case with m n <= 4e6 the script asserts that it equals, exactly, the variance
  from the O(m n) definition V10_i = mean_j psi(X_i, Y_j), V01_j = mean_i psi(X_i, Y_j),
  psi(x, y) = 1 if x > y, 1/2 if x == y, 0 otherwise, and that both means equal the AUC.
  null when m < 2 or n < 2 (the ddof=1 variance of one value is undefined).
- ci_low, ci_high: auc -+ z sqrt(delong_variance) with z = scipy.stats.norm.ppf(0.975)
  (the float under "conventions"), clipped to [0, 1]; the exact AUC and variance, square
  root and products in 80-digit decimal arithmetic, rounded once. null with the variance.
- ks_separation: scipy.stats.ks_2samp(defaulted scores, non-defaulted scores).statistic;
  ks_separation_exact: max over t of |F_defaulted(t) - F_non_defaulted(t)| as an exact
  fraction, rounded once. null when a side is empty.
- brier: sklearn.metrics.brier_score_loss(labels, scores, pos_label=1). That version
  stacks the two columns (1 - p, p), sums both squared errors in floats and halves the
  mean; brier_exact is mean((y - p)^2) as an exact fraction, rounded once.
- log_loss: sklearn.metrics.log_loss(labels, scores, labels=[0, 1]). In scikit-learn 1.9
  (read from sklearn/metrics/_classification.py, _log_loss) a one-dimensional y_proba is
  made into the columns (1 - p, p), with 1 - p rounded in floats; then both columns are
  clipped to [eps, 1 - eps], eps = numpy.finfo(float64).eps = 2**-52, and the loss is
  -mean(sum of y_c * log(column_c)) with 0 * log counting 0. So a defaulted row with
  p = 0 (or p = 5e-324) costs -ln(2**-52) = 36.04..., a non-defaulted row with p = 1 or
  p = 1 - 2**-53 costs the same, and p above 1 - 2**-52 is lowered to 1 - 2**-52.
  log_loss_unclipped: mean of -[y ln p + (1 - y) ln(1 - p)] without clipping, with 1 - p
  exact (for p < 1e-40, -ln(1 - p) is taken as p) and the logarithms and sum in 80-digit
  decimal arithmetic, rounded once; null when infinite (a defaulted row with p = 0 or a
  non-defaulted row with p = 1). The script checks that sklearn's values reproduce the
  clipping described here bit for bit.
- ecb_auc_test: statistic S = (auc_initial - auc) / sqrt(delong_variance) (exact AUC and
  variance, 80 digits, rounded once) and p_value = scipy.stats.norm.sf(S) of that float:
  one-sided, H0 "the current AUC is not lower than at the initial validation". Both null
  when the variance is null or 0.
- confusion at the case's threshold t: a row is approved when score < t and refused when
  score >= t. tp = refused and defaulted, fp = refused and not defaulted, tn = approved and
  not defaulted, fn = approved and defaulted; approval_rate = approved / n;
  default_rate_approved = fn / approved, null when nothing is approved. Ratios of
  integers are correctly rounded.

Section "calibration", one entry per case (reference_scores, scores, labels):

- edges: numpy.quantile(reference_scores, [k / 10 for k in 1..9]) with the default linear
  method (virtual index (N - 1) q; numpy's lerp a + (b - a) g, or b - (b - a)(1 - g) when
  g >= 0.5). Duplicate edges are kept.
- grade of a score s (1-based) = 1 + number of edges strictly below s, i.e.
  numpy.searchsorted(edges, s, side='left') + 1. Grade g covers (edges[g-2], edges[g-1]];
  pd_low = 0 for grade 1 (which also holds s = 0) and pd_high = 1 for grade 10. All ten
  grades are listed, empty ones too.
- per grade: n and reference_n (rows of the cohort and of the reference in the grade),
  defaults, mean_pd (mean score, exact fraction rounded once), default_rate = defaults / n,
  jeffreys_p_value = scipy.stats.beta.cdf(mean_pd, defaults + 0.5, n - defaults + 0.5)
  with the float mean_pd. The last three are null when n = 0. "portfolio" holds the same
  over all rows of the cohort.
- herfindahl = sum over the K = 10 grades of (n_g / N)^2 (exact, rounded once).
  herfindahl_ecb is the ECB's HI (instructions for reporting the validation results of
  internal models, 2019): HI = 1 + ln((CV^2 + 1) / K) / ln K with the coefficient of
  variation of the grade shares R_i, CV^2 = K sum (R_i - 1/K)^2. Expanding,
  CV^2 = K sum R_i^2 - 2 sum R_i + 1 = K sum R_i^2 - 1 because sum R_i = 1, so
  CV^2 + 1 = K herfindahl and HI = 1 + ln(herfindahl) / ln(K), 0 for equal grades and 1
  when one grade holds everything. 80-digit logarithms, rounded once.
- grade_psi = sum over the ten grades of (c - r) ln(c / r), c and r the shares of the
  cohort and of the reference in the grade, each floored first: c = max(c, 1e-4),
  r = max(r, 1e-4), with the float 1e-4. Exact shares, 80-digit logarithms, rounded once.

Section "jeffreys": triples n, defaults, mean_pd with
p_value = scipy.stats.beta.cdf(mean_pd, defaults + 0.5, n - defaults + 0.5), including
summaries too large to list as rows and p-values near 1e-200 and 1e-300 to check relative
accuracy.
"""
import decimal
import json
import math
import pathlib
import platform
import warnings
from decimal import Decimal
from fractions import Fraction

import numpy as np
import scipy
import sklearn
from scipy import stats
from sklearn import metrics

MASK = (1 << 64) - 1
PROBABILITIES = [k / 10 for k in range(1, 10)]
GRADES = 10
PSI_FLOOR = 1e-4
Z = float(stats.norm.ppf(0.975))
SLOW_CHECK_LIMIT = 4_000_000

decimal.getcontext().prec = 80


class Lcg:
    """The 64-bit LCG of drift_values.py; uniform() is in [0, 1) with 53 random bits."""

    def __init__(self, seed):
        self.state = seed & MASK

    def uniform(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & MASK
        return (self.state >> 11) * (1.0 / 9007199254740992.0)

    def bernoulli(self, p):
        return 1 if self.uniform() < p else 0


# ---------------------------------------------------------------- exact helpers

def dec(q):
    """A Fraction as an 80-digit Decimal."""
    return Decimal(q.numerator) / Decimal(q.denominator)


def to_float(x):
    """Nearest float of a Fraction (Python rounds int / int correctly) or of a Decimal."""
    return float(x)


def exact_mean(values):
    return sum((Fraction(v) for v in values), Fraction(0)) / len(values)


def midranks2(values):
    """Twice the midrank (1-based) of each value among values: an integer."""
    order = sorted(range(len(values)), key=lambda k: values[k])
    out = [0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        # positions i..j (0-based) share the midrank (i + j) / 2 + 1
        for k in order[i:j + 1]:
            out[k] = i + j + 2
        i = j + 1
    return out


def split(scores, labels):
    pos = [s for s, y in zip(scores, labels) if y == 1]
    neg = [s for s, y in zip(scores, labels) if y == 0]
    return pos, neg


def delong_fast(scores, labels):
    """Exact AUC and DeLong variance (None when m < 2 or n < 2) from midranks."""
    pos, neg = split(scores, labels)
    m, n = len(pos), len(neg)
    if m == 0 or n == 0:
        return None, None
    r_all = midranks2(scores)
    r_pos, r_neg = midranks2(pos), midranks2(neg)
    all_pos = [r for r, y in zip(r_all, labels) if y == 1]
    all_neg = [r for r, y in zip(r_all, labels) if y == 0]
    # a_i = 2 n V10_i = 2 #(Y < X_i) + #(Y == X_i); b_j = 2 m (1 - V01_j).
    a = [ra - rp for ra, rp in zip(all_pos, r_pos)]
    b = [ra - rn for ra, rn in zip(all_neg, r_neg)]
    auc = Fraction(sum(a), 2 * m * n)
    if m < 2 or n < 2:
        return auc, None
    # var(V10) = var(a) / (2n)^2 and var(V01) = var(b) / (2m)^2 (a shift does not matter).
    s1, s2 = sum(a), sum(x * x for x in a)
    t1, t2 = sum(b), sum(x * x for x in b)
    var10 = Fraction(m * s2 - s1 * s1, m * (m - 1) * 4 * n * n)
    var01 = Fraction(n * t2 - t1 * t1, n * (n - 1) * 4 * m * m)
    return auc, var10 / m + var01 / n


def sample_variance(values):
    mean = sum(values, Fraction(0)) / len(values)
    return sum(((v - mean) ** 2 for v in values), Fraction(0)) / (len(values) - 1)


def delong_slow(scores, labels):
    """The same from the definition: psi over all m n pairs, then sample variances."""
    pos, neg = split(scores, labels)
    x = np.array(pos)[:, None]
    y = np.array(neg)[None, :]
    m, n = len(pos), len(neg)
    psi2 = 2 * (x > y).astype(np.int64) + (x == y).astype(np.int64)  # 2 psi
    v10 = [Fraction(int(s), 2 * n) for s in psi2.sum(axis=1)]
    v01 = [Fraction(int(s), 2 * m) for s in psi2.sum(axis=0)]
    auc10 = sum(v10, Fraction(0)) / m
    auc01 = sum(v01, Fraction(0)) / n
    assert auc10 == auc01
    if m < 2 or n < 2:
        return auc10, None
    return auc10, sample_variance(v10) / m + sample_variance(v01) / n


def ks_exact(scores, labels):
    pos, neg = split(scores, labels)
    m, n = len(pos), len(neg)
    pos_sorted, neg_sorted = sorted(pos), sorted(neg)
    best = 0
    for v in sorted(set(scores)):
        a = int(np.searchsorted(pos_sorted, v, side="right"))
        b = int(np.searchsorted(neg_sorted, v, side="right"))
        best = max(best, abs(a * n - b * m))
    return Fraction(best, m * n)


def log_loss_exact(scores, labels):
    """-mean(y ln p + (1 - y) ln(1 - p)) in 80 digits; None when infinite."""
    total = Decimal(0)
    for p, y in zip(scores, labels):
        q = Decimal(p) if y == 1 else Decimal(1) - Decimal(p)  # exact when p is not tiny
        if y == 0 and 0 < p < 1e-40:
            total += Decimal(p)  # -ln(1 - p) = p + p^2/2 + ..., below 80 digits after p
            continue
        if q == 0:
            return None
        total -= q.ln()
    return total / len(scores)


# ---------------------------------------------------------------- discrimination

def discrimination_case(name, scores, labels, auc_initial, threshold):
    scores = [float(s) for s in scores]
    labels = [int(y) for y in labels]
    assert len(scores) == len(labels) and all(0.0 <= s <= 1.0 for s in scores)
    pos, neg = split(scores, labels)
    m, n = len(pos), len(neg)
    both = m > 0 and n > 0

    auc, variance = delong_fast(scores, labels)
    if both and m * n <= SLOW_CHECK_LIMIT:
        assert delong_slow(scores, labels) == (auc, variance), name

    exp = {"n": len(scores), "defaults": m}
    if both:
        sk_auc = float(metrics.roc_auc_score(labels, scores))
        assert abs(sk_auc - to_float(auc)) <= 1e-15, (name, sk_auc, auc)
        exp["roc_auc"] = sk_auc
        exp["roc_auc_exact"] = to_float(auc)
        exp["gini"] = to_float(2 * auc - 1)
    else:
        exp["roc_auc"] = exp["roc_auc_exact"] = exp["gini"] = None

    exp["delong_variance"] = None if variance is None else to_float(variance)
    if variance is None:
        exp["ci_low"] = exp["ci_high"] = None
    else:
        half = Decimal(Z) * dec(variance).sqrt()
        exp["ci_low"] = to_float(max(Decimal(0), dec(auc) - half))
        exp["ci_high"] = to_float(min(Decimal(1), dec(auc) + half))

    if both:
        with warnings.catch_warnings():  # the asymptotic p-value of tiny samples, unused
            warnings.simplefilter("ignore", RuntimeWarning)
            ks = stats.ks_2samp(pos, neg, method="asymp").statistic
        exp["ks_separation"] = float(ks)
        exact = ks_exact(scores, labels)
        assert abs(float(ks) - to_float(exact)) <= 1e-15, name
        exp["ks_separation_exact"] = to_float(exact)
    else:
        exp["ks_separation"] = exp["ks_separation_exact"] = None

    exp["brier"] = float(metrics.brier_score_loss(labels, scores, pos_label=1))
    exp["brier_exact"] = to_float(exact_mean([(Fraction(y) - Fraction(s)) ** 2
                                              for s, y in zip(scores, labels)]))
    exp["log_loss"] = float(metrics.log_loss(labels, scores, labels=[0, 1]))
    # The clipping of that version, as described in the docstring.
    p, y = np.array(scores), np.array(labels)
    eps = float(np.finfo(np.float64).eps)
    loss = -(y * np.log(np.clip(p, eps, 1 - eps)) + (1 - y) * np.log(np.clip(1 - p, eps, 1 - eps)))
    assert float(np.mean(loss)) == exp["log_loss"], name
    unclipped = log_loss_exact(scores, labels)
    exp["log_loss_unclipped"] = None if unclipped is None else to_float(unclipped)

    if variance is None or variance == 0:
        exp["ecb_auc_test"] = {"statistic": None, "p_value": None}
    else:
        s = to_float((Decimal(auc_initial) - dec(auc)) / dec(variance).sqrt())
        exp["ecb_auc_test"] = {"statistic": s, "p_value": float(stats.norm.sf(s))}

    refused = [s >= threshold for s in scores]
    tp = sum(1 for r, y in zip(refused, labels) if r and y == 1)
    fp = sum(1 for r, y in zip(refused, labels) if r and y == 0)
    tn = sum(1 for r, y in zip(refused, labels) if not r and y == 0)
    fn = sum(1 for r, y in zip(refused, labels) if not r and y == 1)
    approved = tn + fn
    exp["confusion"] = {
        "approved": approved,
        "refused": tp + fp,
        "approval_rate": approved / len(scores),
        "default_rate_approved": None if approved == 0 else fn / approved,
        "tp": tp, "fp": fp, "tn": tn, "fn": fn,
    }
    return {"name": name, "scores": scores, "labels": labels, "auc_initial": auc_initial,
            "threshold": threshold, "expected": exp}


def credit_pd(u):
    """A skewed PD: mostly small, mean 0.08."""
    return 0.32 * (u * u * u)


def discrimination_cases():
    cases = []
    cases.append(discrimination_case(
        "ties_10", [0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.05, 0.4, 0.6, 0.35],
        [0, 0, 1, 1, 1, 1, 0, 0, 1, 0], 0.87, 0.4))

    g = Lcg(101)
    scores, labels = [], []
    for _ in range(1000):
        s = g.uniform()
        scores.append(s)
        labels.append(g.bernoulli(s ** 0.7 * 0.5))
    cases.append(discrimination_case("uniform_1000", scores, labels, 0.75, 0.5))

    g = Lcg(202)
    scores, labels = [], []
    for _ in range(2000):
        s = (math.floor(g.uniform() * 20) + 0.5) / 20  # 0.025, 0.075, ..., 0.975
        scores.append(s)
        labels.append(g.bernoulli(0.15 + 0.5 * s))
    assert 0.525 in scores  # rows exactly at the threshold are refused
    cases.append(discrimination_case("grid_005_2000", scores, labels, 0.70, 0.525))

    g = Lcg(303)
    scores, labels = [], []
    for _ in range(3000):
        s = credit_pd(g.uniform())
        scores.append(s)
        labels.append(g.bernoulli(min(1.0, 0.01 + 0.9 * s)))
    cases.append(discrimination_case("credit_3000", scores, labels, 0.80, 0.12))

    g = Lcg(404)
    labels = [g.bernoulli(0.2) for _ in range(50)]
    cases.append(discrimination_case("all_equal_50", [0.2] * 50, labels, 0.87, 0.5))

    g = Lcg(505)
    scores, labels = [], []
    for k in range(30):
        y = 1 if k % 3 == 0 else 0
        u = g.uniform()
        scores.append(0.6 + 0.4 * u if y else 0.55 * u)
        labels.append(y)
    cases.append(discrimination_case("perfect_separation", scores, labels, 0.87, 0.5))
    cases.append(discrimination_case(
        "perfectly_inverted", [1.0 - s for s in scores], labels, 0.87, 0.5))

    cases.append(discrimination_case("one_of_each", [0.25, 0.75], [0, 1], 0.87, 0.5))

    g = Lcg(606)
    scores = [g.uniform() for _ in range(12)]
    cases.append(discrimination_case("only_defaults", scores, [1] * 12, 0.87, 0.5))
    cases.append(discrimination_case("only_non_defaults", scores, [0] * 12, 0.87, 0.5))

    top = 1.0 - 2.0 ** -53
    tiny = 5e-324
    scores = [0.0, 0.0, 0.0, 1.0, 1.0, tiny, tiny, tiny, 1e-300, 1e-300, top, top, top,
              0.5, 0.5, 0.25, 2.0 ** -53, 0.75, 1e-300, 0.0]
    labels = [0, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0]
    cases.append(discrimination_case("extremes", scores, labels, 0.87, 0.5))
    cases.append(discrimination_case(
        "extremes_confidently_wrong", scores + [0.0, 1.0], labels + [1, 0], 0.87, 0.5))

    cases.append(discrimination_case("single_row", [0.3], [1], 0.87, 0.5))

    cases.append(discrimination_case(
        "small_inverted", [0.9, 0.8, 0.35, 0.7, 0.1, 0.3, 0.6, 0.15],
        [0, 0, 1, 0, 1, 0, 0, 1], 0.87, 0.5))

    g = Lcg(707)
    scores = [credit_pd(g.uniform()) for _ in range(200)]
    labels = [0] * 200
    labels[17] = 1
    cases.append(discrimination_case("one_default_200", scores, labels, 0.80, 0.12))
    labels[123] = 1
    cases.append(discrimination_case("two_defaults_200", scores, labels, 0.80, 0.12))
    return cases


# ---------------------------------------------------------------- calibration

def jeffreys(n, defaults, mean_pd):
    return float(stats.beta.cdf(mean_pd, defaults + 0.5, n - defaults + 0.5))


def ln_dec(q):
    return dec(q).ln()


def calibration_case(name, reference, scores, labels):
    reference = [float(s) for s in reference]
    scores = [float(s) for s in scores]
    labels = [int(y) for y in labels]
    assert len(scores) == len(labels)
    edges = np.quantile(np.array(reference), PROBABILITIES)
    grade_of = lambda v: np.searchsorted(edges, np.array(v), side="left") + 1
    ref_grades = grade_of(reference)
    cohort_grades = grade_of(scores)

    total_n = len(scores)
    grades = []
    for g in range(1, GRADES + 1):
        rows = [k for k in range(total_n) if cohort_grades[k] == g]
        n = len(rows)
        d = sum(labels[k] for k in rows)
        mean_pd = to_float(exact_mean([scores[k] for k in rows])) if n else None
        grades.append({
            "grade": g,
            "pd_low": 0.0 if g == 1 else float(edges[g - 2]),
            "pd_high": 1.0 if g == GRADES else float(edges[g - 1]),
            "n": n,
            "reference_n": int(np.sum(ref_grades == g)),
            "defaults": d,
            "mean_pd": mean_pd,
            "default_rate": d / n if n else None,
            "jeffreys_p_value": jeffreys(n, d, mean_pd) if n else None,
        })

    d = sum(labels)
    mean_pd = to_float(exact_mean(scores))
    portfolio = {"n": total_n, "defaults": d, "mean_pd": mean_pd,
                 "default_rate": d / total_n, "jeffreys_p_value": jeffreys(total_n, d, mean_pd)}

    herfindahl = sum((Fraction(gr["n"], total_n) ** 2 for gr in grades), Fraction(0))
    herfindahl_ecb = 1 + ln_dec(herfindahl) / Decimal(GRADES).ln()

    floor = Fraction(PSI_FLOOR)
    psi = Decimal(0)
    for gr in grades:
        c = max(Fraction(gr["n"], total_n), floor)
        r = max(Fraction(gr["reference_n"], len(reference)), floor)
        if c != r:
            psi += dec(c - r) * ln_dec(c / r)

    return {"name": name, "reference_scores": reference, "scores": scores, "labels": labels,
            "expected": {"edges": [float(e) for e in edges], "grades": grades,
                         "portfolio": portfolio, "herfindahl": to_float(herfindahl),
                         "herfindahl_ecb": to_float(herfindahl_ecb),
                         "grade_psi": to_float(psi)}}


def calibration_cases():
    cases = []

    g = Lcg(1001)
    reference = [credit_pd(g.uniform()) for _ in range(5000)]
    g = Lcg(1002)
    scores, labels = [], []
    for _ in range(3000):
        u = g.uniform()
        s = 0.34 * u * u * u
        scores.append(s)
        labels.append(g.bernoulli(min(1.0, 1.15 * s)))
    cases.append(calibration_case("realistic", reference, scores, labels))

    g = Lcg(1003)
    reference = [0.05 * g.uniform() for _ in range(1000)]
    scores, labels = [], []
    for _ in range(150):
        s = 0.05 * g.uniform()
        scores.append(s)
        labels.append(g.bernoulli(s))
    case = calibration_case("grade_without_defaults", reference, scores, labels)
    assert any(gr["n"] > 0 and gr["defaults"] == 0 for gr in case["expected"]["grades"])
    assert case["expected"]["portfolio"]["defaults"] > 0
    cases.append(case)

    g = Lcg(1004)
    reference = [g.uniform() for _ in range(1000)]
    top_edge = float(np.quantile(np.array(reference), PROBABILITIES)[-1])
    scores, labels = [], []
    for _ in range(200):
        s = g.uniform()
        scores.append(s)
        labels.append(1 if s > top_edge else g.bernoulli(0.3 * s))
    case = calibration_case("grade_only_defaults", reference, scores, labels)
    top = case["expected"]["grades"][-1]
    assert top["n"] > 0 and top["defaults"] == top["n"]
    cases.append(case)

    g = Lcg(1005)
    reference = []
    for _ in range(2000):
        u = g.uniform()
        reference.append(math.floor(u * u * 10) / 10)
    scores, labels = [], []
    for _ in range(500):
        u = g.uniform()
        s = math.floor(u * u * 10) / 10
        scores.append(s)
        labels.append(g.bernoulli(0.05 + 0.5 * s))
    case = calibration_case("reference_ties", reference, scores, labels)
    edges = case["expected"]["edges"]
    assert len(set(edges)) < len(edges)
    assert any(gr["n"] == 0 and gr["reference_n"] == 0 for gr in case["expected"]["grades"])
    assert any(s in edges for s in scores)
    cases.append(case)

    g = Lcg(1006)
    reference = [credit_pd(g.uniform()) for _ in range(1000)]
    scores = [credit_pd(g.uniform()) for _ in range(300)]
    cases.append(calibration_case("one_class_cohort", reference, scores, [0] * 300))

    g = Lcg(1007)
    reference = [2e-6 * g.uniform() for _ in range(2000)]
    scores = [2e-6 * g.uniform() for _ in range(1000)]
    labels = [0] * 1000
    labels[500] = 1
    cases.append(calibration_case("tiny_pds", reference, scores, labels))
    return cases


# ---------------------------------------------------------------- Jeffreys

JEFFREYS = [
    (1, 0, 0.02), (1, 1, 0.02), (300000, 0, 1e-6), (300000, 1000, 0.003),
    (10, 10, 0.9), (10, 0, 0.5), (1000, 80, 0.08), (5, 0, 0.0), (5, 5, 1.0),
    (1000, 0, 0.001), (2000, 200, 0.05), (50000, 1000, 0.02),
    # extremely small p-values (about 1e-197 and 4e-300): far more defaults than predicted
    (60000, 500, 0.0015), (60000, 628, 0.0015),
    # close to 1: far fewer defaults than predicted
    (100000, 100, 0.002),
]


def jeffreys_cases():
    out = []
    for n, d, pd in JEFFREYS:
        out.append({"n": n, "defaults": d, "mean_pd": pd, "p_value": jeffreys(n, d, pd)})
    return out


# ---------------------------------------------------------------- output

def dumps(obj, indent=0):
    """JSON with one key per line and lists of numbers on one line."""
    pad = " " * (indent + 1)
    if isinstance(obj, dict):
        items = [f"{pad}{json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    if isinstance(obj, list) and any(isinstance(v, (dict, list)) for v in obj):
        items = [pad + dumps(v, indent + 1) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    return json.dumps(obj, allow_nan=False, separators=(",", ": "))


def main():
    out = {
        "generated_by": "core/tests/reference/performance_values.py",
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "scipy": scipy.__version__, "scikit-learn": sklearn.__version__},
        "conventions": {"z": Z, "decile_probabilities": PROBABILITIES, "grades": GRADES,
                        "psi_floor": PSI_FLOOR,
                        "log_loss_clip_eps": float(np.finfo(np.float64).eps),
                        "slow_delong_check_max_pairs": SLOW_CHECK_LIMIT},
        "discrimination": discrimination_cases(),
        "calibration": calibration_cases(),
        "jeffreys": jeffreys_cases(),
    }
    text = dumps(out) + "\n"
    json.loads(text)  # well formed
    path = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "performance_reference.json"
    path.write_text(text)
    print(f"wrote {path} ({len(text)} bytes)")


if __name__ == "__main__":
    main()
