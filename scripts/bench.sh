#!/usr/bin/env bash
# The benchmark command (npm run bench [e2e|replay]): a private stack (profile 'bench'), then bench/e2e.ts
# and/or bench/replay.ts (default: both).
# Knobs: BENCH_TICKS (300000), BENCH_LIVE_RATE (2000 ticks/s), BENCH_LIVE_SECONDS (30), BENCH_REPLAY_TICKS (1000000).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-deps.sh
source scripts/stack-env.sh bench
bash deploy/local/stack.sh reset >/dev/null
trap 'bash deploy/local/stack.sh down >/dev/null 2>&1 || true' EXIT
bash deploy/local/stack.sh up
which=${1:-all}
case "$which" in
  e2e|replay|all) ;;
  *) echo "usage: npm run bench [-- e2e|replay]" >&2; exit 2 ;;
esac
[ "$which" = replay ] || node --enable-source-maps dist/bench/e2e.js
[ "$which" = e2e ] || node --enable-source-maps dist/bench/replay.js
