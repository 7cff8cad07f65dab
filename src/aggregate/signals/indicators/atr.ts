// Wilder's Average True Range over n bars, seeded and smoothed exactly as TA-Lib's TA_ATR.
//
// Convention (TA-Lib default, unstable period 0): the first bar has no previous close, so no true range; the first
// ATR is the plain mean of the next n true ranges (on bar n + 1), then atr = (atr × (n − 1) + tr) / n in TA-Lib's
// operation order. Some libraries count the first bar's high − low as a true range and start one bar earlier.
import type { Bar } from '../../../contracts/bar.js';
import { requireFinite, requirePeriod, type Indicator } from './indicator.js';

export type AtrInput = Pick<Bar, 'high' | 'low' | 'close'>;

/** The bar's range widened to include a gap from the previous close. */
export function trueRange(high: number, low: number, prevClose: number): number {
  return Math.max(high - low, Math.abs(prevClose - high), Math.abs(prevClose - low));
}

export class Atr implements Indicator<AtrInput, number> {
  private prevClose: number | undefined;
  private seedSum = 0;
  private ranges = 0;
  value: number | undefined;

  /** Warm-up: n updates return undefined (TA-Lib's lookback n). */
  constructor(readonly period = 14) {
    requirePeriod(period, 1, 'ATR period');
  }

  get ready(): boolean {
    return this.value !== undefined;
  }

  update(bar: AtrInput): number | undefined {
    const high = requireFinite(bar.high, 'ATR high');
    const low = requireFinite(bar.low, 'ATR low');
    const close = requireFinite(bar.close, 'ATR close');
    const prev = this.prevClose;
    this.prevClose = close;
    if (prev === undefined) return undefined;
    const tr = trueRange(high, low, prev);
    const n = this.period;
    if (this.value !== undefined) return (this.value = (this.value * (n - 1) + tr) / n);
    this.seedSum += tr;
    if (++this.ranges < n) return undefined;
    return (this.value = this.seedSum / n);
  }
}
