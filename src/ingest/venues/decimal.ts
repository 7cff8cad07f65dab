// Venue numbers and times, strictly: decimal strings to numbers, and ms, ISO-8601 and seconds timestamps to exact µs.
//
// Every failure is a DecodeError whose message starts with `label` (the venue, the message and the field), so a
// dead letter says which field of which message was wrong.
import { DecodeError, describe } from '../../errors.js';
import { parseIsoMicros } from '../../time.js';

/** Plain decimal notation as venues write it ("0.35280000", "30236"): no sign, exponent, blank, hex or bare point. */
const DECIMAL = /^\d+(?:\.\d+)?$/;
/** ISO-8601 as venues write it: UTC ('Z'), seconds always present, up to 9 fractional digits (Coinbase sends 9). */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
/** Seconds since the epoch with a fraction, as Kraken v1 writes trade times ("1618678142.557535"). */
const SECONDS = /^(\d{1,11})(?:\.(\d{1,9}))?$/;
const MS = /^\d{1,16}$/;

function fail(label: string, raw: unknown, problem: string): never {
  throw new DecodeError(raw === undefined || raw === null ? `${label} is missing` : `${label} ${describe(raw)} ${problem}`);
}

/**
 * A venue's decimal string (or a JSON number: Kraken v2 and Bybit's legacy feed send some amounts as numbers) → the
 * nearest double, never negative. Number() of a decimal string and JSON.parse of the same digits both round
 * correctly, so an amount sent as a number is the same double as the same amount sent as a string. Zero passes
 * (it is well-formed; the tick validation rejects it as implausible).
 */
export function parseDecimal(raw: unknown, label: string): number {
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) fail(label, raw, 'is not a finite number');
    if (raw < 0) fail(label, raw, 'is negative');
    return raw === 0 ? 0 : raw; // -0 → 0
  }
  if (typeof raw !== 'string') fail(label, raw, 'is not a decimal number');
  if (!DECIMAL.test(raw)) fail(label, raw, raw.startsWith('-') && DECIMAL.test(raw.slice(1)) ? 'is negative' : 'is not a decimal number');
  const n = Number(raw);
  if (!Number.isFinite(n)) fail(label, raw, 'is too large');
  return n;
}

/** Milliseconds since the epoch (an integer, or a string of digits as OKX and Bybit's legacy feed send it) → µs. */
export function msToMicros(raw: unknown, label: string): number {
  let ms: number;
  if (typeof raw === 'number') {
    if (!Number.isSafeInteger(raw) || raw < 0) fail(label, raw, 'is not a whole number of milliseconds');
    ms = raw;
  } else if (typeof raw === 'string' && MS.test(raw)) ms = Number(raw);
  else fail(label, raw, 'is not a whole number of milliseconds');
  const us = ms * 1000;
  if (!Number.isSafeInteger(us)) fail(label, raw, 'is out of range');
  return us;
}

/**
 * An ISO-8601 UTC instant with up to 9 fractional digits → integer µs since the epoch, exactly: the date and the
 * whole seconds through the calendar, the fraction read as digits (never through Date.parse, which keeps only
 * milliseconds). Digits past the sixth (nanoseconds) are dropped: the engine's unit is the µs.
 */
export function isoToMicros(raw: unknown, label: string): number {
  if (typeof raw !== 'string' || !ISO_UTC.test(raw)) fail(label, raw, 'is not an ISO-8601 UTC time (YYYY-MM-DDThh:mm:ss[.fraction]Z)');
  const us = parseIsoMicros(raw); // strict calendar: '2024-02-30' is refused, not rolled over
  if (us === undefined) fail(label, raw, 'is not a date and time that exist');
  return us;
}

/** Seconds since the epoch as a decimal string ("1618678142.557535", Kraken v1) → integer µs, exactly (digits past the sixth dropped). */
export function secondsToMicros(raw: unknown, label: string): number {
  const m = typeof raw === 'string' ? SECONDS.exec(raw) : null;
  if (!m) fail(label, raw, 'is not a decimal number of seconds');
  const us = Number(m[1]) * 1_000_000 + Number((m[2] ?? '').slice(0, 6).padEnd(6, '0'));
  if (!Number.isSafeInteger(us)) fail(label, raw, 'is out of range');
  return us;
}
