// Rolled-up open bars as rows of doubles (src/aggregate/bar-rows.ts) hold exactly what the same bars as objects hold:
// BarRows against mergeAcc/copyAs on objects, and a whole partition's output with TE_AGG_BAR_ROWS on and off.
import t from 'tap';
import type { IntervalSpec } from '../../src/contracts/interval.js';
import type { Tick } from '../../src/contracts/tick.js';
import { BarRows } from '../../src/aggregate/bar-rows.js';
import { mergeAcc, toBar, type BarAcc } from '../../src/aggregate/ohlcv.js';
import { copyAs } from '../../src/aggregate/open-bars.js';
import { PartitionAggregator } from '../../src/aggregate/partition-aggregator.js';
import { FeedSimulator } from '../../src/ingest/simulator.js';
import { Prng } from '../../src/ingest/prng.js';
import { preAggregate } from '../../src/runtime/pre-aggregate.js';
import { packBatch } from '../../src/stream/packed-batch.js';
import { schema } from '../../src/stream/schemas.js';
import { encode } from '../../src/stream/serde.js';

/** A random partial bar of `symbol` at 1s: volumes over 40 orders of magnitude, so sums need more than 5 partials. */
function partial(rng: Prng, symbol: string, bucketStart: number, offset: number): BarAcc {
  const magnitude = () => 10 ** (rng.int(41) - 20);
  const t0 = bucketStart + rng.int(1_000_000);
  const t1 = t0 + rng.int(3);
  const id0 = String(rng.int(50));
  const price = 100 + rng.int(1000) / 7;
  const v = [magnitude() * (1 + rng.next())];
  return {
    symbol,
    interval: '1s',
    bucketStart,
    open: price,
    openTime: t0,
    openId: id0,
    high: price + rng.int(10),
    low: price - rng.int(10),
    close: price + rng.int(5) - 2,
    closeTime: t1,
    closeId: String(Number(id0) + rng.int(3)),
    volume: v,
    quoteVolume: [v[0]! * price],
    buyVolume: rng.next() < 0.5 ? [] : [magnitude()],
    tradeCount: 1 + rng.int(9),
    minOffset: offset,
    wmAtMin: offset * 10 - rng.int(5),
    revision: 0,
    revisedAt: -1,
    known: rng.next() < 0.3,
    lossy: rng.next() < 0.1,
  };
}

t.test('BarRows holds what objects merged with mergeAcc hold: merges, long sums, removal, take, restore, row reuse, low water', async (t) => {
  const rng = new Prng(7);
  const rows = new BarRows('1m');
  const objects = new Map<string, BarAcc>();
  const key = (symbol: string, start: number) => `${symbol}|${start}`;
  let overflowed = 0;
  let offset = 1000;
  for (let round = 0; round < 40; round++) {
    for (let k = 0; k < 200; k++) {
      const symbol = `S${rng.int(30)}`;
      const start = 60e6 * (round + rng.int(3));
      const p = partial(rng, symbol, start + 1e6 * rng.int(60), offset - rng.int(1500));
      offset++;
      rows.merge(symbol, start, p);
      const o = objects.get(key(symbol, start));
      if (o) mergeAcc(o, p);
      else objects.set(key(symbol, start), copyAs(p, '1m', start));
    }
    // Close the oldest bucket, as a level does when the watermark passes it.
    const closeBefore = 60e6 * (round + 1);
    const closed = rows.removeWhere((start) => start < closeBefore);
    const expected = [...objects.values()].filter((o) => o.bucketStart < closeBefore);
    for (const o of expected) objects.delete(key(o.symbol, o.bucketStart));
    const byKey = (a: BarAcc, b: BarAcc) => key(a.symbol, a.bucketStart).localeCompare(key(b.symbol, b.bucketStart));
    t.strictSame(closed.sort(byKey), expected.sort(byKey), `round ${round}: the closed bars`);
    overflowed += closed.filter((b) => b.volume.length > 5 || b.quoteVolume.length > 5 || b.buyVolume.length > 5).length;
    t.equal(rows.size, objects.size, `round ${round}: the size`);
  }
  t.ok(overflowed > 0, `some sums had more than 5 partials (${overflowed} bars)`);
  // What stays open: values, copies, has, low water.
  const open = [...rows.values()];
  t.equal(open.length, objects.size);
  for (const b of open) {
    t.strictSame(b, objects.get(key(b.symbol, b.bucketStart)));
    t.ok(rows.has(b.symbol, b.bucketStart));
  }
  t.notOk(rows.has('S0', -1));
  const low = [...objects.values()].reduce((a, b) => (b.minOffset < a.minOffset ? b : a));
  t.strictSame(rows.lowWater(), { offset: low.minOffset, watermark: low.wmAtMin });
  // take removes one bar; add restores a bar as it is, its revision included, into a freed row.
  const first = open[0]!;
  const taken = rows.take(first.symbol, first.bucketStart)!;
  t.strictSame(taken, first);
  t.notOk(rows.has(first.symbol, first.bucketStart));
  t.equal(rows.take(first.symbol, first.bucketStart), undefined);
  rows.add({ ...taken, revision: 3, revisedAt: 77 });
  t.strictSame(rows.copy(first.symbol, first.bucketStart), { ...taken, revision: 0, revisedAt: -1 }, 'a copy has no revision (as copyAs)');
  t.strictSame(
    [...rows.values()].find((b) => b.symbol === first.symbol && b.bucketStart === first.bucketStart),
    { ...taken, revision: 3, revisedAt: 77 },
    'values() keep the revision (snapshots)',
  );
  t.equal(rows.size, objects.size);
  // add over a bar already there replaces it.
  const replaced = { ...taken, high: taken.high + 1, volume: [1, 2 ** -80], revision: 1, revisedAt: 5 };
  rows.add(replaced);
  t.equal(rows.size, objects.size, 'replacing keeps the size');
  t.strictSame(
    [...rows.values()].filter((b) => b.symbol === first.symbol && b.bucketStart === first.bucketStart),
    [replaced],
    'the replacement, once',
  );
  rows.add({ ...taken, revision: 3, revisedAt: 77 });
  // A copy is the caller's: changing it changes nothing held.
  const c = rows.copy(first.symbol, first.bucketStart)!;
  c.volume.push(1);
  c.high = -1;
  t.strictSame(rows.copy(first.symbol, first.bucketStart), { ...taken, revision: 0, revisedAt: -1 });
  t.strictSame(rows.removeWhere(() => true).length, objects.size);
  t.equal(rows.size, 0);
  t.equal(rows.lowWater(), undefined);
});

