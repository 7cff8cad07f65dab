// OHLCV merging: partial bars from any batching and order merge to the bar computed offline.
import t from 'tap';
import type { IntervalSpec } from '../../src/contracts/interval.js';
import { PartitionAggregator } from '../../src/aggregate/partition-aggregator.js';
import { addTick, addTickIdLater, needsTradeId, newAcc, toBar } from '../../src/aggregate/ohlcv.js';
import { preAggregate } from '../../src/runtime/pre-aggregate.js';
import { packBatch } from '../../src/stream/packed-batch.js';
import { FeedSimulator } from '../../src/ingest/simulator.js';
import { Prng } from '../../src/ingest/prng.js';
import type { Tick } from '../../src/contracts/tick.js';
import { schema } from '../../src/stream/schemas.js';
import { encode } from '../../src/stream/serde.js';
import { diffBars, offlineBars, type OracleTick } from '../helpers/oracle.js';

const intervals: IntervalSpec[] = [
  { name: '1s', micros: 1e6 },
  { name: '5s', micros: 5e6 },
  { name: '15s', micros: 15e6 },
  { name: '1m', micros: 60e6 },
];
const base = intervals[0]!;

function ticks(n: number, seed: number): Tick[] {
  const sim = new FeedSimulator({ symbols: 8, rate: 300, seed, start: Date.parse('2024-01-01T00:00:00Z') * 1000, jitter: 300_000, venue: 'T' });
  return Array.from({ length: n }, () => sim.next());
}

/**
 * Run the engine's map (workers) and merge/close/roll-up (partition state) over the ticks split into random
 * batches, partials merged in shuffled order. Larger intervals are rolled up from closed 1s bars.
 */
function engineBars(all: Tick[], rng: Prng, maxOutOfOrder: number) {
  const s = schema('tick');
  const agg = new PartitionAggregator(intervals);
  let i = 0;
  const out = [];
  while (i < all.length) {
    const n = 1 + rng.int(400);
    const chunk = all.slice(i, i + n);
    const offsets = chunk.map((_, k) => i + k);
    const packed = packBatch(
      chunk.map((x) => encode(s, x)),
      offsets,
    );
    const res = preAggregate({ ...packed, interval: agg.baseInterval, watermark: agg.watermark, maxOutOfOrder, allowedLateness: 0, origin: 0 });
    res.partials.sort(() => rng.next() - 0.5);
    agg.apply(res, offsets, i + n - 1);
    out.push(...agg.closeFinal());
    i += n;
  }
  return { bars: out.map((a) => toBar(a, { final: true })), watermark: agg.watermark };
}

t.test('engine bars (1s from ticks, larger rolled up) equal offline bars from ticks, every field, for random batchings', async (t) => {
  for (const seed of [1, 2, 3]) {
    const all = ticks(30000, seed);
    const rng = new Prng(seed * 100);
    const maxOutOfOrder = 500_000;
    const got = engineBars(all, rng, maxOutOfOrder);
    const oracleTicks: OracleTick[] = all.map((x, k) => ({ ...x, partition: 0, offset: k }));
    const expected = offlineBars(oracleTicks, { intervals, maxOutOfOrder });
    t.ok(expected.finalBars.length > 100, `seed ${seed}: ${expected.finalBars.length} final bars to compare`);
    t.same(diffBars(got.bars, expected.finalBars), [], `seed ${seed}: no differences`);
    t.equal(got.watermark, expected.watermarks.get(0), 'same watermark');
  }
});

t.test('trades sharing an event time open and close their bar in the venue order: "9" before "10"', async (t) => {
  // Venue-numbered trades, unpadded, many per 100 ms (venues that stamp trades coarsely): string order differs.
  const all = ticks(20000, 4).map((x, k) => ({ ...x, eventTime: x.eventTime - (x.eventTime % 100_000), tradeId: String(1 + ((k * 7919) % 20000)) }));
  const ties = all.filter((x, k) => k > 0 && x.eventTime === all[k - 1]!.eventTime && x.tradeId.length !== all[k - 1]!.tradeId.length).length;
  t.ok(ties > 100, `${ties} neighbouring ties between ids of different lengths`);
  const got = engineBars(all, new Prng(44), 500_000);
  const expected = offlineBars(
    all.map((x, k) => ({ ...x, partition: 0, offset: k })),
    { intervals, maxOutOfOrder: 500_000 },
  );
  t.same(diffBars(got.bars, expected.finalBars), [], `${expected.finalBars.length} bars equal the offline bars`);

  const at = 1_700_000_000_000_000;
  const trade = (tradeId: string, price: number) => ({
    venue: 'BINANCE',
    symbol: 'BTC-USDT',
    eventTime: at,
    price,
    size: 1,
    side: 'BUY' as const,
    tradeId,
    ingestTime: at,
  });
  const acc = newAcc('BTC-USDT', '1s', at, trade('10', 2), 0, -Infinity);
  addTick(acc, trade('9', 1), 1, -Infinity);
  addTick(acc, trade('11', 3), 2, -Infinity);
  t.equal(acc.open, 1, 'trade 9 opens');
  t.equal(acc.close, 3, 'trade 11 closes');
});

