"""A zoo of small LightGBM models with reference scores from LightGBM's own Python package.

Trains small models on a synthetic credit-like data set and writes, into
core/tests/fixtures/models/:

  * one LightGBM text model per kind (``booster.save_model``):
      accepted: binary.txt, binary_crlf.txt (binary.txt with CRLF line endings),
                binary_long_utf8_names.txt, binary_sigmoid2.txt, cross_entropy.txt,
                dart.txt, random_forest.txt, linear_tree.txt, zero_as_missing.txt,
                no_missing.txt, categorical.txt
      refused:  regression.txt, multiclass.txt, lambdarank.txt,
                cross_entropy_lambda.txt, custom_objective.txt
  * base.reference.csv, long_names.reference.csv, categorical.reference.csv: the first
    500 rows of the training data for each feature set, in model feature order plus a
    TARGET column (floats written with repr, missing values as empty fields, UTF-8
    without BOM, LF line endings). The categorical column is written as its integer
    category code.
  * cases.json: one entry per model file. Accepted models carry the rows to score
    (missing values as null), LightGBM's probability and raw score for each row, and the
    indices of the rows in which a feature sits exactly on a split threshold of that
    model. Refused models carry only the file name and the model's objective header
    line (null when the file has none).

The rows to score for each accepted model are: ordinary data rows, rows with missing
values, rows with zeros (and one with -0.0), and, for every distinct numerical split
(feature, threshold) of the model's first two trees, a data row with that feature set
exactly to the threshold and to its neighbouring doubles below and above
(numpy.nextafter). The categorical model also scores category codes given as plain
numbers: negative (-1, -0.5, -2), unseen (5, 7, 31, 32, 99) and fractional (1.5, 2.7)
codes, predicted by LightGBM from a float numpy array (no pandas conversion).

Predictions always come from a Booster reloaded from the written file, so they reflect
exactly what the file holds. binary_crlf.txt is byte for byte binary.txt with every LF
replaced by CRLF; LightGBM itself cannot load such a file (the process aborts, see
LightGBM issue #5508), so its reference scores are those of binary.txt, and the check is
run in a child process.

Everything is deterministic: fixed numpy seed, and LightGBM runs with a fixed seed,
deterministic=True, num_threads=1 and force_row_wise=True. Run from the repository root:

    python3 -m venv /tmp/refenv && /tmp/refenv/bin/pip install 'lightgbm==4.7.*' pandas numpy
    /tmp/refenv/bin/python core/tests/reference/model_zoo.py
"""

import json
import math
import pathlib
import subprocess
import sys

import lightgbm
import numpy as np
import pandas as pd

OUT = pathlib.Path("core/tests/fixtures/models")

SEED = 20240611
N_ROWS = 2000
N_REFERENCE_ROWS = 500
NUM_ROUNDS = 25
THRESHOLD_TREES = 2

BASE_NAMES = [
    "amount",
    "ext_score",
    "num_children",
    "ratio_elevenths",
    "balance",
    "utilization",
]

# Names of 64 bytes or more. Byte offsets below are 0-based offsets into the UTF-8 bytes.
LONG_NAMES = [
    # 63 ASCII bytes, then a 2-byte 'é' at bytes 63-64: it straddles a 64-byte cut.
    "amount_" + "a" * 56 + "é_total",
    # 62 ASCII bytes, then 'é' at bytes 62-63: it straddles a 63-byte cut.
    "ext_score_" + "b" * 52 + "é_source",
    # 62 ASCII bytes, then a 3-byte '€' at bytes 62-64: it straddles both cuts.
    "children_" + "c" * 53 + "€_count",
    # Exactly 64 ASCII bytes.
    "ratio_elevenths_" + "d" * 48,
    # About 150 bytes, mixing 1-, 2- and 3-byte characters.
    "balance_après_clôture_du_compte_courant_principal_" + "é" * 20 + "_€_" + "x" * 50,
    # 61 ASCII bytes, then a 4-byte '𝛼' at bytes 61-64: it straddles both cuts.
    "utilization_" + "u" * 49 + "𝛼_ratio",
]

CATEGORICAL_NAME = "segment"
# Deliberately not alphabetical: codes follow this order, not a sorted one.
CATEGORY_LEVELS = ["retail", "small_business", "corporate", "public_sector", "other"]
CATEGORICAL_POSITION = 2
# Category codes scored on one data row, so only the code varies (see category_probe_row).
CATEGORY_CODE_PROBES = [0.0, 1.0, 2.0, 3.0, 4.0, -1.0, -2.0, -0.5, 1.5, 2.7, 5.0, 7.0, 31.0, 32.0, 99.0]

COMMON = {
    "seed": SEED,
    "deterministic": True,
    "num_threads": 1,
    "force_row_wise": True,
    "verbose": -1,
    "num_leaves": 7,
    "learning_rate": 0.1,
    "min_data_in_leaf": 20,
}


