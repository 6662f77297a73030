#!/usr/bin/env bash
# Runs every check and test: fmt, clippy (server and browser builds), cargo test, and Playwright.
# Uses the Redis on 6379 and the PostgreSQL on 5432 when they answer; otherwise starts its own on spare
# ports, and stops whatever it started when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source .tools/env

cleanup_steps=()
cleanup() { for step in "${cleanup_steps[@]}"; do eval "$step" || true; done; }
trap cleanup EXIT

# --- Redis -----------------------------------------------------------------------------------------------
if [ -z "${PAYONCE_TEST_REDIS_URL:-}" ]; then
  if answers 127.0.0.1 6379; then
    export PAYONCE_TEST_REDIS_URL=redis://127.0.0.1:6379
  else
    port=$(free_port)
    say "no Redis on 6379: starting one for the tests on $port"
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >/dev/null &
    cleanup_steps+=("kill $!")
    export PAYONCE_TEST_REDIS_URL=redis://127.0.0.1:$port
    for _ in $(seq 50); do answers 127.0.0.1 "$port" && break; sleep 0.1; done
  fi
fi

# --- PostgreSQL ------------------------------------------------------------------------------------------
if [ -z "${PAYONCE_TEST_DATABASE_URL:-}" ]; then
  default_url=postgres://postgres@127.0.0.1:5432/test
  if answers 127.0.0.1 5432 && psql "$default_url" -Atqc 'select 1' >/dev/null 2>&1; then
    export PAYONCE_TEST_DATABASE_URL=$default_url
  else
    port=$(free_port)
    say "no usable PostgreSQL on 5432: starting one for the tests on $port"
    bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n1)")
    dir=$(mktemp -d /tmp/payonce-pg.XXXXXX)
    run_pg=()
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; run_pg=(runuser -u postgres --); fi
    "${run_pg[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
    "${run_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
    cleanup_steps+=("${run_pg[*]} $bin/pg_ctl -D $dir/data -m fast stop >/dev/null; rm -rf $dir")
    "${run_pg[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres test
    export PAYONCE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$port/test
  fi
fi
say "tests use $PAYONCE_TEST_REDIS_URL and ${PAYONCE_TEST_DATABASE_URL%%/test}/test"

# --- static checks -----------------------------------------------------------------------------------------
say "cargo fmt --check"
cargo fmt --all --check
say "clippy: server build (ssr), all targets"
cargo clippy -p app -p server --all-targets -- -D warnings
if [ -z "${PAYONCE_FRONT_VIA_DEBIAN:-}" ]; then
  say "clippy: browser build (hydrate, wasm32)"
  cargo clippy -p frontend -p app --target wasm32-unknown-unknown -- -D warnings
else
  say "clippy: browser build skipped (rustup has no wasm32 std on this machine; the build itself still checks it)"
fi

# --- tests -------------------------------------------------------------------------------------------------
# The frontend crate is the wasm entry point alone; its code lives in app, tested here with the server.
# Running the integration tests also builds target/debug/server, the binary Playwright serves.
say "cargo test (app and server, against Redis, SQLite and PostgreSQL)"
cargo test --workspace --exclude frontend

say "building the browser bundle for the browser tests"
lib_args=()
[ -z "${PAYONCE_FRONT_VIA_DEBIAN:-}" ] || lib_args=(--lib-cargo-args=-Zbuild-std=std,panic_abort)
cargo leptos build --frontend-only "${lib_args[@]}"

say "Playwright in Chromium (the server is started and stopped by Playwright)"
export PAYONCE_E2E_PORT=${PAYONCE_E2E_PORT:-$(free_port)}
(cd end2end && npx playwright test)
say "all checks and tests passed"
