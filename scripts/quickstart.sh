#!/usr/bin/env bash
# quickstart.sh: install, build, start the bus on its embedded default and show what to try.
# State (LMDB files, the demo PKI, the sample dataset) goes to ./state.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
exec build/xbus up --state state
