"""Reference probabilities from LightGBM's own Python package.

Scores the first 200 applications of artifacts/test.csv.gz with artifacts/model.txt and
writes core/tests/fixtures/lightgbm_predictions.json, which core/tests/lightgbm_parity.rs
compares with scorewatch's scoring. Run from the repository root after `demo-data`:

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install lightgbm pandas
    /tmp/ref/bin/python core/tests/reference/lightgbm_predictions.py
"""

import json

import lightgbm
import numpy as np
import pandas as pd

N_ROWS = 200

booster = lightgbm.Booster(model_file="artifacts/model.txt")
test = pd.read_csv("artifacts/test.csv.gz", nrows=N_ROWS)
features = test[booster.feature_name()].to_numpy(dtype=np.float64)
probability = booster.predict(features)
raw_score = booster.predict(features, raw_score=True)

with open("core/tests/fixtures/lightgbm_predictions.json", "w") as f:
    json.dump(
        {
            "lightgbm_version": lightgbm.__version__,
            "model": "artifacts/model.txt",
            "rows": "artifacts/test.csv.gz, first %d" % N_ROWS,
            "sk_id_curr": test["SK_ID_CURR"].astype(int).tolist(),
            "probability": [float(p) for p in probability],
            "raw_score": [float(r) for r in raw_score],
        },
        f,
        indent=1,
    )
    f.write("\n")
print("wrote %d reference probabilities (LightGBM %s)" % (N_ROWS, lightgbm.__version__))
