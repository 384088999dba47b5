#!/usr/bin/env bash
# Command one: set up, build (release) and run scorewatch with the embedded PostgreSQL and
# the demo model. Extra arguments go to `scorewatch serve` (try --help).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh

say "building scorewatch (release: server and WebAssembly client)"
cargo leptos build --release

export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
say "starting: embedded PostgreSQL in .scorewatch/pg unless DATABASE_URL is set"
exec target/release/scorewatch serve "$@"