def make_data():
    """The synthetic data set: features (n x 6, NaN for missing), segment codes, target."""
    rng = np.random.default_rng(SEED)
    n = N_ROWS
    amount = np.round(rng.lognormal(9.0, 0.8, n), 2)
    ext_score = rng.beta(2.0, 2.0, n)
    ext_missing = rng.random(n) < 0.2
    num_children = rng.poisson(0.9, n).astype(np.float64)
    ratio = rng.integers(0, 12, n) / 11.0
    balance = np.round(rng.normal(0.0, 1500.0, n), 2)
    balance[rng.random(n) < 0.1] = 0.0
    utilization = rng.uniform(0.0, 1.2, n)
    utilization[rng.random(n) < 0.05] = 0.0
    segment = rng.integers(0, len(CATEGORY_LEVELS), n)
    segment_missing = rng.random(n) < 0.05

    ext_filled = np.where(ext_missing, 0.35, ext_score)
    logit = (
        -2.7
        - 4.0 * (ext_filled - 0.5)
        + 0.35 * num_children
        + 1.2 * (ratio - 0.5)
        + 0.0003 * balance
        + 1.5 * (utilization - 0.6)
        - 0.3 * np.log(amount / 8000.0)
        + rng.normal(0.0, 0.5, n)
    )
    segment_effect = np.array([0.8, 0.0, -0.9, -0.4, 0.4])[segment]
    segment_effect[segment_missing] = 0.6
    target = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.float64)
    target_cat = (rng.random(n) < 1.0 / (1.0 + np.exp(-(logit + segment_effect)))).astype(np.float64)

    ext_score[ext_missing] = np.nan
    x = np.column_stack([amount, ext_score, num_children, ratio, balance, utilization])
    codes = np.where(segment_missing, np.nan, segment.astype(np.float64))
    return x, codes, target, target_cat, rng


def train(params, data, label, path, rounds=NUM_ROUNDS, **dataset_args):
    """Trains, saves to path, and returns a Booster reloaded from the saved file."""
    dataset = lightgbm.Dataset(data, label=label, free_raw_data=False, **dataset_args)
    booster = lightgbm.train(params, dataset, num_boost_round=rounds)
    booster.save_model(str(path))
    return lightgbm.Booster(model_file=str(path))


def header_line(path, key):
    """The header line `key=...` of a model file (verbatim, without line ending), or None."""
    for line in path.read_bytes().split(b"\n"):
        if line.startswith(b"Tree="):
            break
        if line.startswith(key.encode() + b"="):
            return line.rstrip(b"\r").decode("utf-8")
    return None


def numerical_thresholds(booster, n_trees):
    """Distinct (feature index, threshold) of the numerical splits of the first trees."""
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

    for tree in booster.dump_model()["tree_info"][:n_trees]:
        walk(tree["tree_structure"])
    return found


def scoring_rows(booster, x, target, extra=None):
    """Rows to score for a model over feature matrix x; returns (rows, threshold indices)."""
    n_features = x.shape[1]
    rows = []
    # Ordinary data rows, some positive, some with the naturally missing feature.
    positives = [int(i) for i in np.flatnonzero(target == 1.0)[:4]]
    for i in list(range(10)) + positives:
        rows.append(x[i].copy())
    # Missing values: everything missing, then one feature missing at a time.
    rows.append(np.full(n_features, np.nan))
    for j in range(n_features):
        row = x[20 + j].copy()
        row[j] = np.nan
        rows.append(row)
    # Zeros: all zero, all negative zero, then one feature zero at a time.
    rows.append(np.zeros(n_features))
    rows.append(np.full(n_features, -0.0))
    for j in range(n_features):
        row = x[40 + j].copy()
        row[j] = 0.0
        rows.append(row)
    if extra is not None:
        rows.extend(extra)
    # Split thresholds, exactly and one double either side.
    threshold_rows = []
    for k, (feature, threshold) in enumerate(numerical_thresholds(booster, THRESHOLD_TREES)):
        base = x[60 + k]
        for value in (threshold, np.nextafter(threshold, -np.inf), np.nextafter(threshold, np.inf)):
            row = base.copy()
            row[feature] = value
            if value == threshold:
                threshold_rows.append(len(rows))
            rows.append(row)
    return np.array(rows, dtype=np.float64), threshold_rows


def category_probe_row(booster, x):
    """The first data row from 100 on where codes 0-4 and -1 all score differently.

    On such a row each probe code's score shows which category LightGBM took it for
    (for instance whether -0.5 counts as category 0 or as a negative code).
    """
    for i in range(100, len(x)):
        rows = np.repeat(x[i : i + 1], 6, axis=0)
        rows[:, CATEGORICAL_POSITION] = [0.0, 1.0, 2.0, 3.0, 4.0, -1.0]
        if len(set(booster.predict(rows, raw_score=True).tolist())) == 6:
            return i
    raise SystemExit("no data row tells the categories apart")


