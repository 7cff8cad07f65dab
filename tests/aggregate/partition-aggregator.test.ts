// Crash recovery of one partition without Kafka: crash at random points, restore from the last committed
// checkpoint, re-read from its offset. Every bar must end up emitted with the offline values, none
// missing, none extra, and every rejected record dead-lettered exactly once.
import t from 'tap';
import type { IntervalSpec } from '../../src/contracts/interval.js';
import { barKey, type Bar } from '../../src/contracts/bar.js';
import { toBar } from '../../src/aggregate/ohlcv.js';
import { PartitionAggregator, parseCheckpoint, type Checkpoint } from '../../src/aggregate/partition-aggregator.js';
import { preAggregate } from '../../src/runtime/pre-aggregate.js';
import { packBatch } from '../../src/stream/packed-batch.js';
import { FeedSimulator } from '../../src/ingest/simulator.js';
import { Prng } from '../../src/ingest/prng.js';
import type { Tick } from '../../src/contracts/tick.js';
import { schema } from '../../src/stream/schemas.js';
import { encode } from '../../src/stream/serde.js';
import { SignalEngine } from '../../src/aggregate/signals/signal-engine.js';
import type { Signal } from '../../src/contracts/signal.js';
import { decodeSnapshot, encodeSnapshot } from '../../src/aggregate/state-snapshot.js';
import { diffRecords } from '../helpers/compare.js';
import { diffBars, offlineBars } from '../helpers/oracle.js';

const intervals: IntervalSpec[] = [
  { name: '1s', micros: 1e6 },
  { name: '5s', micros: 5e6 },
  { name: '1m', micros: 60e6 },
];
const maxOutOfOrder = 400_000;

function stream(seed: number, n: number, rate = 400): Tick[] {
  const sim = new FeedSimulator({ symbols: 6, rate, seed, start: Date.parse('2024-01-01T00:00:00Z') * 1000, jitter: 300_000, venue: 'T' });
  const ticks = Array.from({ length: n }, () => sim.next());
  // Some ticks far too late, so dead-lettering is part of what must survive crashes.
  for (let k = 37; k < n; k += 97) ticks[k] = { ...ticks[k]!, eventTime: ticks[k]!.eventTime - 3_000_000 };
  return ticks;
}

interface RunOptions {
  /** Chance of a state snapshot at each commit (0: none, the checkpoint holds back to the largest interval). */
  snapshotProbability?: number;
  flat?: boolean;
  /** Chance of a crash before each batch. */
  crashChance?: number;
  /**
   * As TE_AGG_PIPELINE: a step's checkpoint is taken when its bars close, and the step is written and committed
   * while the next batch folds; a crash loses the step in flight, or lands in the middle of its writes. A step that
   * takes a snapshot waits for the one in flight and is then finished before the next batch, as the aggregator does.
   */
  pipelined?: boolean;
}

interface Step {
  bars: Bar[];
  signals: Signal[];
  cp: Checkpoint;
  wm: number;
}

function runWithCrashes(ticks: Tick[], seed: number, crashes: number, commitProbability: number, allowedLateness: number, opts: RunOptions = {}) {
  const s = schema('tick');
  const values = ticks.map((x) => encode(s, x));
  const rng = new Prng(seed);
  const store = new Map<string, Bar>();
  const emissions = new Map<string, number>();
  const signals = new Map<string, Signal>();
  const dlq: number[] = [];
  let committed: { cp: Checkpoint; snapshot?: Buffer } | undefined;
  let snapshot: Buffer | undefined;
  const make = () => {
    const snap = committed?.snapshot && decodeSnapshot(committed.snapshot);
    const agg = new PartitionAggregator(intervals, committed && parseCheckpoint(JSON.stringify(committed.cp.meta)), allowedLateness, undefined, {
      flat: opts.flat,
      snapshot: snap?.agg,
      firstVersions: true,
    });
    const engine = new SignalEngine();
    if (snap) engine.restore(snap.signals);
    return { agg, engine };
  };
  let { agg, engine } = make();
  let inFlight: Step | undefined;
  const write = (bars: Bar[], sigs: Signal[]) => {
    for (const bar of bars) {
      store.set(barKey(bar), bar);
      emissions.set(barKey(bar), (emissions.get(barKey(bar)) ?? 0) + 1);
    }
    for (const x of sigs) signals.set(`${x.symbol}|${x.interval}|${x.barTime}|${x.name}`, x);
  };
  /** The step in flight becomes durable (all its bars written), then its checkpoint may be committed. */
  const finishInFlight = () => {
    if (!inFlight) return;
    write(inFlight.bars, inFlight.signals);
    agg.markDurable(inFlight.wm);
    if (rng.next() < commitProbability) committed = { cp: inFlight.cp, snapshot };
    inFlight = undefined;
  };
  let pos = 0;
  let crashed = 0;
  let replayed = 0;
  while (pos < ticks.length) {
    if (crashed < crashes && rng.next() < (opts.crashChance ?? 0.15)) {
      // SIGKILL: in-memory state gone; resume from the committed offset with the committed checkpoint (and snapshot).
      crashed++;
      // A crash in the middle of the step in flight's writes: some of its bars are durable, its commit is not.
      if (inFlight && rng.next() < 0.5) write(inFlight.bars.slice(0, rng.int(inFlight.bars.length + 1)), []);
      inFlight = undefined;
      ({ agg, engine } = make());
      snapshot = committed?.snapshot;
      const from = committed ? committed.cp.offset : 0;
      replayed += pos - from;
      pos = from;
      continue;
    }
    const n = 1 + rng.int(300);
    const end = Math.min(ticks.length, pos + n);
    const offsets = Array.from({ length: end - pos }, (_, k) => pos + k);
    const packed = packBatch(values.slice(pos, end), offsets);
    const out = preAggregate({ ...packed, interval: agg.baseInterval, watermark: agg.watermark, maxOutOfOrder, allowedLateness, origin: 0 });
    for (const r of agg.apply(out, offsets, end - 1)) dlq.push(offsets[r.index]!);
    // A crash may also hit between writing bars and committing: then the bars are durable, the commit is not.
    const bars = agg.closeFinal().map((acc) => toBar(acc, { final: true }));
    const versions = agg.takeFirstVersions();
    engine.onBars(versions.resumed);
    const fresh = engine.onBars(versions.fresh);
    // As the aggregator does: a snapshot is stored, then pinned, then committed with the checkpoint; the first
    // one as soon as possible, so no checkpoint without a snapshot is ever committed.
    const p = opts.snapshotProbability ?? 0;
    const snapshotDue = p > 0 && agg.canSnapshot && (!snapshot || rng.next() < p);
    if (opts.pipelined && !snapshotDue) {
      // This batch folded while the previous step was written: that one finishes now, this one goes in flight.
      const step: Step = { bars, signals: fresh, cp: agg.checkpoint({ durable: true })!, wm: agg.watermark };
      finishInFlight();
      inFlight = step;
      pos = end;
      continue;
    }
    finishInFlight();
    write(bars, fresh);
    agg.markDurable();
    if (snapshotDue) {
      const state = agg.snapshot();
      snapshot = encodeSnapshot(state, engine.state());
      agg.pinTo(state);
    }
    if (rng.next() < commitProbability) committed = { cp: agg.checkpoint()!, snapshot };
    pos = end;
  }
  finishInFlight();
  return { store, emissions, dlq, crashed, signals, replayed };
}

