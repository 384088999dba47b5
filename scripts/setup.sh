#!/usr/bin/env bash
# Installs what building, running and testing scorewatch needs, skipping what is present.
# Sourced by scripts/run.sh and scripts/test.sh (it exports CMAKE and PATH); safe to run
# on its own and as often as you like.
#
#   wasm32 target, cargo-leptos, wasm-bindgen CLI (version read from Cargo.lock),
#   clang/libclang and a CMake >= 3.28 (LightGBM is built from source),
#   Chromium (browser tests), npm packages (ECharts, wasm-opt, Playwright).

set -euo pipefail

SW_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION="0.3.10"
TOOLS_DIR="$SW_ROOT/.tools"

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
die() {
  printf '\033[1;31m[setup] error:\033[0m %s\n' "$*" >&2
  exit 1
}

need_cmd() { command -v "$1" >/dev/null 2>&1 || die "$1 is required but not installed. $2"; }

export PATH="$HOME/.cargo/bin:$PATH"
need_cmd cargo "Install Rust from rustup."
need_cmd python3 "Install Python 3."
need_cmd npm "Install Node.js 20 or newer."

# --- Debian packages -------------------------------------------------------------------
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "installing Debian packages needs root or sudo: $*"
  fi
}

missing_debs=()
for pkg in clang libclang-dev chromium; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing_debs+=("$pkg")
done
if [ "${#missing_debs[@]}" -gt 0 ]; then
  need_cmd apt-get "Install these packages yourself: ${missing_debs[*]}"
  say "installing Debian packages: ${missing_debs[*]}"
  as_root apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing_debs[@]}" >/dev/null ||
    die "could not install ${missing_debs[*]} with apt-get"
fi

# --- PostgreSQL server binaries (embedded database) ------------------------------------
if ! command -v pg_ctl >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  need_cmd apt-get "Install PostgreSQL 15 or newer, or set DATABASE_URL."
  say "installing PostgreSQL (for the embedded database)"
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >/dev/null ||
    die "could not install PostgreSQL"
fi

# --- CMake >= 3.28 for LightGBM ---------------------------------------------------------
cmake_ok() {
  local v
  v="$("$1" --version 2>/dev/null | head -n1 | awk '{print $3}')" || return 1
  [ -n "$v" ] || return 1
  python3 - "$v" <<'PY'
import sys
parts = [int(p) for p in sys.argv[1].split(".")[:2] if p.isdigit()]
sys.exit(0 if tuple(parts) >= (3, 28) else 1)
PY
}
if [ -n "${CMAKE:-}" ] && cmake_ok "$CMAKE"; then
  :
elif command -v cmake >/dev/null 2>&1 && cmake_ok "$(command -v cmake)"; then
  CMAKE="$(command -v cmake)"
else
  if [ ! -x "$TOOLS_DIR/venv/bin/cmake" ] || ! cmake_ok "$TOOLS_DIR/venv/bin/cmake"; then
    say "installing CMake from PyPI into .tools/venv (Debian's is older than 3.28)"
    python3 -m venv "$TOOLS_DIR/venv" || die "python3 -m venv failed (install python3-venv)"
    "$TOOLS_DIR/venv/bin/pip" install -q --disable-pip-version-check "cmake>=3.28" ||
      die "could not install cmake from PyPI"
  fi
  CMAKE="$TOOLS_DIR/venv/bin/cmake"
fi
export CMAKE

# --- Rust: wasm target, cargo-leptos, wasm-bindgen -------------------------------------
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown || die "rustup target add wasm32-unknown-unknown failed"
fi

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (takes 10-20 minutes on 2 cores, once)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked ||
    die "cargo install cargo-leptos failed"
fi

WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/, ""); print; exit}' "$SW_ROOT/Cargo.lock")"
[ -n "$WASM_BINDGEN_VERSION" ] || die "no wasm-bindgen version found in Cargo.lock"
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (matches Cargo.lock; a few minutes, once)"
  # Not --locked: one locked transitive version is missing from the registry mirror.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" ||
    die "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION failed"
fi

# --- npm packages: ECharts, wasm-opt (binaryen), Playwright ----------------------------
if [ ! -f "$SW_ROOT/node_modules/.package-lock.json" ] ||
  [ "$SW_ROOT/package-lock.json" -nt "$SW_ROOT/node_modules/.package-lock.json" ]; then
  say "installing npm packages (echarts, binaryen, playwright-core)"
  (cd "$SW_ROOT" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
fi
# ECharts is served under a name with its version (browsers keep it for good); the page shell
# links the name in app/src/lib.rs (ECHARTS_SCRIPT), which must follow package.json's pin.
ECHARTS_VERSION="$(node -p "require('$SW_ROOT/node_modules/echarts/package.json').version")"
ECHARTS_FILE="echarts-$ECHARTS_VERSION.min.js"
grep -q "\"/vendor/$ECHARTS_FILE\"" "$SW_ROOT/app/src/lib.rs" ||
  die "ECharts $ECHARTS_VERSION is installed but app/src/lib.rs (ECHARTS_SCRIPT) links another file: update it"
mkdir -p "$SW_ROOT/public/vendor"
cp -u "$SW_ROOT/node_modules/echarts/dist/echarts.min.js" "$SW_ROOT/public/vendor/$ECHARTS_FILE"
export PATH="$SW_ROOT/node_modules/.bin:$PATH"

if ! command -v wasm-opt >/dev/null 2>&1; then
  # cargo-leptos insists on wasm-opt for release builds; without one, pass the file through.
  say "wasm-opt not available: release WebAssembly will NOT be size-optimised"
  mkdir -p "$TOOLS_DIR/no-wasm-opt"
  cat >"$TOOLS_DIR/no-wasm-opt/wasm-opt" <<'SH'
#!/usr/bin/env bash
# Stand-in used when no wasm-opt is installed: copies the input to the output unchanged.
echo "wasm-opt skipped (not installed): WebAssembly left unoptimised" >&2
in="" out=""
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out="$2"; shift 2 ;;
    -*) shift ;;
    *) in="$1"; shift ;;
  esac
done
[ "$in" = "$out" ] || cp "$in" "$out"
SH
  chmod +x "$TOOLS_DIR/no-wasm-opt/wasm-opt"
  export PATH="$TOOLS_DIR/no-wasm-opt:$PATH"
fi

say "tools ready: $(cargo leptos --version), wasm-bindgen $WASM_BINDGEN_VERSION, cmake $("$CMAKE" --version | head -n1 | awk '{print $3}')"
