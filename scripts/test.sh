#!/usr/bin/env bash
# Command two: set up and run every test.
#   0. the code's shape: rustfmt, no import cycle between modules, and (after the tests)
#      clippy with every warning an error;
#   1. unit and integration tests (cargo test) against a real PostgreSQL: DATABASE_URL if
#      set, otherwise an embedded cluster started here for the run;
#   2. browser tests (node --test + playwright-core) in headless Chromium against a
#      `scorewatch serve` started here with its own embedded database;
#   3. the contract test, last: Schemathesis against that server's OpenAPI document.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh

pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

# Waits until FILE has a line starting with PREFIX and prints the rest of that line.
wait_for_line() {
  local file="$1" prefix="$2" pid="$3" seconds="$4"
  for _ in $(seq 1 $((seconds * 5))); do
    local line
    line="$(grep -m1 "^$prefix" "$file" 2>/dev/null || true)"
    if [ -n "$line" ]; then
      printf '%s\n' "${line#"$prefix"}"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$file" >&2; die "process $pid exited early"; }
    sleep 0.2
  done
  cat "$file" >&2
  die "timed out waiting for '$prefix' in $file"
}

# Prometheus (a real scrape of /metrics in the browser-test stage): tests only.
if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  need_cmd apt-get "Install Prometheus (Debian package prometheus) yourself."
  say "installing Prometheus (for the metrics test)"
  as_root apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends prometheus >/dev/null ||
    die "could not install prometheus with apt-get"
fi

say "code shape: cargo fmt --check, and no import cycle between modules"
cargo fmt --all --check || die "run cargo fmt --all"
python3 scripts/check_module_cycles.py core/src server/src app/src

say "building (debug: server and WebAssembly client)"
cargo leptos build
# Compressed copies of the client, as scripts/run.sh makes them (quicker settings: the debug
# WebAssembly is large); the browser tests check that they are sent.
node scripts/precompress.mjs --fast target/site

mkdir -p target/test-run
if [ -z "${DATABASE_URL:-}" ]; then
  say "starting a PostgreSQL cluster for the tests (target/test-run/pg)"
  rm -rf target/test-run/pg
  target/debug/scorewatch postgres --pg-dir target/test-run/pg >target/test-run/postgres.out 2>&1 &
  pids+=($!)
  DATABASE_URL="$(wait_for_line target/test-run/postgres.out "DATABASE_URL=" "${pids[-1]}" 60)"
  export DATABASE_URL
fi

say "unit and integration tests"
# One test at a time: the server's integration tests share one process (and PostgreSQL),
# and two of them at once have been seen to starve each other's connections.
cargo test -p scorewatch-core -p scorewatch -p app --features app/ssr -- --test-threads=1

say "clippy: every lint of every target, warnings as errors"
cargo clippy -p scorewatch-core -p scorewatch -p app --features app/ssr --all-targets -- -D warnings

say "browser tests: starting scorewatch serve with a fresh embedded database"
rm -rf target/test-run/e2e-data
E2E_LOG=target/test-run/serve.out
# --max-batch 100: the contract test sends a batch of the documented maximum, with every
# explanation; at the default of 10,000 that alone takes longer than its request timeout.
env -u DATABASE_URL SCOREWATCH_DATA_DIR=target/test-run/e2e-data LEPTOS_SITE_ROOT=target/site \
  target/debug/scorewatch serve --addr 127.0.0.1:0 --dashboard-sign-in always --max-batch 100 \
  >"$E2E_LOG" 2>&1 &
