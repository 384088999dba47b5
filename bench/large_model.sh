#!/usr/bin/env bash
# Start time and resident memory of scorewatch with a large model (5,000 trees, ~25 MB of
# LightGBM text), and its behaviour under a burst of concurrent clients (the model is
# parsed once at start and shared by all requests, never parsed on the request path).
#
#   bench/large_model.sh [SCOREWATCH_BIN]     # default: $SCOREWATCH_BIN or target/release/scorewatch
#
# Environment (all optional):
#   OUT_DIR              work directory (default target/bench-large-model): model.txt,
#                        reference.csv, requests.json (made by bench/large_model.py when
#                        model.txt is missing), data/ (a fresh embedded database on each run),
#                        init.out, serve.out, burst.env
#   PYTHON               Python with lightgbm, pandas and numpy (default: a virtual
#                        environment in OUT_DIR/venv, made with them from PyPI when missing);
#                        the load generator itself uses the standard library only
#   CLIENTS              concurrent clients (default 16)
#   REQUESTS_PER_CLIENT  requests each client sends, one after the other (default 400)
#   BURST_DEADLINE_S     the clients stop after this many seconds even if not done (default 600)
#
# Steps: `scorewatch init` of the model (timed); `scorewatch serve` on 127.0.0.1:3931, timed
# from launch until it prints "scorewatch is serving on", with VmRSS/VmHWM of the process
# (/proc/PID/status) right after; a scorer key; CLIENTS threads each POSTing
# REQUESTS_PER_CLIENT single applications to /api/v1/predict over one keep-alive connection,
# released together, while VmRSS is sampled every 0.5 s; SIGTERM and wait. Everything stays
# on loopback. Memory figures are those of the scorewatch process only (the embedded
# PostgreSQL runs as separate processes).
set -euo pipefail

# The binary argument is relative to the caller's directory; everything else to the repository.
bin="${1:-${SCOREWATCH_BIN:-}}"
if [ -n "$bin" ]; then
  bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN="${bin:-$PWD/target/release/scorewatch}"
OUT="${OUT_DIR:-target/bench-large-model}"
if [ -z "${PYTHON:-}" ]; then
  PYTHON="$OUT/venv/bin/python"
  if ! "$PYTHON" -c "import lightgbm, pandas, numpy" 2>/dev/null; then
    python3 -m venv "$OUT/venv"
    "$OUT/venv/bin/pip" install -q --disable-pip-version-check "lightgbm>=4.7,<5" pandas numpy
  fi
fi
CLIENTS="${CLIENTS:-16}"
REQUESTS_PER_CLIENT="${REQUESTS_PER_CLIENT:-400}"
BURST_DEADLINE_S="${BURST_DEADLINE_S:-600}"
ADDR=127.0.0.1:3931
START_TIMEOUT_S=600

[ -x "$BIN" ] || { echo "no scorewatch binary at $BIN (build it, or pass its path)" >&2; exit 1; }
mkdir -p "$OUT"

# 1. Inputs: train the 5,000-tree model once (a few minutes), reuse it afterwards.
if [ ! -f "$OUT/model.txt" ]; then
  echo "== training the large model (bench/large_model.py)"
  "$PYTHON" bench/large_model.py "$OUT"
fi
model_bytes=$(stat -c %s "$OUT/model.txt")
model_trees=$(grep -c '^Tree=' "$OUT/model.txt")
echo "== model: $OUT/model.txt, $model_bytes bytes, $model_trees trees"