const intervals: IntervalSpec[] = [
  { name: '1s', micros: 1e6 },
  { name: '5s', micros: 5e6 },
  { name: '1m', micros: 60e6 },
  { name: '5m', micros: 300e6 },
];

function ticks(seed: number, n: number): Tick[] {
  const sim = new FeedSimulator({ symbols: 12, rate: 25, seed, start: Date.parse('2024-01-01T00:00:00Z') * 1000, jitter: 300_000, venue: 'T' });
  const rng = new Prng(seed);
  const last = new Map<string, number>();
  return Array.from({ length: n }, (_, k) => {
    let x = sim.next();
    // Late ticks (some past the lateness), and trade-id sequences with gaps, so revisions and completeness are exercised.
    if (k % 53 === 0) x = { ...x, eventTime: x.eventTime - 1_000_000 - rng.int(4_000_000) };
    const gap = last.has(x.symbol) && rng.next() < 0.01;
    const prev = last.get(x.symbol);
    last.set(x.symbol, x.eventTime);
    return { ...x, sequence: { first: prev === undefined, lostIds: gap ? 1 + rng.int(9) : 0, lostSince: prev ?? x.eventTime } };
  });
}

for (const flat of [false, true]) {
  t.test(
    `a partition's output is the same with the rolled-up bars as rows or as objects (flat ${flat}): bars, in-progress bars, snapshots, open bars at the end`,
    async (t) => {
      const input = ticks(flat ? 5 : 4, 12_000);
      const s = schema('tick');
      const values = input.map((x) => encode(s, x));
      const lateness = 2_500_000;
      const make = (barRows: boolean) => new PartitionAggregator(intervals, undefined, lateness, undefined, { flat, firstVersions: true, barRows });
      const rowsAgg = make(true);
      const objAgg = make(false);
      const rng = new Prng(3);
      let pos = 0;
      let compared = 0;
      let rolledFinal = 0;
      while (pos < input.length) {
        const end = Math.min(input.length, pos + 1 + rng.int(250));
        const offsets = Array.from({ length: end - pos }, (_, k) => pos + k);
        const packed = packBatch(values.slice(pos, end), offsets);
        const run = (agg: PartitionAggregator) => {
          const out = preAggregate({
            ...packed,
            interval: agg.baseInterval,
            watermark: agg.watermark,
            maxOutOfOrder: 400_000,
            allowedLateness: lateness,
            origin: 0,
          });
          const rejects = agg.apply(out, offsets, end - 1);
          const bars = agg.closeFinal().map((a) => toBar(a, { final: true }));
          agg.markDurable();
          const first = agg.takeFirstVersions();
          return { rejects, bars, first, live: agg.liveBars().map((a) => toBar(a, { final: false })), checkpoint: agg.checkpoint(), low: agg.canSnapshot };
        };
        const a = run(rowsAgg);
        const b = run(objAgg);
        if (JSON.stringify(a) !== JSON.stringify(b)) {
          t.strictSame(a, b, `batch ending at ${end}`);
          return;
        }
        compared += a.bars.length + a.live.length;
        rolledFinal += a.bars.filter((b) => b.interval === '5m').length;
        if (rng.next() < 0.1) t.strictSame(rowsAgg.snapshot(), objAgg.snapshot(), `snapshot at ${end}`);
        pos = end;
      }
      t.ok(compared > 5000, `${compared} bars compared, batch by batch`);
      t.ok(rolledFinal > 12, `${rolledFinal} final 5m bars among them (rows that closed)`);
      const atEnd = (agg: PartitionAggregator) => agg.openBarsAtEnd().map((a) => toBar(a, { final: false }));
      t.strictSame(atEnd(rowsAgg), atEnd(objAgg), 'open bars at the end');
      t.ok(
        atEnd(rowsAgg).some((b) => b.interval === '5m'),
        'open bars of a rolled-up interval among them',
      );
      t.strictSame(rowsAgg.snapshot(), objAgg.snapshot(), 'the final snapshot');
      // A partition restored from a snapshot holds the same open bars in both forms (rows filled by restore).
      const snap = rowsAgg.snapshot();
      const restored = (barRows: boolean) => atEnd(new PartitionAggregator(intervals, undefined, lateness, undefined, { flat, barRows, snapshot: snap }));
      t.strictSame(restored(true), restored(false), 'restored from the same snapshot, rows and objects hold the same open bars');
      t.equal(
        restored(true).length,
        snap.levels.reduce((n, l) => n + l.open.length, 0),
        'every open bar of the snapshot',
      );
    },
  );
}
