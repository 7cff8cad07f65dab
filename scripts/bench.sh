#!/usr/bin/env bash
# The benchmark command: npm run bench [-- e2e|replay|memory|snapshot]   (default: e2e and replay)
#   e2e     bench/e2e.ts: end-to-end throughput and latency beside Kafka's perf tools (private 'bench' stack)
#   replay  bench/replay.ts: replay throughput and RSS beside ConsumerPerformance and a bare decode loop
#   memory  bench/memory.ts: heap and RSS with 1,000 and 10,000 symbols as ticks accumulate (no servers)
#   snapshot bench/snapshot.ts: state snapshot size, encode/restore time, restart with vs without (no servers)
# Knobs: BENCH_TICKS (300000), BENCH_LIVE_RATE (2000 ticks/s), BENCH_LIVE_SECONDS (30),
#        BENCH_REPLAY_TICKS (1000000), BENCH_MEMORY_TICKS (3000000), BENCH_SNAPSHOT_TICKS (3000000),
#        BENCH_SNAPSHOT_SYMBOLS (10000).
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
case "$which" in
  e2e|replay|memory|snapshot|all) ;;
  *) echo "usage: npm run bench [-- e2e|replay|memory|snapshot]" >&2; exit 2 ;;
esac
source scripts/ensure-deps.sh
if [ "$which" = memory ]; then exec node --expose-gc --enable-source-maps dist/bench/memory.js; fi
if [ "$which" = snapshot ]; then exec node --max-old-space-size=4096 --enable-source-maps dist/bench/snapshot.js; fi
source scripts/stack-env.sh bench
bash deploy/local/stack.sh reset >/dev/null
trap 'bash deploy/local/stack.sh down >/dev/null 2>&1 || true' EXIT
bash deploy/local/stack.sh up
[ "$which" = replay ] || node --enable-source-maps dist/bench/e2e.js
[ "$which" = e2e ] || node --enable-source-maps dist/bench/replay.js