# Runs scorewatch against the benchmark's own embedded database, never a configured one.
sw() { env -u DATABASE_URL SCOREWATCH_DATA_DIR="$OUT/data" "$BIN" "$@"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# One field of /proc/PID/status in MiB (VmRSS: resident now, VmHWM: peak resident).
mem_mib() { awk -v k="$2:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

# 2. A fresh data directory, and the model registered (timed: parse + reference summary).
rm -rf "$OUT/data"
echo "== scorewatch init"
t0=$(now)
sw init --model "$OUT/model.txt" --reference "$OUT/reference.csv" --threshold 0.5 --name large \
  >"$OUT/init.out" 2>&1 || { tail -n 30 "$OUT/init.out" >&2; exit 1; }
init_s=$(elapsed "$t0" "$(now)")
grep -v '^\s*$' "$OUT/init.out" | tail -n 4
echo "   init took ${init_s} s"

# 3. Serve; time from launch until the "serving" line (polled every 20 ms).
echo "== scorewatch serve on $ADDR"
t0=$(now)
# Launched directly rather than through sw(), so that $! is the server itself (env execs it).
env -u DATABASE_URL SCOREWATCH_DATA_DIR="$OUT/data" "$BIN" serve --addr "$ADDR" \
  --no-drift-schedule --dashboard-sign-in always >"$OUT/serve.out" 2>&1 &
pid=$!
deadline=$(( $(date +%s) + START_TIMEOUT_S ))
until grep -q 'scorewatch is serving on' "$OUT/serve.out"; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "scorewatch serve exited before serving:" >&2; tail -n 30 "$OUT/serve.out" >&2; exit 1
  fi
  [ "$(date +%s)" -lt "$deadline" ] || { echo "not serving after ${START_TIMEOUT_S} s" >&2; exit 1; }
  sleep 0.02
done
start_s=$(elapsed "$t0" "$(now)")
rss_start=$(mem_mib "$pid" VmRSS)
hwm_start=$(mem_mib "$pid" VmHWM)
echo "   serving after ${start_s} s; VmRSS ${rss_start} MiB, VmHWM ${hwm_start} MiB"

# 4. A scorer key for the clients (the CLI reaches the running server's database).
key=$(sw keys create --role scorer --name bench | tail -n 1)
[ -n "$key" ] || { echo "no key created" >&2; exit 1; }
rss_idle=$(mem_mib "$pid" VmRSS)

# 5. The burst: CLIENTS threads released together, each with its own keep-alive connection.
echo "== burst: $CLIENTS clients x $REQUESTS_PER_CLIENT requests, POST /api/v1/predict"
SCOREWATCH_KEY="$key" "$PYTHON" - "$ADDR" "$pid" "$OUT/requests.json" "$CLIENTS" \
  "$REQUESTS_PER_CLIENT" "$BURST_DEADLINE_S" "$OUT/burst.env" <<'PY'
import http.client, json, os, sys, threading, time

addr, pid, bodies_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
clients, per_client, deadline_s, env_out = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), sys.argv[7]
host, port = addr.rsplit(":", 1)
bodies = [json.dumps(b).encode() for b in json.load(open(bodies_path))]
headers = {"Authorization": "Bearer " + os.environ["SCOREWATCH_KEY"],
           "Content-Type": "application/json"}

def status_kib(field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0

latencies = [[] for _ in range(clients)]  # seconds, per client, in order
failures = [[] for _ in range(clients)]   # (status or exception, first bytes of the body)
start = threading.Barrier(clients + 1)
stop_at = [0.0]

def client(i):
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    conn.connect()
    start.wait()
    for n in range(per_client):
        if time.monotonic() > stop_at[0]:
            break
        body = bodies[(i * 13 + n) % len(bodies)]  # each client its own order through the 200
        t = time.perf_counter()
        try:
            conn.request("POST", "/api/v1/predict", body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            status = resp.status
        except Exception as e:  # connection trouble: record it, reconnect, go on
            failures[i].append((repr(e), b""))
            conn.close()
            conn = http.client.HTTPConnection(host, int(port), timeout=120)
            continue
        latencies[i].append(time.perf_counter() - t)
        if status != 200:
            failures[i].append((status, data[:200]))
    conn.close()

threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
for t in threads:
    t.start()
samples, done = [], threading.Event()
def sampler():
    while not done.is_set():
        samples.append(status_kib("VmRSS"))
        done.wait(0.5)
sampling = threading.Thread(target=sampler)
sampling.start()
time.sleep(0.6)  # a sample or two before the release: the burst's baseline
stop_at[0] = time.monotonic() + deadline_s
t0 = time.perf_counter()
start.wait()
for t in threads:
    t.join()
wall = time.perf_counter() - t0
done.set()
sampling.join()
samples.append(status_kib("VmRSS"))
hwm = status_kib("VmHWM")

all_lat = sorted(x for l in latencies for x in l)
ok = len(all_lat) - sum(1 for f in failures for s, _ in f if isinstance(s, int))
errors = [f for fs in failures for f in fs]
def pct(p):
    return all_lat[min(len(all_lat) - 1, int(round(p / 100 * (len(all_lat) - 1))))] * 1000 if all_lat else float("nan")
first = [l[0] * 1000 for l in latencies if l]
result = {
    "burst_requests": len(all_lat), "burst_ok": ok, "burst_errors": len(errors),
    "burst_wall_s": f"{wall:.2f}", "burst_rps": f"{len(all_lat) / wall:.1f}",
    "burst_p50_ms": f"{pct(50):.1f}", "burst_p99_ms": f"{pct(99):.1f}", "burst_max_ms": f"{pct(100):.1f}",
    "burst_first_max_ms": f"{max(first):.1f}" if first else "nan",
    "burst_rss_peak_mib": f"{max(samples) / 1024:.1f}", "burst_rss_end_mib": f"{samples[-1] / 1024:.1f}",
    "burst_hwm_mib": f"{hwm / 1024:.1f}", "burst_samples": len(samples),
}
print(f"   {len(all_lat)} requests in {wall:.2f} s: {result['burst_rps']} req/s, "
      f"p50 {result['burst_p50_ms']} ms, p99 {result['burst_p99_ms']} ms, max {result['burst_max_ms']} ms; "
      f"slowest first request {result['burst_first_max_ms']} ms")
print(f"   VmRSS every 0.5 s ({len(samples)} samples): peak {result['burst_rss_peak_mib']} MiB; "
      f"VmHWM {result['burst_hwm_mib']} MiB")
if errors:
    print(f"   {len(errors)} failed requests; first: {errors[0][0]} {errors[0][1]!r}", file=sys.stderr)
with open(env_out, "w") as f:
    for k, v in result.items():
        f.write(f"{k}={v}\n")
PY
# shellcheck source=/dev/null
. "$OUT/burst.env"

# 6. Stop: SIGTERM, then wait (the server flushes its writes and stops the embedded PostgreSQL).
t0=$(now)
kill -TERM "$pid"
set +e; wait "$pid"; serve_rc=$?; set -e
pid=""
stop_s=$(elapsed "$t0" "$(now)")
echo "== stopped in ${stop_s} s (exit status $serve_rc)"

# 7. Summary.
printf '\n%-44s %s\n' "model" "$model_trees trees, $(awk -v b="$model_bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }') ($model_bytes bytes)"
printf '%-44s %s\n' \
  "scorewatch init" "${init_s} s" \
  "start (launch -> serving)" "${start_s} s" \
  "VmRSS right after start" "${rss_start} MiB" \
  "VmRSS idle (after key creation)" "${rss_idle} MiB" \
  "burst" "$CLIENTS clients x $REQUESTS_PER_CLIENT = $burst_requests requests, $burst_errors failed" \
  "throughput" "${burst_rps} req/s (${burst_wall_s} s)" \
  "latency p50 / p99 / max" "${burst_p50_ms} / ${burst_p99_ms} / ${burst_max_ms} ms" \
  "slowest first request of a client" "${burst_first_max_ms} ms" \
  "peak VmRSS during burst (0.5 s samples)" "${burst_rss_peak_mib} MiB" \
  "VmHWM at end of burst" "${burst_hwm_mib} MiB" \
  "stop (SIGTERM -> exit)" "${stop_s} s, status $serve_rc"
