"""Reference scores of the demo model for feature values sitting exactly on its split thresholds.

Loads artifacts/model.txt and the first rows of artifacts/test.csv.gz and, for every
distinct (feature, threshold) numerical split of the model (in order of first appearance,
tree by tree, depth first, left before right), scores two rows with LightGBM's own Python
package: a test row with that feature set exactly to the threshold, and the same row with
the feature at the next double above it (numpy.nextafter(threshold, inf)). Threshold k
uses test row k modulo the number of base rows. At most MAX_THRESHOLDS thresholds are
used.

Writes core/tests/fixtures/demo_thresholds.json. Written densely, the rows would take
about 14 MB (roughly 4,800 rows of 419 features), so they are stored sparsely:

    {
      "lightgbm_version": "4.7.0",
      "model": "artifacts/model.txt",
      "test_rows": "artifacts/test.csv.gz, first 64",
      "distinct_thresholds": <number of distinct numerical (feature, threshold) splits>,
      "feature_names": [... model order ...],
      "base_rows": [[... one value per feature, null for missing ...], ...],
      "cases": [{"base": i, "feature": j, "threshold": t, "value": v}, ...],
      "probability": [...],
      "raw_score": [...]
    }

Case n's row is base_rows[base] with feature j (an index into feature_names) replaced by
value; value is either the threshold t itself or the next double above it. probability[n]
and raw_score[n] are LightGBM's scores for that row. All numbers are written by Python's
json module (shortest round-trip representation), so they are exact.

The test rows are read with pandas' round-trip float parser, so every value is the double
nearest to the decimal text in the file (pandas 3 parses that way by default and warns that
the option is deprecated; the warning is silenced). Run from the repository root after `demo-data`:

    python3 -m venv /tmp/refenv && /tmp/refenv/bin/pip install 'lightgbm==4.7.*' pandas numpy
    /tmp/refenv/bin/python core/tests/reference/demo_thresholds.py
"""

import json
import math
import warnings

import lightgbm
import numpy as np
import pandas as pd

MODEL = "artifacts/model.txt"
TEST = "artifacts/test.csv.gz"
OUT = "core/tests/fixtures/demo_thresholds.json"
N_BASE_ROWS = 64
MAX_THRESHOLDS = 3000


def numerical_thresholds(booster):
    """Distinct (feature index, threshold) of all numerical splits, in order of appearance."""
    found = []
    seen = set()

    def walk(node):
        if "split_index" not in node:
            return
        if node["decision_type"] == "<=":
            key = (node["split_feature"], float(node["threshold"]))
            if key not in seen:
                seen.add(key)
                found.append(key)
        walk(node["left_child"])
        walk(node["right_child"])

    for tree in booster.dump_model()["tree_info"]:
        walk(tree["tree_structure"])
    return found


def json_value(v):
    v = float(v)
    return None if math.isnan(v) else v


def main():
    booster = lightgbm.Booster(model_file=MODEL)
    names = booster.feature_name()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*float_precision.*")
        test = pd.read_csv(TEST, nrows=N_BASE_ROWS, float_precision="round_trip")
    base_rows = test[names].to_numpy(dtype=np.float64)

    thresholds = numerical_thresholds(booster)
    used = thresholds[:MAX_THRESHOLDS]
    cases = []
    rows = []
    for k, (feature, threshold) in enumerate(used):
        base = k % len(base_rows)
        for value in (threshold, np.nextafter(threshold, np.inf)):
            row = base_rows[base].copy()
            row[feature] = value
            rows.append(row)
            cases.append({"base": base, "feature": feature, "threshold": threshold, "value": float(value)})
    rows = np.array(rows)
    probability = booster.predict(rows)
    raw_score = booster.predict(rows, raw_score=True)

    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        json.dump(
            {
                "lightgbm_version": lightgbm.__version__,
                "model": MODEL,
                "test_rows": "%s, first %d" % (TEST, len(base_rows)),
                "distinct_thresholds": len(thresholds),
                "feature_names": names,
                "base_rows": [[json_value(v) for v in row] for row in base_rows],
                "cases": cases,
                "probability": [float(p) for p in probability],
                "raw_score": [float(r) for r in raw_score],
            },
            f,
            allow_nan=False,
            separators=(",", ":"),
        )
        f.write("\n")
    limited = " (limited to the first %d)" % MAX_THRESHOLDS if len(thresholds) > MAX_THRESHOLDS else ""
    print(
        "%d distinct thresholds%s, %d rows scored (LightGBM %s)"
        % (len(thresholds), limited, len(rows), lightgbm.__version__)
    )


if __name__ == "__main__":
    main()