/** The signals of an uninterrupted run over the same ticks. */
function signalsWithoutCrashes(ticks: Tick[], allowedLateness: number, opts: RunOptions): Map<string, Signal> {
  return runWithCrashes(ticks, 1, 0, 1, allowedLateness, opts).signals;
}

for (const seed of [1, 2, 3, 4]) {
  // commit 1: every crash falls between batches; 0.8: some fall after the writes but before the commit.
  // lateness 0: every late tick is dead-lettered; 2.5 s: some revise their (closed) bars, the rest are dropped.
  for (const commitProbability of [1, 0.8]) {
    for (const allowedLateness of [0, 2_500_000]) {
      t.test(`seed ${seed}, commit probability ${commitProbability}, lateness ${allowedLateness / 1e6} s: crashes anywhere, bars exact`, async (t) => {
        const ticks = stream(seed, 8000);
        const { store, emissions, dlq, crashed } = runWithCrashes(ticks, seed * 31, 25, commitProbability, allowedLateness);
        t.ok(crashed >= 20, `${crashed} crashes`);
        const expected = offlineBars(
          ticks.map((x, k) => ({ ...x, partition: 0, offset: k })),
          { intervals, maxOutOfOrder, allowedLateness },
        );
        if (allowedLateness > 0)
          t.ok(expected.revised.length > 10 && expected.late.length > 10, `${expected.revised.length} ticks revise bars, ${expected.late.length} are dropped`);
        t.same(diffBars([...store.values()], expected.finalBars), [], 'the stores end with exactly the offline bars, revisions included');
        const late = expected.late.map((x) => x.offset);
        t.same(
          [...new Set(dlq)].sort((a, b) => a - b),
          late,
          'every dropped late tick is dead-lettered',
        );
        if (commitProbability === 1) t.same(dlq, late, 'with commits after every batch: exactly once, in order');
        const reemitted = [...emissions.values()].filter((n) => n > 1).length;
        if (commitProbability === 1 && allowedLateness === 0) t.equal(reemitted, 0, 'no bar emitted twice');
        t.comment(`${expected.finalBars.length} bars, ${late.length} dropped, ${expected.revised.length} revising; ${reemitted} bars emitted more than once`);
      });
    }
  }
}

for (const seed of [5, 6, 7]) {
  for (const allowedLateness of [0, 2_500_000]) {
    t.test(`seed ${seed}, lateness ${allowedLateness / 1e6} s, state snapshots: crashes anywhere, bars and signals exact, shorter replays`, async (t) => {
      const ticks = stream(seed, 12000, 60); // 200 s: enough 1s bars for every indicator to warm up
      const withSnapshots = runWithCrashes(ticks, seed * 17, 25, 0.8, allowedLateness, { snapshotProbability: 0.3, crashChance: 0.3 });
      const without = runWithCrashes(ticks, seed * 17, 25, 0.8, allowedLateness);
      t.ok(withSnapshots.crashed >= 10, `${withSnapshots.crashed} crashes`);
      const expected = offlineBars(
        ticks.map((x, k) => ({ ...x, partition: 0, offset: k })),
        { intervals, maxOutOfOrder, allowedLateness },
      );
      t.same(diffBars([...withSnapshots.store.values()], expected.finalBars), [], 'the stores end with exactly the offline bars, revisions included');
      const reference = signalsWithoutCrashes(ticks, allowedLateness, {});
      t.ok(reference.size > 20, `${reference.size} signals without crashes`);
      t.same(
        diffRecords([...withSnapshots.signals.values()], [...reference.values()], (x) => `${x.symbol}|${x.interval}|${x.barTime}|${x.name}`),
        [],
        'restored indicators give exactly the signals of a run without crashes',
      );
      t.ok(
        withSnapshots.replayed < without.replayed,
        `ticks re-read after crashes: ${withSnapshots.replayed} with snapshots, ${without.replayed} without (the 1m bars hold the checkpoint back)`,
      );
    });
  }
}

