// A faster exact sum for the fold: each added double is cut at fixed exponent boundaries into at most three
// pieces, each added to a bin of plain doubles where every addition is exact. Drained into an ExactSum
// (exact-sum.ts) once per batch, so what leaves the fold is the same exact value as adding every tick there.
//
// Why: the Shewchuk partials of a bar's volume hold 3–5 doubles for typical decimal sizes, and exactAdd walks
// all of them for every tick (about half of the fold's time). Here a tick costs a few additions whatever the
// sum holds.
//
// Why it is exact: bin j holds multiples of 2^(32j) ("units"). A double x with exponent e has its bits in
// [e − 52, e]; with top = floor(e / 32), rounding x to a multiple of 2^(32·top) (the add-and-subtract-a-
// constant trick, exact because |x| < 2^(32·top + 51)) leaves a remainder of at most half a unit, itself a
// double, which is rounded the same way at 2^(32·(top − 1)); what then remains is a multiple of 2^(e − 52), hence
// of bin top − 2's unit. Each piece is under 2^32 units of its bin, so a bin stays below 2^53 units, where
// double addition is exact, for fewer than 2^21 pieces; it is drained well before that (LIMIT). Values a
// bin window cannot take (zero, subnormal, far from the first value's magnitude, huge) go to the exact
// partials directly.
import { exactAdd, type ExactSum } from './exact-sum.js';

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
/** The 32-bit word of F64 holding the sign and exponent. */
const HIGH_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
/** Bins j from MIN_BIN to MAX_BIN; ROUND[j − MIN_BIN] = 1.5·2^(32j + 52) rounds |x| < 2^(32j + 51) to a multiple of 2^(32j). */
const MIN_BIN = -30;
const MAX_BIN = 29;
const ROUND = new Float64Array(MAX_BIN - MIN_BIN + 1).map((_, i) => 1.5 * 2 ** (32 * (i + MIN_BIN) + 52));
/** Pieces a bin takes before the bins are drained into the partials (far below the 2^21 that stay exact). */
const LIMIT = 1 << 20;

export class BinnedSum {
  /** Bin index of b0; set by the first value so that its top bin is b3. */
  private base = 0;
  /** Values in the bins since they were last drained (0: the bins are empty and `base` is unset). */
  private count = 0;
  private b0 = 0;
  private b1 = 0;
  private b2 = 0;
  private b3 = 0;
  private b4 = 0;
  /** What the bins could not take, as exact partials. */
  private readonly spill: ExactSum = [];

  add(x: number): void {
    F64[0] = x;
    const biased = (U32[HIGH_WORD]! >>> 20) & 0x7ff;
    const top = (biased - 1023) >> 5;
    if (this.count === 0) this.base = top - 3;
    const d = top - this.base;
    // The range of `top` also keeps out zero and subnormals (biased exponent 0: top −32) and ±Infinity/NaN (top 32).
    if (d < 2 || d > 4 || top < MIN_BIN + 1 || top > MAX_BIN || this.count >= LIMIT) return this.addSlow(x);
    const c2 = ROUND[top - MIN_BIN]!;
    const c1 = ROUND[top - 1 - MIN_BIN]!;
    const h2 = x + c2 - c2;
    const r = x - h2;
    const h1 = r + c1 - c1;
    const r1 = r - h1;
    this.count++;
    if (d === 3) {
      this.b3 += h2;
      this.b2 += h1;
      this.b1 += r1;
    } else if (d === 2) {
      this.b2 += h2;
      this.b1 += h1;
      this.b0 += r1;
    } else {
      this.b4 += h2;
      this.b3 += h1;
      this.b2 += r1;
    }
  }

  private addSlow(x: number): void {
    if (this.count >= LIMIT) this.drainBins();
    exactAdd(this.spill, x);
  }

  private drainBins(): void {
    const p = this.spill;
    // Smallest first: the partials then grow the way exactAdd keeps them cheapest.
    if (this.b0 !== 0) exactAdd(p, this.b0);
    if (this.b1 !== 0) exactAdd(p, this.b1);
    if (this.b2 !== 0) exactAdd(p, this.b2);
    if (this.b3 !== 0) exactAdd(p, this.b3);
    if (this.b4 !== 0) exactAdd(p, this.b4);
    this.b0 = this.b1 = this.b2 = this.b3 = this.b4 = 0;
    this.count = 0;
  }

  /** The sum as new exact partials without spare capacity (they may stay in an open bar for long), and start again from zero. */
  take(): ExactSum {
    this.drainBins();
    const out = this.spill.slice();
    this.spill.length = 0;
    return out;
  }

  /** Add the whole sum to `into` exactly and start again from zero. */
  drainInto(into: ExactSum): void {
    this.drainBins();
    const p = this.spill;
    for (let i = 0; i < p.length; i++) exactAdd(into, p[i]!);
    p.length = 0;
  }
}
