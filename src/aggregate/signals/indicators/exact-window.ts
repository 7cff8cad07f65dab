// Sliding-window Σx and Σx² held exactly, so a moving average or deviation never drifts however long the stream runs.
//
// Why exact partials (src/aggregate/exact-sum.ts), a form of compensated summation, rather than the alternatives:
// - a plain running sum (add the new value, subtract the old) rounds twice per bar and the error random-walks for
//   ever: TA-Lib's SMA(20) over the 5,031 S&P 500 closes in tests/fixtures ends at 2576.9505126500053, where the
//   window's exact mean rounds to 2576.95051265;
// - recomputing the window every n bars bounds the drift but costs O(n) on one bar in n, a latency spike.
// Partials add and remove exactly in O(1) (a handful of doubles, bounded by the exponent range), so the window's
// sum depends only on the values inside it, never on history, and is rounded once, correctly, when read. A caller
// that keeps the values anyway (the signal engine's compact state) sums them exactly when it reads instead
// (exactMeanOf, exactVarianceOf): O(n) per read, no partials stored, the same doubles.
import { InternalError } from '../../../errors.js';
import { exactAdd, exactSum, exactValue, type ExactSum } from '../../exact-sum.js';
import { requirePeriod } from './indicator.js';
import { RingBuffer } from './ring-buffer.js';

/** Veltkamp's splitter for doubles: 2^27 + 1. */
const SPLITTER = 134217729;

/**
 * Adds a × b to the partials exactly: the product is split error-free into hi + lo (Dekker's TwoProduct; JS has no
 * fused multiply-add). Exact for finite |a|, |b| well inside 2^±500, which every price and volume is.
 */
export function exactAddProduct(p: ExactSum, a: number, b: number): void {
  const hi = a * b;
  let s = SPLITTER * a;
  const ah = s - (s - a);
  const al = a - ah;
  s = SPLITTER * b;
  const bh = s - (s - b);
  const bl = b - bh;
  const lo = al * bl - (hi - ah * bh - al * bh - ah * bl);
  exactAdd(p, hi);
  if (lo !== 0) exactAdd(p, lo);
}

/** Working partials, shared by every caller below (each uses them from start to end, synchronously). */
const scratch: ExactSum = exactSum();
const sumOf: ExactSum = exactSum();
const sumSqOf: ExactSum = exactSum();

/**
 * Population variance from the exact partials of Σx and Σx² of n values: n·Σx² − (Σx)² formed exactly (every product
 * split error-free) and rounded once, so the textbook E[x²] − E[x]² loses nothing to cancellation: a window of values
 * near 1e9 whose spread is 1 still gets its variance to the last bit, and a flat window gets exactly 0, never a tiny
 * negative. The partials' exact values decide it, not their form: any sums of the same values give the same double.
 */
function varianceOf(sum: ExactSum, sumSq: ExactSum, n: number): number {
  if (n === 0) return NaN;
  const d = scratch;
  d.length = 0;
  for (const q of sumSq) exactAddProduct(d, q, n);
  for (const a of sum) for (const b of sum) exactAddProduct(d, -a, b);
  return exactValue(d) / (n * n);
}

/** The exact mean of values[from … from + n), rounded once: what an ExactWindow holding those values gives. */
export function exactMeanOf(values: ArrayLike<number>, from: number, n: number): number {
  const p = sumOf;
  p.length = 0;
  for (let i = from; i < from + n; i++) exactAdd(p, values[i]!);
  return exactValue(p) / n;
}

/** The population variance of values[from … from + n), as an ExactWindow with squares holding them gives. */
export function exactVarianceOf(values: ArrayLike<number>, from: number, n: number): number {
  const p = sumOf;
  const q = sumSqOf;
  p.length = 0;
  q.length = 0;
  for (let i = from; i < from + n; i++) {
    const x = values[i]!;
    exactAdd(p, x);
    exactAddProduct(q, x, x);
  }
  return varianceOf(p, q, n);
}

/**
 * The last `length` values pushed, with their exact Σx (and Σx² with `squares`), updated in O(1) per push. (A caller
 * that keeps the values anyway can compute the same figures on demand with exactMeanOf / exactVarianceOf instead.)
 */
export class ExactWindow {
  private readonly ring: RingBuffer;
  private readonly sum: ExactSum = exactSum();
  /** Only kept when a deviation is wanted: it doubles the work per push. */
  private readonly sumSq: ExactSum | undefined;

  constructor(
    readonly length: number,
    opts: { squares: boolean },
  ) {
    this.ring = new RingBuffer(requirePeriod(length, 1, 'window length'));
    this.sumSq = opts.squares ? exactSum() : undefined;
  }

  get size(): number {
    return this.ring.size;
  }

  get full(): boolean {
    return this.ring.full;
  }

  push(x: number): void {
    const old = this.ring.push(x);
    exactAdd(this.sum, x);
    if (old !== undefined) exactAdd(this.sum, -old);
    if (this.sumSq) {
      exactAddProduct(this.sumSq, x, x);
      if (old !== undefined) exactAddProduct(this.sumSq, -old, old);
    }
  }

  /** Σ of the window, correctly rounded. */
  total(): number {
    return exactValue(this.sum);
  }

  mean(): number {
    return this.total() / this.ring.size;
  }

  /** Population variance (varianceOf). */
  variance(): number {
    if (!this.sumSq) throw new InternalError('ExactWindow was built without squares');
    return varianceOf(this.sum, this.sumSq, this.ring.size);
  }

  clear(): void {
    this.ring.clear();
    this.sum.length = 0;
    if (this.sumSq) this.sumSq.length = 0;
  }
}
