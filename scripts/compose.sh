#!/usr/bin/env bash
# Runs Docker Compose v2 with the given arguments, e.g. `bash scripts/compose.sh config --quiet`.
#
# Uses `docker compose` when that works; else .cache/tools/docker-compose (the compose CLI plugin
# binary, which also runs as a standalone `docker-compose`); and when that is absent too, downloads
# Debian trixie's docker-compose package, checks its sha256 (a mismatch is a hard failure), and
# extracts the binary into .cache/tools. When a Debian point release has replaced the pinned version,
# the current one is taken from trixie's index, verified from its signed InRelease down to the
# package. Needs no root. `config` needs no Docker engine; `up` does.
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

# Sets DEB_URL and DEB_SHA256 from trixie's index, verified against Debian's archive keyring.
resolve_from_index() {
  local dir="$1" mirror="http://deb.debian.org/debian" keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  command -v gpgv >/dev/null 2>&1 && [ -f "$keyring" ] || die "gpgv and $keyring are needed to verify Debian's index (apt installs both)"
  curl -fsSL --retry 3 -o "$dir/InRelease" "$mirror/dists/trixie/InRelease" || die "download failed: $mirror/dists/trixie/InRelease"
  gpgv --quiet --keyring "$keyring" --output "$dir/Release" "$dir/InRelease" 2>/dev/null || die "trixie's InRelease does not carry a valid Debian archive signature"
  local want got
  want="$(awk '/^SHA256:/{s=1; next} /^[^ ]/{s=0} s && $3 == "main/binary-amd64/Packages.xz" {print $1}' "$dir/Release")"
  [ -n "$want" ] || die "trixie's Release lists no main/binary-amd64/Packages.xz"
  curl -fsSL --retry 3 -o "$dir/Packages.xz" "$mirror/dists/trixie/main/binary-amd64/Packages.xz" || die "download failed: trixie's Packages.xz"
  got="$(sha256_of "$dir/Packages.xz")"
  [ "$got" = "$want" ] || die "sha256 mismatch for trixie's Packages.xz: expected $want, got $got"
  local stanza
  xz -dc "$dir/Packages.xz" > "$dir/Packages" || die "cannot decompress trixie's Packages.xz"
  stanza="$(awk '/^Package: docker-compose$/{f=1} f&&/^$/{exit} f' "$dir/Packages")"
  DEB_URL="$mirror/$(printf '%s\n' "$stanza" | awk '/^Filename:/{print $2}')"
  DEB_SHA256="$(printf '%s\n' "$stanza" | awk '/^SHA256:/{print $2}')"
  [ -n "$DEB_SHA256" ] && [ "$DEB_URL" != "$mirror/" ] || die "trixie's index has no docker-compose package"
  say "current package: $DEB_URL"
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
  if ! curl -fsSL --retry 3 -o "$tmp/compose.deb" "$DEB_URL"; then
    # A point release replaces the pinned version in the pool: find the current one in trixie's
    # signed index instead (InRelease -> Packages.xz -> the package), checking every hash.
    say "the pinned package is gone; looking the current one up in trixie's signed index"
    resolve_from_index "$tmp"
    curl -fsSL --retry 3 -o "$tmp/compose.deb" "$DEB_URL" || die "download failed: $DEB_URL"
  fi
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
