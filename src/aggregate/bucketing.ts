// How an interval cuts time into buckets: fixed widths from an origin (time_bucket), or calendar days in a
// named time zone (a session from local midnight to local midnight: 23 or 25 hours across DST changes).
import { ConfigError } from '../errors.js';
import type { IntervalSpec } from '../contracts/interval.js';
import { bucketStart } from './bucket.js';

export interface Bucketing {
  /** Start of the bucket containing t (µs). */
  start(t: number): number;
  /** End (exclusive) of the bucket starting at `start`. */
  end(start: number): number;
}

export function fixedBucketing(width: number, origin = 0): Bucketing {
  return { start: (t) => bucketStart(t, width, origin), end: (s) => s + width };
}

const DAY_MS = 86_400_000;

/** Calendar days in `zone` (IANA name). Start = the instant of local 00:00; cached per day. */
export function zonedDayBucketing(zone: string): Bucketing {
  let dtf: Intl.DateTimeFormat;
  try {
    dtf = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new ConfigError('TE_DAILY_TIMEZONE', `unknown time zone '${zone}'`);
  }
  /** Local time minus UTC at instant ms (ms). */
  const offset = (ms: number): number => {
    const p: Record<string, number> = {};
    for (const part of dtf.formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value);
    return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - Math.floor(ms / 1000) * 1000;
  };
  const cache = new Map<number, number>();
  const startOfLocalDay = (localDay: number): number => {
    let s = cache.get(localDay);
    if (s === undefined) {
      const localMidnight = localDay * DAY_MS;
      // Solve utc + offset(utc) = localMidnight; two rounds settle it across a DST change.
      let utc = localMidnight - offset(localMidnight);
      utc = localMidnight - offset(utc);
      s = utc * 1000;
      if (cache.size > 4096) cache.clear();
      cache.set(localDay, s);
    }
    return s;
  };
  const start = (t: number): number => {
    const ms = Math.floor(t / 1000);
    const localDay = Math.floor((ms + offset(ms)) / DAY_MS);
    const s = startOfLocalDay(localDay);
    // Around a DST change the guess can be a day off: the bucket is the one whose [start, end) holds t.
    return s > t ? startOfLocalDay(localDay - 1) : s;
  };
  // end() runs for every open daily bar at every close check: remember it per bucket start.
  const ends = new Map<number, number>();
  const end = (s: number): number => {
    let e = ends.get(s);
    if (e === undefined) {
      e = start(s + 36 * 3_600_000_000);
      if (ends.size > 4096) ends.clear();
      ends.set(s, e);
    }
    return e;
  };
  return { start, end };
}

/** The bucketing of each configured interval: fixed from the origin, '1d' in the daily zone when one is set. */
export function bucketingsFor(intervals: IntervalSpec[], opts: { origin: number; dailyZone?: string }): Bucketing[] {
  return intervals.map((iv) =>
    iv.name === '1d' && opts.dailyZone && opts.dailyZone !== 'UTC' ? zonedDayBucketing(opts.dailyZone) : fixedBucketing(iv.micros, opts.origin),
  );
}
