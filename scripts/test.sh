#!/usr/bin/env bash
# test.sh: install what is missing, build, and run the whole test suite
# (unit, integration, conformance, fuzz-replay, browser).
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

# The browser suite (tests/browser) drives Debian's headless Chromium with its WebDriver from the
# system's python3 (python3-selenium): installed only when missing.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null ||
    ! /usr/bin/python3 -c 'import selenium' 2>/dev/null; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "test: installing chromium chromium-driver python3-selenium (for the browser suite)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        chromium chromium-driver python3-selenium >/dev/null
fi

# promtool, which the metrics test runs on a scraped /metrics (`promtool check metrics`), comes from
# Debian's prometheus package; a test tool, so here and not in setup.sh (the quick start does without
# it). Installing that package would also pull in its web assets, make a user and start a Prometheus
# server on port 9090; the test needs the one binary only, so it is taken out of the package
# (apt-get download: the same archive and signatures) into /usr/local/bin.
if ! command -v promtool >/dev/null; then
    echo "test: installing promtool (from Debian's prometheus package) into /usr/local/bin"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "test: run as root (or install sudo) to install promtool" >&2; exit 1; }
        SUDO="sudo"
    fi
    tmp=$(mktemp -d)
    # (as root apt warns that its _apt user cannot write there, and downloads all the same)
    ( cd "$tmp" && { apt-get download -qq prometheus 2>/dev/null ||
                     { $SUDO apt-get update -qq && apt-get download -qq prometheus 2>/dev/null; }; } ) >/dev/null
    ( cd "$tmp" && dpkg-deb -x prometheus_*.deb root )
    $SUDO install -m 0755 "$tmp/root/usr/bin/promtool" /usr/local/bin/promtool
    rm -rf "$tmp"
fi

meson test -C "$BUILD" --print-errorlogs --num-processes 2
