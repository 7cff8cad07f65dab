// Exponential moving average, alpha = 2/(n+1), in TA-Lib's default convention so values match it bar for bar.
//
// Convention (TA-Lib, TA_COMPATIBILITY_DEFAULT, unstable period 0): the first n closes only build the seed, the
// simple mean of those n closes, which is also the first output (on the n-th close); after that
// ema += (close − ema) × alpha, written in TA-Lib's operation order. Other libraries seed with the first close
// (pandas ewm(adjust=False)) or weight the whole history (adjust=True); their early values differ from these by an
// amount that decays like (1 − alpha)^k, so compare after a few multiples of n or with the same seeding.
import { orNaN, orUndefined, requireFinite, requirePeriod, type Indicator, type Persistent } from './indicator.js';

export class Ema implements Indicator<number, number>, Persistent {
  readonly stateSize = 3;
  readonly alpha: number;
  /** Plain left-to-right sum of the seed closes: n terms once, never a running error, and TA-Lib's exact arithmetic. */
  private seedSum = 0;
  private seen = 0;
  value: number | undefined;

  constructor(readonly period: number) {
    requirePeriod(period, 1, 'EMA period');
    this.alpha = 2 / (period + 1);
  }

  get ready(): boolean {
    return this.value !== undefined;
  }

  update(close: number): number | undefined {
    requireFinite(close, 'EMA input');
    if (this.value !== undefined) return (this.value = (close - this.value) * this.alpha + this.value);
    this.seedSum += close;
    if (++this.seen < this.period) return undefined;
    return (this.value = this.seedSum / this.period);
  }

  saveState(out: number[]): void {
    out.push(this.seedSum, this.seen, orNaN(this.value));
  }

  loadState(a: ArrayLike<number>, i: number): number {
    this.seedSum = a[i]!;
    this.seen = a[i + 1]!;
    this.value = orUndefined(a[i + 2]!);
    return i + 3;
  }
}