pids+=($!)
BASE_URL="$(wait_for_line "$E2E_LOG" "scorewatch is serving on " "${pids[-1]}" 300)"
export BASE_URL="${BASE_URL%/}"
say "server up at $BASE_URL"
new_key() {
  env -u DATABASE_URL SCOREWATCH_DATA_DIR=target/test-run/e2e-data \
    target/debug/scorewatch keys create --role "$1" --name "browser tests ($1)" | tail -n 1
}
SCOREWATCH_API_KEY="$(new_key scorer)"
SCOREWATCH_VIEWER_KEY="$(new_key viewer)"
SCOREWATCH_OFFICER_KEY="$(new_key officer)"
export SCOREWATCH_API_KEY SCOREWATCH_VIEWER_KEY SCOREWATCH_OFFICER_KEY
# The admin key `serve` created at its first start, for the tests that run drift reports.
SCOREWATCH_ADMIN_KEY="$(cat target/test-run/e2e-data/admin-key)"
export SCOREWATCH_ADMIN_KEY
node --test --test-concurrency=1 end2end/tests/


# The numbers scorewatch writes, read by its users' tools: pandas (both parsers) and
# Python's float and json read the demo's CSV files and the browser-test server's JSONL
# backup exactly (scripts/check_written_numbers.py says what is checked).
PYCHECK="$SW_ROOT/.tools/pycheck"
if [ ! -x "$PYCHECK/bin/python" ] || ! "$PYCHECK/bin/python" -c "import pandas" 2>/dev/null; then
  say "installing pandas into .tools/pycheck (for the written-numbers check)"
  python3 -m venv "$PYCHECK" || die "python3 -m venv failed (install python3-venv)"
  "$PYCHECK/bin/pip" install -q --disable-pip-version-check "pandas>=2.2" numpy ||
    die "could not install pandas from PyPI"
fi
say "written numbers: demo CSV files and the JSONL backup, read by pandas and Python"
"$PYCHECK/bin/python" scripts/check_written_numbers.py artifacts/test.csv.gz artifacts/reference.csv.gz \
  artifacts/validation.csv.gz \
  target/test-run/e2e-data/backup/*.jsonl

# The contract test, last: Schemathesis sends the browser-test server what its OpenAPI
# document allows and what it forbids, and checks every answer against the document. Every
# phase (the document's examples, boundary and schema-breaking values, random requests,
# linked sequences), 10 cases per operation and phase, a fixed seed and no saved examples,
# so each run sends the same kinds of requests; one to two minutes. The one check left out,
# for one operation, is named and explained in scripts/schemathesis.toml.
SCHEMATHESIS="$TOOLS_DIR/schemathesis/bin/st"
if [[ "$("$SCHEMATHESIS" --version 2>/dev/null || true)" != *"version 4."* ]]; then
  say "installing Schemathesis 4 from PyPI into .tools/schemathesis (for the contract test)"
  python3 -m venv "$TOOLS_DIR/schemathesis" || die "python3 -m venv failed (install python3-venv)"
  "$TOOLS_DIR/schemathesis/bin/pip" install -q --disable-pip-version-check "schemathesis>=4,<5" ||
    die "could not install schemathesis from PyPI"
fi
say "contract test: Schemathesis against $BASE_URL/api/v1/openapi.json"
mkdir -p target/test-run/schemathesis
if ! (cd target/test-run/schemathesis &&
  "$SCHEMATHESIS" --config-file "$SW_ROOT/scripts/schemathesis.toml" run \
    "$BASE_URL/api/v1/openapi.json" \
    --header "Authorization: Bearer $SCOREWATCH_ADMIN_KEY" \
    --phases examples,coverage,fuzzing,stateful \
    --max-examples 10 --seed 1 --generation-database none); then
  die "contract test failed: the server and its OpenAPI document disagree (failures above)"
fi
say "contract test passed: the server answers exactly as its OpenAPI document says"

# Last, as it fills the server with a backfill and a simulation: the README's shell
# examples, as written, against the same server (scripts/check_readme.py says what is
# substituted and which blocks cannot run here, and why).
say "README: every shell example runs as written"
python3 scripts/check_readme.py target/debug/scorewatch target/test-run/e2e-data "$BASE_URL"
