// The bars of one interval in one partition that can still change: open ones, and closed ones still within
// the allowed lateness (a late tick revises them). Merge partials in, close and evict as the watermark passes.
import type { IntervalSpec } from '../config.js';
import { mergeAcc, type BarAcc } from './ohlcv.js';
import { fixedBucketing, type Bucketing } from './bucketing.js';

export class OpenBars {
  private readonly bars = new Map<string, BarAcc>();
  /** Closed bars a late tick may still revise, until the watermark passes end + allowed lateness. */
  private readonly revisable = new Map<string, BarAcc>();
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
    return this.bars.get(`${symbol}\u0000${bucketStart}`);
  }

  /** Whether bucket (symbol, bucketStart) holds trades: an open bar or a closed one still revisable. */
  has(symbol: string, bucketStart: number): boolean {
    const k = `${symbol}\u0000${bucketStart}`;
    return this.bars.has(k) || this.revisable.has(k);
  }

  /** Every open (not yet closed) bar. */
  openBars(): IterableIterator<BarAcc> {
    return this.bars.values();
  }

  /** Merge partials of this interval; a partial is adopted (not copied) when its bar is new. */
  merge(partials: BarAcc[]): void {
    for (const p of partials) this.mergeOne(p.symbol, p.bucketStart, p, true);
  }

  /** Merge `p` into the bar (symbol, bucketStart) of this interval; copies `p` unless `adopt`. */
  mergeOne(symbol: string, bucketStart: number, p: BarAcc, adopt: boolean): void {
    const key = `${symbol}\u0000${bucketStart}`;
    const acc = this.bars.get(key);
    if (acc) mergeAcc(acc, p);
    else this.bars.set(key, adopt ? p : copyAs(p, this.interval.name, bucketStart));
  }

  /**
   * A late tick (as a one-tick partial) for the bar (symbol, bucketStart), which was closed when the tick
   * arrived: merge it in and count a revision. Returns the revised bar (created if the bucket was empty).
   */
  revise(symbol: string, bucketStart: number, tick: BarAcc, offset: number, prior = 0): BarAcc {
    const key = `${symbol}\u0000${bucketStart}`;
    let acc = this.revisable.get(key) ?? this.bars.get(key);
    if (acc) mergeAcc(acc, tick);
    else {
      this.revisable.set(key, (acc = copyAs(tick, this.interval.name, bucketStart)));
      acc.revision = prior;
    }
    acc.revision++;
    acc.revisedAt = Math.max(acc.revisedAt, offset);
    return acc;
  }

  /** Forget closed bars the watermark has taken past the allowed lateness: no tick can revise them now. */
  evict(watermark: number): void {
    for (const [key, acc] of this.revisable) {
      if (this.bucketing.end(acc.bucketStart) + this.allowedLateness <= watermark) this.revisable.delete(key);
    }
  }

  /** Remove and return every bar whose bucket ended at or before the watermark. */
  close(watermark: number): BarAcc[] {
    const out: BarAcc[] = [];
    for (const [key, acc] of this.bars) {
      if (this.bucketing.end(acc.bucketStart) <= watermark) {
        out.push(acc);
        this.bars.delete(key);
        if (this.allowedLateness > 0) this.revisable.set(key, acc);
      }
    }
    return out;
  }

  /** Plain data of every bar, for state snapshots. */
  state(): { open: BarAcc[]; revisable: BarAcc[] } {
    return { open: [...this.bars.values()], revisable: [...this.revisable.values()] };
  }

  restore(s: { open: BarAcc[]; revisable: BarAcc[] }): void {
    for (const acc of s.open) this.bars.set(`${acc.symbol}\u0000${acc.bucketStart}`, acc);
    for (const acc of s.revisable) this.revisable.set(`${acc.symbol}\u0000${acc.bucketStart}`, acc);
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
  return { ...p, interval, bucketStart, volume: [...p.volume], quoteVolume: [...p.quoteVolume], buyVolume: [...p.buyVolume], revision: 0, revisedAt: -1 };
}
