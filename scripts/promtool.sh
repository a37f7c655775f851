#!/usr/bin/env bash
# Runs promtool (Prometheus's config and rule checker) with the given arguments, e.g.
# `bash scripts/promtool.sh check config ops/prometheus/prometheus.yml`.
#
# Uses promtool from PATH when there is one; else .cache/tools/promtool; and when that is absent too,
# fetches Debian's prometheus package with `apt-get download` (apt checks it against the signed
# archive index) and extracts only usr/bin/promtool into .cache/tools. Nothing is installed system-wide.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.cache/tools"
BIN="$TOOLS/promtool"

say() { printf '[promtool] %s\n' "$*" >&2; }
die() { printf '[promtool] error: %s\n' "$*" >&2; exit 1; }

if command -v promtool >/dev/null 2>&1; then
  exec promtool "$@"
fi

install_promtool() {
  command -v apt-get >/dev/null 2>&1 || die "promtool is not installed and there is no apt-get to fetch it: install Prometheus's promtool"
  command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb is needed to unpack the prometheus package"
  mkdir -p "$TOOLS"
  local tmp
  tmp="$(mktemp -d "$TOOLS/.download.XXXXXX")"
  chmod 0755 "$tmp" # apt's _apt user writes the download as root's proxy
  # shellcheck disable=SC2064  # expand $tmp now: it is local to this function
  trap "rm -rf '$tmp'" EXIT
  say "fetching Debian's prometheus package for promtool"
  if ! (cd "$tmp" && apt-get download prometheus </dev/null >&2); then
    [ "$(id -u)" = 0 ] || die "apt-get download prometheus failed (no package lists? run apt-get update as root)"
    say "refreshing the package lists"
    apt-get update </dev/null >&2 || die "apt-get update failed"
    (cd "$tmp" && apt-get download prometheus </dev/null >&2) || die "apt-get download prometheus failed"
  fi
  local deb
  deb="$(ls "$tmp"/prometheus_*.deb 2>/dev/null | head -n 1 || true)"
  [ -n "$deb" ] || die "apt-get download left no prometheus_*.deb"
  mkdir -p "$tmp/root"
  dpkg-deb -x "$deb" "$tmp/root"
  [ -x "$tmp/root/usr/bin/promtool" ] || die "usr/bin/promtool is not in $(basename "$deb")"
  # Rename into place: a concurrent run sees either no binary or a whole one.
  mv -f "$tmp/root/usr/bin/promtool" "$BIN"
  rm -rf "$tmp"
  trap - EXIT
  say "installed $BIN (from $(basename "$deb"))"
}

if [ ! -x "$BIN" ]; then
  install_promtool
fi
exec "$BIN" "$@"
