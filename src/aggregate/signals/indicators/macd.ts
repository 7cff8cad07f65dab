// MACD (fast EMA − slow EMA), its signal EMA and the histogram, aligned and seeded as TA-Lib's TA_MACD.
//
// Convention (TA-Lib default): both EMAs produce their first value on the same bar, the slow period's n-th close. So
// the fast EMA does not start on the first close: it skips the first slow − fast closes and is seeded with the mean
// of the fast-period closes ending on that bar (for 12/26: closes 15..26, not 1..12). Libraries that seed both from
// the first close differ early on (by 1.39 points on the S&P 500's 34th bar in 1999) and converge later. The signal
// is an EMA of the MACD line seeded with the mean of its first `signal` values, and nothing is output until it
// exists: the first output is on close slow + signal − 1 (the 34th for 12/26/9), all three values at once, as in TA-Lib.
import { InvalidArgumentError } from '../../../errors.js';
import { Ema } from './ema.js';
import { requireFinite, requirePeriod, type Indicator, type Persistent } from './indicator.js';

export interface MacdValue {
  macd: number;
  signal: number;
  histogram: number;
}

export class Macd implements Indicator<number, MacdValue>, Persistent {
  readonly stateSize = 13;
  private readonly fastEma: Ema;
  private readonly slowEma: Ema;
  private readonly signalEma: Ema;
  /** Closes the fast EMA still has to skip. */
  private skip: number;
  value: MacdValue | undefined;

  constructor(
    readonly fast = 12,
    readonly slow = 26,
    readonly signal = 9,
  ) {
    requirePeriod(fast, 2, 'MACD fast period');
    requirePeriod(slow, 2, 'MACD slow period');
    requirePeriod(signal, 1, 'MACD signal period');
    // TA-Lib silently swaps the two; an inverted pair is more likely a caller's mistake.
    if (fast >= slow) throw new InvalidArgumentError(`MACD fast period (${fast}) must be shorter than the slow one (${slow})`);
    this.fastEma = new Ema(fast);
    this.slowEma = new Ema(slow);
    this.signalEma = new Ema(signal);
    this.skip = slow - fast;
  }

  get ready(): boolean {
    return this.value !== undefined;
  }

  update(close: number): MacdValue | undefined {
    requireFinite(close, 'MACD input');
    const slow = this.slowEma.update(close);
    let fast: number | undefined;
    if (this.skip > 0) this.skip--;
    else fast = this.fastEma.update(close);
    if (slow === undefined || fast === undefined) return undefined;
    const macd = fast - slow;
    const signal = this.signalEma.update(macd);
    if (signal === undefined) return undefined;
    return (this.value = { macd, signal, histogram: macd - signal });
  }

  saveState(out: number[]): void {
    this.fastEma.saveState(out);
    this.slowEma.saveState(out);
    this.signalEma.saveState(out);
    const v = this.value;
    out.push(this.skip, v ? v.macd : NaN, v ? v.signal : NaN, v ? v.histogram : NaN);
  }

  loadState(a: ArrayLike<number>, i: number): number {
    i = this.signalEma.loadState(a, this.slowEma.loadState(a, this.fastEma.loadState(a, i)));
    this.skip = a[i]!;
    this.value = Number.isNaN(a[i + 1]!) ? undefined : { macd: a[i + 1]!, signal: a[i + 2]!, histogram: a[i + 3]! };
    return i + 4;
  }
}
