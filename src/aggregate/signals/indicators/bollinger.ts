// Bollinger Bands: SMA(n) ± k × the population standard deviation of the same n closes (TA-Lib's BBANDS, matype SMA).
//
// Population, not sample, deviation: Bollinger's definition and TA-Lib's (it divides by n). Both the mean and the
// variance come from exact window sums (exact-window.ts), so a long stream does not drift and a flat window gives
// bands exactly on the mean. TA-Lib computes E[x²] − mean² from running sums and reports 0 whenever that is below
// 1e-8; on the S&P 500 fixture the bands agree to 5e-14 relative, and where the spread is tiny relative to the price
// the exact form is the right one.
import { InvalidArgumentError } from '../../../errors.js';
import { ExactWindow } from './exact-window.js';
import { requireFinite, requirePeriod, type Indicator } from './indicator.js';

export interface BollingerValue {
  upper: number;
  middle: number;
  lower: number;
}

export class Bollinger implements Indicator<number, BollingerValue> {
  private readonly window: ExactWindow;
  value: BollingerValue | undefined;

  /** Warm-up: n − 1 updates return undefined, like the SMA. */
  constructor(
    readonly period = 20,
    readonly k = 2,
  ) {
    this.window = new ExactWindow(requirePeriod(period, 1, 'Bollinger period'), { squares: true });
    if (!(Number.isFinite(k) && k >= 0)) throw new InvalidArgumentError(`Bollinger width k must be a finite number ≥ 0, got ${k}`);
  }

  get ready(): boolean {
    return this.window.full;
  }

  update(close: number): BollingerValue | undefined {
    this.window.push(requireFinite(close, 'Bollinger input'));
    if (!this.window.full) return undefined;
    return (this.value = bands(this.window.mean(), this.window.variance(), this.k));
  }
}

/** The bands around `middle` (the window's mean) for the window's population variance: middle ± k × σ. */
export function bands(middle: number, variance: number, k: number): BollingerValue {
  const half = Math.sqrt(variance) * k;
  return { upper: middle + half, middle, lower: middle - half };
}
