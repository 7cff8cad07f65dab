// The bars of one interval in one partition that can still change: open ones, and closed ones still within
// the allowed lateness (a late tick revises them). Merge partials in, close and evict as the watermark passes.
import type { IntervalSpec } from '../contracts/interval.js';
import { mergeAcc, type BarAcc } from './ohlcv.js';
import { fixedBucketing, type Bucketing } from './bucketing.js';

/**
 * Bars by symbol, then by bucket start: a lookup builds no key (a composite string key, with the bucket start
 * formatted into it, cost as much as the merge itself). A symbol with one bar in the table (the usual case)
 * holds it directly; a map by bucket start only once it has several.
 */
class BarTable {
  private readonly bySymbol = new Map<string, BarAcc | Map<number, BarAcc>>();
  size = 0;

  get(symbol: string, bucketStart: number): BarAcc | undefined {
    const e = this.bySymbol.get(symbol);
    if (e === undefined) return undefined;
    if (e instanceof Map) return e.get(bucketStart);
    return e.bucketStart === bucketStart ? e : undefined;
  }

  set(acc: BarAcc): void {
    const e = this.bySymbol.get(acc.symbol);
    if (e instanceof Map) {
      if (!e.has(acc.bucketStart)) this.size++;
      e.set(acc.bucketStart, acc);
    } else if (e === undefined || e.bucketStart === acc.bucketStart) {
      if (e === undefined) this.size++;
      this.bySymbol.set(acc.symbol, acc);
    } else {
      this.size++;
      this.bySymbol.set(
        acc.symbol,
        new Map([
          [e.bucketStart, e],
          [acc.bucketStart, acc],
        ]),
      );
    }
  }

  /** Remove and return the bars for which `take` is true. (forEach: a for-of over entries allocates a pair per bar.) */
  removeWhere(take: (acc: BarAcc) => boolean): BarAcc[] {
    const out: BarAcc[] = [];
    this.bySymbol.forEach((e, symbol) => {
      if (!(e instanceof Map)) {
        if (take(e)) {
          out.push(e);
          this.bySymbol.delete(symbol);
        }
        return;
      }
      e.forEach((acc, start) => {
        if (!take(acc)) return;
        out.push(acc);
        e.delete(start);
      });
      if (e.size === 0) this.bySymbol.delete(symbol);
      else if (e.size === 1) this.bySymbol.set(symbol, e.values().next().value!);
    });
    this.size -= out.length;
    return out;
  }

  /** The bars of one symbol. */
  *ofSymbol(symbol: string): IterableIterator<BarAcc> {
    const e = this.bySymbol.get(symbol);
    if (e instanceof Map) yield* e.values();
    else if (e !== undefined) yield e;
  }

  *values(): IterableIterator<BarAcc> {
    for (const e of this.bySymbol.values()) {
      if (e instanceof Map) yield* e.values();
      else yield e;
    }
  }
}

export class OpenBars {
  private readonly bars = new BarTable();
  /** The earliest bucket start among the open bars (Infinity when none): what close() checks first. */
  private earliestOpen = Infinity;
  /** Closed bars a late tick may still revise, until the watermark passes end + allowed lateness. */
  private readonly revisable = new BarTable();
  readonly interval: IntervalSpec;

  readonly bucketing: Bucketing;

  constructor(
    interval: IntervalSpec,
    private readonly allowedLateness = 0,
    bucketing?: Bucketing,
  ) {
    this.interval = interval;
    this.bucketing = bucketing ?? fixedBucketing(interval.micros);
  }

  get size(): number {
    return this.bars.size + this.revisable.size;
  }

  /** The open bar (symbol, bucketStart), if any. */
  get(symbol: string, bucketStart: number): BarAcc | undefined {
    return this.bars.get(symbol, bucketStart);
  }

  /** Whether bucket (symbol, bucketStart) holds trades: an open bar or a closed one still revisable. */
  has(symbol: string, bucketStart: number): boolean {
    return this.bars.get(symbol, bucketStart) !== undefined || this.revisable.get(symbol, bucketStart) !== undefined;
  }

  /** The closed bars of `symbol` still within the allowed lateness. */
  revisableOf(symbol: string): IterableIterator<BarAcc> {
    return this.revisable.ofSymbol(symbol);
  }

  /** Every open (not yet closed) bar. */
  openBars(): IterableIterator<BarAcc> {
    return this.bars.values();
  }

