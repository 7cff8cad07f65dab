#!/usr/bin/env bash
# The demo command (npm run demo): installs everything, starts the local stack and the whole engine,
# prints the chart URL, runs until Ctrl-C, then shuts everything down. Extra args go to `tick-engine demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-deps.sh
exec node --enable-source-maps dist/src/cli/main.js demo "$@"
