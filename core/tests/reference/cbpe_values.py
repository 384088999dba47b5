"""Reference values for scorewatch's confidence-based performance estimation (CBPE), from
NannyML's CBPE for binary classification.

Writes core/tests/fixtures/cbpe_reference.json. The data are generated with a 64-bit linear
congruential generator and only exact IEEE operations (+, *, floor, division by a power of
two), so that the Rust test regenerates bit-identical data; the arrays are written to the
fixture as well.

Three scenarios, each a labelled reference (hold-out) of 5,000 rows and three analysis
cohorts of 2,000, 500 and 120 rows:

- "miscalibrated": default ~ Bernoulli(min(1, 1.3 * score)); NannyML decides to calibrate.
- "calibrated":    default ~ Bernoulli(score); NannyML decides not to calibrate. (Its check
                   is noisy: on 40 seeds of this well-calibrated reference it chose to
                   calibrate 24 times; this seed is one where it does not, by a clear margin.)
- "quantized":     as "miscalibrated" with scores on a 1/256 grid (ties, like the finite set
                   of scores a tree ensemble gives). NannyML's sampling error and its
                   calibration check then depend on how numpy's unstable argsort orders ties;
                   the values under a stable sort (ties by row index) are written beside.

For every cohort CBPE runs with chunk_size = cohort size, so that the cohort is one chunk
(the reference is split into chunks of that size for the alert thresholds), with metrics
roc_auc and confusion_matrix normalised by 'all' (true positive + false negative rate is
CBPE's expected default rate).

    python3.11 -m venv /tmp/nml
    /tmp/nml/bin/pip install nannyml==0.13.1 statsmodels==0.15.0 numpy==2.4.6 \\
        pandas==3.1.1 scipy==1.17.1 scikit-learn==1.9.1
    NML_DISABLE_USAGE_LOGGING=1 /tmp/nml/bin/python core/tests/reference/cbpe_values.py

(nannyml 0.13.1 imports statsmodels without declaring it, hence the explicit pin.)
"""
import json
import math
import os
import pathlib
import warnings

os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy  # noqa: E402
import sklearn  # noqa: E402
from sklearn.model_selection import StratifiedShuffleSplit  # noqa: E402

import nannyml  # noqa: E402
from nannyml.calibration import (  # noqa: E402
    IsotonicCalibrator,
    _calculate_expected_calibration_error,
    _get_bin_index_edges,
)
from nannyml.performance_estimation.confidence_based import CBPE  # noqa: E402
from nannyml.performance_estimation.confidence_based.metrics import estimate_roc_auc  # noqa: E402

MASK = (1 << 64) - 1


