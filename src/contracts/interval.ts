// Bar intervals: names ('1s', '5m', '4h', '1d') and their widths in microseconds.
import { InvalidArgumentError } from '../errors.js';

export interface IntervalSpec {
  /** As written by the user and stored in bars: '1s', '1m', '1h', '1d'. */
  name: string;
  /** Width in microseconds. */
  micros: number;
}

const UNIT_MICROS: Record<string, number> = { s: 1_000_000, m: 60_000_000, h: 3_600_000_000, d: 86_400_000_000 };

export function parseInterval(name: string): number {
  const m = /^([1-9][0-9]*)([smhd])$/.exec(name);
  if (!m) throw new InvalidArgumentError(`interval '${name}' must be a positive integer followed by s, m, h or d (e.g. 1s, 5m, 4h, 1d)`);
  const micros = Number(m[1]) * UNIT_MICROS[m[2]!]!;
  if (micros > 366 * UNIT_MICROS.d!) throw new InvalidArgumentError(`interval '${name}' is longer than a year`);
  return micros;
}
