#!/usr/bin/env bash
# Installs what payonce needs and is missing; safe to run again (each step checks first).
#   scripts/setup.sh run    what `make run` needs: the wasm target, cargo-leptos, wasm-bindgen, wasm-opt
#   scripts/setup.sh test   all of that plus Chromium, the Playwright packages, redis-server and PostgreSQL
# It writes .tools/env, which the other scripts source, so they find what was installed where.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

mode=${1:-run}
CARGO_LEPTOS_VERSION=0.3.11
BINARYEN_VERSION=132
mkdir -p .tools
env_file=.tools/env
: >"$env_file"

# --- the wasm32 target --------------------------------------------------------------------------------
if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "wasm32 target: installed"
elif rustup target add wasm32-unknown-unknown; then
  say "wasm32 target: added with rustup"
else
  # Offline fallback: Debian's Rust with its std source, building std for wasm32 ourselves.
  say "wasm32 target: rustup could not add it; using Debian's rustc-web with -Zbuild-std"
  apt_install rustc-web cargo-web rust-web-src
  lld=$(ls ~/.rustup/toolchains/*/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld | head -n1)
  {
    echo "export PAYONCE_FRONT_VIA_DEBIAN=1"
    echo "export RUSTC_BOOTSTRAP=1"
    echo "export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=$lld"
    echo "export LEPTOS_BIN_CARGO_COMMAND=$(command -v cargo)"
    echo "export PATH=/usr/bin:\$PATH"
  } >>"$env_file"
fi

# --- cargo-leptos (needs rustc >= 1.96 to build: Debian's rustc-web when rustup's is older) -------------
if cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION\$"; then
  say "cargo-leptos $CARGO_LEPTOS_VERSION: installed"
else
  say "cargo-leptos $CARGO_LEPTOS_VERSION: installing (about 20 minutes on 2 cores)"
  if rustc_at_least 1.96 rustc; then
    cargo install --locked cargo-leptos --version "$CARGO_LEPTOS_VERSION"
  else
    apt_install rustc-web cargo-web
    PATH=/usr/bin:$PATH cargo install --locked cargo-leptos --version "$CARGO_LEPTOS_VERSION" --root "$HOME/.cargo"
  fi
fi

# --- wasm-bindgen-cli, exactly the version Cargo.lock pins ---------------------------------------------
if [ ! -f Cargo.lock ]; then cargo generate-lockfile; fi
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if wasm-bindgen --version 2>/dev/null | grep -q " $bindgen_version\$"; then
  say "wasm-bindgen-cli $bindgen_version: installed"
else
  say "wasm-bindgen-cli $bindgen_version: installing"
  # Not --locked: one of its locked dependencies is no longer on the registry.
  cargo install wasm-bindgen-cli --version "=$bindgen_version" --force
fi

# --- wasm-opt, for release builds (Binaryen from npm) ---------------------------------------------------
if [ -x .tools/node_modules/.bin/wasm-opt ]; then
  say "wasm-opt: installed"
else
  say "wasm-opt: installing binaryen@$BINARYEN_VERSION from npm"
  npm install --prefix .tools --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION"
fi
echo "export PATH=$PWD/.tools/node_modules/.bin:$HOME/.cargo/bin:\$PATH" >>"$env_file"

[ "$mode" = test ] || exit 0

# --- browser tests ---------------------------------------------------------------------------------------
if [ -x /usr/bin/chromium ]; then say "chromium: installed"; else apt_install chromium; fi
if [ -f end2end/node_modules/.package-lock.json ] && [ end2end/node_modules/.package-lock.json -nt end2end/package-lock.json ]; then
  say "playwright packages: installed"
else
  say "playwright packages: installing"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
fi

# --- servers the tests may have to start themselves -----------------------------------------------------
if command -v redis-server >/dev/null; then say "redis-server: installed"; else apt_install redis-server; fi
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then say "postgresql: installed"; else apt_install postgresql; fi
