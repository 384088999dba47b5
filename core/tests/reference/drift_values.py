"""Reference values for scorewatch's drift statistics, from scipy.

Writes core/tests/fixtures/drift_reference.json. The samples are generated with a 64-bit
linear congruential generator and only exact IEEE operations (+, *, /, floor), so that the
Rust test regenerates bit-identical data.

    python -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install numpy scipy
    /tmp/refvenv/bin/python core/tests/reference/drift_values.py
"""
import json
import math
import pathlib

import numpy as np
import scipy
from scipy import special, stats
from scipy.spatial import distance

MASK = (1 << 64) - 1


def sample(seed, n, kind, shift, param):
    state = seed & MASK
    out = []

    def uniform():
        nonlocal state
        state = (state * 6364136223846793005 + 1442695040888963407) & MASK
        return (state >> 11) * (1.0 / 9007199254740992.0)

    for _ in range(n):
        if kind == "uniform":
            x = uniform()
        elif kind == "tri":
            x = uniform() + uniform()
        elif kind == "sq":
            u = uniform()
            x = u * u
        elif kind == "ties":
            x = math.floor(uniform() * param) / param
        else:
            raise ValueError(kind)
        out.append(x + shift)
    return np.array(out)


def spec(seed, n, kind, shift=0.0, param=0.0):
    return {"seed": seed, "n": n, "kind": kind, "shift": shift, "param": param}


def data(s):
    return sample(s["seed"], s["n"], s["kind"], s["shift"], s["param"])


def main():
    KS_CASES = [
        (spec(1, 50, "uniform"), spec(2, 200, "uniform", 0.1)),
        (spec(3, 100, "ties", param=5), spec(4, 100, "ties", 0.0, 5)),
        (spec(5, 37, "tri"), spec(6, 64, "tri", 0.15)),
        (spec(7, 500, "sq"), spec(8, 1000, "sq", 0.05)),
        (spec(9, 2000, "ties", param=20), spec(10, 3000, "ties", 0.0, 20)),
        (spec(11, 10000, "uniform"), spec(12, 50, "uniform", 0.3)),
        (spec(13, 20000, "uniform"), spec(14, 50, "uniform")),
        (spec(15, 20000, "uniform"), spec(16, 50, "uniform", 0.3)),
        (spec(17, 20000, "tri"), spec(18, 140, "tri", 0.05)),
        (spec(19, 20000, "tri"), spec(20, 141, "tri", 0.05)),
        (spec(21, 20000, "sq"), spec(22, 500, "sq", 0.02)),
        (spec(23, 20000, "uniform"), spec(24, 5000, "uniform", 0.01)),
        (spec(25, 20000, "uniform"), spec(26, 100000, "uniform", 0.005)),
        (spec(27, 12000, "ties", param=10), spec(28, 11000, "ties", 0.0, 10)),
        (spec(29, 20000, "uniform"), spec(30, 60, "uniform", 0.6)),
        (spec(31, 20000, "ties", param=2), spec(32, 300, "ties", 0.0, 2)),
    ]

    ks = []
    for a_spec, b_spec in KS_CASES:
        a, b = data(a_spec), data(b_spec)
        r = stats.ks_2samp(a, b)
        method = "exact" if max(len(a), len(b)) <= 10000 else "asymptotic"
        ks.append({"a": a_spec, "b": b_spec, "statistic": float(r.statistic),
                   "p_value": float(r.pvalue), "method": method})

    kstwo = []
    for n in [5, 50, 140, 141, 1000, 20000, 100000, 150000]:
        for x in [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.95]:
            kstwo.append({"n": n, "x": x, "sf": float(stats.kstwo.sf(x, n))})

    smirnov = []
    for n in [1, 7, 50, 1000, 5000]:
        for d in [0.01, 0.1, 0.3, 0.6, 0.9]:
            smirnov.append({"n": n, "d": d, "sf": float(special.smirnov(n, d))})

    # Distances on generated data: PSI and Jensen-Shannon on the reference deciles.
    dist = []
    for ref_spec, cur_spec in [
        (spec(41, 20000, "tri"), spec(42, 50, "tri", 0.1)),
        (spec(43, 20000, "sq"), spec(44, 5000, "sq", 0.0)),
        (spec(45, 20000, "ties", param=3), spec(46, 400, "ties", 0.0, 3)),
        (spec(47, 5000, "uniform"), spec(48, 300, "uniform", 0.5)),
    ]:
        ref, cur = data(ref_spec), data(cur_spec)
        edges = np.unique(np.quantile(ref, [k / 10 for k in range(1, 10)]))
        def shares(v):
            idx = np.searchsorted(edges, v, side="left")
            return np.bincount(idx, minlength=len(edges) + 1) / len(v)
        r_sh, c_sh = shares(ref), shares(cur)
        r_f, c_f = np.maximum(r_sh, 1e-4), np.maximum(c_sh, 1e-4)
        psi = float(np.sum((c_f - r_f) * np.log(c_f / r_f)))
        js = float(distance.jensenshannon(r_sh, c_sh))
        wd = float(stats.wasserstein_distance(ref, cur))
        wd_norm = wd / max(float(np.std(ref)), 0.001)
        dist.append({"reference": ref_spec, "current": cur_spec, "edges": edges.tolist(),
                     "psi": psi, "jensen_shannon": js, "wasserstein": wd,
                     "wasserstein_norm": wd_norm})

    chi = []
    for table in [
        [[120, 80], [30, 20]],
        [[18000, 2000], [40, 10]],
        [[500, 300, 200], [20, 25, 5]],
        [[10, 0, 5, 7], [3, 4, 0, 1]],
    ]:
        t = np.array(table, dtype=float)
        t = t[:, t.sum(axis=0) > 0]
        s, p, dof, _ = stats.chi2_contingency(t, correction=False)
        chi.append({"reference": table[0], "current": table[1], "statistic": float(s),
                    "p_value": float(p), "dof": int(dof)})

    p_values = [0.001, 0.2, 0.04, 0.03, 0.5, 0.0001, 0.049, 0.9, 0.011, 0.3]
    bh = stats.false_discovery_control(p_values, method="bh").tolist()

    out = {
        "generated_by": "core/tests/reference/drift_values.py",
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "ks_2samp": ks,
        "kstwo_sf": kstwo,
        "smirnov": smirnov,
        "distances": dist,
        "chi2_contingency": chi,
        "multiple_testing": {"p_values": p_values, "bh": bh,
                              "bonferroni": [min(1.0, p * len(p_values)) for p in p_values]},
    }
    path = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "drift_reference.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
