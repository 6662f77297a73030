# Shared helpers for the scripts in this folder (sourced, not run).

say() { printf '\033[1m[payonce]\033[0m %s\n' "$*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  # The Rust packages come from bookworm-security, where Debian ships its newest rustc.
  case "$1" in
    rustc-web|cargo-web|rust-web-src) as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-security "$@" ;;
    *) as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" ;;
  esac
}

# rustc_at_least 1.96 RUSTC: true if that compiler is at least that version.
rustc_at_least() {
  local have
  have=$("$2" --version 2>/dev/null | awk '{print $2}') || return 1
  [ "$(printf '%s\n%s\n' "$1" "$have" | sort -V | head -n1)" = "$1" ]
}

# answers HOST PORT: true if something accepts TCP connections there.
answers() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# free_port: a TCP port nothing listens on.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_for URL SECONDS: polls until URL answers 2xx.
wait_for() {
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null "$1"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
}
