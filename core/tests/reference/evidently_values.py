"""Cross-check values from Evidently for the statistics it computes the same way as
scorewatch: the normed Wasserstein distance and the KS p-value (its `wasserstein` and `ks`
stat tests), on the data sets of drift_values.py.

Writes core/tests/fixtures/evidently_reference.json.

    python -m venv /tmp/evvenv && /tmp/evvenv/bin/pip install evidently "pandas<2.2"
    /tmp/evvenv/bin/python core/tests/reference/evidently_values.py
"""
import json
import pathlib
import sys

import pandas as pd

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from drift_values import data, spec  # noqa: E402

import evidently  # noqa: E402
from evidently.legacy.calculations.stattests.ks_stattest import _ks_stat_test  # noqa: E402
from evidently.legacy.calculations.stattests.wasserstein_distance_norm import (  # noqa: E402
    _wasserstein_distance_norm,
)
from evidently.legacy.core import ColumnType  # noqa: E402

cases = []
for ref_spec, cur_spec in [
    (spec(41, 20000, "tri"), spec(42, 50, "tri", 0.1)),
    (spec(43, 20000, "sq"), spec(44, 5000, "sq", 0.0)),
    (spec(47, 5000, "uniform"), spec(48, 300, "uniform", 0.5)),
    (spec(1, 50, "uniform"), spec(2, 200, "uniform", 0.1)),
]:
    ref, cur = pd.Series(data(ref_spec)), pd.Series(data(cur_spec))
    wd, _ = _wasserstein_distance_norm(ref, cur, ColumnType.Numerical, 0.1)
    ks_p, _ = _ks_stat_test(ref, cur, ColumnType.Numerical, 0.05)
    cases.append({"reference": ref_spec, "current": cur_spec,
                  "wasserstein_norm": float(wd), "ks_p_value": float(ks_p)})

out = {"generated_by": "core/tests/reference/evidently_values.py",
       "evidently": evidently.__version__, "cases": cases}
path = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "evidently_reference.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {path}")