  /** Merge partials of this interval; a partial is adopted (not copied) when its bar is new. */
  merge(partials: BarAcc[]): void {
    for (const p of partials) {
      const acc = this.bars.get(p.symbol, p.bucketStart);
      if (acc) mergeAcc(acc, p);
      else this.open(p);
    }
  }

  /** Merge a copy of `p` (a bar of another interval, or a late tick) into the bar (symbol, bucketStart) of this interval. */
  mergeCopy(symbol: string, bucketStart: number, p: BarAcc): void {
    const acc = this.bars.get(symbol, bucketStart);
    if (acc) mergeAcc(acc, p);
    else this.open(copyAs(p, this.interval.name, bucketStart));
  }

  private open(acc: BarAcc): void {
    this.bars.set(acc);
    if (acc.bucketStart < this.earliestOpen) this.earliestOpen = acc.bucketStart;
  }

  /**
   * A late tick (as a one-tick partial) for the bar (symbol, bucketStart), which was closed when the tick
   * arrived: merge it in and count a revision. Returns the revised bar (created if the bucket was empty).
   */
  revise(symbol: string, bucketStart: number, tick: BarAcc, offset: number, prior = 0): BarAcc {
    let acc = this.revisable.get(symbol, bucketStart) ?? this.bars.get(symbol, bucketStart);
    if (acc) mergeAcc(acc, tick);
    else {
      this.revisable.set((acc = copyAs(tick, this.interval.name, bucketStart)));
      acc.revision = prior;
    }
    acc.revision++;
    acc.revisedAt = Math.max(acc.revisedAt, offset);
    return acc;
  }

  /** Forget closed bars the watermark has taken past the allowed lateness: no tick can revise them now. */
  evict(watermark: number): void {
    this.revisable.removeWhere((acc) => this.bucketing.end(acc.bucketStart) + this.allowedLateness <= watermark);
  }

  /** Remove and return every bar whose bucket ended at or before the watermark. */
  close(watermark: number): BarAcc[] {
    // Most calls close nothing (a larger interval closes once per bucket): then no bar needs looking at.
    if (this.bars.size === 0 || this.bucketing.end(this.earliestOpen) > watermark) return [];
    let earliest = Infinity; // of the bars that stay open, found in the same pass
    const out = this.bars.removeWhere((acc) => {
      if (this.bucketing.end(acc.bucketStart) <= watermark) return true;
      if (acc.bucketStart < earliest) earliest = acc.bucketStart;
      return false;
    });
    this.earliestOpen = earliest;
    if (this.allowedLateness > 0) for (const acc of out) this.revisable.set(acc);
    return out;
  }

  /** Plain data of every bar, for state snapshots. */
  state(): { open: BarAcc[]; revisable: BarAcc[] } {
    return { open: [...this.bars.values()], revisable: [...this.revisable.values()] };
  }

  restore(s: { open: BarAcc[]; revisable: BarAcc[] }): void {
    for (const acc of s.open) this.open(acc);
    for (const acc of s.revisable) this.revisable.set(acc);
  }

  /** The open bar holding the lowest source offset (and the watermark before it), or undefined when none is open. */
  lowWater(): { offset: number; watermark: number } | undefined {
    let low: BarAcc | undefined;
    for (const acc of this.bars.values()) if (!low || acc.minOffset < low.minOffset) low = acc;
    for (const acc of this.revisable.values()) if (!low || acc.minOffset < low.minOffset) low = acc;
    return low && { offset: low.minOffset, watermark: low.wmAtMin };
  }
}

/** A fresh bar of another interval/bucket holding a copy of `p`'s content (its own sum arrays, no revisions). */
export function copyAs(p: BarAcc, interval: string, bucketStart: number): BarAcc {
  // A literal, not a spread: one allocation site V8 can see most of these bars outlive the young generation (a
  // larger interval's bar lives for its bucket) and allocate them where they will stay.
  return {
    symbol: p.symbol,
    interval,
    bucketStart,
    open: p.open,
    openTime: p.openTime,
    openId: p.openId,
    high: p.high,
    low: p.low,
    close: p.close,
    closeTime: p.closeTime,
    closeId: p.closeId,
    volume: p.volume.slice(),
    quoteVolume: p.quoteVolume.slice(),
    buyVolume: p.buyVolume.slice(),
    tradeCount: p.tradeCount,
    minOffset: p.minOffset,
    wmAtMin: p.wmAtMin,
    revision: 0,
    revisedAt: -1,
    known: p.known,
    lossy: p.lossy,
  };
}
