#!/usr/bin/env bash
# quickstart.sh: install, build, start the bus on its embedded default and show what to try.
# State (LMDB files, the demo PKI, the sample dataset) goes to ./state.
# Options go to `xbus up` (build/xbus up --help): --port N and --adapters-port N (or the
# environment's XBUS_PORT and XBUS_ADAPTERS_PORT) choose the ports; without them, a default
# port (8443, 5560) that another program holds is replaced by a free one, and said.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
exec build/xbus up --state state "$@"
