#!/usr/bin/env bash
# Command one: set up, build (release) and run scorewatch with the embedded PostgreSQL and
# the demo model. Extra arguments go to `scorewatch serve` (try --help).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh

say "building scorewatch (release: server and WebAssembly client)"
cargo leptos build --release
# Brotli and gzip copies of the client beside each file, sent to browsers that accept them
# (server/src/static_files.rs); scripts/test.sh does the same for its debug build.
node scripts/precompress.mjs target/site

export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
say "starting: embedded PostgreSQL in .scorewatch/pg unless DATABASE_URL is set"
# The local demo opts out of sign-in for direct visits (requests through a proxy still
# sign in); a --dashboard-sign-in flag among the arguments overrides it.
export SCOREWATCH_DASHBOARD_SIGN_IN="${SCOREWATCH_DASHBOARD_SIGN_IN:-auto}"
exec target/release/scorewatch serve "$@"
