#!/usr/bin/env bash
# What a browser downloads and how soon the overview shows: the compiled client's sizes
# (raw, gzip -9, brotli if installed), and the overview's first contentful paint, time to
# hydration and time until its five charts have drawn, in headless Chromium, median of 5
# loads with a warm server cache and a cold browser cache.
#
#   cargo leptos build --release && bench/frontend.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=target/bench-frontend
BIN=target/release/scorewatch
[ -x "$BIN" ] || { echo "build first: cargo leptos build --release" >&2; exit 1; }
mkdir -p "$OUT"

echo "client files (target/site):"
for f in target/site/pkg/scorewatch*.wasm target/site/pkg/scorewatch*.js target/site/pkg/scorewatch*.css \
  public/vendor/echarts-*.min.js; do
  [ -f "$f" ] || continue
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  br=""
  if command -v brotli >/dev/null; then br=", brotli $(brotli -c -q 11 "$f" | wc -c)"; fi
  printf '  %-36s %9d bytes, gzip %8d%s\n' "$f" "$raw" "$gz" "$br"
done

rm -rf "$OUT/data"
SCOREWATCH_DATA_DIR="$OUT/data" LEPTOS_SITE_ROOT=target/site "$BIN" serve --addr 127.0.0.1:0 \
  --no-backup --no-drift-schedule --dashboard-sign-in never --log-format json >"$OUT/serve.out" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do grep -q "^scorewatch is serving on " "$OUT/serve.out" && break; sleep 0.2; done
BASE_URL="$(grep -m1 '^scorewatch is serving on ' "$OUT/serve.out" | sed 's/^scorewatch is serving on //; s#/$##')"
export BASE_URL

node --input-type=module <<'JS'
import { launch } from './end2end/tests/helpers.mjs';
const browser = await launch();
const runs = [];
for (let i = 0; i < 6; i++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const started = Date.now();
  await page.goto(`${process.env.BASE_URL}/`);
  await page.waitForSelector('body[data-hydrated="true"]');
  const hydrated = Date.now() - started;
  for (const name of ['volume-chart', 'latency-chart', 'refusal-chart', 'score-chart', 'decision-chart']) {
    await page.waitForSelector(`[data-chart="${name}"][data-drawn="true"] canvas`);
  }
  const charts = Date.now() - started;
  const fcp = await page.evaluate(
    () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
  );
  runs.push({ fcp, hydrated, charts });
  await context.close();
}
await browser.close();
const median = (k) => runs.slice(1).map((r) => r[k]).sort((a, b) => a - b)[2];
console.log(`overview, median of 5: first contentful paint ${median('fcp').toFixed(0)} ms, ` +
  `hydrated ${median('hydrated')} ms, five charts drawn ${median('charts')} ms`);
JS
