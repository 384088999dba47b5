"""Reference values for the small statistics unit tests, from scikit-learn and pandas.

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install scikit-learn pandas
    /tmp/ref/bin/python core/tests/reference/reference_values.py

Each printed value is written into the named test.
"""

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

# core/src/metrics.rs: matches_sklearn_with_ties
scores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.05, 0.4, 0.6, 0.35]
labels = [0, 0, 1, 1, 1, 1, 0, 0, 1, 0]
print("roc_auc", repr(roc_auc_score(labels, scores)))

# core/src/reference.rs: matches_pandas_describe
v = pd.Series([3.5, np.nan, 1.0, 7.25, 2.0, 2.0, np.nan, 10.0, -4.5, 6.0])
print("mean", repr(v.mean()))
print("std", repr(v.std()))
print("median", repr(v.median()))
print("q25", repr(v.quantile(0.25)))
print("q75", repr(v.quantile(0.75)))
print("n_distinct", v.dropna().nunique())
print("missing_rate", v.isna().mean())