t.test('late ticks are rejected with TE_LATE_TICK and excluded from bars', async (t) => {
  const all = ticks(3000, 9);
  // Make every 100th tick 5 s late relative to the feed.
  for (let k = 100; k < all.length; k += 100) all[k] = { ...all[k]!, eventTime: all[k]!.eventTime - 5_000_000 };
  const s = schema('tick');
  const packed = packBatch(
    all.map((x) => encode(s, x)),
    all.map((_, k) => k),
  );
  const res = preAggregate({ ...packed, interval: base, watermark: -Infinity, maxOutOfOrder: 1_000_000, allowedLateness: 0, origin: 0 });
  const expected = offlineBars(
    all.map((x, k) => ({ ...x, partition: 0, offset: k })),
    { intervals, maxOutOfOrder: 1_000_000 },
  );
  const lateIdx = res.rejects.filter((r) => r.code === 'TE_LATE_TICK').map((r) => r.index);
  t.ok(lateIdx.length > 10, `${lateIdx.length} late ticks`);
  t.same(
    lateIdx,
    expected.late.map((x) => x.offset),
    'the same ticks are late as offline',
  );
  t.equal(res.accepted, all.length - lateIdx.length);
});

t.test('malformed and implausible records are rejected with a code, others still counted', async (t) => {
  const s = schema('tick');
  const good: Tick = { venue: 'V', symbol: 'A', eventTime: 1_704_067_200_000_000, price: 10, size: 1, side: 'BUY', tradeId: '1', ingestTime: 0 };
  const values = [
    encode(s, good),
    Buffer.from('not avro at all'),
    null,
    encode(s, { ...good, price: -1, tradeId: '2' }),
    encode(s, { ...good, eventTime: 1_704_067_200, tradeId: '3' }), // seconds, not µs
    Buffer.concat([encode(s, good), Buffer.from([1, 2])]),
    encode(s, good).subarray(0, 12),
  ];
  const res = preAggregate({
    ...packBatch(
      values,
      values.map((_, k) => k),
    ),
    interval: base,
    watermark: -Infinity,
    maxOutOfOrder: 0,
    allowedLateness: 0,
    origin: 0,
  });
  t.same(
    res.rejects.map((r) => [r.index, r.code]),
    [
      [1, 'TE_DECODE'],
      [2, 'TE_DECODE'],
      [3, 'TE_INVALID_TICK'],
      [4, 'TE_INVALID_TICK'],
      [5, 'TE_DECODE'],
      [6, 'TE_DECODE'],
    ],
  );
  t.equal(res.accepted, 1);
  for (const r of res.rejects) t.ok(r.reason.length > 5, `reason given: ${r.reason}`);
});

t.test('a trade added before its id is known (addTickIdLater) gives the bar addTick gives', async (t) => {
  const prng = new Prng(21);
  for (let round = 0; round < 200; round++) {
    // Few distinct times, so ties with the first and last trade are common.
    const trades = Array.from({ length: 30 }, (_, i) => ({
      eventTime: 1_700_000_000_000_000 + prng.int(8),
      tradeId: String(prng.int(1000)).padStart(4, '0'),
      price: 100 + prng.int(50) / 4,
      size: 1 + prng.int(9) / 8,
      side: prng.int(2) ? 'BUY' : 'SELL',
      offset: i,
    }));
    const direct = newAcc('X', '1s', 0, trades[0]!, 0, -Infinity);
    const deferred = newAcc('X', '1s', 0, trades[0]!, 0, -Infinity);
    let owedId: string | undefined; // the id the deferred bar's closeId still lacks
    let usedLater = 0;
    for (const tr of trades.slice(1)) {
      addTick(direct, tr, tr.offset, -Infinity);
      if (needsTradeId(deferred, tr.eventTime)) {
        if (owedId !== undefined) deferred.closeId = owedId;
        owedId = undefined;
        addTick(deferred, tr, tr.offset, -Infinity);
      } else {
        usedLater++;
        if (addTickIdLater(deferred, { ...tr, tradeId: 'never read' }, tr.offset, -Infinity)) owedId = tr.tradeId;
      }
    }
    if (owedId !== undefined) deferred.closeId = owedId;
    if (usedLater === 0 || JSON.stringify(deferred) !== JSON.stringify(direct)) {
      t.same(deferred, direct, `round ${round}: same bar (${usedLater} trades added before their id)`);
      if (usedLater === 0) t.fail(`round ${round} never took the deferred path`);
      return;
    }
  }
  t.pass('200 rounds of 30 trades with many time ties: identical bars, ids included');
});
