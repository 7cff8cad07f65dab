// Trade sequencing of venues that number trades consecutively, against the true list of trades: arrival streams made
// from it with duplicates, small reorders, dropped ranges, reconnect overlaps and snapshot re-sends, across several
// symbols; a fake venue history answering from the true list (failing, partial, or lacking some trades). What leaves
// must be the true list exactly once, in id order, when every gap can be filled; otherwise the true list minus
// exactly the ranges reported lost, each reported once. Then the rules one case at a time.
import fc from 'fast-check';
import t from 'tap';
import type { FeedEvent, GapReason } from '../../../src/contracts/feed-event.js';
import type { GapFiller } from '../../../src/ingest/feeds/gap-filler.js';
import { loadConfig } from '../../../src/config.js';
import { TradeSequencer, sequencingLimits, type SequencingLimits } from '../../../src/ingest/feeds/trade-sequencer.js';
import { TRADE_ID_ORDER } from '../../../src/ingest/feeds/trade-id-order.js';
import type { VenueTrade } from '../../../src/ingest/venues/venue-adapter.js';
import { feedDuplicates, feedGapsFilled, feedGapsFound, feedGapsUnfilled, feedPossibleGaps, feedTradesHeld, feedTradesLost } from '../../../src/metrics.js';
import { ManualTimers } from '../../helpers/manual-timers.js';

const RUNS = Number(process.env.TE_SEQUENCER_RUNS ?? 300);
/**
 * Fixed by default: with a fresh seed per run, 1 run in a few drew no HOLD_TIMEOUT among its 300 tight cases and the
 * coverage check below failed. TE_SEQUENCER_SEED explores others (fast-check prints a failing run's seed).
 */
const SEED = { seed: Number(process.env.TE_SEQUENCER_SEED ?? 20261202) };

const LIMITS: SequencingLimits = {
  gapWaitMs: 250,
  maxHoldMs: 60_000,
  maxHeldTrades: 1_000_000,
  fillAttempts: 3,
  fillRetryMaxMs: 2000,
  dedupeWindowMs: 60_000,
  dedupeMaxIds: 20_000,
};

// ------------------------------------------------------------------------------------------------ the true list

interface TrueTrade {
  trade: VenueTrade;
  first: bigint;
  last: bigint;
}

function trueTrades(venueSymbol: string, base: bigint, spans: readonly number[]): TrueTrade[] {
  let next = base;
  return spans.map((span, i) => {
    const first = next;
    const last = first + BigInt(span) - 1n;
    next = last + 1n;
    return {
      first,
      last,
      trade: {
        venueSymbol,
        snapshot: false,
        ...(span > 1 ? { idSpan: span } : {}),
        tick: {
          venue: 'TEST',
          symbol: venueSymbol,
          eventTime: 1_700_000_000_000_000 + i,
          price: 100 + i,
          size: 1,
          side: 'BUY',
          tradeId: String(last),
          ingestTime: 0,
        },
      },
    };
  });
}

const key = (trade: VenueTrade) => `${trade.venueSymbol}#${trade.tick.tradeId}`;

// ------------------------------------------------------------------------------------------------ arrival streams

/** One connection's worth of a symbol's trades: after a gap (skip), re-sending some earlier ones (overlap). */
const segmentArb = fc.record({
  skip: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 6 }) }),
  length: fc.integer({ min: 1, max: 25 }),
  overlap: fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 6 }) }),
  snapshot: fc.boolean(),
  /** Swaps of a trade with one 1-3 places later (reordered delivery). */
  swaps: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 3 })), { maxLength: 3 }),
  /** A trade sent again 0-4 places later. */
  dups: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 4 })), { maxLength: 3 }),
});
type Segment = typeof segmentArb extends fc.Arbitrary<infer S> ? S : never;

const symbolArb = fc.record({
  base: fc.oneof(fc.bigInt({ min: 0n, max: 1_000_000n }), fc.constant(2n ** 53n - 3n), fc.bigInt({ min: 2n ** 60n, max: 2n ** 61n })),
  spans: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 90, size: 'medium' }),
  /** OKX-like: one trade may stand for 1-3 consecutive ids. */
  aggregated: fc.boolean(),
  segments: fc.array(segmentArb, { minLength: 1, maxLength: 10, size: 'medium' }),
  /** A resume point: undefined = none (the first arrival starts the sequence); -1 = just before the first trade. */
  resume: fc.option(fc.integer({ min: -1, max: 60 }), { nil: undefined }),
});
type SymbolPlan = typeof symbolArb extends fc.Arbitrary<infer S> ? S : never;