def json_value(v):
    v = float(v)
    return None if math.isnan(v) else v


def accepted_case(file, booster, rows, threshold_rows, reference_csv, path=None):
    path = path or OUT / file
    probability = booster.predict(rows)
    raw_score = booster.predict(rows, raw_score=True)
    assert len(probability) == len(rows) and np.all(np.isfinite(probability))
    return {
        "file": file,
        "expect": "accept",
        "objective_line": header_line(path, "objective"),
        "reference_csv": reference_csv,
        "feature_names": booster.feature_name(),
        "rows": [[json_value(v) for v in row] for row in rows],
        "probability": [float(p) for p in probability],
        "raw_score": [float(r) for r in raw_score],
        "threshold_rows": threshold_rows,
    }


def refused_case(file):
    return {"file": file, "expect": "refuse", "objective_line": header_line(OUT / file, "objective")}


def csv_field(v, integer=False):
    v = float(v)
    if math.isnan(v):
        return ""
    if integer:
        assert v == int(v)
        return str(int(v))
    return repr(v)


def write_reference_csv(name, header, x, target, integer_columns=()):
    lines = [",".join(header + ["TARGET"])]
    for row, y in zip(x[:N_REFERENCE_ROWS], target[:N_REFERENCE_ROWS]):
        fields = [csv_field(v, j in integer_columns) for j, v in enumerate(row)]
        fields.append(str(int(y)))
        lines.append(",".join(fields))
    (OUT / name).write_bytes(("\n".join(lines) + "\n").encode("utf-8"))


def check_feature_names_line(path, names):
    """The saved file's feature_names= line must hold the names byte for byte."""
    line = [l for l in path.read_bytes().split(b"\n") if l.startswith(b"feature_names=")][0]
    saved = line[len(b"feature_names="):].split(b" ")
    expected = [n.encode("utf-8") for n in names]
    if saved != expected:
        raise SystemExit("feature names changed on save: %r" % saved)


