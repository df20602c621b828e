#!/usr/bin/env bash
# test.sh: install what is missing, build, and run the whole test suite
# (unit, integration, conformance, fuzz-replay).
# usage: scripts/test.sh [BUILD_DIR] [extra meson setup options...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
scripts/setup.sh "$@"
meson test -C "$BUILD" --print-errorlogs --num-processes 2
