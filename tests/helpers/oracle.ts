// Offline reference computation of bars, written independently of src/aggregate: BigInt bucket floors,
// sorting for open/close, and exact BigInt sums rounded once. Tests compare the engine against this.
import { BAR_FIELDS, type Bar } from '../../src/contracts/bar.js';

export interface OracleTick {
  symbol: string;
  eventTime: number;
  price: number;
  size: number;
  side: string;
  tradeId: string;
  partition: number;
  offset: number;
  /** The venue's trade-id continuity (tick schema version 2); absent or null when unknown. */
  sequence?: { first: boolean; lostIds: number; lostSince: number } | null;
}

/** A stretch of event time in which a symbol's trades may be missing, the watermark when it became known, and the offset of the tick that told. */
interface OracleLoss {
  symbol: string;
  from: number;
  to: number;
  knownAt: number;
  offset: number;
}

/** The bar contract itself; only the computation here is independent of src/aggregate. */
export type OracleBar = Bar;

/** floor(t / w) * w with BigInt: time_bucket with the epoch as origin. */
export function floorBucket(t: number, width: number): number {
  const T = BigInt(t);
  const W = BigInt(width);
  let q = T / W; // truncates toward zero
  if (T % W !== 0n && T < 0n) q -= 1n;
  return Number(q * W);
}

/** x = m * 2^e exactly, m an integer. */
function decompose(x: number): { m: bigint; e: number } {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  const hi = dv.getUint32(0);
  const lo = dv.getUint32(4);
  const sign = hi >>> 31 ? -1n : 1n;
  const expBits = (hi >>> 20) & 0x7ff;
  const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (expBits === 0x7ff) throw new RangeError('not finite');
  if (expBits === 0) return { m: sign * frac, e: -1074 };
  return { m: sign * (frac | (1n << 52n)), e: expBits - 1075 };
}

/** Exact sum of doubles, rounded once to nearest (ties to even). */
export function exactSumOracle(xs: number[]): number {
  if (xs.length === 0) return 0;
  const parts = xs.map(decompose);
  const minE = Math.min(...parts.map((p) => p.e));
  let s = 0n;
  for (const p of parts) s += p.m << BigInt(p.e - minE);
  if (s === 0n) return 0;
  const neg = s < 0n;
  let a = neg ? -s : s;
  let shift = 0;
  const bits = a.toString(2).length;
  if (bits > 53) {
    shift = bits - 53;
    const rem = a & ((1n << BigInt(shift)) - 1n);
    const half = 1n << BigInt(shift - 1);
    a >>= BigInt(shift);
    if (rem > half || (rem === half && (a & 1n) === 1n)) a += 1n;
  }
  const v = Number(a) * 2 ** (shift + minE);
  return neg ? -v : v;
}

export interface OracleOptions {
  intervals: { name: string; micros: number }[];
  maxOutOfOrder: number;
  /** µs after close during which a late tick revises its bar (default 0: every late tick is dropped). */
  allowedLateness?: number;
  /** Bucket [start, end) of t for an interval, when not fixed widths from the epoch (zoned days). */
  bucketOf?: (interval: string, t: number) => { start: number; end: number } | undefined;
  /** Also return the bars still open at the end (final: false), as in-progress bars. */
  includeOpen?: boolean;
  /** 'flat': after a symbol's first bar, every closed bucket without trades gets a bar at the previous close. */
  emptyBars?: 'skip' | 'flat';
}

export interface OracleResult {
  /** Bars whose bucket ended at or before their partition's final watermark. */
  finalBars: OracleBar[];
  /** Ticks dropped as late (smallest-interval bucket closed longer than the allowed lateness at arrival). */
  late: OracleTick[];
  /** Ticks accepted late, as revisions. */
  revised: OracleTick[];
  watermarks: Map<number, number>;
  /** Closed bars a gap reported after their close (within the allowed lateness) made incomplete, with a revision. */
  gapRevised: number;
}

