// The open bars of a rolled-up interval (1m … 1d) as rows of doubles in one growing Float64Array, not as objects.
//
// Why: such a bar stays open for its whole bucket, up to a day, and there is one per symbol and interval — 80,000 at
// 10,000 symbols × 8 rolled-up intervals. As an object a bar is about 570 bytes of V8 heap (the object, a boxed number
// per double field, three arrays for its exact sums) that every major collection marks, and V8 reserves a multiple of
// the live heap. As a row it is 248 bytes outside the heap (the trade ids stay strings, in three arrays). A closed bar
// leaves its row as a BarAcc object (`removeWhere`), so revisions, publishing and snapshots see bars as before.
import type { BarAcc } from './ohlcv.js';
import { tradeBefore } from './ohlcv.js';
import { exactMerge, type ExactSum } from './exact-sum.js';

// A row: these fields, then three sums (volume, quote volume, buy volume) of SUM_SLOTS doubles each.
const BUCKET_START = 0;
const OPEN = 1;
const OPEN_TIME = 2;
const HIGH = 3;
const LOW = 4;
const CLOSE = 5;
const CLOSE_TIME = 6;
const TRADE_COUNT = 7;
const MIN_OFFSET = 8;
const WM_AT_MIN = 9;
const REVISION = 10;
const REVISED_AT = 11;
const FLAGS = 12; // KNOWN | LOSSY
const SUMS = 13;
/**
 * A sum's slots: its partial count, then up to INLINE partials; a count of -1: the partials are in `overflow`. The
 * partials of a day's volume of decimal sizes are usually 2–5 (4–5 for a fifth of the sums of 15m bars and longer).
 */
const INLINE = 5;
const SUM_SLOTS = 1 + INLINE;
const STRIDE = SUMS + 3 * SUM_SLOTS;
const KNOWN = 1;
const LOSSY = 2;

const VOLUME = 0;
const QUOTE_VOLUME = 1;
const BUY_VOLUME = 2;

export class BarRows {
  private data = new Float64Array(STRIDE * 64);
  private capacity = 64;
  /** Rows past the last one ever used. */
  private used = 0;
  private readonly free: number[] = [];
  /** Undefined: a free row. */
  private readonly symbols: (string | undefined)[] = [];
  private readonly openIds: string[] = [];
  private readonly closeIds: string[] = [];
  /** Sums of more than INLINE partials, by row * 3 + which (rare). */
  private readonly overflow = new Map<number, ExactSum>();
  /** Row by symbol, then by bucket start: a symbol with one row (the usual case) maps to it directly. */
  private readonly index = new Map<string, number | Map<number, number>>();
  /** A sum being merged (reused). */
  private readonly scratch: ExactSum = [];
  size = 0;

  constructor(private readonly interval: string) {}

  private row(symbol: string, bucketStart: number): number {
    const e = this.index.get(symbol);
    if (e === undefined) return -1;
    if (typeof e === 'number') return this.data[e * STRIDE + BUCKET_START] === bucketStart ? e : -1;
    return e.get(bucketStart) ?? -1;
  }

  has(symbol: string, bucketStart: number): boolean {
    return this.row(symbol, bucketStart) >= 0;
  }

  /** A copy of the bar (symbol, bucketStart) as an object of its own with no revision (as copyAs), or undefined. */
  copy(symbol: string, bucketStart: number): BarAcc | undefined {
    const r = this.row(symbol, bucketStart);
    if (r < 0) return undefined;
    const acc = this.toAcc(r);
    acc.revision = 0;
    acc.revisedAt = -1;
    return acc;
  }

  /** Merge `from` (a bar of any interval) into the bar (symbol, bucketStart), made from a copy of it if there is none. */
  merge(symbol: string, bucketStart: number, from: BarAcc): void {
    const r = this.row(symbol, bucketStart);
    if (r < 0) this.insert(symbol, bucketStart, from);
    else this.mergeInto(r, from);
  }

  /** Remove the bar (symbol, bucketStart) and return it as an object, or undefined if there is none. */
  take(symbol: string, bucketStart: number): BarAcc | undefined {
    const r = this.row(symbol, bucketStart);
    if (r < 0) return undefined;
    const acc = this.toAcc(r);
    this.release(r, symbol);
    return acc;
  }

  /** Add `acc` as a row, as it is (revision included): a bar restored from a snapshot. */
  add(acc: BarAcc): void {
    const old = this.row(acc.symbol, acc.bucketStart);
    if (old >= 0) this.release(old, acc.symbol);
    const b = this.insert(acc.symbol, acc.bucketStart, acc) * STRIDE;
    this.data[b + REVISION] = acc.revision;
    this.data[b + REVISED_AT] = acc.revisedAt;
  }

