// State snapshots: how big and how fast, and what they save. Aggregates N ticks over S symbols at the 9
// default intervals with every signal on (as the aggregator does, in one process, no servers), then takes a
// snapshot as the aggregator would and measures encode, decode and restore. Reference, measured in the same
// run: a restart without snapshots, which re-reads every tick back to the oldest open bar of the largest
// interval and aggregates them again. Writes JSON to bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadConfig, type Config } from '../src/config.js';
import { PartitionAggregator } from '../src/aggregate/partition-aggregator.js';
import { TickFolder } from '../src/aggregate/tick-folder.js';
import { RecordsCursor } from '../tests/helpers/tick-records.js';
import { SignalEngine } from '../src/aggregate/signals/signal-engine.js';
import { SignalRules } from '../src/contracts/signal-rules.js';
import { decodeSnapshot, encodeSnapshot } from '../src/aggregate/state-snapshot.js';
import { FeedSimulator } from '../src/ingest/simulator.js';
import type { Tick } from '../src/contracts/tick.js';
import { projectRoot } from '../src/paths.js';

const TICKS = Number(process.env.BENCH_SNAPSHOT_TICKS ?? 3_000_000);
const SYMBOLS = Number(process.env.BENCH_SNAPSHOT_SYMBOLS ?? 10_000);
const CHUNK = 4096;
const progress = (m: string) => process.stderr.write(`[bench:snapshot] ${m}\n`);

/** Aggregate ticks[from..] into `agg`/`engine` as the aggregator does (fold, close, indicators). */
function aggregate(config: Config, ticks: Tick[], from: number, agg: PartitionAggregator, engine: SignalEngine): void {
  for (let pos = from; pos < ticks.length; pos += CHUNK) {
    const folder = new TickFolder(agg.foldParams(config));
    const end = Math.min(ticks.length, pos + CHUNK);
    const offsets = new Float64Array(end - pos);
    const cursor = new RecordsCursor(ticks.slice(pos, end).map((tick, k) => ({ offset: pos + k, tick })));
    for (let i = pos; i < end; i++) {
      offsets[i - pos] = i;
      folder.addFrom(cursor, i - pos, i - pos);
    }
    agg.apply(folder.result(), offsets, end - 1);
    agg.closeFinal();
    const v = agg.takeFirstVersions();
    engine.onBars(v.resumed);
    engine.onBars(v.fresh);
    agg.markDurable();
  }
}

const config = loadConfig({ env: { TE_INTERVALS: '1s,5s,15s,1m,5m,15m,1h,4h,1d', TE_ALLOWED_LATENESS_MS: '5000' } });
const rules = SignalRules.parse(config.signals);
progress(`${TICKS} ticks over ${SYMBOLS} symbols, 2,000 ticks/s of event time`);
const sim = new FeedSimulator({ symbols: SYMBOLS, rate: 2000, seed: 3, start: Date.parse('2024-01-01T00:00:00Z') * 1000, jitter: 200_000, venue: 'SIM' });
const ticks = Array.from({ length: TICKS }, () => sim.next());

const agg = PartitionAggregator.fromConfig(config, { firstVersions: true });
const engine = new SignalEngine(rules);
let t0 = performance.now();
aggregate(config, ticks, 0, agg, engine);
const aggregateSeconds = (performance.now() - t0) / 1000;
const noSnapshotFrom = agg.checkpoint()!.offset; // a checkpoint without a snapshot: the largest interval's oldest open bar

t0 = performance.now();
const state = agg.snapshot();
const payload = encodeSnapshot(state, engine.state());
const encodeMs = performance.now() - t0;
const gzipped = gzipSync(payload).length;
t0 = performance.now();
const decoded = decodeSnapshot(payload);
const restored = PartitionAggregator.fromConfig(config, {
  checkpoint: { v: 2, wm: state.fromWm, durable: state.wm, hi: state.hi },
  snapshot: decoded.agg,
  firstVersions: true,
});
const restoredEngine = new SignalEngine(rules);
restoredEngine.restore(decoded.signals);
const restoreMs = performance.now() - t0;

// Reference: the restart without a snapshot, re-reading from the largest interval's oldest open bar.
progress(`reference: re-aggregating ${TICKS - noSnapshotFrom} ticks as a restart without a snapshot must`);
t0 = performance.now();
aggregate(config, ticks, noSnapshotFrom, PartitionAggregator.fromConfig(config, { firstVersions: true }), new SignalEngine(rules));
const withoutSeconds = (performance.now() - t0) / 1000;
// With the snapshot: restore, then re-read from its replay point.
t0 = performance.now();
aggregate(config, ticks, state.from, restored, restoredEngine);
const withSeconds = (performance.now() - t0) / 1000 + restoreMs / 1000;

const result = {
  date: new Date().toISOString(),
  ticks: TICKS,
  symbols: SYMBOLS,
  intervals: config.intervals.map((i) => i.name),
  aggregateTicksPerSec: Math.round(TICKS / aggregateSeconds),
  snapshotBytes: payload.length,
  snapshotGzipBytes: gzipped,
  largerIntervalBars: state.levels.reduce((n, l) => n + l.open.length + l.revisable.length, 0),
  indicatorStreams: decoded.signals.keys.length,
  encodeMs: Math.round(encodeMs),
  restoreMs: Math.round(restoreMs),
  restartWithSnapshot: { ticksReRead: TICKS - state.from, seconds: Number(withSeconds.toFixed(2)) },
  restartWithoutSnapshot: { ticksReRead: TICKS - noSnapshotFrom, seconds: Number(withoutSeconds.toFixed(2)) },
  ratio: Number((withSeconds / withoutSeconds).toFixed(4)),
};
const dir = join(projectRoot(), 'bench', 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `snapshot-${result.date.slice(0, 19).replace(/[:T]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
process.stdout.write(
  [
    '',
    `state snapshot, ${SYMBOLS} symbols × ${result.intervals.length} intervals, all signals: ${(payload.length / 2 ** 20).toFixed(1)} MB (${(gzipped / 2 ** 20).toFixed(1)} MB gzip as stored), ${result.largerIntervalBars} bars of the larger intervals, ${result.indicatorStreams} indicator streams; encode ${result.encodeMs} ms, decode + restore ${result.restoreMs} ms`,
    `restart with the snapshot: restore + re-read ${result.restartWithSnapshot.ticksReRead} ticks = ${result.restartWithSnapshot.seconds} s`,
    `restart without (reference): re-read ${result.restartWithoutSnapshot.ticksReRead} ticks = ${result.restartWithoutSnapshot.seconds} s  → ratio ${result.ratio}`,
    `saved ${file}`,
    '',
  ].join('\n'),
);
