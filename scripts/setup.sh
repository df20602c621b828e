#!/usr/bin/env bash
# setup.sh: install the Debian 12 packages xbus needs (when missing) and build it.
# Idempotent. Needs root (or sudo) only when packages are missing.
# usage: scripts/setup.sh [BUILD_DIR] [extra meson setup options...]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
    build-essential meson ninja-build pkg-config python3
    libssl-dev libevent-dev libzmq3-dev liblmdb-dev libjansson-dev libjose-dev
    libxml2-dev libxmlsec1-dev libcurl4-openssl-dev libpcre2-dev libyaml-dev
    openssl curl xmlsec1 jose lmdb-utils nginx-light
    scdoc man-db
)

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "setup: run as root (or install sudo) to install packages" >&2; exit 1; }
        SUDO="sudo"
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

BUILD="${1:-build}"
shift || true
if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" "$@" >/dev/null
fi
ninja -C "$BUILD" >/dev/null
echo "setup: built in $BUILD/"
