// The contract every incremental indicator shares, so one loop can drive any of them from a stream of final bars.
import { InvalidArgumentError } from '../../../errors.js';

/** O(1) work per update and O(1) memory per instance (a window's ring buffer is sized by the period, not the series). */
export interface Indicator<I, O> {
  /** Feeds the next final bar (or its close); undefined while the indicator is still warming up. */
  update(input: I): O | undefined;
  /** True once `update` returns values. */
  readonly ready: boolean;
  /** The last value `update` returned, kept so callers can compare consecutive values (see crossings.ts). */
  readonly value: O | undefined;
}

/**
 * Rejects NaN and ±Infinity before any state changes: one bad input would otherwise poison every later value of a
 * recursive average (EMA, RSI, ATR never forget), and a thrown error names the culprit where a NaN would not.
 */
export function requireFinite(x: number, what: string): number {
  if (!Number.isFinite(x)) throw new InvalidArgumentError(`${what} must be a finite number, got ${x}`);
  return x;
}

/**
 * Indicator state as a fixed number of doubles, for state snapshots: `undefined` is written as NaN, which no
 * state ever holds (inputs are finite), so the two never mix.
 */
export interface Persistent {
  /** How many numbers `saveState` writes. */
  readonly stateSize: number;
  saveState(out: number[]): void;
  /** Reads what `saveState` wrote, starting at `i`; returns the index after it. */
  loadState(a: ArrayLike<number>, i: number): number;
}

export const orNaN = (x: number | undefined): number => (x === undefined ? NaN : x);
export const orUndefined = (x: number): number | undefined => (Number.isNaN(x) ? undefined : x);

/** Periods are whole bar counts; `min` is the smallest that still defines the indicator. */
export function requirePeriod(n: number, min: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${what} must be an integer ≥ ${min}, got ${n}`);
  return n;
}