  /**
   * Remove the bars whose bucket start `take` picks and return them as objects (forEach: see open-bars.ts). `take` must
   * not add bars: the rows' array is read as it was when the call began.
   */
  removeWhere(take: (bucketStart: number) => boolean): BarAcc[] {
    const out: BarAcc[] = [];
    const d = this.data;
    this.index.forEach((e, symbol) => {
      if (typeof e === 'number') {
        if (!take(d[e * STRIDE + BUCKET_START]!)) return;
        out.push(this.toAcc(e));
        this.index.delete(symbol);
        this.drop(e);
        return;
      }
      e.forEach((r, start) => {
        if (!take(start)) return;
        out.push(this.toAcc(r));
        e.delete(start);
        this.drop(r);
      });
      if (e.size === 0) this.index.delete(symbol);
      else if (e.size === 1) this.index.set(symbol, e.values().next().value!);
    });
    return out;
  }

  /** Copies of every bar. */
  *values(): IterableIterator<BarAcc> {
    for (const e of this.index.values()) {
      if (typeof e === 'number') yield this.toAcc(e);
      else for (const r of e.values()) yield this.toAcc(r);
    }
  }

  /** The lowest source offset of any bar and the watermark before it, or undefined when there is no bar. */
  lowWater(): { offset: number; watermark: number } | undefined {
    const d = this.data;
    let low = -1;
    for (let r = 0; r < this.used; r++) {
      if (this.symbols[r] === undefined) continue; // a free row
      if (low < 0 || d[r * STRIDE + MIN_OFFSET]! < d[low * STRIDE + MIN_OFFSET]!) low = r;
    }
    return low < 0 ? undefined : { offset: d[low * STRIDE + MIN_OFFSET]!, watermark: d[low * STRIDE + WM_AT_MIN]! };
  }

  /** A new row holding a copy of `from` as the bar (symbol, bucketStart) with no revision; returns the row. */
  private insert(symbol: string, bucketStart: number, from: BarAcc): number {
    const r = this.allocate();
    const d = this.data;
    const b = r * STRIDE;
    d[b + BUCKET_START] = bucketStart;
    d[b + OPEN] = from.open;
    d[b + OPEN_TIME] = from.openTime;
    d[b + HIGH] = from.high;
    d[b + LOW] = from.low;
    d[b + CLOSE] = from.close;
    d[b + CLOSE_TIME] = from.closeTime;
    d[b + TRADE_COUNT] = from.tradeCount;
    d[b + MIN_OFFSET] = from.minOffset;
    d[b + WM_AT_MIN] = from.wmAtMin;
    d[b + REVISION] = 0;
    d[b + REVISED_AT] = -1;
    d[b + FLAGS] = (from.known ? KNOWN : 0) | (from.lossy ? LOSSY : 0);
    this.symbols[r] = symbol;
    this.openIds[r] = from.openId;
    this.closeIds[r] = from.closeId;
    this.storeSum(r, VOLUME, from.volume);
    this.storeSum(r, QUOTE_VOLUME, from.quoteVolume);
    this.storeSum(r, BUY_VOLUME, from.buyVolume);
    const e = this.index.get(symbol);
    if (e === undefined) this.index.set(symbol, r);
    else if (typeof e === 'number')
      this.index.set(
        symbol,
        new Map([
          [d[e * STRIDE + BUCKET_START]!, e],
          [bucketStart, r],
        ]),
      );
    else e.set(bucketStart, r);
    this.size++;
    return r;
  }

  /** mergeAcc (ohlcv.ts) with a row as `into`. */
  private mergeInto(r: number, from: BarAcc): void {
    const d = this.data;
    const b = r * STRIDE;
    if (tradeBefore(from.openTime, from.openId, d[b + OPEN_TIME]!, this.openIds[r]!)) {
      d[b + OPEN] = from.open;
      d[b + OPEN_TIME] = from.openTime;
      this.openIds[r] = from.openId;
    }
    if (tradeBefore(d[b + CLOSE_TIME]!, this.closeIds[r]!, from.closeTime, from.closeId)) {
      d[b + CLOSE] = from.close;
      d[b + CLOSE_TIME] = from.closeTime;
      this.closeIds[r] = from.closeId;
    }
    if (from.high > d[b + HIGH]!) d[b + HIGH] = from.high;
    if (from.low < d[b + LOW]!) d[b + LOW] = from.low;
    this.mergeSum(r, VOLUME, from.volume);
    this.mergeSum(r, QUOTE_VOLUME, from.quoteVolume);
    this.mergeSum(r, BUY_VOLUME, from.buyVolume);
    d[b + TRADE_COUNT] = d[b + TRADE_COUNT]! + from.tradeCount;
    d[b + FLAGS] = d[b + FLAGS]! | (from.known ? KNOWN : 0) | (from.lossy ? LOSSY : 0);
    if (from.minOffset < d[b + MIN_OFFSET]!) {
      d[b + MIN_OFFSET] = from.minOffset;
      d[b + WM_AT_MIN] = from.wmAtMin;
    }
  }

