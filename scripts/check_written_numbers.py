"""Checks that the numbers scorewatch writes read back exactly in its users' tools.

For every number cell of the given CSV files (gzip or plain) and every number in the given
JSONL files:
- Python's `float` (correctly rounded) and pandas' `read_csv(float_precision="round_trip")`
  give the same double, bit for bit; so does Python's `json` for JSONL;
- pandas' default parser, which is not correctly rounded, is off by at most one unit in
  the last place;
- the text is the shortest that reads back to that double, plain or scientific, whichever
  is shorter (derived here from Python's `repr`, independently of scorewatch's writer).

Usage: python check_written_numbers.py FILE.csv[.gz]... [FILE.jsonl]...
Exits non-zero naming the first cells that fail; prints one summary line per file.
"""

import csv
import gzip
import json
import math
import re
from decimal import Decimal
import sys
import warnings

import numpy as np
import pandas as pd

# Ids and labels are integers, not doubles.
INTEGER_COLUMNS = {"SK_ID_CURR", "TARGET"}
NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def shortest(x: float) -> str:
    """The shortest text that reads back to x: plain or scientific, plain on a tie."""
    if x == 0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    sign, digits, exponent = Decimal(repr(x)).as_tuple()
    digits = "".join(map(str, digits))
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    digits = stripped
    point = len(digits) + exponent  # the decimal point's place after the first digit's
    s = "-" if sign else ""
    sci = s + digits[0] + ("." + digits[1:] if len(digits) > 1 else "") + "e" + str(point - 1)
    if point <= 0:
        plain = s + "0." + "0" * (-point) + digits
    elif point >= len(digits):
        plain = s + digits + "0" * (point - len(digits))
    else:
        plain = s + digits[:point] + "." + digits[point:]
    assert float(plain) == x and float(sci) == x, (x, plain, sci)
    return sci if len(sci) < len(plain) else plain


def ulps(a: float, b: float) -> int:
    ia = np.array([a], dtype=np.float64).view(np.int64)[0]
    ib = np.array([b], dtype=np.float64).view(np.int64)[0]
    return abs(int(ia) - int(ib))


def same_bits(a: float, b: float) -> bool:
    return np.array([a]).view(np.uint64)[0] == np.array([b]).view(np.uint64)[0]


def open_text(path):
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt", newline="") if gz else open(path, newline="")


def check_csv(path) -> list:
    problems = []
    with open_text(path) as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exact = pd.read_csv(path, float_precision="round_trip", dtype=np.float64, keep_default_na=False, na_values=[""])
        default = pd.read_csv(path, dtype=np.float64, keep_default_na=False, na_values=[""])
    cells = worst = 0
    for j, name in enumerate(header):
        if name in INTEGER_COLUMNS:
            continue
        ex = exact[name].to_numpy()
        de = default[name].to_numpy()
        for i, row in enumerate(body):
            text = row[j]
            if text == "":
                continue
            cells += 1
            x = float(text)
            where = f"{path} row {i + 1} column {name}: {text!r}"
            if not same_bits(ex[i], x):
                problems.append(f"{where}: round_trip parser read {ex[i]!r}, float() {x!r}")
            d = ulps(de[i], x)
            worst = max(worst, d)
            if d > 1:
                problems.append(f"{where}: pandas' default parser read {de[i]!r}, {d} ulps off")
            if text != shortest(x):
                problems.append(f"{where}: not the shortest text ({shortest(x)!r})")
            if len(problems) > 20:
                return problems
    print(f"{path}: {cells} numbers; round_trip and float() bit for bit; default parser at most {worst} ulp off; all shortest")
    return problems


def check_jsonl(path) -> list:
    problems = []
    n = 0
    with open(path) as f:
        for k, line in enumerate(f, 1):
            parsed = json.loads(line)
            tokens = [t for t in NUMBER.findall(re.sub(r'"(?:[^"\\]|\\.)*"', '""', line))]
            values = []

            def walk(v):
                if isinstance(v, bool) or v is None:
                    return
                if isinstance(v, (int, float)):
                    values.append(v)
                elif isinstance(v, list):
                    for e in v:
                        walk(e)
                elif isinstance(v, dict):
                    for e in v.values():
                        walk(e)

            walk(parsed)
            if len(tokens) != len(values):
                problems.append(f"{path}:{k}: {len(tokens)} number tokens but {len(values)} values")
                continue
            for t, v in zip(tokens, values):
                n += 1
                if isinstance(v, float) and not same_bits(float(t), v):
                    problems.append(f"{path}:{k}: {t} read by json as {v!r}")
                if isinstance(v, float) and math.isfinite(v) and len(t) > len(shortest(v)) + 2:
                    problems.append(f"{path}:{k}: {t} is longer than needed ({shortest(v)!r})")
    print(f"{path}: {n} numbers; Python's json reads every one bit for bit")
    return problems


def main():
    problems = []
    for path in sys.argv[1:]:
        problems += check_jsonl(path) if path.endswith(".jsonl") else check_csv(path)
    for p in problems[:20]:
        print("FAIL", p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
