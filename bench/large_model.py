"""Build the inputs of the large-model benchmark (bench/large_model.sh).

Trains a binary LightGBM model with exactly 5,000 trees on a sample of the demo training
reference, so that scorewatch can be measured with a model file of about 25 MB (the
demo model in artifacts/ is well under 1 MB):

    python bench/large_model.py OUT_DIR [--rows 20000] [--num-leaves 44]

Needs Python 3 with lightgbm (4.x), pandas and numpy. Run from the repository root (the
input paths below are relative to it). Writes:

  OUT_DIR/model.txt      the model in LightGBM's text format (boosting never stops early:
                         5,000 iterations, one tree each). Its size is printed; with
                         num_leaves 44 it is about 25 MB.
  OUT_DIR/reference.csv  2,000 rows of the training sample (SK_ID_CURR, TARGET and the 419
                         features; empty fields are missing values), for
                         `scorewatch init --reference`.
  OUT_DIR/requests.json  200 request bodies for POST /api/v1/predict, one per application
                         of artifacts/test.csv.gz: {"features": {name: number or null}}.
                         Python's json writes floats with repr, which reads back exactly.

Training is deterministic (fixed seeds, deterministic=True, two threads) and takes a few
minutes on two cores.
"""

import argparse
import json
import math
import sys
import time
import warnings
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

REFERENCE = Path("artifacts/reference.csv.gz")
TEST = Path("artifacts/test.csv.gz")
ID_COLUMNS = ["SK_ID_CURR", "TARGET"]
NUM_TREES = 5_000
REFERENCE_ROWS = 2_000
REQUESTS = 200
SEED = 42


def read_csv(path: Path) -> pd.DataFrame:
    """Read a CSV with floats parsed exactly (pandas 3 deprecates the option but honours it)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*float_precision.*")
        return pd.read_csv(path, float_precision="round_trip")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="directory for model.txt, reference.csv, requests.json")
    parser.add_argument("--rows", type=int, default=20_000, help="training rows sampled from the reference")
    parser.add_argument("--num-leaves", type=int, default=44, help="leaves per tree (sets the file size)")
    args = parser.parse_args()
    out: Path = args.out_dir
    out.mkdir(parents=True, exist_ok=True)

    data = read_csv(REFERENCE)
    if len(data) > args.rows:
        data = data.sample(n=args.rows, random_state=SEED)
    data = data.reset_index(drop=True)
    features = [c for c in data.columns if c not in ID_COLUMNS]
    print(f"training sample: {len(data)} rows, {len(features)} features, "
          f"default rate {data['TARGET'].mean():.3f}", flush=True)

    params = {
        "objective": "binary",
        "num_leaves": args.num_leaves,
        "learning_rate": 0.01,
        "min_data_in_leaf": 20,
        "feature_fraction": 0.8,
        "deterministic": True,
        "force_col_wise": True,
        "num_threads": 2,
        "seed": SEED,
        "verbose": -1,
    }
    train = lgb.Dataset(data[features], label=data["TARGET"], free_raw_data=True)
    started = time.monotonic()
    # No validation set and no callbacks: all 5,000 rounds run.
    booster = lgb.train(params, train, num_boost_round=NUM_TREES)
    elapsed = time.monotonic() - started
    trees = booster.num_trees()
    if trees != NUM_TREES:
        print(f"expected {NUM_TREES} trees, got {trees}", file=sys.stderr)
        return 1
    model_path = out / "model.txt"
    booster.save_model(str(model_path))
    size = model_path.stat().st_size
    print(f"trained {trees} trees (num_leaves {args.num_leaves}) in {elapsed:.0f} s")
    print(f"model: {model_path} {size} bytes ({size / 1e6:.1f} MB)")
    if not 20e6 <= size <= 30e6:
        print(f"warning: the model is outside 20-30 MB; adjust --num-leaves", file=sys.stderr)

    # Reference for `scorewatch init`: the first rows of the (shuffled) training sample.
    # pandas writes floats in their shortest exact form; check that they read back equal.
    reference = data.head(REFERENCE_ROWS)
    reference_path = out / "reference.csv"
    reference.to_csv(reference_path, index=False, na_rep="")
    pd.testing.assert_frame_equal(read_csv(reference_path), reference, check_exact=True,
                                  check_dtype=False)
    print(f"reference: {reference_path} ({len(reference)} rows)")

    # Request bodies: the model's features of the first test applications, missing -> null.
    names = booster.feature_name()
    test = read_csv(TEST).head(REQUESTS)
    bodies = []
    for row in test[names].itertuples(index=False):
        bodies.append({"features": {
            name: (float(v) if v is not None and math.isfinite(v) else None)
            for name, v in zip(names, row)
        }})
    requests_path = out / "requests.json"
    with open(requests_path, "w") as f:
        json.dump(bodies, f)
    print(f"requests: {requests_path} ({len(bodies)} bodies, "
          f"{requests_path.stat().st_size // len(bodies)} bytes each on average)")
    # Sanity check: LightGBM's own probabilities for the bodies, to compare with the server.
    matrix = np.array([[np.nan if b["features"][n] is None else b["features"][n] for n in names]
                       for b in bodies])
    proba = booster.predict(matrix, num_threads=2)
    print(f"lightgbm probabilities of the bodies: mean {proba.mean():.6f}, "
          f"min {proba.min():.6f}, max {proba.max():.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