// TE_AGG_PIPELINE: crashes lose the step in flight or tear its writes; the bars, dead letters and signals are the same.
for (const seed of [10, 11]) {
  for (const allowedLateness of [0, 2_500_000]) {
    t.test(`seed ${seed}, lateness ${allowedLateness / 1e6} s, pipelined steps: crashes anywhere, bars exact`, async (t) => {
      const ticks = stream(seed, 8000);
      const run = runWithCrashes(ticks, seed * 29, 25, 0.8, allowedLateness, { pipelined: true });
      t.ok(run.crashed >= 20, `${run.crashed} crashes`);
      const expected = offlineBars(
        ticks.map((x, k) => ({ ...x, partition: 0, offset: k })),
        { intervals, maxOutOfOrder, allowedLateness },
      );
      t.same(diffBars([...run.store.values()], expected.finalBars), [], 'the stores end with exactly the offline bars, revisions included');
      t.same(
        [...new Set(run.dlq)].sort((a, b) => a - b),
        expected.late.map((x) => x.offset),
        'every dropped late tick is dead-lettered',
      );
      const serial = runWithCrashes(ticks, 1, 0, 1, allowedLateness, {});
      const uninterrupted = runWithCrashes(ticks, 1, 0, 1, allowedLateness, { pipelined: true });
      t.same(diffBars([...uninterrupted.store.values()], expected.finalBars), [], 'without crashes too');
      // (With lateness, revisions emit a bar again, as often as the batching makes them.)
      if (allowedLateness === 0) t.equal([...uninterrupted.emissions.values()].filter((n) => n > 1).length, 0, 'without crashes, no bar emitted twice');
      t.same(uninterrupted.dlq, serial.dlq, 'the same dead letters in the same order as serial steps');
    });
    t.test(`seed ${seed}, lateness ${allowedLateness / 1e6} s, pipelined steps and state snapshots: bars and signals exact`, async (t) => {
      const ticks = stream(seed, 12000, 60);
      const run = runWithCrashes(ticks, seed * 23, 25, 0.8, allowedLateness, { pipelined: true, snapshotProbability: 0.3, crashChance: 0.3 });
      t.ok(run.crashed >= 10, `${run.crashed} crashes`);
      const expected = offlineBars(
        ticks.map((x, k) => ({ ...x, partition: 0, offset: k })),
        { intervals, maxOutOfOrder, allowedLateness },
      );
      t.same(diffBars([...run.store.values()], expected.finalBars), [], 'the stores end with exactly the offline bars, revisions included');
      const reference = signalsWithoutCrashes(ticks, allowedLateness, {});
      t.ok(reference.size > 20, `${reference.size} signals without crashes`);
      t.same(
        diffRecords([...run.signals.values()], [...reference.values()], (x) => `${x.symbol}|${x.interval}|${x.barTime}|${x.name}`),
        [],
        'signals as without crashes',
      );
    });
  }
}

for (const seed of [8, 9]) {
  for (const allowedLateness of [0, 2_500_000]) {
    t.test(`seed ${seed}, lateness ${allowedLateness / 1e6} s, flat bars, state snapshots: crashes anywhere, bars exact`, async (t) => {
      const ticks = stream(seed, 4000, 5); // ~1 tick per symbol per second: many empty 1s and some empty 5s buckets
      const run = runWithCrashes(ticks, seed * 13, 25, 0.8, allowedLateness, { snapshotProbability: 0.3, flat: true, crashChance: 0.3 });
      t.ok(run.crashed >= 10, `${run.crashed} crashes`);
      const expected = offlineBars(
        ticks.map((x, k) => ({ ...x, partition: 0, offset: k })),
        { intervals, maxOutOfOrder, allowedLateness, emptyBars: 'flat' },
      );
      const flats = expected.finalBars.filter((b) => b.tradeCount === 0);
      t.ok(flats.length > 100, `${flats.length} flat bars of ${expected.finalBars.length}`);
      if (allowedLateness > 0) t.ok(flats.some((b) => b.revision > 0) && expected.revised.length > 10, 'late ticks revise flat bars too');
      t.same(diffBars([...run.store.values()], expected.finalBars), [], 'the stores end with exactly the offline bars, flat ones and revisions included');
      const uninterrupted = runWithCrashes(ticks, 1, 0, 1, allowedLateness, { flat: true });
      t.same(
        diffRecords([...run.signals.values()], [...uninterrupted.signals.values()], (x) => `${x.symbol}|${x.interval}|${x.barTime}|${x.name}`),
        [],
        'signals as without crashes',
      );
    });
  }
}

