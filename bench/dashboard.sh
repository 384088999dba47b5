#!/usr/bin/env bash
# How long each dashboard page takes to render on the server, data included (the server
# functions run during server-side rendering), with ROWS stored predictions (default one
# million) spread over the last 30 days.
#
#   bench/dashboard.sh            # the newer of the release and the debug build
#   ROWS=200000 bench/dashboard.sh
#
# The predictions are copies of one scored application with random times, probabilities
# and latencies, inserted by SQL in chunks of 100,000, each chunk added to the summaries in
# the slot of one of four committers, as the API's writer would. Prints the median of 5
# renders per page.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROWS="${ROWS:-1000000}"
OUT=target/bench-dashboard
BIN=target/release/scorewatch
if [ ! -x "$BIN" ] || [ target/debug/scorewatch -nt "$BIN" ]; then BIN=target/debug/scorewatch; fi
[ -x "$BIN" ] || { echo "build first: cargo leptos build" >&2; exit 1; }
mkdir -p "$OUT"

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

wait_line() { # file prefix
  for _ in $(seq 1 600); do
    grep -q "^$2" "$1" 2>/dev/null && { grep -m1 "^$2" "$1" | sed "s|^$2||"; return 0; }
    sleep 0.2
  done
  cat "$1" >&2
  echo "timed out waiting for '$2'" >&2
  exit 1
}

if [ ! -f "$OUT/filled-$ROWS" ]; then
  rm -rf "$OUT/pg" "$OUT"/filled-*
fi
"$BIN" postgres --pg-dir "$OUT/pg" >"$OUT/postgres.out" 2>&1 &
pids+=($!)
DATABASE_URL="$(wait_line "$OUT/postgres.out" "DATABASE_URL=")"
export DATABASE_URL
echo "using $BIN on $DATABASE_URL"

SCOREWATCH_DATA_DIR="$OUT/data" "$BIN" serve --addr 127.0.0.1:0 --no-backup --no-drift-schedule --dashboard-sign-in never \
  --log-format json >"$OUT/serve.out" 2>&1 &
pids+=($!)
BASE_URL="$(wait_line "$OUT/serve.out" "scorewatch is serving on ")"
BASE_URL="${BASE_URL%/}"
KEY="$(cat "$OUT/data/admin-key")"

psql() { command psql -qAt -v ON_ERROR_STOP=1 "$DATABASE_URL" "$@"; }

if [ ! -f "$OUT/filled-$ROWS" ]; then
  echo "storing $ROWS predictions..."
  started=$(date +%s)
  # One application scored by the model is the template of all the others.
  curl -sf -H "authorization: Bearer $KEY" -H 'content-type: application/json' \
    -d '{"features": {"EXT_SOURCE_2": 0.3, "EXT_SOURCE_3": 0.4, "DAYS_BIRTH": -12000}}' \
    "$BASE_URL/api/v1/predict" >/dev/null
  done_rows=1
  while [ "$done_rows" -lt "$ROWS" ]; do
    n=$(( ROWS - done_rows < 100000 ? ROWS - done_rows : 100000 ))
    # As the API's four committers would: each chunk in the summary slot of one of them.
    psql -c "SET scorewatch.writer_slot = $(( (done_rows / 100000) % 4 + 1 ))" -c "
      WITH inserted AS (
        INSERT INTO predictions (id, created_at, model_version, sk_id_curr, features, probability, decision,
                                 threshold, inference_time_ms, source)
        SELECT gen_random_uuid(), now() - random() * interval '30 days', t.model_version,
               100000 + g, t.features, p, CASE WHEN p >= t.threshold THEN 'REFUSED' ELSE 'APPROVED' END,
               t.threshold, exp(random() * 3 - 3), CASE WHEN g % 10 = 0 THEN 'batch' ELSE 'simulator' END
          FROM (SELECT * FROM predictions LIMIT 1) t,
               generate_series(1, $n) g,
               LATERAL (SELECT power(random(), 2.5) AS p) r
        RETURNING created_at, decision, probability, inference_time_ms)
      SELECT sw_rollup_add(array_agg(created_at), array_agg(decision), array_agg(probability),
                           array_agg(inference_time_ms)) FROM inserted" >/dev/null
    done_rows=$(( done_rows + n ))
    printf '\r  %d / %d' "$done_rows" "$ROWS"
  done
  echo
  # What the server does every minute: fold the committers' summary rows into one per
  # minute and hour.
  folded_at=$(date +%s%N)
  echo "  summary rows folded: $(psql -c "SELECT sw_rollup_compact(now() - interval '1 minute')")" \
    "in $(( ($(date +%s%N) - folded_at) / 1000000 )) ms"
  psql -c "VACUUM ANALYZE predictions" -c "VACUUM ANALYZE prediction_minutes" -c "VACUUM ANALYZE prediction_hours"
  echo "  filled in $(( $(date +%s) - started )) s"
  touch "$OUT/filled-$ROWS"
fi
echo "stored predictions: $(psql -c 'SELECT count(*) FROM predictions')"
ID="$(psql -c 'SELECT id FROM predictions ORDER BY created_at DESC LIMIT 1')"

median_ms() { # url
  local times=()
  for _ in 1 2 3 4 5 6; do
    times+=("$(curl -s -o /dev/null -w '%{time_total}' "$1")")
  done
  # The first render warms caches: drop it, take the median of the other five.
  printf '%s\n' "${times[@]:1}" | sort -n | sed -n 3p | awk '{printf "%.0f", $1 * 1000}'
}

echo "summary rows: $(psql -c 'SELECT count(*) FROM prediction_minutes') per minute," \
  "$(psql -c 'SELECT count(*) FROM prediction_hours') per hour"
printf '%-34s %s\n' "page" "server render, median of 5 (ms)"
for path in / /predictions "/predictions/$ID" /drift /logs /model /score; do
  printf '%-34s %s\n' "$path" "$(median_ms "$BASE_URL$path")"
done

# The overview's data for each range (the server function the page calls when the range
# changes; its path is read from the compiled client).
FN="$(grep -ao '/api/get_overview[0-9]*' target/site/pkg/scorewatch*.wasm 2>/dev/null | head -n1 || true)"
if [ -n "$FN" ]; then
  for range in hour day week month; do
    times=()
    for _ in 1 2 3 4 5 6; do
      times+=("$(curl -s -o /dev/null -w '%{time_total}' -X POST "$BASE_URL$FN" -d "range=$range&from=&to=")")
    done
    printf '%-34s %s\n' "overview data, last $range" \
      "$(printf '%s\n' "${times[@]:1}" | sort -n | sed -n 3p | awk '{printf "%.0f", $1 * 1000}')"
  done
fi
