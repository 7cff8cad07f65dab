// The hot kernel, TypeScript twin beside native addon, in one run on one thread (ticks/s per core): decoding a packed
// batch of tick records (stream/tick-decoder.ts through PackedCursor; the addon's decode into columns, then the same
// read through NativeCursor), and the whole pre-aggregation of a batch (decode + fold into partial bars,
// runtime/pre-aggregate.ts, as a worker runs it) with each kernel: TickFolder, or the native fold (tick_fold.h). No servers. Writes JSON to bench/results/.
// Knobs: BENCH_KERNEL_TICKS (2,000,000 per measurement), BENCH_KERNEL_BATCH (5,000 records), BENCH_KERNEL_SYMBOLS (500).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { emptyTick, type TickCursor } from '../src/contracts/tick-cursor.js';
import { FeedSimulator } from '../src/ingest/simulator.js';
import { projectRoot } from '../src/paths.js';
import { chooseKernel, NativeCursor, nativeFoldCounts } from '../src/runtime/native-kernel.js';
import { preAggregate, type BatchInput } from '../src/runtime/pre-aggregate.js';
import { packBatch, PackedCursor, type PackedBatch } from '../src/stream/packed-batch.js';
import { schema } from '../src/stream/schemas.js';
import { encode } from '../src/stream/serde.js';

const TICKS = Number(process.env.BENCH_KERNEL_TICKS ?? 2_000_000);
const BATCH = Number(process.env.BENCH_KERNEL_BATCH ?? 5_000);
const SYMBOLS = Number(process.env.BENCH_KERNEL_SYMBOLS ?? 500);
const ROUNDS = 5;

const native = chooseKernel('auto');
if (native.kernel !== 'native') throw new Error(`the native kernel is not available: ${native.why}`);

// Distinct batches, encoded once (tick schema v2, as the engine writes them): 2,000 ticks/s of event time over SYMBOLS.
const sim = new FeedSimulator({ symbols: SYMBOLS, rate: 2000, seed: 1, start: Date.parse('2024-01-01T00:00:00Z') * 1000, jitter: 200_000, venue: 'SIM' });
const s = schema('tick');
const distinct = Math.min(40, Math.ceil(TICKS / BATCH));
const batches: PackedBatch[] = [];
let bytes = 0;
for (let b = 0; b < distinct; b++) {
  const values = Array.from({ length: BATCH }, () => encode(s, sim.next()));
  bytes += values.reduce((n, v) => n + v.length, 0);
  batches.push(
    packBatch(
      values,
      values.map((_, i) => b * BATCH + i),
    ),
  );
}
const perRound = Math.ceil(TICKS / BATCH);

/**
 * Ticks per CPU second of `step` run over perRound batches, best of ROUNDS (after one warm-up round). CPU time, not
 * wall time: on a machine shared with servers and other runs, it is what one core gives (the process's CPU time,
 * so GC threads' work counts against the kernel).
 */
function measure(step: (b: PackedBatch) => number): number {
  let best = 0;
  let sink = 0;
  for (let r = 0; r <= ROUNDS; r++) {
    const c0 = process.cpuUsage();
    let n = 0;
    for (let i = 0; i < perRound; i++) n += step(batches[i % distinct]!);
    const c = process.cpuUsage(c0);
    const s = (c.user + c.system) / 1e6;
    if (r > 0) best = Math.max(best, n / s);
    sink += n;
  }
  if (sink < 0) throw new Error('unreachable');
  return best;
}

const scratch = emptyTick();
function readAll(c: TickCursor): number {
  let ok = 0;
  for (let i = 0; i < c.count; i++) if (c.read(i, scratch) === null) ok++;
  return ok;
}
const ts = new PackedCursor();
const nc = new NativeCursor();
const params = { interval: { name: '1s', micros: 1_000_000 }, watermark: -Infinity, maxOutOfOrder: 2_000_000, allowedLateness: 5_000_000, origin: 0 };
const fold = (kernel: 'ts' | 'native') => (b: PackedBatch) => preAggregate({ ...b, ...params, kernel } as BatchInput).accepted;

const figures = {
  tsDecode: measure((b) => readAll(ts.of(b))),
  nativeDecode: measure((b) => nc.of(b).count),
  nativeDecodeRead: measure((b) => readAll(nc.of(b))),
  tsDecodeFold: measure(fold('ts')),
  nativeDecodeFold: measure(fold('native')),
};
const m = (x: number) => `${(x / 1e6).toFixed(2)}M`;
// The native fold declines a batch with a reject, a late tick or non-ASCII text (native/src/tick_fold.h): none here.
const declined =
  Object.entries(nativeFoldCounts)
    .filter(([k, v]) => k !== 'folded' && v > 0)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';
const lines = [
  `hot kernel, one thread, ${perRound * BATCH} ticks per measurement (batches of ${BATCH}, ${SYMBOLS} symbols, ${(bytes / distinct / BATCH).toFixed(0)} B/record), ticks per CPU second, best of ${ROUNDS}:`,
  `  decode            TS ${m(figures.tsDecode)} ticks/s   native ${m(figures.nativeDecode)} ticks/s (${(figures.nativeDecode / figures.tsDecode).toFixed(1)}x; goals: native >= 20M, TS >= 5M)`,
  `  decode + read     TS ${m(figures.tsDecode)} ticks/s   native ${m(figures.nativeDecodeRead)} ticks/s (columns read into the fold's scratch tick)`,
  `  decode + fold     TS ${m(figures.tsDecodeFold)} ticks/s   native ${m(figures.nativeDecodeFold)} ticks/s (${(figures.nativeDecodeFold / figures.tsDecodeFold).toFixed(2)}x; batches folded in C++ ${nativeFoldCounts.folded}, left to TickFolder ${declined})`,
];
process.stdout.write(lines.join('\n') + '\n');
const dir = join(projectRoot(), 'bench', 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `kernel-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.json`);
const result = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model,
  // Other work on the machine slows a core's CPU second too (shared caches, hyperthreads): how busy it was.
  loadAverage1m: loadavg()[0],
  ticks: perRound * BATCH,
  batch: BATCH,
  symbols: SYMBOLS,
  rounds: ROUNDS,
  ticksPerSecond: figures,
  nativeFold: nativeFoldCounts,
};
writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
process.stdout.write(`saved ${file}\n`);