/**
 * The ticks as a venue feed with contiguous trade ids sends them (tick.sequence): the first of a symbol `first`, and
 * now and then a tick after a given-up hole, reaching back to the symbol's previous tick — or, half the time, to up to
 * 3 s before it (trades lost over a longer stretch, reported after the feed held them: bars touched by it have often
 * closed, some within the allowed lateness, which the report revises). The ticks of the last symbol by name carry none
 * (a venue without contiguous ids): its bars stay unknown.
 */
function withSequences(ticks: Tick[], seed: number): Tick[] {
  const rng = new Prng(seed);
  const last = new Map<string, number>();
  const unsequenced = [...new Set(ticks.map((x) => x.symbol))].sort().pop();
  return ticks.map((x) => {
    if (x.symbol === unsequenced) return x;
    const prev = last.get(x.symbol);
    last.set(x.symbol, x.eventTime);
    const gap = prev !== undefined && rng.next() < 0.004;
    const since = gap && rng.next() < 0.5 ? Math.min(prev!, x.eventTime - 1_000_000 - rng.int(2_000_000)) : (prev ?? x.eventTime);
    return { ...x, sequence: { first: prev === undefined, lostIds: gap ? 1 + rng.int(50) : 0, lostSince: since } };
  });
}

for (const seed of [10, 11]) {
  for (const flat of [false, true]) {
    t.test(`seed ${seed}, flat ${flat}, ticks with trade-id sequences and gaps, state snapshots: crashes anywhere, complete exact`, async (t) => {
      const ticks = withSequences(stream(seed, 6000, flat ? 20 : 200), seed);
      const run = runWithCrashes(ticks, seed * 7, 25, 0.8, 2_500_000, { snapshotProbability: 0.3, flat, crashChance: 0.3 });
      t.ok(run.crashed >= 10, `${run.crashed} crashes`);
      const expected = offlineBars(
        ticks.map((x, k) => ({ ...x, partition: 0, offset: k })),
        { intervals, maxOutOfOrder, allowedLateness: 2_500_000, emptyBars: flat ? 'flat' : 'skip' },
      );
      const count = (c: boolean | null) => expected.finalBars.filter((b) => b.complete === c).length;
      t.ok(
        count(false) > 10 && count(true) > 100 && count(null) > 10,
        `offline: ${count(false)} incomplete, ${count(true)} complete, ${count(null)} unknown bars`,
      );
      t.ok(
        expected.finalBars.some((b) => b.interval === '1m' && b.complete === false),
        'gaps make larger intervals incomplete too',
      );
      t.ok(expected.gapRevised > 5, `${expected.gapRevised} bars had closed when a gap touching them was reported, and were revised as incomplete`);
      t.same(diffBars([...run.store.values()], expected.finalBars), [], 'every bar exact, complete included, after crashes and restores');
    });
  }
}

const BASE = Date.parse('2024-01-01T00:00:00Z') * 1000;

/** Hand-made ticks of symbol A at `sec` seconds past BASE, fed batch by batch with no out-of-orderness and 10 s of lateness. */
function handFeed(agg: PartitionAggregator) {
  const s = schema('tick');
  let offset = 0;
  const mk = (sec: number, id: string, price: number, side: Tick['side'] = 'BUY', size = 1): Tick => ({
    venue: 'V',
    symbol: 'A',
    eventTime: BASE + sec * 1e6,
    price,
    size,
    side,
    tradeId: id,
    ingestTime: 0,
  });
  const feed = (ticks: Tick[]): Bar[] => {
    const offsets = ticks.map(() => offset++);
    const out = preAggregate({
      ...packBatch(
        ticks.map((x) => encode(s, x)),
        offsets,
      ),
      interval: agg.baseInterval,
      watermark: agg.watermark,
      maxOutOfOrder: 0,
      allowedLateness: 10_000_000,
      origin: 0,
    });
    agg.apply(out, offsets, offsets[offsets.length - 1]!);
    const bars = agg.closeFinal().map((a) => toBar(a, { final: true }));
    agg.markDurable();
    return bars;
  };
  return { mk, feed };
}

t.test('revisions: each late tick within the lateness bumps every closed level once and is re-published', async (t) => {
  const agg = new PartitionAggregator(intervals, undefined, 10_000_000);
  const base = BASE;
  const { mk, feed } = handFeed(agg);
  const first = feed([mk(0.5, '1', 10), mk(1.5, '2', 11)]); // watermark 1.5 s: closes 0–1 s
  t.same(
    first.map((b) => `${b.interval}@${(b.bucketStart - base) / 1e6}:r${b.revision}`),
    ['1s@0:r0'],
  );
  const closed = feed([mk(6.2, '3', 12)]); // watermark 6.2 s: closes 1–2 s and the 5 s bar 0–5 s
  t.same(closed.map((b) => `${b.interval}@${(b.bucketStart - base) / 1e6}:r${b.revision}`).sort(), ['1s@1:r0', '5s@0:r0']);
  const revised = feed([mk(0.7, '4', 99)]); // late by 5.5 s: within 10 s of lateness
  t.same(revised.map((b) => `${b.interval}@${(b.bucketStart - base) / 1e6}:r${b.revision}:h${b.high}:n${b.tradeCount}`).sort(), [
    '1s@0:r1:h99:n2',
    '5s@0:r1:h99:n3',
  ]);
  const open = feed([mk(61, '5', 13)]); // closes the 1 m bar, which took the late tick while open: revision 0
  const minute = open.find((b) => b.interval === '1m')!;
  t.same([minute.revision, minute.tradeCount, minute.high], [0, 4, 99]);
});

