#!/usr/bin/env python3
"""Time of one drift report over 100,000 stored predictions, in two shapes of traffic.

    python3 bench/drift_window.py [BINARY ...]

- burst: 100,000 predictions scored through the API in ten batches of 10,000 (a
  month-end portfolio run: a minute or two), 5,000 distinct rows of the demo test set;
- spread: the same number written by `scorewatch simulate --backfill 1 --per-day 100000`,
  spread over a day.

For each shape a release server starts on a fresh embedded database (`target/bench-drift`);
once the newest minute has settled (column blocks are built for minutes that ended a minute
ago), `scorewatch drift --last 100000` runs RUNS times (default 5) with each BINARY given
(default `target/release/scorewatch`), alternating, so that two builds are compared on the
same data. Prints each run's `total_ms` (the report's own log line) and the median.
"""
import csv
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "target", "bench-drift")
RUNS = int(os.environ.get("RUNS", "5"))
N = 100_000


def rows():
    names = next(
        l for l in open(os.path.join(ROOT, "artifacts/model.txt")) if l.startswith("feature_names=")
    ).split("=", 1)[1].split()
    out = []
    with gzip.open(os.path.join(ROOT, "artifacts/test.csv.gz"), "rt") as f:
        for r in csv.DictReader(f):
            feats = {n: (float(r[n]) if r.get(n, "") not in ("", "nan", "NaN") else None) for n in names}
            out.append({"features": feats})
            if len(out) == 5_000:
                break
    return out


def start_server(binary, data):
    log = open(os.path.join(data, "serve.out"), "w")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(SCOREWATCH_DATA_DIR=data, LEPTOS_SITE_ROOT=os.path.join(ROOT, "target/site"))
    p = subprocess.Popen(
        [binary, "serve", "--addr", "127.0.0.1:0", "--dashboard-sign-in", "never", "--drift-every", "1d"],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    for _ in range(600):
        text = open(os.path.join(data, "serve.out")).read()
        m = re.search(r"scorewatch is serving on (\S+)", text)
        if m:
            return p, m.group(1).rstrip("/")
        if p.poll() is not None:
            sys.exit(text)
        time.sleep(0.2)
    sys.exit("the server did not start")


def burst(url, key, sample):
    started = time.time()
    for b in range(N // 10_000):
        apps = [sample[(b * 10_000 + i) % len(sample)] for i in range(10_000)]
        req = urllib.request.Request(
            url + "/api/v1/predict/batch",
            data=json.dumps({"applications": apps}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        )
        urllib.request.urlopen(req, timeout=600).read()
    print(f"  scored and stored {N} predictions in {time.time() - started:.1f} s")


def report_ms(binary, data):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["SCOREWATCH_DATA_DIR"] = data
    out = subprocess.run(
        [binary, "drift", "--last", str(N)], env=env, capture_output=True, text=True, check=True
    )
    m = re.search(r'total_ms"?[:=]\s*([0-9.]+)', out.stdout + out.stderr)
    if not m:
        sys.exit(out.stdout + out.stderr)
    return float(m.group(1))


def main():
    binaries = sys.argv[1:] or [os.path.join(ROOT, "target/release/scorewatch")]
    sample = rows()
    for shape in ("burst", "spread"):
        data = os.path.join(OUT, shape)
        shutil.rmtree(data, ignore_errors=True)
        os.makedirs(data)
        server, url = start_server(binaries[0], data)
        try:
            key = open(os.path.join(data, "admin-key")).read().strip()
            print(f"{shape}:")
            if shape == "burst":
                burst(url, key, sample)
            else:
                env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
                env["SCOREWATCH_DATA_DIR"] = data
                subprocess.run(
                    [binaries[0], "simulate", "--backfill", "1", "--per-day", str(N)],
                    env=env, check=True, capture_output=True,
                )
                print(f"  wrote {N} predictions spread over a day")
            # Blocks are built for minutes that ended at least a minute ago.
            time.sleep(125)
            times = {b: [] for b in binaries}
            for _ in range(RUNS):
                for b in binaries:
                    times[b].append(report_ms(b, data))
            for b in binaries:
                t = times[b]
                print(f"  {b}: total_ms {', '.join(f'{x:.0f}' for x in t)}; median {statistics.median(t):.0f}")
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