function arrivals(list: readonly TrueTrade[], segments: readonly Segment[]): TrueTrade[] {
  const out: TrueTrade[] = [];
  let pos = 0;
  for (const seg of segments) {
    pos += seg.skip;
    if (pos >= list.length) break;
    const start = Math.max(0, pos - seg.overlap);
    const end = Math.min(list.length, pos + seg.length);
    const items = list.slice(start, end).map((x, i) => (seg.snapshot && start + i < pos ? { ...x, trade: { ...x.trade, snapshot: true } } : x));
    for (const [p, d] of seg.swaps) {
      const i = p % items.length;
      const j = Math.min(items.length - 1, i + d);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    for (const [p, d] of seg.dups) {
      const i = p % items.length;
      items.splice(Math.min(items.length, i + 1 + d), 0, items[i]!);
    }
    out.push(...items);
    pos = end;
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ the venue's history

type FillerMode = 'complete' | 'flaky' | 'partial' | 'lacking' | 'none' | 'broken';

interface FakeHistory {
  filler: GapFiller | undefined;
  /** Ids the history never gives. */
  lacks(id: bigint): boolean;
  calls: number;
}

/**
 * Answers from the true lists after `latency` ms. 'flaky' fails, per symbol, every call but each `attempts`-th
 * (so never `attempts` in a row); 'partial' gives a non-empty random part of what it has; 'lacking' never gives the
 * ids in `lacking`; 'broken' always fails; 'none' is no history at all.
 */
function fakeHistory(
  lists: ReadonlyMap<string, readonly TrueTrade[]>,
  mode: FillerMode,
  opts: { timers: ManualTimers; latency: readonly number[]; attempts: number; lacking: ReadonlySet<bigint>; seed: number },
): FakeHistory {
  let rnd = opts.seed >>> 0 || 1;
  const random = () => (rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const perSymbol = new Map<string, number>();
  const h: FakeHistory = {
    filler: undefined,
    lacks: (id) => mode === 'none' || mode === 'broken' || (mode === 'lacking' && opts.lacking.has(id)),
    calls: 0,
  };
  if (mode === 'none') return h;
  h.filler = {
    fill: (venueSymbol, fromId, toId) => {
      const n = h.calls++;
      const k = perSymbol.get(venueSymbol) ?? 0;
      perSymbol.set(venueSymbol, k + 1);
      const from = BigInt(fromId);
      const to = BigInt(toId);
      let answer = (lists.get(venueSymbol) ?? []).filter((x) => x.first >= from && x.last <= to && ![...ids(x)].some(h.lacks));
      const fail = mode === 'broken' || (mode === 'flaky' && k % opts.attempts !== opts.attempts - 1);
      if (mode === 'partial' && answer.length > 1) {
        const part = answer.filter(() => random() < 0.5);
        answer = part.length > 0 ? part : [answer[Math.floor(random() * answer.length)]!];
      }
      if (random() < 0.5) answer = [...answer].reverse();
      const trades = answer.map((x) => ({ ...x.trade, snapshot: true }));
      return new Promise((resolve, reject) =>
        opts.timers.after(opts.latency[n % opts.latency.length]!, () => (fail ? reject(new Error('HTTP 503')) : resolve(trades))),
      );
    },
  };
  return h;
}

function* ids(x: { first: bigint; last: bigint }): Generator<bigint> {
  for (let id = x.first; id <= x.last; id++) yield id;
}

// ------------------------------------------------------------------------------------------------ one run

let runNo = 0;

async function run(
  plans: readonly SymbolPlan[],
  opts: {
    mode: FillerMode;
    limits: SequencingLimits;
    picks: readonly number[];
    frameSizes: readonly number[];
    delays: readonly number[];
    latency: readonly number[];
    lackEvery: number;
    seed: number;
  },
) {
  const timers = new ManualTimers();
  const lists = new Map<string, TrueTrade[]>();
  const streams: TrueTrade[][] = [];
  const resumeAfter = new Map<string, string>();
  plans.forEach((plan, s) => {
    const venueSymbol = `S${s}-USD`;
    const list = trueTrades(
      venueSymbol,
      plan.base,
      plan.spans.map((x) => (plan.aggregated ? x : 1)),
    );
    lists.set(venueSymbol, list);
    streams.push(arrivals(list, plan.segments));
    // Resume just before the first trade (when there is an id before it), or after one of them.
    if (plan.resume !== undefined && (plan.resume >= 0 || list[0]!.first > 0n))
      resumeAfter.set(venueSymbol, String(plan.resume < 0 ? list[0]!.first - 1n : list[Math.min(plan.resume, list.length - 1)]!.last));
  });
  // Ids the history lacks ('lacking'): one in `lackEvery`.
  const lacking = new Set(
    [...lists.values()].flatMap((l) => l.flatMap((x) => [...ids(x)])).filter((id) => (id + BigInt(opts.seed)) % BigInt(opts.lackEvery) === 0n),
  );
  const history = fakeHistory(lists, opts.mode, { timers, latency: opts.latency, attempts: opts.limits.fillAttempts, lacking, seed: opts.seed });

  const venue = `T${++runNo}`;
  const released = new Map<string, VenueTrade[]>();
  const events: FeedEvent[] = [];
  const sequencer = new TradeSequencer({
    venue,
    order: 'contiguous',
    limits: opts.limits,
    timers,
    resumeAfter,
    ...(history.filler ? { filler: history.filler } : {}),
    random: () => 0.5,
    onRelease: (trades) => {
      for (const trade of trades) {
        const list = released.get(trade.venueSymbol) ?? [];
        list.push(trade);
        released.set(trade.venueSymbol, list);
      }
    },
    onEvent: (e) => events.push(e),
  });

  // Interleave the symbols' streams, cut into frames, with time passing between frames.
  const merged: TrueTrade[] = [];
  const cursors = streams.map(() => 0);
  const total = streams.reduce((n, stream) => n + stream.length, 0);
  for (let p = 0; merged.length < total; p++) {
    const open = streams.map((s, i) => i).filter((i) => cursors[i]! < streams[i]!.length);
    const i = open[opts.picks[p % opts.picks.length]! % open.length]!;
    merged.push(streams[i]![cursors[i]!++]!);
  }
  for (let at = 0, f = 0; at < merged.length; f++) {
    const size = opts.frameSizes[f % opts.frameSizes.length]!;
    sequencer.push(merged.slice(at, at + size).map((x) => x.trade));
    at += size;
    await timers.advance(opts.delays[f % opts.delays.length]!);
  }
  await timers.advance(10 * opts.limits.maxHoldMs);

  // What should have left, per symbol: from the start (resume point, or the first arrival) to the last id that arrived.
  const expected = new Map<string, { trades: TrueTrade[]; neverArrived: Set<bigint> }>();
  plans.forEach((_, s) => {
    const venueSymbol = `S${s}-USD`;
    const list = lists.get(venueSymbol)!;
    const stream = streams[s]!;
    if (stream.length === 0) return;
    const resume = resumeAfter.get(venueSymbol);
    const start = resume !== undefined ? BigInt(resume) + 1n : stream[0]!.first;
    const end = stream.reduce((m, x) => (x.last > m ? x.last : m), -1n);
    const arrived = new Set(stream.map((x) => x.last));
    const trades = list.filter((x) => x.first >= start && x.last <= end);
    expected.set(venueSymbol, { trades, neverArrived: new Set(trades.filter((x) => !arrived.has(x.last)).flatMap((x) => [...ids(x)])) });
  });
  return { released, events, venue, sequencer, expected, history, timers };
}
type RunResult = Awaited<ReturnType<typeof run>>;

/** The checks that hold whatever the filler does and however tight the limits; the ids reported lost, per symbol. */
async function checkInvariants(r: RunResult): Promise<Map<string, Set<bigint>>> {
  const lost = new Map<string, Set<bigint>>();
  const ranges = new Map<string, [bigint, bigint][]>();
  for (const e of r.events) {
    if (e.kind !== 'GAP_UNFILLED') continue;
    const set = lost.get(e.venueSymbol) ?? new Set<bigint>();
    for (let id = BigInt(e.fromId); id <= BigInt(e.toId); id++) {
      if (set.has(id)) throw new Error(`${e.venueSymbol} id ${id} reported lost twice`);
      set.add(id);
    }
    lost.set(e.venueSymbol, set);
    ranges.set(e.venueSymbol, [...(ranges.get(e.venueSymbol) ?? []), [BigInt(e.fromId), BigInt(e.toId)]]);
  }
  for (const [venueSymbol, rs] of ranges) {
    rs.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    for (let i = 1; i < rs.length; i++) if (rs[i]![0] <= rs[i - 1]![1] + 1n) throw new Error(`${venueSymbol}: lost ranges touch or overlap at ${rs[i]![0]}`);
  }
  for (const [venueSymbol, { trades }] of r.expected) {
    const out = r.released.get(venueSymbol) ?? [];
    const seen = new Set<string>();
    let prev = -1n;
    for (const trade of out) {
      if (seen.has(key(trade))) throw new Error(`${key(trade)} released twice`);
      seen.add(key(trade));
      const last = BigInt(trade.tick.tradeId);
      if (last <= prev) throw new Error(`${venueSymbol}: ${last} released after ${prev}`);
      prev = last;
    }
    // Released ∪ lost = every expected id, disjointly, and nothing else; a lost range never cuts a trade.
    const lostIds = lost.get(venueSymbol) ?? new Set<bigint>();
    for (const x of trades) {
      const n = [...ids(x)].filter((id) => lostIds.has(id)).length;
      if (n !== 0 && n !== Number(x.last - x.first + 1n)) throw new Error(`${venueSymbol}: a lost range cuts trade ${x.trade.tick.tradeId}`);
    }
    const want = trades.filter((x) => !lostIds.has(x.last));
    if (JSON.stringify(out.map(key)) !== JSON.stringify(want.map((x) => key(x.trade))))
      throw new Error(`${venueSymbol}: released ${out.map((x) => x.tick.tradeId).join(',')}, expected ${want.map((x) => x.trade.tick.tradeId).join(',')}`);
    const expectedIds = new Set(trades.flatMap((x) => [...ids(x)]));
    for (const id of lostIds) if (!expectedIds.has(id)) throw new Error(`${venueSymbol}: lost id ${id} is outside what could be released`);
  }
  for (const venueSymbol of lost.keys()) if (!r.expected.has(venueSymbol)) throw new Error(`${venueSymbol}: lost ids of a symbol that never arrived`);
  // The metrics say what the events say.
  const m = await feedMetrics(r.venue);
  const unfilled = r.events.filter((e) => e.kind === 'GAP_UNFILLED');
  if (m.held !== 0) throw new Error(`${m.held} trades still held at the end`);
  if (m.unfilled !== unfilled.length) throw new Error(`gaps_unfilled ${m.unfilled} ≠ ${unfilled.length} GAP_UNFILLED events`);
  if (m.filled !== r.events.length - unfilled.length) throw new Error(`gaps_filled ${m.filled} ≠ GAP_FILLED events`);
  if (m.lost !== [...lost.values()].reduce((n, set) => n + set.size, 0)) throw new Error('trades_lost ≠ the ids of GAP_UNFILLED events');
  if (m.found < m.filled) throw new Error('fewer gaps found than filled');
  return lost;
}

/** The feed metrics of one venue label, summed over symbols and reasons. */
/** The value of a counter for exactly these labels (0 when it has none). */
async function metricValue(
  metric: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> },
  labels: Record<string, string>,
): Promise<number> {
  const v = (await metric.get()).values.find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l));
  return v?.value ?? 0;
}

async function feedMetrics(venue: string) {
  const sum = async (metric: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> }) =>
    (await metric.get()).values.filter((v) => v.labels.venue === venue).reduce((n, v) => n + v.value, 0);
  return {
    duplicates: await sum(feedDuplicates),
    found: await sum(feedGapsFound),
    filled: await sum(feedGapsFilled),
    unfilled: await sum(feedGapsUnfilled),
    lost: await sum(feedTradesLost),
    held: await sum(feedTradesHeld),
  };
}

