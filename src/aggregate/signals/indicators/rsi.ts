// Wilder's Relative Strength Index over n close-to-close changes, seeded and smoothed exactly as TA-Lib does.
//
// Convention (TA-Lib default, unstable period 0): the first output comes on the (n+1)-th close, from the plain
// means of the first n gains and losses; after that each average becomes (avg × (n − 1) + today) / n (Wilder's
// smoothing, alpha = 1/n, in TA-Lib's operation order), and RSI = 100 × avgGain / (avgGain + avgLoss).
// One deliberate difference: when both averages are exactly 0 (a perfectly flat window) this returns 50, neutral,
// where TA-Lib returns 0; TA-Lib also returns 0 whenever avgGain + avgLoss < 1e-8, a scale-dependent cut-off that
// would flatten instruments whose price moves are that small (prices near 1e-6), so this uses exact zero. Nothing else differs.
import { orNaN, orUndefined, requireFinite, requirePeriod, type Indicator, type Persistent } from './indicator.js';

export class Rsi implements Indicator<number, number>, Persistent {
  readonly stateSize = 7;
  private prevClose: number | undefined;
  private gainSum = 0;
  private lossSum = 0;
  private changes = 0;
  private avgGain: number | undefined;
  private avgLoss = 0;
  value: number | undefined;

  /** Warm-up: n updates return undefined (n changes need n + 1 closes); TA-Lib's lookback is n too. */
  constructor(readonly period: number) {
    requirePeriod(period, 2, 'RSI period');
  }

  get ready(): boolean {
    return this.value !== undefined;
  }

  update(close: number): number | undefined {
    requireFinite(close, 'RSI input');
    const prev = this.prevClose;
    this.prevClose = close;
    if (prev === undefined) return undefined;
    const change = close - prev;
    const gain = change > 0 ? change : 0;
    const loss = change < 0 ? -change : 0;
    const n = this.period;
    if (this.avgGain === undefined) {
      this.gainSum += gain;
      this.lossSum += loss;
      if (++this.changes < n) return undefined;
      this.avgGain = this.gainSum / n;
      this.avgLoss = this.lossSum / n;
    } else {
      this.avgGain = (this.avgGain * (n - 1) + gain) / n;
      this.avgLoss = (this.avgLoss * (n - 1) + loss) / n;
    }
    const total = this.avgGain + this.avgLoss;
    return (this.value = total === 0 ? 50 : 100 * (this.avgGain / total));
  }

  saveState(out: number[]): void {
    out.push(orNaN(this.prevClose), this.gainSum, this.lossSum, this.changes, orNaN(this.avgGain), this.avgLoss, orNaN(this.value));
  }

  loadState(a: ArrayLike<number>, i: number): number {
    this.prevClose = orUndefined(a[i]!);
    this.gainSum = a[i + 1]!;
    this.lossSum = a[i + 2]!;
    this.changes = a[i + 3]!;
    this.avgGain = orUndefined(a[i + 4]!);
    this.avgLoss = a[i + 5]!;
    this.value = orUndefined(a[i + 6]!);
    return i + 7;
  }
}
