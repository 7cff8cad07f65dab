// Storage policy values: how long bars of each interval are kept (TE_RETENTION) and durations such as TE_COMPRESS_AFTER.
import { InvalidArgumentError } from '../errors.js';
import { parseInterval } from './interval.js';

const UNIT_MICROS: Record<string, number> = { s: 1_000_000, m: 60_000_000, h: 3_600_000_000, d: 86_400_000_000, w: 7 * 86_400_000_000 };

/** A duration such as '90s', '12h', '7d', '2w', in microseconds. */
export function parseDuration(text: string): number {
  const m = /^([1-9][0-9]*)([smhdw])$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`duration '${text}' must be a positive integer followed by s, m, h, d or w (e.g. 7d)`);
  return Number(m[1]) * UNIT_MICROS[m[2]!]!;
}

/**
 * Per interval name, how long its bars are kept (µs), or null for ever. `*` is the default for intervals not named;
 * without it they are kept for ever. Empty text: everything kept.
 */
export class RetentionPolicy {
  private constructor(
    private readonly byInterval: ReadonlyMap<string, number | null>,
    private readonly fallback: number | null,
  ) {}

  static readonly KEEP_ALL = new RetentionPolicy(new Map(), null);

  /** '1s=7d,1m=180d,1d=forever,*=400d'. Each key an interval name (or *), each value a duration or 'forever'. */
  static parse(text: string): RetentionPolicy {
    const byInterval = new Map<string, number | null>();
    let fallback: number | null = null;
    let sawFallback = false;
    if (text.trim() === '') return RetentionPolicy.KEEP_ALL;
    for (const item of text.split(',')) {
      const m = /^\s*([^=\s]+)\s*=\s*([^=\s]+)\s*$/.exec(item);
      if (!m) throw new InvalidArgumentError(`'${item.trim()}' must be interval=duration (1s=7d) or interval=forever`);
      const [, key, value] = m as unknown as [string, string, string];
      const keep = value === 'forever' ? null : parseDuration(value);
      if (key === '*') {
        if (sawFallback) throw new InvalidArgumentError('names * twice');
        sawFallback = true;
        fallback = keep;
        continue;
      }
      const width = parseInterval(key);
      if (byInterval.has(key)) throw new InvalidArgumentError(`names ${key} twice`);
      if (keep !== null && keep < width) throw new InvalidArgumentError(`${key}=${value} keeps less than one ${key} bar`);
      byInterval.set(key, keep);
    }
    return new RetentionPolicy(byInterval, fallback);
  }

  /** How long bars of `interval` are kept (µs), or null for ever. */
  keep(interval: string): number | null {
    return this.byInterval.has(interval) ? this.byInterval.get(interval)! : this.fallback;
  }

  /** The intervals named with a finite retention (the default applies to the others). */
  get finite(): [string, number][] {
    return [...this.byInterval].filter((e): e is [string, number] => e[1] !== null);
  }

  /** The retention of the intervals not named (null: for ever). */
  get otherwise(): number | null {
    return this.fallback;
  }

  /** When every interval has a finite retention, the longest: data older than it is expired whatever its interval. */
  get longest(): number | null {
    if (this.fallback === null || this.finite.length < this.byInterval.size) return null;
    return Math.max(this.fallback, ...this.finite.map(([, us]) => us));
  }

  /** Nothing ever expires. */
  get keepsAll(): boolean {
    return this.fallback === null && this.finite.length === 0;
  }
}