t.test('flat bars: the previous close at zero volume; a late tick re-carries the flat bars after it', async (t) => {
  const agg = new PartitionAggregator(intervals, undefined, 10_000_000, undefined, { flat: true });
  const hand = handFeed(agg);
  const mk = (sec: number, id: string, price: number) => hand.mk(sec, id, price, 'SELL', 2);
  const feed = (ticks: Tick[]) =>
    hand
      .feed(ticks)
      .filter((b) => b.interval === '1s')
      .map((b) => `${(b.bucketStart - BASE) / 1e6}:c${b.close}:v${b.volume}:n${b.tradeCount}:r${b.revision}`)
      .sort();
  t.same(feed([mk(0.5, '1', 10)]), [], 'nothing closed yet');
  t.same(feed([mk(3.2, '2', 12)]), ['0:c10:v2:n1:r0', '1:c10:v0:n0:r0', '2:c10:v0:n0:r0'], 'the empty seconds 1 and 2 carry the close of second 0');
  t.same(
    feed([mk(1.5, '3', 11)]),
    ['1:c11:v2:n1:r1', '2:c11:v0:n0:r1'],
    'a late tick in second 1: a real bar now (revision 1 after the flat one), and second 2 carries its close (revision 1)',
  );
  t.same(feed([mk(5.1, '4', 13)]), ['3:c12:v2:n1:r0', '4:c12:v0:n0:r0'], 'then on as before');
  const flat = agg.closeFinal();
  t.same(flat, [], 'nothing twice');
});

t.test('a snapshot taken with other intervals or another empty-bar policy is refused, naming the setting', async (t) => {
  const agg = new PartitionAggregator(intervals, undefined, 0);
  handFeed(agg).feed([handFeed(agg).mk(0.5, '1', 10)]);
  const snap = agg.snapshot();
  t.same(snap.intervals, ['1s', '5s', '1m']);
  t.throws(() => new PartitionAggregator(intervals.slice(0, 2), undefined, 0, undefined, { snapshot: snap }), {
    code: 'TE_STATE_RESTORE',
    message: /intervals 1s,5s,1m, but TE_INTERVALS is 1s,5s/,
  });
  t.throws(() => new PartitionAggregator(intervals, undefined, 0, undefined, { snapshot: snap, flat: true }), {
    code: 'TE_STATE_RESTORE',
    message: /TE_EMPTY_BARS=skip, now flat/,
  });
  t.doesNotThrow(() => new PartitionAggregator(intervals, undefined, 0, undefined, { snapshot: snap }), 'the same settings restore');
});

t.test('state stays bounded when nobody asks for in-progress bars (replay, TE_LIVE_UPDATE_MS=0)', async (t) => {
  const agg = new PartitionAggregator(intervals, undefined, 0);
  const { mk, feed } = handFeed(agg);
  let most = 0;
  for (let sec = 0; sec < 600; sec++) {
    feed([mk(sec + 0.1, `a${sec}`, 10 + (sec % 7)), mk(sec + 0.6, `b${sec}`, 11)]);
    most = Math.max(most, agg.pendingLiveUpdates);
  }
  // Two open base bars at most, and the one symbol for the larger intervals.
  t.ok(most <= 3, `at most ${most} bars waiting for an update over 600 seconds of ticks (only the open ones)`);
});

t.test('checkpoint metadata: strict parsing', async (t) => {
  t.equal(parseCheckpoint(undefined), undefined);
  t.equal(parseCheckpoint('not json'), undefined);
  t.equal(parseCheckpoint('{"v":3,"hi":1}'), undefined);
  t.equal(parseCheckpoint('{"v":2,"wm":1}'), undefined);
  t.same(parseCheckpoint('{"v":1,"wm":null,"durable":5,"hi":9}'), { v: 1, wm: null, durable: 5, hi: 9 });
});

/** Records pos..end-1 as one batch of the live path: folded, closed, made durable. Returns the worker's output. */
function feedLive(agg: PartitionAggregator, values: Buffer[], pos: number, end: number) {
  const offsets = Array.from({ length: end - pos }, (_, j) => pos + j);
  const out = preAggregate({
    ...packBatch(values.slice(pos, end), offsets),
    interval: agg.baseInterval,
    watermark: agg.watermark,
    maxOutOfOrder,
    allowedLateness: 0,
    origin: 0,
  });
  agg.apply(out, offsets, end - 1);
  agg.closeFinal();
  agg.markDurable();
  return out;
}

/** How in-progress bars differ from the offline open bars of their keys (a bar with no open counterpart differs). */
function diffFromOpen(live: Bar[], open: Map<string, Bar>): string[] {
  return diffBars(
    live,
    live.map((b) => open.get(barKey(b)) ?? { ...b, tradeCount: -1 }),
  );
}

/** The offline computation's open bars over the first `end` ticks, by bar key. */
function openOffline(ticks: Tick[], end: number): Map<string, Bar> {
  const oracle = offlineBars(
    ticks.slice(0, end).map((x, j) => ({ ...x, partition: 0, offset: j })),
    { intervals, maxOutOfOrder, includeOpen: true },
  );
  return new Map(oracle.finalBars.filter((b) => !b.final).map((b) => [barKey(b), b]));
}