const runArgs = (modes: readonly FillerMode[], limits: fc.Arbitrary<SequencingLimits>) =>
  fc.record({
    plans: fc.array(symbolArb, { minLength: 1, maxLength: 3 }),
    mode: fc.constantFrom(...modes),
    limits,
    picks: fc.array(fc.nat(), { minLength: 1, maxLength: 20 }),
    frameSizes: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 5 }),
    delays: fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 8 }),
    latency: fc.array(fc.integer({ min: 0, max: 80 }), { minLength: 1, maxLength: 4 }),
    lackEvery: fc.integer({ min: 2, max: 5 }),
    seed: fc.nat(),
  });

// ------------------------------------------------------------------------------------------------ the properties

t.test('every gap fillable: the true list exactly once, in id order, nothing reported lost', async (t) => {
  let filled = 0;
  await fc.assert(
    fc.asyncProperty(runArgs(['complete', 'flaky', 'partial'], fc.constant(LIMITS)), async (args) => {
      const r = await run(args.plans, args);
      const lost = await checkInvariants(r);
      if (lost.size > 0) throw new Error(`lost ${[...lost].map(([s, ids]) => `${s}: ${[...ids].join(',')}`).join('; ')} with a ${args.mode} history`);
      if (r.events.some((e) => e.kind !== 'GAP_FILLED')) throw new Error('an event other than GAP_FILLED');
      if ((await feedMetrics(r.venue)).found !== r.events.length) throw new Error('a gap found but not filled');
      filled += r.events.length;
    }),
    { numRuns: RUNS, ...SEED },
  );
  t.ok(filled > RUNS / 2, `${filled} gaps filled from the history (the generator reaches the path)`);
});