  private mergeSum(r: number, which: number, from: ExactSum): void {
    if (from.length === 0) return;
    const s = this.scratch;
    this.loadSum(r, which, s);
    exactMerge(s, from);
    this.storeSum(r, which, s);
  }

  /** The row's sum `which` into `out` (emptied first). */
  private loadSum(r: number, which: number, out: ExactSum): void {
    out.length = 0;
    const at = r * STRIDE + SUMS + which * SUM_SLOTS;
    const n = this.data[at]!;
    if (n < 0) {
      const o = this.overflow.get(r * 3 + which)!;
      for (let i = 0; i < o.length; i++) out.push(o[i]!);
    } else for (let i = 1; i <= n; i++) out.push(this.data[at + i]!);
  }

  /** The row's sum `which` as a new array of its size (literals: no spare room, as exactTight in exact-sum.ts). */
  private sumOf(r: number, which: number): ExactSum {
    const d = this.data;
    const at = r * STRIDE + SUMS + which * SUM_SLOTS;
    switch (d[at]!) {
      case 0:
        return [];
      case 1:
        return [d[at + 1]!];
      case 2:
        return [d[at + 1]!, d[at + 2]!];
      case 3:
        return [d[at + 1]!, d[at + 2]!, d[at + 3]!];
      case 4:
        return [d[at + 1]!, d[at + 2]!, d[at + 3]!, d[at + 4]!];
      case 5:
        return [d[at + 1]!, d[at + 2]!, d[at + 3]!, d[at + 4]!, d[at + 5]!];
      default:
        return this.overflow.get(r * 3 + which)!.slice();
    }
  }

  private storeSum(r: number, which: number, p: ExactSum): void {
    const at = r * STRIDE + SUMS + which * SUM_SLOTS;
    const key = r * 3 + which;
    if (p.length > INLINE) {
      this.data[at] = -1;
      this.overflow.set(key, p.slice());
      return;
    }
    if (this.data[at]! < 0) this.overflow.delete(key);
    this.data[at] = p.length;
    for (let i = 0; i < p.length; i++) this.data[at + 1 + i] = p[i]!;
  }

  private toAcc(r: number): BarAcc {
    const d = this.data;
    const b = r * STRIDE;
    const flags = d[b + FLAGS]!;
    // The field order of ohlcv.ts's bar(): the same hidden class as every other BarAcc.
    return {
      symbol: this.symbols[r]!,
      interval: this.interval,
      bucketStart: d[b + BUCKET_START]!,
      open: d[b + OPEN]!,
      openTime: d[b + OPEN_TIME]!,
      openId: this.openIds[r]!,
      high: d[b + HIGH]!,
      low: d[b + LOW]!,
      close: d[b + CLOSE]!,
      closeTime: d[b + CLOSE_TIME]!,
      closeId: this.closeIds[r]!,
      volume: this.sumOf(r, VOLUME),
      quoteVolume: this.sumOf(r, QUOTE_VOLUME),
      buyVolume: this.sumOf(r, BUY_VOLUME),
      tradeCount: d[b + TRADE_COUNT]!,
      minOffset: d[b + MIN_OFFSET]!,
      wmAtMin: d[b + WM_AT_MIN]!,
      revision: d[b + REVISION]!,
      revisedAt: d[b + REVISED_AT]!,
      known: (flags & KNOWN) !== 0,
      lossy: (flags & LOSSY) !== 0,
    };
  }

  private allocate(): number {
    const r = this.free.pop();
    if (r !== undefined) return r;
    if (this.used === this.capacity) {
      this.capacity = Math.ceil(this.capacity * 1.5);
      const grown = new Float64Array(this.capacity * STRIDE);
      grown.set(this.data);
      this.data = grown;
    }
    return this.used++;
  }

  /** Remove row r, indexed under `symbol`, from the index and free it. */
  private release(r: number, symbol: string): void {
    const e = this.index.get(symbol);
    if (typeof e === 'number') this.index.delete(symbol);
    else if (e !== undefined) {
      e.delete(this.data[r * STRIDE + BUCKET_START]!);
      if (e.size === 1) this.index.set(symbol, e.values().next().value!);
    }
    this.drop(r);
  }

  /** Free row r (already out of the index). */
  private drop(r: number): void {
    for (let which = 0; which < 3; which++) if (this.data[r * STRIDE + SUMS + which * SUM_SLOTS]! < 0) this.overflow.delete(r * 3 + which);
    this.symbols[r] = undefined;
    this.openIds[r] = '';
    this.closeIds[r] = '';
    this.free.push(r);
    this.size--;
  }
}