t.test('in-progress bars: one per (symbol, interval), the newest touched, equal to the ticks accepted so far', async (t) => {
  const ticks = stream(9, 4000);
  const s = schema('tick');
  const values = ticks.map((x) => encode(s, x));
  const agg = new PartitionAggregator(intervals);
  const rng = new Prng(99);
  let pos = 0;
  let checked = 0;
  let rounds = 0;
  while (pos < ticks.length) {
    const end = Math.min(ticks.length, pos + 1 + rng.int(200));
    feedLive(agg, values, pos, end);
    const live = agg.liveBars().map((a) => toBar(a, { final: false }));
    const open = openOffline(ticks, end);
    t.same(diffFromOpen(live, open), [], `round ${rounds}: in-progress bars equal the open offline bars`);
    // Per symbol, the newest open 1s bar that took ticks in this batch is there, at every interval, once.
    const newest = new Map<string, number>();
    for (const x of ticks.slice(pos, end)) {
      const b = Math.floor(x.eventTime / 1e6) * 1e6;
      if (open.has(barKey({ symbol: x.symbol, interval: '1s', bucketStart: b })) && b > (newest.get(x.symbol) ?? -Infinity)) newest.set(x.symbol, b);
    }
    const touched = new Set([...newest].map(([sym, b]) => `${sym}|${b}`));
    const liveBase = live.filter((b) => b.interval === '1s').map((b) => `${b.symbol}|${b.bucketStart}`);
    t.same(liveBase.sort(), [...touched].sort(), `round ${rounds}: the newest touched open 1s bar of each symbol, once`);
    t.equal(new Set(live.map((b) => `${b.symbol}|${b.interval}`)).size, live.length, `round ${rounds}: one update per (symbol, interval)`);
    for (const b of live.filter((x) => x.interval === '1s')) {
      for (const iv of intervals.slice(1)) {
        const start = Math.floor(b.bucketStart / iv.micros) * iv.micros;
        if (!live.some((x) => x.symbol === b.symbol && x.interval === iv.name && x.bucketStart === start))
          t.fail(`no ${iv.name} update for ${b.symbol}@${b.bucketStart}`);
      }
    }
    t.same(agg.liveBars(), [], 'nothing new, no updates');
    checked += live.length;
    rounds++;
    pos = end;
  }
  t.ok(checked > 500, `${checked} in-progress bars checked over ${rounds} rounds`);
});

t.test('in-progress bars of the larger intervals every k-th round: every symbol touched since the last such round, equal to the ticks so far', async (t) => {
  // 40 ticks a second: 100 s, so 1m buckets close between rolled rounds too.
  const ticks = stream(11, 4000, 40);
  const s = schema('tick');
  const values = ticks.map((x) => encode(s, x));
  const agg = new PartitionAggregator(intervals);
  const rng = new Prng(7);
  const k = 3;
  let pos = 0;
  let rounds = 0;
  let rolledChecked = 0;
  /** Per symbol, the newest base bucket that took ticks since the last rolled round. */
  const since = new Map<string, number>();
  while (pos < ticks.length) {
    const end = Math.min(ticks.length, pos + 1 + rng.int(200));
    const out = feedLive(agg, values, pos, end);
    // The ticks accepted (the far too late ones are dead-lettered).
    const rejected = new Set(out.rejects.map((r) => r.index));
    ticks.slice(pos, end).forEach((x, j) => {
      if (rejected.has(j)) return;
      const b = Math.floor(x.eventTime / 1e6) * 1e6;
      if (b > (since.get(x.symbol) ?? -Infinity)) since.set(x.symbol, b);
    });
    const rolled = rounds % k === k - 1;
    const live = agg.liveBars(rolled).map((a) => toBar(a, { final: false }));
    const open = openOffline(ticks, end);
    t.same(diffFromOpen(live, open), [], `round ${rounds}: in-progress bars equal the open offline bars`);
    t.equal(new Set(live.map((b) => `${b.symbol}|${b.interval}`)).size, live.length, `round ${rounds}: one update per (symbol, interval)`);
    const larger = live.filter((b) => b.interval !== '1s').map((b) => `${b.symbol}|${b.interval}|${b.bucketStart}`);
    if (!rolled) t.same(larger, [], `round ${rounds}: base interval only`);
    else {
      // Every larger interval's open bar holding a symbol's newest touched bucket since the last rolled round.
      const want: string[] = [];
      for (const [symbol, b] of since)
        for (const iv of intervals.slice(1)) {
          const start = Math.floor(b / iv.micros) * iv.micros;
          if (open.has(barKey({ symbol, interval: iv.name, bucketStart: start }))) want.push(`${symbol}|${iv.name}|${start}`);
        }
      t.same(larger.sort(), want.sort(), `round ${rounds}: the larger intervals' open bars of every symbol touched since the last rolled round`);
      rolledChecked += larger.length;
      since.clear();
    }
    rounds++;
    pos = end;
  }
  t.ok(rolledChecked > 100, `${rolledChecked} larger-interval updates checked over ${rounds} rounds`);
});

