// The signal engine's state and speed: bytes per series (heap and array buffers after GC) and µs per final bar,
// beside a reference that keeps each series as indicator objects (Sma × 2, Macd, Rsi, Bollinger and a ring of the
// last closes, the library classes as they are now: the shape, not the exact bytes, of the engine before its compact
// rows). The reference updates the indicators only (no crossings, no signals), so its time is a floor for
// object-held state. The engine's array buffers include the rows' growth slack (a row is 480 bytes; the Float64Array
// grows by half when full), so its bytes per series depend a little on the series count. No servers. Run with
// --expose-gc.
// Knobs: BENCH_SIGNALS_SERIES (20000, memory), BENCH_SIGNALS_BARS (40), BENCH_SIGNALS_TIME_SERIES (5000) and
// BENCH_SIGNALS_TIME_BARS (200) for the timing. Writes JSON to bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bar } from '../src/contracts/bar.js';
import { SignalEngine } from '../src/aggregate/signals/signal-engine.js';
import { Bollinger, Macd, RingBuffer, Rsi, Sma } from '../src/aggregate/signals/indicators/index.js';
import { projectRoot } from '../src/paths.js';
import { flatBar } from '../tests/helpers/flat-bar.js';

const SERIES = Number(process.env.BENCH_SIGNALS_SERIES ?? 20_000);
const BARS = Number(process.env.BENCH_SIGNALS_BARS ?? 40);
const TIME_SERIES = Number(process.env.BENCH_SIGNALS_TIME_SERIES ?? 5_000);
const TIME_BARS = Number(process.env.BENCH_SIGNALS_TIME_BARS ?? 200);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

interface Consumer {
  onBars(bars: Bar[]): unknown;
}

/** The reference: one set of indicator objects per series, as the engine kept them before. */
class ObjectsPerSeries implements Consumer {
  private readonly series = new Map<string, { fast: Sma; slow: Sma; macd: Macd; rsi: Rsi; bb: Bollinger; closes: RingBuffer }>();
  onBars(bars: Bar[]): void {
    for (const bar of bars) {
      const key = `${bar.interval}\u0000${bar.symbol}`;
      let s = this.series.get(key);
      if (!s)
        this.series.set(
          key,
          (s = { fast: new Sma(10), slow: new Sma(30), macd: new Macd(12, 26, 9), rsi: new Rsi(14), bb: new Bollinger(20, 2), closes: new RingBuffer(30) }),
        );
      const c = bar.close;
      s.closes.push(c);
      s.fast.update(c);
      s.slow.update(c);
      s.macd.update(c);
      s.rsi.update(c);
      s.bb.update(c);
    }
  }
}

/** Round `b` of `series` final 1m bars, one per series, with deterministic closes. */
function round(series: number, b: number): Bar[] {
  const out: Bar[] = [];
  for (let i = 0; i < series; i++) {
    const close = Math.round((100 + 5 * Math.sin(i * 0.7 + b * 0.3) + b * 0.01) * 100) / 100;
    out.push(flatBar(`S${i}`, '1m', b * 60e6, close));
  }
  return out;
}

/**
 * Heap and array buffers held after feeding SERIES series BARS bars each, per series. The bars are made round by round
 * and dropped: bars kept alive across the measurement had V8 re-box their doubles when the engine read them, which
 * counted against the engine.
 */
async function bytesPerSeries(make: () => Consumer): Promise<{ heap: number; arrayBuffers: number; total: number }> {
  const settle = async () => {
    for (let k = 0; k < 4; k++) {
      gc!();
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await settle();
  const before = process.memoryUsage();
  const c = make();
  for (let b = 0; b < BARS; b++) c.onBars(round(SERIES, b));
  await settle();
  const after = process.memoryUsage();
  const heap = Math.round((after.heapUsed - before.heapUsed) / SERIES);
  const arrayBuffers = Math.round((after.arrayBuffers - before.arrayBuffers) / SERIES);
  (globalThis as { keep?: unknown }).keep = c; // alive until measured
  return { heap, arrayBuffers, total: heap + arrayBuffers };
}

function usPerBar(make: () => Consumer): number {
  const rounds = Array.from({ length: TIME_BARS }, (_, b) => round(TIME_SERIES, b));
  const c = make();
  const t0 = performance.now();
  for (const bars of rounds) c.onBars(bars);
  return Number((((performance.now() - t0) * 1000) / (TIME_SERIES * TIME_BARS)).toFixed(2));
}

const subjects: [string, () => Consumer][] = [
  ['engine (rows)', () => new SignalEngine()],
  ['reference (objects per series)', () => new ObjectsPerSeries()],
];
const results: Record<string, { bytesPerSeries: Awaited<ReturnType<typeof bytesPerSeries>>; usPerBar: number[] }> = {};
for (const [name, make] of subjects) results[name] = { bytesPerSeries: await bytesPerSeries(make), usPerBar: [] };
// Timing alternates the two, three times each, to spread the machine's noise over both.
for (let i = 0; i < 3; i++) for (const [name, make] of subjects) results[name]!.usPerBar.push(usPerBar(make));
const [eng, ref] = subjects.map(([name]) => results[name]!);
for (const [name] of subjects) {
  const r = results[name]!;
  process.stdout.write(
    `${name.padEnd(32)} ${String(r.bytesPerSeries.total).padStart(6)} bytes a series (heap ${r.bytesPerSeries.heap}, array buffers ${r.bytesPerSeries.arrayBuffers})   ${r.usPerBar.join(' / ')} µs a bar\n`,
  );
}
const best = (xs: number[]) => Math.min(...xs);
process.stdout.write(
  `ratio engine / reference: memory ${(eng!.bytesPerSeries.total / ref!.bytesPerSeries.total).toFixed(2)}, time ${(best(eng!.usPerBar) / best(ref!.usPerBar)).toFixed(2)} (best of 3)\n`,
);
const dir = join(projectRoot(), 'bench', 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `signals-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.json`);
writeFileSync(
  file,
  JSON.stringify(
    { date: new Date().toISOString(), node: process.version, series: SERIES, bars: BARS, timeSeries: TIME_SERIES, timeBars: TIME_BARS, results },
    null,
    2,
  ) + '\n',
);
process.stdout.write(`saved ${file}\n`);