t.test('gaps the history cannot fill: released = true list minus exactly the ranges reported lost, for the right reason', async (t) => {
  const reasons: Record<string, GapReason> = { lacking: 'FILL_INCOMPLETE', none: 'NO_HISTORY', broken: 'FILL_FAILED' };
  let lostSome = 0;
  const seen = new Set<string>();
  await fc.assert(
    fc.asyncProperty(runArgs(['lacking', 'none', 'broken'], fc.constant(LIMITS)), async (args) => {
      const r = await run(args.plans, args);
      const lost = await checkInvariants(r);
      for (const e of r.events) {
        if (e.kind === 'GAP_UNFILLED' && e.reason !== reasons[args.mode]) throw new Error(`${args.mode} history: reason ${e.reason}`);
        if (e.reason) seen.add(e.reason);
      }
      for (const [venueSymbol, { trades, neverArrived }] of r.expected) {
        const lostIds = lost.get(venueSymbol) ?? new Set<bigint>();
        // Lost only trades the history lacks; and every trade it lacks that the feed never delivered is lost.
        for (const x of trades) {
          const lacks = [...ids(x)].some((id) => r.history.lacks(id));
          if (lostIds.has(x.last) && !lacks) throw new Error(`${venueSymbol}: trade ${x.last} lost though the history has it`);
          if (neverArrived.has(x.last) && lacks && !lostIds.has(x.last)) throw new Error(`${venueSymbol}: trade ${x.last} neither released nor reported`);
        }
        if (lostIds.size > 0) lostSome++;
      }
    }),
    { numRuns: RUNS, ...SEED },
  );
  t.ok(lostSome > RUNS / 10, `${lostSome} symbols lost trades (the generator reaches the path)`);
  t.same([...seen].sort(), ['FILL_FAILED', 'FILL_INCOMPLETE', 'NO_HISTORY'], 'each kind of history gave its reason');
});

t.test('tight limits (few held trades, short holds, slow history): still each trade at most once, in order, and the rest reported', async (t) => {
  const tight = fc.record({
    gapWaitMs: fc.integer({ min: 0, max: 300 }),
    maxHoldMs: fc.integer({ min: 400, max: 6000 }),
    maxHeldTrades: fc.integer({ min: 1, max: 6 }),
    fillAttempts: fc.integer({ min: 1, max: 4 }),
    fillRetryMaxMs: fc.constant(2000),
    dedupeWindowMs: fc.constant(60_000),
    dedupeMaxIds: fc.constant(20_000),
  });
  const reasons = new Set<string>();
  await fc.assert(
    fc.asyncProperty(runArgs(['complete', 'flaky', 'partial', 'lacking', 'none', 'broken'], tight), fc.constantFrom(1, 20), async (args, slow) => {
      const r = await run(args.plans, { ...args, latency: args.latency.map((l) => l * slow) });
      await checkInvariants(r);
      for (const e of r.events) if (e.reason) reasons.add(e.reason);
    }),
    { numRuns: RUNS, ...SEED },
  );
  t.ok(reasons.has('HOLD_FULL') && reasons.has('HOLD_TIMEOUT'), `the bounds were reached: ${[...reasons].sort().join(', ')}`);
});

// ------------------------------------------------------------------------------------------------ the rules, case by case