t.test('in-progress bars of larger intervals whose buckets do not nest: kept until the last bucket holding them closes', async (t) => {
  // 45s buckets [45, 90) outlast the 1m bucket [0, 60): a symbol quiet after 59.5 s still has an open 45s bar.
  const odd: IntervalSpec[] = [
    { name: '1s', micros: 1e6 },
    { name: '45s', micros: 45e6 },
    { name: '1m', micros: 60e6 },
  ];
  const agg = new PartitionAggregator(odd);
  const hand = handFeed(agg);
  const other = (sec: number, id: string) => ({ ...hand.mk(sec, id, 50), symbol: 'B' });
  hand.feed([hand.mk(59.5, 'a1', 10)]);
  t.same(
    agg.liveBars(false).map((b) => `${b.symbol}|${b.interval}`),
    ['A|1s'],
    'a base round: the base bar only',
  );
  hand.feed([other(61.2, 'b1')]); // the watermark passes 60: A's 1s and 1m bars close, its 45s bar [45, 90) does not
  const live = agg.liveBars(true).map((b) => `${b.symbol}|${b.interval}|${(b.bucketStart - BASE) / 1e6}|${b.tradeCount}`);
  t.ok(live.includes('A|45s|45|1'), `A's open 45s bar is updated in the next rolled round (${live.join(', ')})`);
  t.notOk(
    live.some((x) => x.startsWith('A|1m|')),
    'not its closed 1m bar',
  );
});

t.test('open bars at the end: every open bar of every interval, equal to the offline open bars; state untouched', async (t) => {
  const wide: IntervalSpec[] = [
    { name: '1s', micros: 1e6 },
    { name: '5s', micros: 5e6 },
    { name: '15s', micros: 15e6 },
    { name: '1m', micros: 60e6 },
    { name: '5m', micros: 300e6 },
    { name: '1h', micros: 3600e6 },
  ];
  const s = schema('tick');
  const cases = [
    // Ending 0.7 s into 00:01:00 leaves one 1s bar open per symbol; 0.25 s in, two (00:00:59 and 00:01:00).
    { seed: 3, allowedLateness: 0, flat: false, endsAt: '00:01:00.700' },
    { seed: 4, allowedLateness: 700_000, flat: false, endsAt: '00:01:00.250' },
    { seed: 6, allowedLateness: 700_000, flat: true, endsAt: '00:01:00.250' },
  ];
  for (const { seed, allowedLateness, flat, endsAt } of cases) {
    t.test(`seed ${seed}, lateness ${allowedLateness / 1e6} s${flat ? ', flat bars' : ''}, ends at ${endsAt}`, async (t) => {
      // 00:00:50 to a little past 00:01:00, so the input ends mid-bucket at every interval: the 1m bucket 00:01
      // holds only open 1s bars, the 5m and 1h ones closed and open 1s bars. One symbol stops trading 2 s before
      // the end: its 5m and 1h bars are rolled-up closed 1s bars only.
      const sim = new FeedSimulator({ symbols: 6, rate: 400, seed, start: Date.parse('2024-01-01T00:00:50Z') * 1000, jitter: 300_000, venue: 'T' });
      const all: Tick[] = [];
      while (all.length === 0 || all[all.length - 1]!.eventTime < Date.parse('2024-01-01T00:01:05Z') * 1000) all.push(sim.next());
      for (let k = 37; k < all.length; k += 97) all[k] = { ...all[k]!, eventTime: all[k]!.eventTime - 900_000 };
      const cut = all.findIndex((x) => x.eventTime >= Date.parse(`2024-01-01T${endsAt}Z`) * 1000);
      const quiet = all[0]!.symbol;
      const stopAt = all[cut]!.eventTime - 2_000_000;
      const ticks = all.filter((x, k) => !(x.symbol === quiet && x.eventTime >= stopAt && k < cut));
      const end = cut - (all.length - ticks.length);
      const agg = new PartitionAggregator(wide, undefined, allowedLateness, undefined, { flat });
      const rng = new Prng(seed);
      const feed = (from: number, to: number) => {
        for (let pos = from; pos < to;) {
          const next = Math.min(to, pos + 1 + rng.int(300));
          const offsets = Array.from({ length: next - pos }, (_, k) => pos + k);
          const out = preAggregate({
            ...packBatch(
              ticks.slice(pos, next).map((x) => encode(s, x)),
              offsets,
            ),
            interval: agg.baseInterval,
            watermark: agg.watermark,
            maxOutOfOrder,
            allowedLateness,
            origin: 0,
          });
          agg.apply(out, offsets, next - 1);
          finals.push(...agg.closeFinal().map((a) => toBar(a, { final: true })));
          agg.markDurable();
          pos = next;
        }
      };
      const finals: Bar[] = [];
      feed(0, end);
      const pending = agg.pendingLiveUpdates;
      const open = agg.openBarsAtEnd().map((a) => toBar(a, { final: false }));
      t.equal(JSON.stringify(agg.openBarsAtEnd().map((a) => toBar(a, { final: false }))), JSON.stringify(open), 'asked twice: the same bars');
      t.equal(agg.pendingLiveUpdates, pending, 'the in-progress bookkeeping is untouched');

      const oracle = offlineBars(
        ticks.slice(0, end).map((x, k) => ({ ...x, partition: 0, offset: k })),
        { intervals: wide, maxOutOfOrder, allowedLateness, includeOpen: true, emptyBars: flat ? 'flat' : 'skip' },
      );
      const expected = oracle.finalBars.filter((b) => !b.final);
      t.same(diffBars(open, expected), [], `the ${open.length} open bars = the offline open bars, every field`);
      for (const iv of wide)
        t.ok(
          open.some((b) => b.interval === iv.name),
          `${iv.name}: open bars emitted`,
        );
      t.ok(
        open.every((b) => b.tradeCount > 0),
        'no flat bar among them',
      );
      const order = open.map((b) => `${wide.findIndex((iv) => iv.name === b.interval)}|${b.symbol}|${String(b.bucketStart).padStart(20, '0')}`);
      t.same(order, [...order].sort(), 'interval by interval, then symbol, then bucket start');
      // The three kinds of larger open bar: closed 1s bars only, open 1s bars only, both.
      const wm = oracle.watermarks.get(0)!;
      const kinds = { closedOnly: 0, openOnly: 0, both: 0 };
      for (const b of open.filter((x) => x.interval !== '1s')) {
        const width = wide.find((iv) => iv.name === b.interval)!.micros;
        const inside = oracle.finalBars.filter(
          (x) => x.interval === '1s' && x.symbol === b.symbol && x.bucketStart >= b.bucketStart && x.bucketStart < b.bucketStart + width,
        );
        const closed = inside.some((x) => x.bucketStart + 1e6 <= wm);
        const stillOpen = inside.some((x) => x.bucketStart + 1e6 > wm);
        if (closed && stillOpen) kinds.both++;
        else if (closed) kinds.closedOnly++;
        else kinds.openOnly++;
      }
      t.ok(kinds.closedOnly > 0 && kinds.openOnly > 0 && kinds.both > 0, `larger open bars of every kind: ${JSON.stringify(kinds)}`);
      const openBase = open.filter((b) => b.interval === '1s');
      const mostPerSymbol = Math.max(...[...new Set(openBase.map((b) => b.symbol))].map((sym) => openBase.filter((b) => b.symbol === sym).length));
      t.equal(mostPerSymbol, endsAt.endsWith('.700') ? 1 : 2, `at most ${mostPerSymbol} open 1s bars per symbol`);
      const closedOnly = open.filter((b) => b.symbol === quiet && b.interval === '5m');
      t.equal(closedOnly.length, 1, `the quiet symbol's 5m bar is open`);
      t.notOk(
        open.some((b) => b.symbol === quiet && b.interval === '1s'),
        'the quiet symbol has no open 1s bar',
      );

      // liveBars (the live path) answers a different question: only bars that took ticks since its last call.
      // Without the larger intervals: the base bars with ticks since the last call, so not the quiet symbol's.
      const live = agg.liveBars(false);
      t.ok(live.length < open.length && live.every((b) => b.interval === '1s'), `liveBars(false) gives ${live.length} of the ${open.length} open bars, all 1s`);
      // Then the larger intervals' bars of every symbol with ticks since their last call (the quiet one's too), alone.
      const rolled = agg.liveBars(true);
      t.ok(rolled.length > 0 && rolled.every((b) => b.interval !== '1s'), `then liveBars(true) gives ${rolled.length} larger-interval bars, no 1s bar twice`);

      // Nothing was changed by asking: the rest of the ticks close the same bars as the offline computation.
      feed(end, ticks.length);
      const whole = offlineBars(
        ticks.map((x, k) => ({ ...x, partition: 0, offset: k })),
        { intervals: wide, maxOutOfOrder, allowedLateness, emptyBars: flat ? 'flat' : 'skip' },
      );
      const latest = new Map(finals.map((b) => [barKey(b), b]));
      t.same(diffBars([...latest.values()], whole.finalBars), [], 'then the final bars of the whole input = offline bars');
    });
  }
});

