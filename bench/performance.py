#!/usr/bin/env python3
"""Speed and memory of performance reports at scale.

    python3 bench/performance.py [BINARY]

On a fresh embedded database (`target/bench-performance`), with the demo model and its
hold-out registered:

1. 1,000,000 predictions over 30 days are written with SQL (scores drawn as u^3 * 0.9,
   decisions at the demo threshold; the features are not read by a performance report),
   300,000 of them get an outcome (defaulted with probability = score), then VACUUM
   ANALYZE (as autovacuum would) so the scores index answers alone;
2. `scorewatch performance` over the 30 days runs RUNS times (default 3): the report's own
   `total_ms` and the process's peak resident memory (`/usr/bin/time -v`);
3. a server starts and one batch of 10,000 outcomes is posted RUNS times (by prediction
   id; the second and later batches replace);
4. the performance page's data: the report list and the newest report with its grades,
   read through the API RUNS times each.

Prints every time and the median.
"""
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
OUT = os.path.join(ROOT, "target", "bench-performance")
RUNS = int(os.environ.get("RUNS", "3"))
BINARY = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/scorewatch")
N_PREDICTIONS = 1_000_000
N_LABELLED = 300_000


def run(args, env, **kw):
    return subprocess.run(args, env=env, check=True, capture_output=True, text=True, **kw)


def psql(url, sql):
    return run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql], os.environ).stdout.strip()


def wait_for(path, pattern, proc, seconds=300):
    for _ in range(seconds * 5):
        text = open(path).read()
        m = re.search(pattern, text)
        if m:
            return m
        if proc.poll() is not None:
            sys.exit(text)
        time.sleep(0.2)
    sys.exit(f"timed out waiting for {pattern} in {path}")


def post(url, body):
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    answer = json.loads(urllib.request.urlopen(req, timeout=600).read())
    return time.perf_counter() - started, answer


def get(url):
    started = time.perf_counter()
    answer = json.loads(urllib.request.urlopen(url, timeout=600).read())
    return time.perf_counter() - started, answer


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    pg_log = os.path.join(OUT, "postgres.out")
    pg = subprocess.Popen([BINARY, "postgres", "--pg-dir", os.path.join(OUT, "pg")],
                          stdout=open(pg_log, "w"), stderr=subprocess.STDOUT, env=env)
    try:
        url = wait_for(pg_log, r"DATABASE_URL=(\S+)", pg).group(1)
        env["DATABASE_URL"] = url
        a = os.path.join(ROOT, "artifacts")
        run([BINARY, "init", "--model", f"{a}/model.txt", "--card", f"{a}/model_card.json",
             "--reference", f"{a}/reference.csv.gz", "--holdout", f"{a}/validation.csv.gz"], env)
        started = time.time()
        psql(url, f"""
            INSERT INTO predictions (id, created_at, model_version, sk_id_curr, features,
                                     probability, decision, threshold, inference_time_ms, source)
            SELECT gen_random_uuid(), now() - interval '30 days' * random(), 1, g, '{{}}',
                   p, CASE WHEN p >= 0.494 THEN 'REFUSED' ELSE 'APPROVED' END, 0.494, 0.01,
                   'simulator'
              FROM (SELECT g, power(random(), 3) * 0.9 AS p
                      FROM generate_series(1, {N_PREDICTIONS}) g) s;
            INSERT INTO outcomes (prediction_id, defaulted, observed_at, source,
                                  prediction_created_at, model_version, probability, refused,
                                  sk_id_curr)
            SELECT id, random() < probability, now(), 'simulator', created_at, model_version,
                   probability, decision = 'REFUSED', sk_id_curr
              FROM predictions ORDER BY random() LIMIT {N_LABELLED};""")
        # VACUUM runs outside a transaction: one statement per call.
        psql(url, "VACUUM ANALYZE predictions")
        psql(url, "VACUUM ANALYZE outcomes")
        print(f"wrote {N_PREDICTIONS} predictions and {N_LABELLED} outcomes in "
              f"{time.time() - started:.0f} s")

        since = psql(url, "SELECT to_char(min(created_at) AT TIME ZONE 'UTC', "
                          "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM predictions")
        until = psql(url, "SELECT to_char(max(created_at) AT TIME ZONE 'UTC' + interval '1 second', "
                          "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM predictions")
        totals, rss = [], []
        for _ in range(RUNS):
            out = run(["/usr/bin/time", "-v", BINARY, "--log-format", "json", "performance",
                       "--since", since, "--until", until, "--json"], env)
            text = out.stdout + out.stderr
            m = re.search(r'"performance report stored".*?"total_ms":\s*([0-9.]+)', text)
            totals.append(float(m.group(1)))
            rss.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024)
            lines = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
            report = next(l for l in lines if "report" in l and "grades" in l)
            r = report["report"]
            print(f"  report {r['id']}: {r['n_predictions']} predictions, {r['n_labelled']} labelled, "
                  f"AUC {r['roc_auc']:.4f}, estimated {r['estimated_roc_auc']:.4f}: "
                  f"{totals[-1]:.0f} ms, peak RSS {rss[-1]:.0f} MB")
        print(f"performance report over {N_PREDICTIONS} predictions: median "
              f"{statistics.median(totals):.0f} ms, peak RSS median {statistics.median(rss):.0f} MB")

        log = os.path.join(OUT, "serve.out")
        server = subprocess.Popen(
            [BINARY, "serve", "--addr", "127.0.0.1:0", "--no-auth", "--no-drift-schedule",
             "--no-performance-schedule", "--no-backup"],
            stdout=open(log, "w"), stderr=subprocess.STDOUT,
            env=dict(env, LEPTOS_SITE_ROOT=os.path.join(ROOT, "target/site")))
        try:
            base = wait_for(log, r"scorewatch is serving on (\S+)", server).group(1).rstrip("/")
            ids = psql(url, "SELECT id FROM predictions LIMIT 10000").split()
            times = []
            for k in range(RUNS):
                batch = [{"prediction_id": i, "defaulted": (n + k) % 12 == 0} for n, i in enumerate(ids)]
                t, answer = post(base + "/api/v1/outcomes", {"outcomes": batch})
                times.append(t)
                print(f"  10,000 outcomes: {1e3 * t:.0f} ms ({answer['recorded']} recorded, "
                      f"{answer['replaced']} replaced)")
            print(f"posting 10,000 outcomes: median {1e3 * statistics.median(times):.0f} ms")
            list_times, report_times = [], []
            for _ in range(RUNS):
                t, page = get(base + "/api/v1/performance/reports")
                list_times.append(t)
                t, _ = get(base + f"/api/v1/performance/reports/{page['items'][0]['id']}")
                report_times.append(t)
            print(f"performance page data: report list median {1e3 * statistics.median(list_times):.1f} ms, "
                  f"newest report with grades median {1e3 * statistics.median(report_times):.1f} ms")
        finally:
            server.terminate()
            server.wait()
    finally:
        pg.terminate()
        pg.wait()


if __name__ == "__main__":
    main()