function trade(venueSymbol: string, id: number | string, span = 1): VenueTrade {
  return {
    venueSymbol,
    snapshot: false,
    ...(span > 1 ? { idSpan: span } : {}),
    tick: { venue: 'TEST', symbol: venueSymbol, eventTime: 1_700_000_000_000_000, price: 1, size: 1, side: 'BUY', tradeId: String(id), ingestTime: 0 },
  };
}

interface HistoryOptions {
  /** Ids it does not have. */
  lacking?: number[];
  latency?: number;
  /** The first `fail` calls throw. */
  fail?: number;
  /** Never answers. */
  hang?: boolean;
}

/**
 * A sequencer over a manual clock, with what it released, reported and logged; with `history`, a venue history of
 * every id (but `lacking`) that answers after `latency` ms.
 */
function harness(opts: { history?: HistoryOptions; limits?: Partial<SequencingLimits>; resumeAfter?: Map<string, string> } = {}) {
  const timers = new ManualTimers();
  const venue = `U${++runNo}`;
  const released: string[] = [];
  /** Each released trade's tick.sequence: [id, first, lostIds, lostSince]. */
  const sequences: [string, boolean, number, number][] = [];
  const events: FeedEvent[] = [];
  const logs: unknown[][] = [];
  const calls: [string, string][] = [];
  let failures = opts.history?.fail ?? 0;
  const h = opts.history;
  const filler: GapFiller | undefined = h && {
    fill: (venueSymbol, fromId, toId) => {
      calls.push([fromId, toId]);
      if (h.hang) return new Promise(() => undefined);
      const out: VenueTrade[] = [];
      for (let id = Number(fromId); id <= Number(toId); id++) if (!h.lacking?.includes(id)) out.push({ ...trade(venueSymbol, id), snapshot: true });
      const fail = failures-- > 0;
      return new Promise((resolve, reject) => timers.after(h.latency ?? 10, () => (fail ? reject(new Error('HTTP 500')) : resolve(out))));
    },
  };
  const sequencer = new TradeSequencer({
    venue,
    order: 'contiguous',
    limits: { ...LIMITS, ...opts.limits },
    timers,
    random: () => 0.5,
    ...(filler ? { filler } : {}),
    ...(opts.resumeAfter ? { resumeAfter: opts.resumeAfter } : {}),
    onRelease: (trades) => {
      released.push(...trades.map((x) => x.tick.tradeId));
      for (const x of trades) sequences.push([x.tick.tradeId, x.tick.sequence!.first, x.tick.sequence!.lostIds, x.tick.sequence!.lostSince]);
    },
    onEvent: (e) => events.push(e),
    log: {
      info: ((...a: unknown[]) => logs.push(['info', ...a])) as never,
      warn: ((...a: unknown[]) => logs.push(['warn', ...a])) as never,
    },
  });
  /** Trades of BTC-USD by id, or [id, idSpan]. */
  const push = (...items: (number | [number, number])[]) =>
    sequencer.push(items.map((x) => (Array.isArray(x) ? trade('BTC-USD', x[0], x[1]) : trade('BTC-USD', x))));
  const gaps = () => events.map((e) => [e.kind, e.fromId, e.toId, e.reason]);
  return { timers, venue, released, sequences, events, logs, calls, sequencer, push, gaps, metrics: () => feedMetrics(venue) };
}

t.test('duplicates are dropped by id, counted; snapshot re-sends too; the first trade starts the sequence', async (t) => {
  const h = harness();
  h.push(5, 6, 6, 7);
  h.sequencer.push([
    { ...trade('BTC-USD', 6), snapshot: true },
    { ...trade('BTC-USD', 7), snapshot: true },
  ]);
  h.push(4, 8);
  t.same(h.released, ['5', '6', '7', '8'], '4 is before the start: dropped like a duplicate');
  t.equal((await h.metrics()).duplicates, 4);
  h.push(10, 12, 10, 12);
  t.same((await h.metrics()).held, 2, 'a duplicate of a held trade is not held again');
  t.equal((await h.metrics()).duplicates, 6, 'it is counted when it arrives');
  h.push(9, 11);
  t.same(h.released, ['5', '6', '7', '8', '9', '10', '11', '12']);
  t.same(h.events, []);
});

t.test('a gap waits for late trades first: a reorder costs no history request', async (t) => {
  const h = harness({ history: {} });
  h.push(1, 3);
  t.same(h.released, ['1'], '3 is held behind the hole at 2');
  t.equal((await h.metrics()).held, 1);
  await h.timers.advance(100);
  h.push(2);
  t.same(h.released, ['1', '2', '3']);
  await h.timers.advance(10_000);
  t.same(h.calls, [], 'no request');
  t.same(h.events, [], 'no event: nothing was missing');
  t.same((await h.metrics()).found, 0);
  t.equal(h.timers.pending, 0, 'no timer left');
});

