#!/usr/bin/env bash
# Runs Docker Compose v2 with the given arguments, e.g. `bash scripts/compose.sh config --quiet`.
#
# Uses `docker compose` when that works; else .cache/tools/docker-compose (the compose CLI plugin
# binary, which also runs as a standalone `docker-compose`); and when that is absent too, downloads
# Debian trixie's docker-compose package, checks its sha256 (a mismatch is a hard failure), and
# extracts the binary into .cache/tools. Needs no root. `config` needs no Docker engine; `up` does.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.cache/tools"
BIN="$TOOLS/docker-compose"

DEB_URL="http://deb.debian.org/debian/pool/main/d/docker-compose/docker-compose_2.26.1-4_amd64.deb"
# From trixie's Packages index (main/binary-amd64). The .deb is fetched over http: this hash is what
# makes that safe, so it is checked before anything in the package is used.
DEB_SHA256="47681197cb2b1ab88206b42a1a92fc75f50d9530a6322d03494a473eed0408ea"
DEB_MEMBER="usr/libexec/docker/cli-plugins/docker-compose"

say() { printf '[compose] %s\n' "$*" >&2; }
die() { printf '[compose] error: %s\n' "$*" >&2; exit 1; }

if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  say "using the docker compose plugin ($(command -v docker))"
  exec docker compose "$@"
fi

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then shasum -a 256 "$1" | cut -d' ' -f1
  else die "neither sha256sum nor shasum is installed: cannot verify the download"
  fi
}

install_compose() {
  [ "$(uname -s)" = Linux ] || die "no docker compose plugin, and the fallback download is a Linux binary: install Docker Compose v2"
  case "$(uname -m)" in
    x86_64 | amd64) ;;
    *) die "no docker compose plugin, and the fallback download is an amd64 binary ($(uname -m) here): install Docker Compose v2" ;;
  esac
  command -v curl >/dev/null 2>&1 || die "curl is needed to download docker compose"
  mkdir -p "$TOOLS"
  local tmp
  tmp="$(mktemp -d "$TOOLS/.download.XXXXXX")"
  # shellcheck disable=SC2064  # expand $tmp now: it is local to this function
  trap "rm -rf '$tmp'" EXIT
  say "no docker compose plugin; downloading $DEB_URL"
  curl -fsSL --retry 3 -o "$tmp/compose.deb" "$DEB_URL" || die "download failed: $DEB_URL"
  local got
  got="$(sha256_of "$tmp/compose.deb")"
  if [ "$got" != "$DEB_SHA256" ]; then
    die "sha256 mismatch for $DEB_URL: expected $DEB_SHA256, got $got (nothing installed)"
  fi
  say "sha256 verified ($DEB_SHA256)"
  mkdir -p "$tmp/root"
  if command -v dpkg-deb >/dev/null 2>&1; then
    say "extracting $DEB_MEMBER with dpkg-deb"
    dpkg-deb -x "$tmp/compose.deb" "$tmp/root"
  elif command -v ar >/dev/null 2>&1; then
    say "extracting $DEB_MEMBER with ar and tar"
    (cd "$tmp" && ar x compose.deb)
    local data
    data="$(cd "$tmp" && ls data.tar.* 2>/dev/null | head -n 1 || true)"
    [ -n "$data" ] || die "no data.tar.* member in the package"
    tar -xf "$tmp/$data" -C "$tmp/root" "./$DEB_MEMBER"
  else
    die "neither dpkg-deb nor ar is installed: cannot unpack the package"
  fi
  [ -f "$tmp/root/$DEB_MEMBER" ] || die "$DEB_MEMBER is not in the package"
  chmod 0755 "$tmp/root/$DEB_MEMBER"
  # Rename into place: a concurrent run sees either no binary or a whole one.
  mv -f "$tmp/root/$DEB_MEMBER" "$BIN"
  rm -rf "$tmp"
  trap - EXIT
  say "installed $BIN"
}

if [ ! -x "$BIN" ]; then
  install_compose
fi
say "using $BIN"
exec "$BIN" "$@"