t.test('passOver: offsets without ticks after the processed ones (transaction markers) move the processed position; a gap does not', async (t) => {
  const agg = new PartitionAggregator(intervals, undefined, 0);
  t.equal(agg.processedUntil, -1, 'nothing processed yet');
  t.ok(agg.passOver(7, 7), 'a first fetch of markers only (the committed position is a marker)');
  t.equal(agg.processedUntil, 8);
  const ticks = stream(3, 20);
  const s = schema('tick');
  const offsets = Array.from({ length: ticks.length }, (_, k) => 8 + k);
  const packed = packBatch(
    ticks.map((x) => encode(s, x)),
    offsets,
  );
  const out = preAggregate({ ...packed, interval: agg.baseInterval, watermark: agg.watermark, maxOutOfOrder, allowedLateness: 0, origin: 0 });
  agg.apply(out, offsets, offsets.at(-1)!);
  t.equal(agg.processedUntil, 28, 'the ticks at 8..27 processed');
  t.ok(agg.passOver(8, 28), "the batch's last offset, 28, is the commit marker after its last tick");
  t.equal(agg.processedUntil, 29, 'caught up with a log ending at 29');
  t.ok(agg.passOver(29, 30), 'a later fetch holding only markers or aborted records');
  t.equal(agg.processedUntil, 31);
  t.notOk(agg.passOver(33, 34), 'offsets that do not follow on (31, 32 never seen) are not passed over');
  t.equal(agg.processedUntil, 31, 'and the position stays');
  t.ok(agg.passOver(20, 25), 'an older range (a fetch handed again) is accepted');
  t.equal(agg.processedUntil, 31, 'but never moves the position back');
});
