// The open (not yet final) bars of one interval in one partition: merge partials in, close those the watermark passed.
import type { IntervalSpec } from '../config.js';
import { mergeAcc, type BarAcc } from './ohlcv.js';
import { isClosed } from './watermark.js';

export class OpenBars {
  private readonly bars = new Map<string, BarAcc>();
  readonly interval: IntervalSpec;

  constructor(interval: IntervalSpec) {
    this.interval = interval;
  }

  get size(): number {
    return this.bars.size;
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
    else
      this.bars.set(
        key,
        adopt ? p : { ...p, interval: this.interval.name, bucketStart, volume: [...p.volume], quoteVolume: [...p.quoteVolume], buyVolume: [...p.buyVolume] },
      );
  }

  /** Remove and return every bar whose bucket ended at or before the watermark. */
  close(watermark: number): BarAcc[] {
    const out: BarAcc[] = [];
    for (const [key, acc] of this.bars) {
      if (isClosed(acc.bucketStart, this.interval.micros, watermark)) {
        out.push(acc);
        this.bars.delete(key);
      }
    }
    return out;
  }

  /** The open bar holding the lowest source offset (and the watermark before it), or undefined when none is open. */
  lowWater(): { offset: number; watermark: number } | undefined {
    let low: BarAcc | undefined;
    for (const acc of this.bars.values()) if (!low || acc.minOffset < low.minOffset) low = acc;
    return low && { offset: low.minOffset, watermark: low.wmAtMin };
  }
}
