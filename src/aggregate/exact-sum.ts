// Order-independent exact sums of doubles (Shewchuk's non-overlapping partials, rounded like math.fsum).
//
// Why: volume, quote volume and buy volume must be identical whatever order ticks arrive in and however
// batches split them across workers. Plain float addition is not associative; these partials hold the
// exact sum, and `exactValue` rounds it once, correctly, so every order gives the same double.

/** Non-overlapping partials in increasing magnitude; their exact sum is the value. Usually 1–3 long. */
export type ExactSum = number[];

export function exactSum(): ExactSum {
  return [];
}

/** Add x to the partials in place (exactly). */
export function exactAdd(p: ExactSum, x: number): void {
  let i = 0;
  const n = p.length;
  for (let j = 0; j < n; j++) {
    const y = p[j]!;
    // Knuth's TwoSum: hi + lo = x + y exactly. The same pair as ordering by magnitude first (Dekker's
    // FastTwoSum), without that unpredictable branch, as long as nothing overflows: next to ±MAX_VALUE an
    // intermediate can, giving NaN where FastTwoSum might not (validation keeps prices and sizes ≤ 1e15).
    const hi = x + y;
    const yv = hi - x;
    const lo = x - (hi - yv) + (y - yv);
    if (lo !== 0) p[i++] = lo;
    x = hi;
  }
  // The same partials as `p.length = i; p.push(x)`, but without resizing the array in the usual case where
  // the count stays the same, and shrinking it with pop(), which compiles inline (setting .length calls
  // into the runtime: a tenth of the replay core's time in profiles once).
  if (i < n) {
    p[i] = x;
    for (let m = n - 1; m > i; m--) p.pop();
  } else p.push(x);
}

/** Add every partial of `from` into `into` (exact merge of two sums). */
export function exactMerge(into: ExactSum, from: ExactSum): void {
  for (let k = 0; k < from.length; k++) exactAdd(into, from[k]!);
}

/**
 * `p` after additions that may have grown it from `lengthBefore` partials: itself, or, if it grew, a copy without spare
 * room. A push grows an array's room to 17 numbers or more; a bar's sums can be held for a day, and at 10,000
 * symbols × 9 intervals that spare room was a quarter of the aggregator's heap (bench/memory.ts).
 */
export function exactTight(p: ExactSum, lengthBefore: number): ExactSum {
  return p.length > lengthBefore ? p.slice() : p;
}

/** The exact sum correctly rounded to the nearest double (half-way cases as CPython's fsum). */
export function exactValue(p: ExactSum): number {
  let n = p.length;
  if (n === 0) return 0;
  let hi = p[--n]!;
  let lo = 0;
  while (n > 0) {
    const x = hi;
    const y = p[--n]!;
    hi = x + y;
    const yr = hi - x;
    lo = y - yr;
    if (lo !== 0) break;
  }
  // If the rest has the same sign as lo, the exact value is past the half-way point lo marked: round away.
  if (n > 0 && ((lo < 0 && p[n - 1]! < 0) || (lo > 0 && p[n - 1]! > 0))) {
    const y = lo * 2;
    const x = hi + y;
    const yr = x - hi;
    if (y === yr) hi = x;
  }
  return hi;
}
