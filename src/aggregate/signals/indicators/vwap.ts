// Session VWAP over final bars: Σ quoteVolume / Σ volume since the last reset(), so it equals the VWAP of every trade in the session.
//
// Bars carry quoteVolume = Σ price × size, so summing it (not close × volume or typical price × volume) gives the
// true traded VWAP; bar sources without it (daily files) can put typical price × volume there, the usual proxy.
// Both sums are exact partials (src/aggregate/exact-sum.ts): a session may span thousands of bars and the result
// must not depend on float rounding order, the same rule the aggregator follows for the bars' own volumes.
import { InvalidArgumentError } from '../../../errors.js';
import type { Bar } from '../../../contracts/bar.js';
import { exactAdd, exactSum, exactValue } from '../../exact-sum.js';
import { requireFinite, type Indicator } from './indicator.js';

export type VwapInput = Pick<Bar, 'volume' | 'quoteVolume'>;

export class Vwap implements Indicator<VwapInput, number> {
  private readonly quote = exactSum();
  private readonly volume = exactSum();
  value: number | undefined;

  /** Undefined until the session has traded some volume (a zero-volume bar alone defines no price). */
  get ready(): boolean {
    return this.value !== undefined;
  }

  update(bar: VwapInput): number | undefined {
    const volume = requireFinite(bar.volume, 'VWAP volume');
    const quote = requireFinite(bar.quoteVolume, 'VWAP quoteVolume');
    if (volume < 0) throw new InvalidArgumentError(`VWAP volume must be ≥ 0, got ${volume}`);
    exactAdd(this.quote, quote);
    exactAdd(this.volume, volume);
    const v = exactValue(this.volume);
    if (v === 0) return undefined;
    return (this.value = exactValue(this.quote) / v);
  }

  /** Starts a new session (e.g. at the exchange's daily open); the next bar alone defines the VWAP again. */
  reset(): void {
    this.quote.length = 0;
    this.volume.length = 0;
    this.value = undefined;
  }
}
