// Sequencing venues whose trade ids give no order (Bybit's UUIDs, Kraken v1's made-up ids): duplicates only, by a
// window of recent ids per symbol. Checked against a reference model written from the rule (the ids seen lately, at
// most maxIds of them, each remembered windowMs after its last sighting): no duplicate within the window is released,
// and nothing is dropped that is not one.
import fc from 'fast-check';
import t from 'tap';
import { RecentIds } from '../../../src/ingest/feeds/recent-ids.js';
import { TradeSequencer, type SequencingLimits } from '../../../src/ingest/feeds/trade-sequencer.js';
import type { VenueTrade } from '../../../src/ingest/venues/venue-adapter.js';
import { feedDuplicates } from '../../../src/metrics.js';
import { ManualTimers } from '../../helpers/manual-timers.js';

const RUNS = Number(process.env.TE_SEQUENCER_RUNS ?? 300);
const SEED = process.env.TE_SEQUENCER_SEED === undefined ? {} : { seed: Number(process.env.TE_SEQUENCER_SEED) };

const trade = (venueSymbol: string, id: string): VenueTrade => ({
  venueSymbol,
  snapshot: false,
  tick: { venue: 'BYBIT', symbol: venueSymbol, eventTime: 1_700_000_000_000_000, price: 1, size: 1, side: 'SELL', tradeId: id, ingestTime: 0 },
});

/** The rule, written plainly: a duplicate is an id among the maxIds most recently seen ids, last seen within the window. */
function reference(arrivals: readonly { symbol: string; id: string; at: number }[], windowMs: number, maxIds: number): boolean[] {
  const seen = new Map<string, { id: string; at: number; order: number }[]>();
  return arrivals.map(({ symbol, id, at }, order) => {
    const list = seen.get(symbol) ?? [];
    const recent = [...list].sort((a, b) => b.order - a.order).slice(0, maxIds);
    const previous = recent.find((x) => x.id === id);
    const duplicate = previous !== undefined && previous.at > at - windowMs;
    seen.set(symbol, [...list.filter((x) => x.id !== id), { id, at, order }]);
    return duplicate;
  });
}

let runNo = 0;

t.test('against the reference: dropped exactly the duplicates within the window (and the count bound)', async (t) => {
  let dups = 0;
  let forgotten = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        ids: fc.array(fc.uuid(), { minLength: 1, maxLength: 30 }),
        picks: fc.array(fc.tuple(fc.nat(), fc.nat(2), fc.integer({ min: 0, max: 4000 })), { minLength: 1, maxLength: 150 }),
        windowMs: fc.integer({ min: 0, max: 20_000 }),
        maxIds: fc.oneof(fc.constant(20_000), fc.integer({ min: 1, max: 12 })),
        frame: fc.integer({ min: 1, max: 5 }),
      }),
      async ({ ids, picks, windowMs, maxIds, frame }) => {
        const timers = new ManualTimers();
        const venue = `B${++runNo}`;
        const limits: SequencingLimits = {
          gapWaitMs: 0,
          maxHoldMs: 1,
          maxHeldTrades: 1,
          fillAttempts: 1,
          fillRetryMaxMs: 1,
          dedupeWindowMs: windowMs,
          dedupeMaxIds: maxIds,
        };
        const released: VenueTrade[] = [];
        const seq = new TradeSequencer({ venue, order: 'unordered', limits, timers, onRelease: (x) => released.push(...x) });
        // A stream of ids: mostly new ones in order, with repeats of recent ones (a reconnect's overlap) and of old ones.
        const arrivals: { symbol: string; id: string; at: number }[] = [];
        let at = timers.now();
        picks.forEach(([p, s, dt], i) => {
          at += i % frame === 0 ? dt : 0;
          const n = Math.min(ids.length, 1 + Math.floor(i / 3));
          arrivals.push({ symbol: `S${s}`, id: ids[p % n]!, at });
        });
        const expected = reference(arrivals, windowMs, maxIds);
        for (let i = 0; i < arrivals.length; i += frame) {
          const group = arrivals.slice(i, i + frame);
          await timers.advance(group[0]!.at - timers.now());
          seq.push(group.map((a) => trade(a.symbol, a.id)));
        }
        const want = arrivals.filter((_, i) => !expected[i]).map((a) => `${a.symbol}#${a.id}`);
        t.same(
          released.map((x) => `${x.venueSymbol}#${x.tick.tradeId}`),
          want,
        );
        const counted = (await feedDuplicates.get()).values.filter((v) => v.labels.venue === venue).reduce((n, v) => n + v.value, 0);
        if (counted !== arrivals.length - want.length) throw new Error(`duplicates metric ${counted}, dropped ${arrivals.length - want.length}`);
        dups += arrivals.length - want.length;
        // Repeats released because the window or the bound had forgotten them: the generator reaches that path too.
        const firstSeen = new Set<string>();
        arrivals.forEach((a, i) => {
          const k = `${a.symbol}#${a.id}`;
          if (firstSeen.has(k) && !expected[i]) forgotten++;
          firstSeen.add(k);
        });
      },
    ),
    { numRuns: RUNS, ...SEED },
  );
  t.ok(dups > RUNS && forgotten > RUNS / 10, `${dups} duplicates dropped, ${forgotten} repeats past the window or the bound released`);
});

t.test('a reconnect overlap of a few seconds is caught whole; the bound keeps memory fixed', async (t) => {
  const timers = new ManualTimers();
  const released: string[] = [];
  const limits: SequencingLimits = {
    gapWaitMs: 0,
    maxHoldMs: 1,
    maxHeldTrades: 1,
    fillAttempts: 1,
    fillRetryMaxMs: 1,
    dedupeWindowMs: 60_000,
    dedupeMaxIds: 20_000,
  };
  const seq = new TradeSequencer({
    venue: `B${++runNo}`,
    order: 'unordered',
    limits,
    timers,
    onRelease: (x) => released.push(...x.map((y) => y.tick.tradeId)),
  });
  const ids = Array.from({ length: 500 }, (_, i) => `id-${i}`);
  for (let i = 0; i < 400; i += 10) {
    seq.push(ids.slice(i, i + 10).map((id) => trade('BTCUSDT', id)));
    await timers.advance(50);
  }
  // The new connection re-sends the last 2 s of trades (40 frames of 50 ms = 2 s) before the new ones.
  seq.push(ids.slice(360, 500).map((id) => trade('BTCUSDT', id)));
  t.same(released, ids, 'each once');

  const r = new RecentIds(60_000, 3);
  t.equal(r.seen('a', 0), false);
  t.equal(r.seen('b', 1), false);
  t.equal(r.seen('a', 2), true, 'a seen again moves to the newest');
  t.equal(r.seen('c', 3), false);
  t.equal(r.seen('d', 4), false, 'four ids: the least recently seen (b) is forgotten');
  t.equal(r.size, 3);
  t.equal(r.seen('a', 5), true);
  t.equal(r.seen('b', 6), false, 'b was forgotten (and now c, the least recent, goes)');
  t.equal(r.seen('a', 60_004), true, 'a last seen at 5: within the 60 s window');
  t.equal(r.seen('z', 60_007), false);
  t.equal(r.size, 2, 'd and b, last seen 60 s ago or more, forgotten: a and z left');
});