t.test('a gap is filled from the history before later trades are released', async (t) => {
  const h = harness({ history: { latency: 40 } });
  h.push(10, 11, 15, 16);
  t.same(h.released, ['10', '11']);
  await h.timers.advance(249);
  t.same(h.calls, [], 'not before TE_FEED_GAP_WAIT_MS');
  await h.timers.advance(1);
  t.same(h.calls, [['12', '14']], 'asked for exactly the hole');
  h.push(17);
  t.same(h.released, ['10', '11'], 'later trades wait');
  await h.timers.advance(40);
  t.same(h.released, ['10', '11', '12', '13', '14', '15', '16', '17']);
  t.same(
    h.events.map((e) => [e.kind, e.venue, e.symbol, e.venueSymbol, e.fromId, e.toId, e.reason, e.time]),
    [['GAP_FILLED', h.venue, 'BTC-USD', 'BTC-USD', '12', '14', null, (1_700_000_000_000 + 290) * 1000]],
  );
  t.same(h.logs, [
    ['info', { venue: h.venue, symbol: 'BTC-USD', venueSymbol: 'BTC-USD', fromId: '12', toId: '14' }, 'gap in trade ids filled from the venue history'],
  ]);
  const m = await h.metrics();
  t.same([m.found, m.filled, m.unfilled, m.held], [1, 1, 0, 0]);
});

t.test('a gap the history cannot fill after its attempts is reported once, exactly, and the held trades released', async (t) => {
  const h = harness({ history: { lacking: [3, 4] } });
  h.push(1, 6, 7);
  await h.timers.advance(250);
  t.same(h.calls, [['2', '5']]);
  await h.timers.advance(10);
  t.same(h.released, ['1', '2'], '2 came from the history; 5 too, but it waits behind 3-4');
  t.same(
    h.calls,
    [
      ['2', '5'],
      ['3', '4'],
    ],
    'the remaining hole asked at once (the last answer added trades)',
  );
  // Answers without the trades (10 ms each), with backoff between: 75 ms, then 150 ms (random 0.5).
  await h.timers.advance(10 + 75);
  t.equal(h.calls.length, 3);
  t.same(h.released, ['1', '2']);
  await h.timers.advance(10 + 150);
  t.equal(h.calls.length, 4);
  t.same(h.released, ['1', '2'], 'two answers without progress so far');
  await h.timers.advance(10);
  t.equal(h.calls.length, 4, 'three attempts without progress: no more');
  t.same(h.released, ['1', '2', '5', '6', '7'], 'given up: the held trades go');
  t.same(h.gaps(), [['GAP_UNFILLED', '3', '4', 'FILL_INCOMPLETE']]);
  t.same(h.logs, [
    [
      'warn',
      { venue: h.venue, symbol: 'BTC-USD', venueSymbol: 'BTC-USD', fromId: '3', toId: '4', ids: '2', reason: 'FILL_INCOMPLETE' },
      'gap in trade ids given up: these trades are not on the ticks topic',
    ],
  ]);
  h.push(3, 4, 8);
  t.same(h.released, ['1', '2', '5', '6', '7', '8'], '3 and 4 arriving late are dropped: 5 already left');
  const m = await h.metrics();
  t.same([m.found, m.filled, m.unfilled, m.lost, m.held, m.duplicates], [1, 0, 1, 2, 0, 2]);
  const labels = (await feedGapsUnfilled.get()).values.find((v) => v.labels.venue === h.venue)!.labels;
  t.same(labels, { venue: h.venue, symbol: 'BTC-USD', reason: 'FILL_INCOMPLETE' });
});

t.test('a failing history: retried with backoff, FILL_FAILED after the attempts; one success in time fills', async (t) => {
  for (const [fail, kind] of [
    [2, 'GAP_FILLED'],
    [3, 'GAP_UNFILLED'],
  ] as const) {
    const h = harness({ history: { fail } });
    h.push(1, 4);
    await h.timers.advance(30_000);
    t.equal(h.calls.length, Math.min(fail + 1, 3), `${fail} failures: ${h.calls.length} requests`);
    t.same(h.gaps(), [[kind, '2', '3', kind === 'GAP_FILLED' ? null : 'FILL_FAILED']]);
    t.same(h.released, kind === 'GAP_FILLED' ? ['1', '2', '3', '4'] : ['1', '4']);
  }
});

t.test('trades arriving while the history is asked count as progress: a hole never asked for is never given up', async (t) => {
  const h = harness({ history: { fail: 3, latency: 50 } });
  h.push(1, 3, 5);
  // Asked for 2 at 250, 375 and 575 ms (backoff 75, 150 ms); each answer fails 50 ms later.
  await h.timers.advance(600);
  t.same(h.calls, [
    ['2', '2'],
    ['2', '2'],
    ['2', '2'],
  ]);
  h.push(2);
  t.same(h.released, ['1', '2', '3'], 'the feed delivered 2 late, during the third request');
  await h.timers.advance(1000);
  t.same(
    h.calls,
    [
      ['2', '2'],
      ['2', '2'],
      ['2', '2'],
      ['4', '4'],
    ],
    'the hole at 4 is asked for at once, with attempts of its own',
  );
  t.same(h.released, ['1', '2', '3', '4', '5']);
  t.same(h.gaps(), [
    ['GAP_FILLED', '2', '2', null],
    ['GAP_FILLED', '4', '4', null],
  ]);
});

