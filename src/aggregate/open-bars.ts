// The bars of one interval in one partition that can still change: open ones, and closed ones still within
// the allowed lateness (a late tick revises them). Merge partials in, close and evict as the watermark passes.
import type { IntervalSpec } from '../contracts/interval.js';
import { mergeAcc, type BarAcc } from './ohlcv.js';
import { fixedBucketing, type Bucketing } from './bucketing.js';
import { BarRows } from './bar-rows.js';

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

  /** Remove and return the bars whose bucket start `take` picks. (forEach: a for-of over entries allocates a pair per bar.) */
  removeWhere(take: (bucketStart: number) => boolean): BarAcc[] {
    const out: BarAcc[] = [];
    this.bySymbol.forEach((e, symbol) => {
      if (!(e instanceof Map)) {
        if (take(e.bucketStart)) {
          out.push(e);
          this.bySymbol.delete(symbol);
        }
        return;
      }
      e.forEach((acc, start) => {
        if (!take(start)) return;
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

/**
 * The bars of one interval in one partition that can still change. The open ones are objects (`BarTable`), or, for a
 * level built with `rows` (the rolled-up intervals, whose bars stay open for their whole bucket), rows of doubles
 * (`BarRows`, bar-rows.ts) that leave as objects when they close. Closed bars still revisable are always objects.
 */
export class OpenBars {
  /** The open bars, unless `rows` holds them. */
  private readonly bars = new BarTable();
  private readonly rows: BarRows | undefined;
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
    opts: { rows?: boolean } = {},
  ) {
    this.interval = interval;
    this.bucketing = bucketing ?? fixedBucketing(interval.micros);
    this.rows = opts.rows ? new BarRows(interval.name) : undefined;
  }

  get size(): number {
    return (this.rows ?? this.bars).size + this.revisable.size;
  }

  /** The open bar (symbol, bucketStart), if any, to read only: on a level of rows, a copy. */
  get(symbol: string, bucketStart: number): BarAcc | undefined {
    return this.rows ? this.rows.copy(symbol, bucketStart) : this.bars.get(symbol, bucketStart);
  }

  /** A copy of the open bar (symbol, bucketStart), if any, for the caller to change. */
  copyOf(symbol: string, bucketStart: number): BarAcc | undefined {
    if (this.rows) return this.rows.copy(symbol, bucketStart);
    const acc = this.bars.get(symbol, bucketStart);
    return acc && copyAs(acc, acc.interval, bucketStart);
  }

  private hasOpen(symbol: string, bucketStart: number): boolean {
    return this.rows ? this.rows.has(symbol, bucketStart) : this.bars.get(symbol, bucketStart) !== undefined;
  }

  /** Whether bucket (symbol, bucketStart) holds trades: an open bar or a closed one still revisable. */
  has(symbol: string, bucketStart: number): boolean {
    return this.hasOpen(symbol, bucketStart) || this.revisable.get(symbol, bucketStart) !== undefined;
  }

  /** The closed bars of `symbol` still within the allowed lateness. */
  revisableOf(symbol: string): IterableIterator<BarAcc> {
    return this.revisable.ofSymbol(symbol);
  }

  /** Every open (not yet closed) bar, to read only: on a level of rows, copies. */
  openBars(): IterableIterator<BarAcc> {
    return this.rows ? this.rows.values() : this.bars.values();
  }

  /** Merge partials of this interval; a partial is adopted (not copied) when its bar is new, unless the level holds rows. */
  merge(partials: BarAcc[]): void {
    for (const p of partials) {
      if (this.rows) {
        this.mergeCopy(p.symbol, p.bucketStart, p);
        continue;
      }
      const acc = this.bars.get(p.symbol, p.bucketStart);
      if (acc) mergeAcc(acc, p);
      else this.open(p);
    }
  }

  /** Merge a copy of `p` (a bar of another interval, or a late tick) into the bar (symbol, bucketStart) of this interval. */
  mergeCopy(symbol: string, bucketStart: number, p: BarAcc): void {
    if (this.rows) {
      this.rows.merge(symbol, bucketStart, p);
      if (bucketStart < this.earliestOpen) this.earliestOpen = bucketStart;
      return;
    }
    const acc = this.bars.get(symbol, bucketStart);
    if (acc) mergeAcc(acc, p);
    else this.open(copyAs(p, this.interval.name, bucketStart));
  }

  /** Add `acc` as an open bar, as it is. */
  private open(acc: BarAcc): void {
    if (this.rows) this.rows.add(acc);
    else this.bars.set(acc);
    if (acc.bucketStart < this.earliestOpen) this.earliestOpen = acc.bucketStart;
  }

  /**
   * A late tick (as a one-tick partial) for the bar (symbol, bucketStart), which was closed when the tick
   * arrived: merge it in and count a revision. Returns the revised bar (created if the bucket was empty).
   */
  revise(symbol: string, bucketStart: number, tick: BarAcc, offset: number, prior = 0): BarAcc {
    let acc = this.revisable.get(symbol, bucketStart) ?? this.openToRevise(symbol, bucketStart);
    if (acc) mergeAcc(acc, tick);
    else {
      this.revisable.set((acc = copyAs(tick, this.interval.name, bucketStart)));
      acc.revision = prior;
    }
    acc.revision++;
    acc.revisedAt = Math.max(acc.revisedAt, offset);
    return acc;
  }

  /**
   * An open bar a late tick revises as closed (its bucket ended before the tick arrived). closeFinal closes such a bar
   * before it revises, so none is found there; were one found, on a level of rows it moves to the revisable bars, as
   * closing would move it, since a row cannot be revised in place.
   */
  private openToRevise(symbol: string, bucketStart: number): BarAcc | undefined {
    if (!this.rows) return this.bars.get(symbol, bucketStart);
    const acc = this.rows.take(symbol, bucketStart);
    if (acc) this.revisable.set(acc);
    return acc;
  }

  /** Forget closed bars the watermark has taken past the allowed lateness: no tick can revise them now. */
  evict(watermark: number): void {
    this.revisable.removeWhere((start) => this.bucketing.end(start) + this.allowedLateness <= watermark);
  }

  /** Remove and return every bar whose bucket ended at or before the watermark. */
  close(watermark: number): BarAcc[] {
    // Most calls close nothing (a larger interval closes once per bucket): then no bar needs looking at.
    if ((this.rows ?? this.bars).size === 0 || this.bucketing.end(this.earliestOpen) > watermark) return [];
    let earliest = Infinity; // of the bars that stay open, found in the same pass
    const out = (this.rows ?? this.bars).removeWhere((start) => {
      if (this.bucketing.end(start) <= watermark) return true;
      if (start < earliest) earliest = start;
      return false;
    });
    this.earliestOpen = earliest;
    if (this.allowedLateness > 0) for (const acc of out) this.revisable.set(acc);
    return out;
  }

  /** Plain data of every bar, for state snapshots. */
  state(): { open: BarAcc[]; revisable: BarAcc[] } {
    return { open: [...this.openBars()], revisable: [...this.revisable.values()] };
  }

  restore(s: { open: BarAcc[]; revisable: BarAcc[] }): void {
    for (const acc of s.open) this.open(acc);
    for (const acc of s.revisable) this.revisable.set(acc);
  }

  /** The open bar holding the lowest source offset (and the watermark before it), or undefined when none is open. */
  lowWater(): { offset: number; watermark: number } | undefined {
    let low: { offset: number; watermark: number } | undefined = this.rows?.lowWater();
    const lower = (acc: BarAcc) => {
      if (!low || acc.minOffset < low.offset) low = { offset: acc.minOffset, watermark: acc.wmAtMin };
    };
    if (!this.rows) for (const acc of this.bars.values()) lower(acc);
    for (const acc of this.revisable.values()) lower(acc);
    return low;
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