class Lcg:
    def __init__(self, seed):
        self.state = seed & MASK

    def uniform(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & MASK
        return (self.state >> 11) * (1.0 / 9007199254740992.0)


def score(kind, u):
    if kind == "cube":
        return 0.6 * ((u * u) * u)
    if kind == "sq":
        return 0.6 * (u * u)
    if kind == "shift_cube":
        return 0.05 + 0.5 * ((u * u) * u)
    if kind == "sq_hi":
        return 0.7 * (u * u)
    raise ValueError(kind)


def sample(s):
    """Per row: u = uniform(), score = score(kind, u) (then floor(score * 256) / 256 when
    quantized), v = uniform(), default = 1 if v < min(1, mult * score) else 0."""
    rng = Lcg(s["seed"])
    scores, labels = [], []
    for _ in range(s["n"]):
        x = score(s["kind"], rng.uniform())
        if s["quantized"]:
            x = math.floor(x * 256.0) / 256.0
        p = min(1.0, s["mult"] * x)
        labels.append(1 if rng.uniform() < p else 0)
        scores.append(x)
    return np.array(scores), np.array(labels, dtype=np.int64)


def spec(seed, n, kind, mult, quantized):
    return {"seed": seed, "n": n, "kind": kind, "mult": mult, "quantized": quantized}


def num(x):
    """A JSON number, null for NaN/None."""
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


def nums(a):
    return [num(x) for x in np.asarray(a, dtype=float)]


def frame(scores, labels):
    return pd.DataFrame({
        "score": scores,
        "decision": (scores >= 0.5).astype(np.int64),
        "defaulted": labels,
    })


def calibration_check(ref_scores, ref_labels, stable):
    """NannyML's needs_calibration step by step (calibration.py), returning its ECEs and the
    test indices of the ten splits. With stable=True the ECE sorts ties by position in the
    concatenated test vector instead of numpy's default (unstable) argsort."""
    sss = StratifiedShuffleSplit(n_splits=10, test_size=0.1, random_state=42)
    calibrator = IsotonicCalibrator()
    ys, ps, cs, tests = [], [], [], []
    for train, test in sss.split(ref_scores, ref_labels):
        calibrator.fit(ref_scores[train], ref_labels[train])
        ys.append(ref_labels[test])
        ps.append(ref_scores[test])
        cs.append(calibrator.calibrate(ref_scores[test]))
        tests.append([int(i) for i in test])
    y, p, c = np.concatenate(ys), np.concatenate(ps), np.concatenate(cs)
    edges = _get_bin_index_edges(len(p), 10)
    if stable:
        def ece(labels, proba):
            order = np.argsort(proba, kind="stable")
            labels, proba = labels[order], proba[order]
            terms = [(right - left) / len(proba)
                     * abs(np.mean(proba[left:right]) - np.mean(labels[left:right]))
                     for left, right in edges]
            return np.sum(terms)
    else:
        def ece(labels, proba):
            return _calculate_expected_calibration_error(labels, proba, edges)
    return float(ece(y, p)), float(ece(y, c)), tests


def auroc_components_stable(scores, labels):
    """NannyML's auroc_sampling_error_components with a stable sort (ties by row index)."""
    y, p = labels.astype(float), scores
    if np.mean(y) > 0.5:
        y, p = np.abs(y - 1), 1 - p
    order = np.argsort(p, kind="stable")
    y, p = y[order], p[order]
    positive_ranks = y * np.arange(len(p))
    indexes = np.unique(positive_ranks)[1:]
    placements = np.true_divide([index - i for i, index in enumerate(indexes)], len(y) - np.sum(y))
    return float(np.std(placements)), float(np.sum(y) / len(y))


def run_scenario(name, ref_spec, cohort_specs, with_splits):
    ref_scores, ref_labels = sample(ref_spec)
    reference = frame(ref_scores, ref_labels)
    out = {"name": name, "reference": {"spec": ref_spec, "scores": nums(ref_scores),
                                       "labels": [int(v) for v in ref_labels]}}

    ece_before, ece_after, tests = calibration_check(ref_scores, ref_labels, stable=False)
    ece_before_s, ece_after_s, _ = calibration_check(ref_scores, ref_labels, stable=True)
    check = {"ece_before": ece_before, "ece_after": ece_after,
             "ece_before_stable_ties": ece_before_s, "ece_after_stable_ties": ece_after_s}
    if with_splits:
        check["test_indices"] = tests

    cohorts = []
    calibration = None
    for c_spec in cohort_specs:
        scores, labels = sample(c_spec)
        analysis = frame(scores, labels)
        est = CBPE(
            problem_type="classification_binary",
            y_pred_proba="score",
            y_pred="decision",
            y_true="defaulted",
            metrics=["roc_auc", "confusion_matrix"],
            normalize_confusion_matrix="all",
            chunk_size=len(analysis),
        )
        est.fit(reference)
        res = est.estimate(analysis).to_df()
        ana = res[res[("chunk", "period")] == "analysis"]
        ref_rows = res[res[("chunk", "period")] == "reference"]
        assert len(ana) == 1, "the cohort must be one chunk"
        row = ana.iloc[0]

        auroc_metric = next(m for m in est.metrics if m.name == "roc_auc")
        if est.needs_calibration:
            calibrated = np.asarray(est.calibrator.calibrate(analysis["score"]), dtype=float)
            reg = est.calibrator._regressor
            this_cal = {"needs_calibration": True,
                        "x_thresholds": nums(reg.X_thresholds_),
                        "y_thresholds": nums(reg.y_thresholds_),
                        "x_min": num(reg.X_min_), "x_max": num(reg.X_max_),
                        "reference_calibrated": nums(est.calibrator.calibrate(reference["score"]))}
        else:
            calibrated = scores.astype(float)
            this_cal = {"needs_calibration": False}
        if calibration is None:
            calibration = this_cal
        assert calibration == this_cal, "calibration must not depend on the chunker"
        assert check_decision(est.needs_calibration, ece_before, ece_after)

        sd, frac = auroc_metric._sampling_error_components
        sd_s, frac_s = auroc_components_stable(ref_scores, ref_labels)
        n = len(analysis)

        def pick(metric, col):
            return num(row[(metric, col)])

        cohorts.append({
            "spec": c_spec,
            "scores": nums(scores),
            "labels": [int(v) for v in labels],
            "calibrated": nums(calibrated),
            "roc_auc": {
                "estimated": pick("roc_auc", "value"),
                "sampling_error": pick("roc_auc", "sampling_error"),
                "realized": pick("roc_auc", "realized"),
                "upper_confidence_boundary": pick("roc_auc", "upper_confidence_boundary"),
                "lower_confidence_boundary": pick("roc_auc", "lower_confidence_boundary"),
                "upper_threshold": pick("roc_auc", "upper_threshold"),
                "lower_threshold": pick("roc_auc", "lower_threshold"),
                "alert": bool(row[("roc_auc", "alert")]),
                "reference_chunk_sizes": [int(e - s + 1) for s, e in zip(
                    ref_rows[("chunk", "start_index")], ref_rows[("chunk", "end_index")])],
                "reference_chunk_realized": nums(ref_rows[("roc_auc", "realized")]),
                "sampling_error_stable_ties": num(sd_s / np.sqrt(n * frac_s)),
            },
            "default_rate": {
                "expected_mean_calibrated": num(np.mean(calibrated)),
                "estimated_true_positive_rate": pick("true_positive", "value"),
                "estimated_false_negative_rate": pick("false_negative", "value"),
                "realized": num(np.mean(labels)),
            },
        })
        sampling = {"std": num(sd), "fraction": num(frac),
                    "std_stable_ties": sd_s, "fraction_stable_ties": frac_s}

    out["sampling_error_components"] = sampling
    out["calibration"] = {**calibration, **check}
    out["cohorts"] = cohorts
    return out


def check_decision(decision, ece_before, ece_after):
    return decision == (ece_before > ece_after)


def edge_cases():
    """estimate_roc_auc (metrics.py) on small hand-made inputs: calibrated, uncalibrated."""
    cases = [
        ("single_row", [0.3], [0.2]),
        ("all_equal", [0.25] * 7, [0.1] * 7),
        ("all_zero", [0.0] * 5, [0.01, 0.02, 0.03, 0.04, 0.05]),
        ("all_one", [1.0] * 4, [0.6, 0.7, 0.8, 0.9]),
        ("tiny_mass", [1e-6, 2e-6, 0.0, 3e-6], [0.2, 0.3, 0.1, 0.4]),
        ("two_blocks", [0.1, 0.1, 0.1, 0.6, 0.6], [0.05, 0.06, 0.07, 0.5, 0.55]),
        ("rounding", [0.123456789, 0.987654321, 0.5, 0.333333333, 0.000004999],
         [0.3, 0.9, 0.6, 0.4, 0.1]),
    ]
    out = []
    with np.errstate(all="ignore"):
        for name, cal, unc in cases:
            out.append({"name": name, "calibrated": cal, "uncalibrated": unc,
                        "estimated": num(estimate_roc_auc(np.array(cal), np.array(unc)))})
    return out


def main():
    warnings.simplefilter("ignore")
    scenarios = [
        run_scenario("miscalibrated", spec(101, 5000, "cube", 1.3, False), [
            spec(102, 2000, "sq", 1.3, False),
            spec(103, 500, "shift_cube", 1.3, False),
            spec(104, 120, "sq_hi", 1.3, False),
        ], with_splits=True),
        run_scenario("calibrated", spec(202, 5000, "cube", 1.0, False), [
            spec(252, 2000, "sq", 1.0, False),
            spec(253, 500, "shift_cube", 1.0, False),
            spec(254, 120, "sq_hi", 1.0, False),
        ], with_splits=False),
        run_scenario("quantized", spec(301, 5000, "cube", 1.3, True), [
            spec(302, 2000, "sq", 1.3, True),
            spec(303, 500, "shift_cube", 1.3, True),
            spec(304, 120, "sq_hi", 1.3, True),
        ], with_splits=False),
    ]
    out = {
        "generated_by": "core/tests/reference/cbpe_values.py",
        "nannyml": nannyml.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scipy": scipy.__version__,
        "scikit_learn": sklearn.__version__,
        "scenarios": scenarios,
        "estimate_roc_auc_cases": edge_cases(),
    }
    path = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "cbpe_reference.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
