#!/usr/bin/env bash
# The benchmark command: npm run bench [-- e2e|replay|feeds|memory|signals|snapshot|fuzz|kernel|kafkajs-codec|faults|soak|fanout|fanout-floor]
#   (default, all: kernel; e2e; the live run at issue 14's load, 20,000 ticks/s over 500 symbols; the live run at
#   2,000 ticks/s over 10,000 symbols for the aggregator's RSS; replay. About 6 minutes)
#   e2e     bench/e2e.ts: end-to-end throughput and latency beside Kafka's perf tools (private 'bench' stack)
#   replay  bench/replay.ts: replay throughput and RSS beside ConsumerPerformance and a bare decode loop
#   feeds   bench/feeds.ts: each venue adapter's messages/s beside JSON.parse of the same recorded messages, and
#           ticks/s of `ingest --feed binance` from a local stand-in into Kafka beside ProducerPerformance
#   memory  bench/memory.ts: heap and RSS with 1,000, 10,000 and 100,000 symbols as ticks accumulate, final bars
#           into the signals' indicators (no servers; BENCH_MEMORY_SYMBOLS, BENCH_MEMORY_SIGNALS=0 without signals)
#   signals bench/signals.ts: the signal engine's bytes per series and µs per bar beside indicator objects per series
#           (no servers)
#   snapshot bench/snapshot.ts: state snapshot size, encode/restore time, restart with vs without (no servers)
#   fuzz    bench/fuzz.ts: every parser of outside input, BENCH_FUZZ_RUNS (100000) cases each (no servers)
#   kernel  bench/kernel.ts: the hot kernel's ticks per CPU second, TypeScript beside native (native/), decode and
#           decode + fold of packed batches (no servers; BENCH_KERNEL_TICKS, BENCH_KERNEL_BATCH, BENCH_KERNEL_SYMBOLS)
#   kafkajs-codec bench/kafkajs-codec.ts: the patched kafkajs beside upstream kafkajs of the same version (fetched
#           once with npm pack): CPU ns per record to encode a produce request, decode a batch, hash a key (no servers)
#   faults  bench/faults.ts: BENCH_FAULTS_PER_KIND (20) faults of each kind under a live feed, then every place checked
#   fanout  bench/fanout.ts: the uWebSockets.js gateway beside a ws reference (bench/ws-gateway.ts) on one synthetic bar
#           stream at BENCH_FANOUT_CLIENTS (1000,5000,10000) clients: messages/s, p99, gateway CPU and RSS
#   fanout-floor bench/fanout-floor.ts: bare uWS (send loop, publish) and bare ws servers, CPU per message delivered
#           to BENCH_FLOOR_CLIENTS (5000) clients: the floor under the gateway's figures (no servers)
#   soak    bench/soak.ts: BENCH_SOAK_SECONDS (600) of live load, a fault every BENCH_SOAK_FAULT_EVERY_S (60);
#           RSS, open files and event-loop delay sampled
# Knobs: BENCH_TICKS (300000), BENCH_LIVE_RATE (2000 ticks/s), BENCH_LIVE_SECONDS (30),
#        BENCH_REPLAY_TICKS (1000000), BENCH_MEMORY_TICKS (3000000), BENCH_SNAPSHOT_TICKS (3000000),
#        BENCH_SNAPSHOT_SYMBOLS (10000), BENCH_FUZZ_RUNS, BENCH_FUZZ_SEED, BENCH_FAULTS_PER_KIND, BENCH_FAULTS_SEED,
#        BENCH_FAULTS_RATE (2000), BENCH_SOAK_SECONDS, BENCH_SOAK_FAULT_EVERY_S, BENCH_SOAK_RATE (1500),
#        BENCH_PARSE_SECONDS (2), BENCH_INGEST_TRADES (100000 per symbol, 2 symbols);
#        e2e: BENCH_LIVE_ONLY=1, BENCH_LIVE_SYMBOLS (50), BENCH_PROFILE=1 (CPU profiles), BENCH_HEAP_SNAPSHOT=1 (a heap
#        snapshot of the live run's aggregator, summarized by bench/heap-summary.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
case "$which" in
  e2e|replay|feeds|memory|signals|snapshot|fuzz|kernel|kafkajs-codec|faults|soak|fanout|fanout-floor|all) ;;
  -h|--help|help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: npm run bench [-- e2e|replay|feeds|memory|signals|snapshot|fuzz|kernel|kafkajs-codec|faults|soak|fanout|fanout-floor]" >&2; exit 2 ;;
esac
source scripts/ensure-deps.sh
if [ "$which" = memory ]; then exec node --expose-gc --enable-source-maps dist/bench/memory.js; fi
if [ "$which" = signals ]; then exec node --expose-gc --enable-source-maps dist/bench/signals.js; fi
if [ "$which" = snapshot ]; then exec node --max-old-space-size=4096 --enable-source-maps dist/bench/snapshot.js; fi
if [ "$which" = fuzz ]; then exec node --enable-source-maps dist/bench/fuzz.js; fi
if [ "$which" = kernel ]; then exec node --enable-source-maps dist/bench/kernel.js; fi
# All: the kernels first, with no server running.
if [ "$which" = all ]; then node --enable-source-maps dist/bench/kernel.js; fi
if [ "$which" = kafkajs-codec ]; then exec node --enable-source-maps dist/bench/kafkajs-codec.js; fi
if [ "$which" = fanout-floor ]; then exec node --enable-source-maps dist/bench/fanout-floor.js; fi
source scripts/stack-env.sh bench
bash deploy/local/stack.sh reset >/dev/null
trap 'bash deploy/local/stack.sh down >/dev/null 2>&1 || true' EXIT
bash deploy/local/stack.sh up
case "$which" in
  faults) node --max-old-space-size=12288 --enable-source-maps dist/bench/faults.js; exit ;;
  soak) node --max-old-space-size=12288 --enable-source-maps dist/bench/soak.js; exit ;;
  feeds) node --enable-source-maps dist/bench/feeds.js; exit ;;
  fanout) node --enable-source-maps dist/bench/fanout.js; exit ;;
esac
[ "$which" = replay ] || node --enable-source-maps dist/bench/e2e.js
if [ "$which" = all ]; then
  BENCH_LIVE_ONLY=1 BENCH_LIVE_RATE=20000 BENCH_LIVE_SYMBOLS=500 node --enable-source-maps dist/bench/e2e.js
  BENCH_LIVE_ONLY=1 BENCH_LIVE_RATE=2000 BENCH_LIVE_SYMBOLS=10000 node --enable-source-maps dist/bench/e2e.js
fi
[ "$which" = e2e ] || node --enable-source-maps dist/bench/replay.js