/** Ticks in per-partition offset order, as the aggregator sees them. */
export function offlineBars(ticks: OracleTick[], opts: OracleOptions): OracleResult {
  const base = opts.intervals[0]!.micros;
  const byPartition = new Map<number, OracleTick[]>();
  for (const t of ticks) {
    const list = byPartition.get(t.partition) ?? [];
    list.push(t);
    byPartition.set(t.partition, list);
  }
  const lateness = opts.allowedLateness ?? 0;
  const accepted: OracleTick[] = [];
  const late: OracleTick[] = [];
  const revised: OracleTick[] = [];
  /** For ticks accepted late: the watermark when they arrived. */
  const arrivedAt = new Map<OracleTick, number>();
  const watermarks = new Map<number, number>();
  const losses: OracleLoss[] = [];
  for (const [p, list] of byPartition) {
    list.sort((a, b) => a.offset - b.offset);
    let wm = -Infinity;
    for (const t of list) {
      const q = t.sequence;
      if (q && (q.first || q.lostIds > 0))
        losses.push({ symbol: t.symbol, from: q.first ? -Infinity : Math.min(q.lostSince, t.eventTime), to: t.eventTime, knownAt: wm, offset: t.offset });
      const baseEnd = floorBucket(t.eventTime, base) + base;
      if (baseEnd <= wm) {
        if (baseEnd + lateness > wm) {
          revised.push(t);
          arrivedAt.set(t, wm);
          accepted.push(t);
        } else late.push(t);
        continue;
      }
      wm = Math.max(wm, t.eventTime - opts.maxOutOfOrder);
      accepted.push(t);
    }
    watermarks.set(p, wm);
  }
  const groups = new Map<string, { iv: { name: string; micros: number }; start: number; end: number; ticks: OracleTick[] }>();
  for (const t of accepted) {
    for (const iv of opts.intervals) {
      const custom = opts.bucketOf?.(iv.name, t.eventTime);
      const start = custom ? custom.start : floorBucket(t.eventTime, iv.micros);
      const end = custom ? custom.end : start + iv.micros;
      const key = `${t.symbol}|${iv.name}|${start}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { iv, start, end, ticks: [] }));
      g.ticks.push(t);
    }
  }
  const finalBars: OracleBar[] = [];
  let gapRevised = 0;
  for (const g of groups.values()) {
    const wm = watermarks.get(g.ticks[0]!.partition)!;
    if (g.end > wm && !opts.includeOpen) continue;
    const sorted = [...g.ticks].sort((a, b) => a.eventTime - b.eventTime || venueOrder(a.tradeId, b.tradeId));
    const gaps = g.end <= wm ? gapHistory(g, losses, arrivedAt, lateness) : undefined;
    if (gaps?.revised) gapRevised++;
    const volume = exactSumOracle(sorted.map((t) => t.size));
    const quoteVolume = exactSumOracle(sorted.map((t) => t.price * t.size));
    finalBars.push({
      symbol: sorted[0]!.symbol,
      interval: g.iv.name,
      bucketStart: g.start,
      open: sorted[0]!.price,
      high: Math.max(...sorted.map((t) => t.price)),
      low: Math.min(...sorted.map((t) => t.price)),
      close: sorted[sorted.length - 1]!.price,
      volume,
      quoteVolume,
      vwap: quoteVolume / volume,
      tradeCount: sorted.length,
      buyVolume: exactSumOracle(sorted.filter((t) => t.side === 'BUY').map((t) => t.size)),
      firstEventTime: sorted[0]!.eventTime,
      lastEventTime: sorted[sorted.length - 1]!.eventTime,
      // One revision per tick that arrived after this bar had closed, and one for a gap that made it incomplete then.
      revision: sorted.filter((t) => arrivedAt.has(t) && g.end <= arrivedAt.get(t)!).length + (gaps?.revised ? 1 : 0),
      final: g.end <= wm,
      // A gap counts when it became known before the bar closed, or while it was still open, or within the allowed
      // lateness after it closed (gapHistory); or its tick is in the bar.
      complete:
        sorted.some((t) => t.sequence && breaks(t.sequence)) || (gaps ? gaps.lossy : lossTouches(losses, sorted[0]!.symbol, g.start, g.end, wm))
          ? false
          : sorted.some((t) => t.sequence)
            ? true
            : null,
    });
  }
  if (opts.emptyBars === 'flat') addFlatBars(finalBars, accepted, revised, arrivedAt, watermarks, losses, opts);
  return { finalBars, late, revised, watermarks, gapRevised };
}

function breaks(q: { first: boolean; lostIds: number }): boolean {
  return q.first || q.lostIds > 0;
}

/**
 * A closed bar's gaps, in arrival (offset) order: the bar exists from its close if a tick reached it while it was open,
 * else from the first late tick that lands in it. When it comes to exist it is incomplete if a gap of its symbol touching
 * it was reported while it was open or before that moment, or one of its ticks so far reports one. After that, within
 * the allowed lateness after its end, a gap reported (or a late tick reporting one) makes it incomplete; a reported
 * gap that does so counts one revision (a late tick counts its own anyway).
 */
function gapHistory(
  g: { start: number; end: number; ticks: OracleTick[] },
  losses: OracleLoss[],
  arrivedAt: Map<OracleTick, number>,
  lateness: number,
): { lossy: boolean; revised: boolean } {
  const symbol = g.ticks[0]!.symbol;
  const touching = losses.filter((l) => l.symbol === symbol && l.from < g.end && l.to >= g.start);
  const afterClose = (t: OracleTick) => arrivedAt.has(t) && arrivedAt.get(t)! >= g.end;
  const atClose = g.ticks.filter((t) => !afterClose(t));
  const events = [
    ...g.ticks.filter(afterClose).map((t) => ({ offset: t.offset, order: 0, tick: t as OracleTick | undefined })),
    ...touching.filter((l) => l.knownAt >= g.end && l.knownAt < g.end + lateness).map((l) => ({ offset: l.offset, order: 1, tick: undefined })),
  ].sort((a, b) => a.offset - b.offset || a.order - b.order);
  let exists = atClose.length > 0;
  let lossy = exists && (atClose.some((t) => t.sequence && breaks(t.sequence)) || touching.some((l) => l.knownAt < g.end));
  let revised = false;
  for (const e of events) {
    if (e.tick) {
      if (!exists) lossy = touching.some((l) => l.knownAt < g.end || l.offset < e.offset);
      exists = true;
      if (e.tick.sequence && breaks(e.tick.sequence)) lossy = true;
    } else if (exists && !lossy) {
      lossy = true;
      revised = true;
    }
  }
  return { lossy, revised };
}

/** Whether a gap of `symbol` overlaps [start, end) and was known while that bucket was open (before the watermark `wm` ends it). */
function lossTouches(losses: OracleLoss[], symbol: string, start: number, end: number, wm: number): boolean {
  const closed = end <= wm;
  return losses.some((l) => l.symbol === symbol && l.from < end && l.to >= start && (!closed || l.knownAt < end));
}

/**
 * The flat bars of every (symbol, interval) from its first bar to its partition's watermark, carrying the close
 * (and the time of the trade that set it) of the latest bar before them. Revisions: a late tick t counts for
 * every bucket c after its own bucket that had closed when t arrived, provided no bucket between them (c
 * included) held trades when t arrived; that is when t changed what c carried (or made c a flat bar at all).
 */
function addFlatBars(
  bars: OracleBar[],
  accepted: OracleTick[],
  revised: OracleTick[],
  arrivedAt: Map<OracleTick, number>,
  watermarks: Map<number, number>,
  losses: OracleLoss[],
  opts: OracleOptions,
): void {
  const span = (iv: { name: string; micros: number }, t: number) => {
    const custom = opts.bucketOf?.(iv.name, t);
    if (custom) return custom;
    const start = floorBucket(t, iv.micros);
    return { start, end: start + iv.micros };
  };
  const partitionOf = new Map(accepted.map((t) => [t.symbol, t.partition]));
  for (const iv of opts.intervals) {
    // When each bucket first held trades (lowest offset of an accepted tick in it), per symbol.
    const realSince = new Map<string, number>();
    for (const t of accepted) {
      const k = `${t.symbol}|${span(iv, t.eventTime).start}`;
      realSince.set(k, Math.min(realSince.get(k) ?? Infinity, t.offset));
    }
    const lateBySymbol = new Map<string, OracleTick[]>();
    for (const t of revised) lateBySymbol.set(t.symbol, [...(lateBySymbol.get(t.symbol) ?? []), t]);
    const revisionsFrom = (symbol: string, c: { start: number; end: number }): number => {
      let n = 0;
      for (const t of lateBySymbol.get(symbol) ?? []) {
        const b = span(iv, t.eventTime);
        if (b.start >= c.start || arrivedAt.get(t)! < c.end) continue;
        let blocked = false;
        for (let q = span(iv, b.end); q.start <= c.start; q = span(iv, q.end)) {
          if ((realSince.get(`${symbol}|${q.start}`) ?? Infinity) < t.offset) {
            blocked = true;
            break;
          }
        }
        if (!blocked) n++;
      }
      return n;
    };
    const bySymbol = new Map<string, OracleBar[]>();
    for (const b of bars) if (b.interval === iv.name && b.final) bySymbol.set(b.symbol, [...(bySymbol.get(b.symbol) ?? []), b]);
    for (const [symbol, list] of bySymbol) {
      const wm = watermarks.get(partitionOf.get(symbol)!)!;
      const real = new Map(list.map((b) => [b.bucketStart, b]));
      let carry = list.reduce((a, b) => (b.bucketStart < a.bucketStart ? b : a));
      for (let c = span(iv, carry.bucketStart); c.end <= wm; c = span(iv, c.end)) {
        const r = real.get(c.start);
        if (r) {
          if (r !== carry) r.revision += revisionsFrom(symbol, c);
          carry = r;
          continue;
        }
        bars.push({
          symbol,
          interval: iv.name,
          bucketStart: c.start,
          open: carry.close,
          high: carry.close,
          low: carry.close,
          close: carry.close,
          volume: 0,
          quoteVolume: 0,
          vwap: carry.close,
          tradeCount: 0,
          buyVolume: 0,
          firstEventTime: carry.lastEventTime,
          lastEventTime: carry.lastEventTime,
          revision: revisionsFrom(symbol, c),
          final: true,
          // No trades: incomplete when a known gap touches the bucket, else unknown.
          complete: lossTouches(losses, symbol, c.start, c.end, wm) ? false : null,
        });
      }
    }
  }
}

export function barId(b: { symbol: string; interval: string; bucketStart: number }): string {
  return `${b.symbol}|${b.interval}|${b.bucketStart}`;
}

/** Differences between two bar sets, every field, as readable lines (empty when equal). */
export function diffBars(actual: OracleBar[], expected: OracleBar[], max = 10): string[] {
  const out: string[] = [];
  const exp = new Map(expected.map((b) => [barId(b), b]));
  const seen = new Map<string, number>();
  for (const a of actual) {
    const id = barId(a);
    seen.set(id, (seen.get(id) ?? 0) + 1);
    const e = exp.get(id);
    if (!e) {
      out.push(`extra bar ${id}`);
      continue;
    }
    for (const f of BAR_FIELDS) if (!Object.is(a[f], e[f])) out.push(`${id} ${f}: got ${String(a[f])}, expected ${String(e[f])}`);
  }
  for (const [id, n] of seen) if (n > 1) out.push(`bar ${id} appears ${n} times`);
  for (const id of exp.keys()) if (!seen.has(id)) out.push(`missing bar ${id}`);
  return out.slice(0, max).concat(out.length > max ? [`… and ${out.length - max} more differences`] : []);
}

/**
 * Trades at one event time in the venue's order, computed independently of src/contracts/trade-order.ts: ids of
 * decimal digits as BigInts (numerically equal ones by string), before any other id; other ids by string.
 */
function venueOrder(a: string, b: string): number {
  const byString = a < b ? -1 : a > b ? 1 : 0;
  const na = /^[0-9]+$/.test(a);
  const nb = /^[0-9]+$/.test(b);
  if (na && nb) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : byString;
  }
  if (na !== nb) return na ? -1 : 1;
  return byString;
}
