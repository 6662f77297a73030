#!/usr/bin/env bash
# Builds payonce (release) and serves it. PAYONCE_* variables pass through; chaos is on unless you say
# PAYONCE_CHAOS=0, so the flaky-network panel works.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source .tools/env

export PAYONCE_CHAOS=${PAYONCE_CHAOS:-1}
export LEPTOS_SITE_ADDR=${LEPTOS_SITE_ADDR:-127.0.0.1:3000}
lib_args=()
[ -z "${PAYONCE_FRONT_VIA_DEBIAN:-}" ] || lib_args=(--lib-cargo-args=-Zbuild-std=std,panic_abort)
say "building; then payonce serves on http://$LEPTOS_SITE_ADDR (Ctrl-C stops it)"
exec cargo leptos serve --release "${lib_args[@]}"