def crlf_loads_in_lightgbm(crlf_path, lf_booster, rows):
    """Whether LightGBM loads the CRLF file and scores like the LF one (child process)."""
    code = (
        "import json, sys, numpy, lightgbm\n"
        "b = lightgbm.Booster(model_file=sys.argv[1])\n"
        "rows = numpy.array(json.load(sys.stdin), dtype=numpy.float64)\n"
        "json.dump(b.predict(rows).tolist(), sys.stdout)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(crlf_path)],
        input=json.dumps([[json_value(v) for v in row] for row in rows]),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or [""])[0]
        return False, "LightGBM %s cannot load it (exit status %d: %s)" % (
            lightgbm.__version__,
            result.returncode,
            detail,
        )
    same = json.loads(result.stdout) == lf_booster.predict(rows).tolist()
    return same, "LightGBM loads it; predictions %s the LF file's" % ("equal" if same else "differ from")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    x, codes, target, target_cat, rng = make_data()
    base = pd.DataFrame(x, columns=BASE_NAMES)
    binary = dict(COMMON, objective="binary")
    cases = []

    # Plain binary, and the same bytes with CRLF line endings.
    booster = train(binary, base, target, OUT / "binary.txt")
    rows, thresholds = scoring_rows(booster, x, target)
    cases.append(accepted_case("binary.txt", booster, rows, thresholds, "base.reference.csv"))
    lf_bytes = (OUT / "binary.txt").read_bytes()
    assert b"\r" not in lf_bytes
    (OUT / "binary_crlf.txt").write_bytes(lf_bytes.replace(b"\n", b"\r\n"))
    same, crlf_note = crlf_loads_in_lightgbm(OUT / "binary_crlf.txt", booster, rows)
    case = accepted_case("binary_crlf.txt", booster, rows, thresholds, "base.reference.csv")
    case["objective_line"] = header_line(OUT / "binary_crlf.txt", "objective")
    case["note"] = "binary.txt with CRLF line endings; scores are binary.txt's. " + crlf_note
    cases.append(case)

    # Long UTF-8 feature names, same data and parameters as binary.txt.
    path = OUT / "binary_long_utf8_names.txt"
    booster = train(binary, pd.DataFrame(x, columns=LONG_NAMES), target, path)
    check_feature_names_line(path, LONG_NAMES)
    assert booster.feature_name() == LONG_NAMES
    rows, thresholds = scoring_rows(booster, x, target)
    cases.append(accepted_case(path.name, booster, rows, thresholds, "long_names.reference.csv"))

    variants = [
        ("binary_sigmoid2.txt", dict(binary, sigmoid=2.0)),
        # With 0/1 labels cross_entropy grows the same trees as binary; more leaves keep
        # this model distinct from binary.txt.
        ("cross_entropy.txt", dict(COMMON, objective="cross_entropy", num_leaves=9)),
        ("dart.txt", dict(binary, boosting="dart", drop_rate=0.1, skip_drop=0.5)),
        (
            "random_forest.txt",
            dict(binary, boosting="rf", bagging_fraction=0.8, bagging_freq=1, feature_fraction=0.8),
        ),
        ("linear_tree.txt", dict(binary, linear_tree=True)),
        ("zero_as_missing.txt", dict(binary, zero_as_missing=True)),
        ("no_missing.txt", dict(binary, use_missing=False)),
    ]
    for file, params in variants:
        booster = train(params, base, target, OUT / file)
        rows, thresholds = scoring_rows(booster, x, target)
        cases.append(accepted_case(file, booster, rows, thresholds, "base.reference.csv"))

    # A pandas categorical feature; scored with the category codes as plain numbers.
    cat_names = BASE_NAMES[:CATEGORICAL_POSITION] + [CATEGORICAL_NAME] + BASE_NAMES[CATEGORICAL_POSITION:]
    cat_x = np.insert(x, CATEGORICAL_POSITION, codes, axis=1)
    frame = pd.DataFrame(cat_x, columns=cat_names)
    frame[CATEGORICAL_NAME] = pd.Categorical.from_codes(
        np.where(np.isnan(codes), -1, codes).astype(int), categories=CATEGORY_LEVELS
    )
    booster = train(binary, frame, target_cat, OUT / "categorical.txt")
    probe_row = category_probe_row(booster, cat_x)
    probes = []
    for code in CATEGORY_CODE_PROBES:
        row = cat_x[probe_row].copy()
        row[CATEGORICAL_POSITION] = code
        probes.append(row)
    rows, thresholds = scoring_rows(booster, cat_x, target_cat, extra=probes)
    cases.append(accepted_case("categorical.txt", booster, rows, thresholds, "categorical.reference.csv"))

    # Kinds scorewatch refuses.
    amounts = np.clip(
        np.round(
            3000.0 + 4000.0 * np.nan_to_num(x[:, 1], nan=0.4) + 0.1 * x[:, 4] + rng.normal(0.0, 800.0, N_ROWS), 2
        ),
        0.0,
        10000.0,
    )
    train(dict(COMMON, objective="regression"), base, amounts, OUT / "regression.txt")
    classes = np.digitize(x[:, 5] + rng.normal(0.0, 0.2, N_ROWS), [0.4, 0.8]).astype(np.float64)
    train(dict(COMMON, objective="multiclass", num_class=3), base, classes, OUT / "multiclass.txt", rounds=10)
    relevance = np.digitize(np.nan_to_num(x[:, 1], nan=0.5) + rng.normal(0.0, 0.15, N_ROWS), [0.3, 0.55, 0.8])
    train(
        dict(COMMON, objective="lambdarank"),
        base,
        relevance.astype(np.float64),
        OUT / "lambdarank.txt",
        group=[20] * (N_ROWS // 20),
    )
    train(dict(COMMON, objective="cross_entropy_lambda"), base, target, OUT / "cross_entropy_lambda.txt")

    def logloss_objective(preds, dataset):
        p = 1.0 / (1.0 + np.exp(-preds))
        label = dataset.get_label()
        return p - label, p * (1.0 - p)

    train(dict(COMMON, objective=logloss_objective), base, target, OUT / "custom_objective.txt")
    for file in ["regression.txt", "multiclass.txt", "lambdarank.txt", "cross_entropy_lambda.txt", "custom_objective.txt"]:
        cases.append(refused_case(file))

    write_reference_csv("base.reference.csv", BASE_NAMES, x, target)
    write_reference_csv("long_names.reference.csv", LONG_NAMES, x, target)
    write_reference_csv(
        "categorical.reference.csv", cat_names, cat_x, target_cat, integer_columns={CATEGORICAL_POSITION}
    )

    with open(OUT / "cases.json", "w", encoding="utf-8", newline="\n") as f:
        json.dump(
            {"lightgbm_version": lightgbm.__version__, "models": cases},
            f,
            indent=1,
            ensure_ascii=False,
            allow_nan=False,
        )
        f.write("\n")

    for case in cases:
        extra = ""
        if case["expect"] == "accept":
            extra = " %d rows, %d on a threshold" % (len(case["rows"]), len(case["threshold_rows"]))
        print("%-28s %-6s %s%s" % (case["file"], case["expect"], case["objective_line"], extra))
    print("binary_crlf.txt:", crlf_note)
    print(
        "positives: %.1f%% (base), %.1f%% (categorical); LightGBM %s"
        % (100 * target.mean(), 100 * target_cat.mean(), lightgbm.__version__)
    )


if __name__ == "__main__":
    main()