t.test('each released tick says what is known of the trades before it (tick.sequence, tick schema version 2)', async (t) => {
  const T = 1_700_000_000_000_000;
  const at = (id: number) => ({ ...trade('BTC-USD', id), tick: { ...trade('BTC-USD', id).tick, eventTime: T + id } });
  const h = harness({ history: { lacking: [104, 105] } });
  h.sequencer.push([100, 101, 103, 106, 107].map(at));
  await h.timers.advance(10_000);
  // The history's 102 has event time T (the fake history's): 103's predecessor is then at T.
  t.same(h.released, ['100', '101', '102', '103', '106', '107'], '102 filled from the history, 104-105 given up');
  t.same(h.sequences, [
    ['100', true, 0, T + 100],
    ['101', false, 0, T + 100],
    ['102', false, 0, T + 101],
    ['103', false, 0, T],
    ['106', false, 2, T + 103],
    ['107', false, 0, T + 106],
  ]);
  // Resumed from the ticks topic: the trade before the first hole is not known (its time neither): `first`.
  const r = harness({ resumeAfter: new Map([['BTC-USD', '50']]) });
  r.sequencer.push([at(51), at(55)]);
  await r.timers.advance(1000);
  t.same(r.sequences, [
    ['51', false, 0, T + 51],
    ['55', false, 3, T + 51],
  ]);
  const q = harness({ resumeAfter: new Map([['BTC-USD', '50']]) });
  q.sequencer.push([at(60)]);
  await q.timers.advance(1000);
  t.same(q.sequences, [['60', true, 9, T + 60]], 'a hole right after a resume point: lost ids counted, how far back unknown');
});

t.test('without a history (Bybit-like venues, or none configured): reported NO_HISTORY once the wait is over', async (t) => {
  const h = harness();
  h.push(100, 103, 104, 108);
  await h.timers.advance(249);
  t.same(h.released, ['100']);
  await h.timers.advance(1);
  t.same(h.released, ['100', '103', '104', '108']);
  t.same(h.gaps(), [
    ['GAP_UNFILLED', '101', '102', 'NO_HISTORY'],
    ['GAP_UNFILLED', '105', '107', 'NO_HISTORY'],
  ]);
  const m = await h.metrics();
  t.same([m.found, m.unfilled, m.lost], [2, 2, 5]);
});

t.test(
  'a venue without id continuity (Bybit): a lost connection is reported as a possible gap between the last trade before and the first after',
  async (t) => {
    const timers = new ManualTimers();
    const venue = `U${++runNo}`;
    const released: string[] = [];
    const events: FeedEvent[] = [];
    const logs: unknown[][] = [];
    const sequencer = new TradeSequencer({
      venue,
      order: 'unordered',
      limits: LIMITS,
      timers,
      onRelease: (trades) => released.push(...trades.map((x) => `${x.venueSymbol}:${x.tick.tradeId}`)),
      onEvent: (e) => events.push(e),
      log: { info: (() => undefined) as never, warn: ((...a: unknown[]) => logs.push(a)) as never },
    });
    const at = (venueSymbol: string, id: string, eventTime: number): VenueTrade => {
      const x = trade(venueSymbol, id);
      return { ...x, tick: { ...x.tick, eventTime } };
    };
    sequencer.outage(['BTCUSDT'], 1_000); // before any trade: nothing to be continuous with
    sequencer.push([at('BTCUSDT', 'a1', 10), at('ETHUSDT', 'e1', 11)]);
    sequencer.push([at('BTCUSDT', 'a2', 20)]);
    sequencer.outage(['BTCUSDT', 'ETHUSDT', 'SOLUSDT'], 2_000);
    sequencer.outage(['BTCUSDT'], 3_000); // a second report of the same outage keeps the first time
    sequencer.push([at('BTCUSDT', 'a2', 20), at('BTCUSDT', 'a7', 70)]); // a2 again (re-sent): a duplicate, not the first after
    sequencer.push([at('BTCUSDT', 'a8', 80), at('ETHUSDT', 'e5', 50)]);
    t.same(released, ['BTCUSDT:a1', 'ETHUSDT:e1', 'BTCUSDT:a2', 'BTCUSDT:a7', 'BTCUSDT:a8', 'ETHUSDT:e5']);
    t.same(
      events.map((e) => [e.kind, e.venueSymbol, e.fromId, e.toId, e.reason, e.fromTime, e.toTime]),
      [
        ['GAP_POSSIBLE', 'BTCUSDT', 'a2', 'a7', 'NO_CONTINUITY', 20, 70],
        ['GAP_POSSIBLE', 'ETHUSDT', 'e1', 'e5', 'NO_CONTINUITY', 11, 50],
      ],
      'one event per symbol that traded before and after; none for a symbol that had not traded, none twice',
    );
    t.equal(logs.length, 2, 'a warning each');
    t.equal(await metricValue(feedPossibleGaps, { venue, symbol: 'BTCUSDT' }), 1);
    t.equal(await metricValue(feedPossibleGaps, { venue, symbol: 'ETHUSDT' }), 1);
  },
);

t.test('a contiguous venue ignores outages: its gaps are found by id', async (t) => {
  const h = harness();
  h.push(1, 2);
  h.sequencer.outage(['BTC-USD'], 1);
  h.push(3);
  t.same(h.released, ['1', '2', '3']);
  t.same(h.events, []);
});

t.test('a hold lasts at most TE_FEED_MAX_HOLD_MS: a hanging history is given up (HOLD_TIMEOUT), its late answer ignored', async (t) => {
  const h = harness({ history: { hang: true }, limits: { maxHoldMs: 5000 } });
  h.push(1, 3);
  await h.timers.advance(3000);
  h.push(5);
  await h.timers.advance(1999);
  t.same(h.released, ['1']);
  await h.timers.advance(1);
  t.same(h.released, ['1', '3'], '3 waited 5 s: the hole before it is given up; 5 has waited 2 s only');
  t.same(h.gaps(), [['GAP_UNFILLED', '2', '2', 'HOLD_TIMEOUT']]);
  await h.timers.advance(3000);
  t.same(h.released, ['1', '3', '5']);
  t.same(h.gaps(), [
    ['GAP_UNFILLED', '2', '2', 'HOLD_TIMEOUT'],
    ['GAP_UNFILLED', '4', '4', 'HOLD_TIMEOUT'],
  ]);
  t.equal(h.timers.pending, 0, 'no timer left');
});

