#!/usr/bin/env bash
# Load run against a running scorewatch (release build advised): single predictions and
# batches of 100, at concurrency 1, 8 and 64, with wrk (Debian package `wrk`).
#
#   bench/load.sh                      # starts a release server on a fresh embedded database
#   BASE_URL=http://host:3000 SCOREWATCH_API_KEY=sw_... bench/load.sh   # an existing server
#
# Prints, per run: requests/s, p50 and p99 latency (wrk), and predictions stored per second
# (from the server's scorewatch_writer_rows_committed_total before and after).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DURATION="${DURATION:-15s}"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
OUT=target/load
mkdir -p "$OUT"

# Request bodies from the demo test set: all 419 features of real rows.
python3 - "$OUT" <<'PY'
import csv, gzip, json, math, sys
out = sys.argv[1]
line = next(l for l in open("artifacts/model.txt") if l.startswith("feature_names="))
names = line.split("=", 1)[1].split()
rows = []
with gzip.open("artifacts/test.csv.gz", "rt") as f:
    for r in csv.DictReader(f):
        feats = {n: (float(r[n]) if r.get(n, "") not in ("", "nan", "NaN") else None) for n in names}
        rows.append({"sk_id_curr": int(float(r.get("SK_ID_CURR", len(rows)))), "features": feats})
        if len(rows) == 100:
            break
json.dump(rows[0], open(f"{out}/one.json", "w"))
json.dump({"applications": rows}, open(f"{out}/batch100.json", "w"))
PY

pid=""
cleanup() { [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; }
trap cleanup EXIT
if [ -z "${BASE_URL:-}" ]; then
  [ -x target/release/scorewatch ] || { echo "build first: cargo build --release -p scorewatch" >&2; exit 1; }
  rm -rf "$OUT/data"
  env -u DATABASE_URL SCOREWATCH_DATA_DIR="$OUT/data" target/release/scorewatch serve \
    --addr 127.0.0.1:0 --no-backup --log-format json >"$OUT/serve.out" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do grep -q "^scorewatch is serving on " "$OUT/serve.out" && break; sleep 0.2; done
  BASE_URL="$(grep -m1 '^scorewatch is serving on ' "$OUT/serve.out" | sed 's/^scorewatch is serving on //; s#/$##')"
  SCOREWATCH_API_KEY="$(cat "$OUT/data/admin-key")"
fi
export SCOREWATCH_API_KEY
echo "server: $BASE_URL"

cat >"$OUT/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SCOREWATCH_API_KEY")
local f = assert(io.open(os.getenv("BODY_FILE"), "r"))
wrk.body = f:read("*a")
f:close()
LUA

committed() {
  curl -s "$BASE_URL/metrics" | awk '/^scorewatch_writer_rows_committed_total /{print $2}' | head -n1
}

printf '%-10s %5s %10s %10s %10s %12s %8s\n' kind conc 'req/s' 'p50' 'p99' 'rows/s' 'non-2xx'
for kind in one batch100; do
  path=/api/v1/predict
  [ "$kind" = batch100 ] && path=/api/v1/predict/batch
  for c in 1 8 32 64; do
    threads=$(( c < 2 ? 1 : 2 ))
    before="$(committed)"; before="${before:-0}"
    start=$(date +%s.%N)
    BODY_FILE="$OUT/$kind.json" wrk -t"$threads" -c"$c" -d"$DURATION" --latency \
      -s "$OUT/post.lua" "$BASE_URL$path" >"$OUT/wrk-$kind-$c.txt"
    end=$(date +%s.%N)
    after="$(committed)"
    rps=$(awk '/^Requests\/sec/{print $2}' "$OUT/wrk-$kind-$c.txt")
    p50=$(awk '$1=="50%"{print $2}' "$OUT/wrk-$kind-$c.txt")
    p99=$(awk '$1=="99%"{print $2}' "$OUT/wrk-$kind-$c.txt")
    non2xx=$(awk '/Non-2xx/{print $NF}' "$OUT/wrk-$kind-$c.txt")
    rows=$(python3 -c "print(round(($after - $before) / ($end - $start)))")
    printf '%-10s %5s %10s %10s %10s %12s %8s\n' "$kind" "$c" "$rps" "$p50" "$p99" "$rows" "${non2xx:-0}"
  done
done
