// The open (not yet final) bars of one partition: merge partials in, close those the watermark passed.
import type { IntervalSpec } from '../config.js';
import { mergeAcc, type BarAcc } from './ohlcv.js';
import { isClosed } from './watermark.js';

export class OpenBars {
  private readonly bars = new Map<string, BarAcc>();
  private readonly widths: Map<string, number>;

  constructor(intervals: IntervalSpec[]) {
    this.widths = new Map(intervals.map((i) => [i.name, i.micros]));
  }

  get size(): number {
    return this.bars.size;
  }

  merge(partials: BarAcc[]): void {
    for (const p of partials) {
      const key = `${p.interval}\u0000${p.symbol}\u0000${p.bucketStart}`;
      const acc = this.bars.get(key);
      if (acc) mergeAcc(acc, p);
      else this.bars.set(key, p);
    }
  }

  /** Remove and return every bar whose bucket ended at or before the watermark. */
  close(watermark: number): BarAcc[] {
    const out: BarAcc[] = [];
    for (const [key, acc] of this.bars) {
      if (isClosed(acc.bucketStart, this.widths.get(acc.interval)!, watermark)) {
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
