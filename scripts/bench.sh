#!/usr/bin/env bash
# The benchmark command (npm run bench): a private stack (profile 'bench'), then bench/e2e.ts.
# Knobs: BENCH_TICKS (300000), BENCH_LIVE_RATE (2000 ticks/s), BENCH_LIVE_SECONDS (30).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-deps.sh
source scripts/stack-env.sh bench
bash deploy/local/stack.sh reset >/dev/null
trap 'bash deploy/local/stack.sh down >/dev/null 2>&1 || true' EXIT
bash deploy/local/stack.sh up
node --enable-source-maps dist/bench/e2e.js