t.test('at most TE_FEED_MAX_HELD_TRADES wait: past it the lowest hole is given up (HOLD_FULL), later holes still filled', async (t) => {
  const h = harness({ history: {}, limits: { maxHeldTrades: 3 } });
  h.push(1, 3, 4, 6);
  t.same(h.released, ['1']);
  h.push(7);
  t.same(h.released, ['1', '3', '4'], 'four held: the hole at 2 is given up');
  t.same(h.gaps(), [['GAP_UNFILLED', '2', '2', 'HOLD_FULL']]);
  await h.timers.advance(1000);
  t.same(h.released, ['1', '3', '4', '5', '6', '7'], 'the hole at 5 filled from the history');
  t.same(h.gaps(), [
    ['GAP_UNFILLED', '2', '2', 'HOLD_FULL'],
    ['GAP_FILLED', '5', '5', null],
  ]);
});

t.test('a resume point: trades up to it are on the ticks topic already; the hole after it is filled', async (t) => {
  const h = harness({ history: {}, resumeAfter: new Map([['BTC-USD', '1000']]) });
  h.push(999, 1000, 1003);
  await h.timers.advance(1000);
  t.same(h.released, ['1001', '1002', '1003']);
  t.same(h.calls, [['1001', '1002']]);
  t.same(h.sequencer.lastIds(), new Map([['BTC-USD', '1003']]), 'the resume point of the next restart');
  t.throws(() => harness({ resumeAfter: new Map([['BTC-USD', 'abc']]) }), { code: 'TE_INVALID_ARG', message: /resume point of U\d+ BTC-USD "abc"/ });
});

t.test('OKX-like aggregated trades: a trade standing for fills 5-7 follows 4 with no gap, and covers them', async (t) => {
  const h = harness();
  h.push(4, [7, 3], 8, [7, 3], 6, [10, 2]);
  t.same(h.released, ['4', '7', '8', '10'], 'ids 5-7 and 9-10 taken by aggregated trades; 6 and the repeat are duplicates');
  await h.timers.advance(10_000);
  t.same(h.events, []);
  t.equal((await h.metrics()).duplicates, 2);
});

t.test('ids past 2^53 compare exactly (BigInt), and several symbols are sequenced apart', async (t) => {
  const h = harness();
  const big = 2n ** 62n;
  h.sequencer.push([trade('A-USD', String(big)), trade('B-USD', 7), trade('A-USD', String(big + 1n)), trade('A-USD', String(big + 1n)), trade('B-USD', 8)]);
  t.same(h.released, [String(big), String(big + 1n), '7', '8'], 'released per symbol, each in order');
  t.equal((await h.metrics()).duplicates, 1);
});

t.test('a trade id that is not a decimal number: DecodeError, and nothing of the frame taken', async (t) => {
  const h = harness();
  t.throws(() => h.sequencer.push([trade('BTC-USD', 1), trade('BTC-USD', 'a1b2')]), {
    code: 'TE_DECODE',
    message: /^TEST BTC-USD trade id "a1b2" is not a decimal number/,
  });
  t.throws(() => h.push([1, 3]), { code: 'TE_DECODE', message: /stands for 3 fills/ });
  t.same(h.released, []);
  h.push(1);
  t.same(h.released, ['1']);
});

t.test('close during a backoff wait: no timer left behind', async (t) => {
  const h = harness({ history: { fail: 5 } });
  h.push(1, 3);
  await h.timers.advance(300);
  t.same(h.calls.length, 1, 'the first request failed: waiting to ask again');
  t.ok(h.timers.pending > 0);
  h.sequencer.close();
  await h.timers.advance(0);
  t.equal(h.timers.pending, 0);
  t.same(h.calls.length, 1);
});

t.test('close: held trades dropped, timers cancelled, a late history answer ignored', async (t) => {
  const h = harness({ history: { latency: 100 } });
  h.push(1, 3);
  await h.timers.advance(260);
  t.equal(h.calls.length, 1, 'a request in flight');
  h.sequencer.close();
  await h.timers.advance(100_000);
  t.same(h.released, ['1']);
  t.equal(h.timers.pending, 0);
  h.push(2);
  t.same(h.released, ['1'], 'closed: nothing more');
  t.equal((await h.metrics()).held, 0);
});

t.test('the limits from the configuration (the feed group), and which venues are sequenced by id', async (t) => {
  t.same(sequencingLimits(loadConfig({ env: {} })), {
    gapWaitMs: 250,
    maxHoldMs: 10_000,
    maxHeldTrades: 10_000,
    fillAttempts: 3,
    fillRetryMaxMs: 2000,
    dedupeWindowMs: 60_000,
    dedupeMaxIds: 20_000,
  });
  t.same(sequencingLimits(loadConfig({ env: { TE_FEED_MAX_HOLD_MS: '30000', TE_FEED_GAP_WAIT_MS: '0' } })).maxHoldMs, 30_000);
  t.same(TRADE_ID_ORDER, { BINANCE: 'contiguous', COINBASE: 'contiguous', KRAKEN: 'contiguous', OKX: 'contiguous', BYBIT: 'unordered' });
});
