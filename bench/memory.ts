// Bounded memory: run the aggregation (replay path, 9 default intervals, 5 s allowed lateness) over a long
// stream for 1,000, 10,000 and 100,000 symbols (BENCH_MEMORY_SYMBOLS), its final bars into the default signals'
// indicators as the live aggregator does (BENCH_MEMORY_SIGNALS=0: without them), sampling RSS and the heap after GC as ticks
// accumulate: heap used and reserved, and memory outside the heap (external, array buffers), so a reader can see
// where RSS above the heap sits. State should grow with symbols × intervals, not with ticks. Run with --expose-gc.
// TE_HEAP_GROWTH_PERCENT applies as in the aggregator (src/runtime/heap-growth.ts), and TE_AGG_BAR_ROWS (the
// rolled-up open bars as rows or objects). Writes JSON to bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { replay, type ReplayPartition } from '../src/runtime/replay.js';
import { FeedSimulator } from '../src/ingest/simulator.js';
import { projectRoot } from '../src/paths.js';
import { logger } from '../src/log.js';
import { applyHeapGrowth } from '../src/runtime/heap-growth.js';
import { recordCursors } from '../tests/helpers/tick-records.js';
import { SignalEngine } from '../src/aggregate/signals/signal-engine.js';
import { SignalRules } from '../src/contracts/signal-rules.js';

const TICKS = Number(process.env.BENCH_MEMORY_TICKS ?? 3_000_000);
const SYMBOLS = (process.env.BENCH_MEMORY_SYMBOLS ?? '1000,10000,100000').split(',').map(Number);
if (SYMBOLS.some((n) => !Number.isInteger(n) || n < 1))
  throw new Error(`BENCH_MEMORY_SYMBOLS: a comma-separated list of symbol counts, got ${process.env.BENCH_MEMORY_SYMBOLS}`);
const SIGNALS = process.env.BENCH_MEMORY_SIGNALS !== '0';
const { heapGrowthPercent, aggBarRows } = loadConfig({ env: process.env });
applyHeapGrowth(heapGrowthPercent, logger('bench'));
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

async function run(symbols: number) {
  const config = loadConfig({
    env: { TE_INTERVALS: '1s,5s,15s,1m,5m,15m,1h,4h,1d', TE_ALLOWED_LATENESS_MS: '5000', TE_AGG_BAR_ROWS: String(aggBarRows) },
  });
  // 2,000 ticks/s of event time: 3M ticks cover 25 minutes, so every interval up to 15m closes bars.
  const sim = new FeedSimulator({ symbols, rate: 2000, seed: 1, start: Date.parse('2024-01-01T00:00:00Z') * 1000, jitter: 200_000, venue: 'SIM' });
  const samples: { ticks: number; rssMb: number; heapMb: number; heapTotalMb: number; externalMb: number; arrayBuffersMb: number }[] = [];
  const every = TICKS / 6;
  async function* source(): AsyncGenerator<ReplayPartition> {
    async function* batches() {
      for (let i = 0; i < TICKS; i += 1000) yield Array.from({ length: Math.min(1000, TICKS - i) }, (_, k) => ({ offset: i + k, tick: sim.next() }));
    }
    yield { partition: 0, batches: recordCursors(batches()) };
  }
  let next = every;
  const t0 = performance.now();
  const signals = new SignalEngine(SignalRules.parse(config.signals));
  await replay(config, source(), (bars) => void (SIGNALS && signals.onBars(bars)), {
    onProgress: (n) => {
      if (n >= next) {
        next += every;
        gc!();
        const m = process.memoryUsage();
        const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
        samples.push({
          ticks: n,
          rssMb: mb(m.rss),
          heapMb: mb(m.heapUsed),
          heapTotalMb: mb(m.heapTotal),
          externalMb: mb(m.external),
          arrayBuffersMb: mb(m.arrayBuffers),
        });
      }
    },
  });
  return { symbols, ticks: TICKS, signals: SIGNALS, seconds: Number(((performance.now() - t0) / 1000).toFixed(1)), samples };
}

const results = [];
for (const symbols of SYMBOLS) {
  const r = await run(symbols);
  results.push(r);
  process.stdout.write(
    `${symbols} symbols (${r.seconds} s${SIGNALS ? ', with signals' : ', no signals'}${aggBarRows ? '' : ', TE_AGG_BAR_ROWS=false'}${heapGrowthPercent ? `, TE_HEAP_GROWTH_PERCENT=${heapGrowthPercent}` : ''}): ${r.samples
      .map((s) => `${(s.ticks / 1e6).toFixed(1)}M ticks → RSS ${s.rssMb} MB, heap ${s.heapMb} of ${s.heapTotalMb} MB, external ${s.externalMb} MB`)
      .join('; ')}\n`,
  );
}
const dir = join(projectRoot(), 'bench', 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `memory-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.json`);
writeFileSync(
  file,
  JSON.stringify(
    { date: new Date().toISOString(), node: process.version, heapGrowthPercent, aggBarRows, nodeOptions: process.env.NODE_OPTIONS ?? '', results },
    null,
    2,
  ) + '\n',
);
process.stdout.write(`saved ${file}\n`);
