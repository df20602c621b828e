#!/usr/bin/env bash
# test.sh: install what is missing, build, and run the whole test suite
# (unit, integration, conformance, fuzz-replay).
# usage: scripts/test.sh [BUILD_DIR] [extra meson setup options...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
scripts/setup.sh "$@"
# Test-only tools, not on the quick start's path: Node.js and npm run the pinned OpenAPI 3.1
# validator of the X-Road suite (tests/xroad/openapi-validator). Installed only when missing
# (a NodeSource nodejs already brings npm, and conflicts with Debian's npm package).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "test: installing nodejs npm (for the OpenAPI validator of the X-Road suite)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
meson test -C "$BUILD" --print-errorlogs --num-processes 2
