// GET /api/v1/bars/:symbol parameters: parsed and validated into a history query, or a BadRequestError.
import { validateSymbol } from '../../contracts/symbol-pattern.js';
import { BadRequestError, describe } from '../../errors.js';
import { parseIsoMicros } from '../../time.js';

import type { HistoryQuery } from '../../stores/history.js';

export const MAX_LIMIT = 5000;
const DEFAULT_LIMIT = 500;
/** Far enough for any real bucket, small enough to stay an exact integer of µs. */
export const MAX_TIME = 7_258_118_400_000_000; // 2200-01-01

/** A time parameter: µs since the epoch as an integer, or an ISO-8601 instant, from 1970 to 2200. */
export function parseTime(name: string, raw: string): number {
  const us = /^-?\d+$/.test(raw) ? Number(raw) : parseIsoMicros(raw);
  if (us === undefined)
    throw new BadRequestError(`${name} must be µs since the epoch or an ISO-8601 instant such as 2024-01-02T03:04:05Z (got ${describe(raw)})`);
  if (!Number.isSafeInteger(us) || us < 0 || us > MAX_TIME)
    throw new BadRequestError(`${name} must be between 1970-01-01 and 2200-01-01 (got ${describe(raw)})`);
  return us;
}

export function encodeCursor(bucketStart: number): string {
  return Buffer.from(`b:${bucketStart}`).toString('base64url');
}

function decodeCursor(raw: string): number {
  const text = Buffer.from(raw, 'base64url').toString('utf8');
  const m = /^b:(-?\d+)$/.exec(text);
  if (!m || !Number.isSafeInteger(Number(m[1]))) throw new BadRequestError('cursor is not one this server issued');
  return Number(m[1]);
}

/** The page size: `limit`, 1 to MAX_LIMIT, or the default. */
export function parseLimit(params: URLSearchParams): number {
  if (!params.has('limit')) return DEFAULT_LIMIT;
  const raw = params.get('limit')!;
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > MAX_LIMIT) throw new BadRequestError(`limit must be an integer from 1 to ${MAX_LIMIT} (got '${raw}')`);
  return limit;
}

/** `query` is the raw query string (without '?'). */
/** `symbol`: the path parameter, already percent-decoded. */
export function parseBarsQuery(symbol: string, query: string, intervals: ReadonlySet<string>): HistoryQuery {
  const params = new URLSearchParams(query);
  for (const key of params.keys()) {
    if (!['interval', 'from', 'to', 'limit', 'cursor'].includes(key))
      throw new BadRequestError(`unknown parameter '${key}' (interval, from, to, limit, cursor)`);
  }
  const sym = symbol;
  validateSymbol(sym);
  const interval = params.get('interval');
  if (!interval) throw new BadRequestError(`interval is required: one of ${[...intervals].join(', ')}`);
  if (!intervals.has(interval)) throw new BadRequestError(`interval must be one of ${[...intervals].join(', ')} (got '${interval}')`);
  const from = params.has('from') ? parseTime('from', params.get('from')!) : 0;
  const to = params.has('to') ? parseTime('to', params.get('to')!) : MAX_TIME;
  if (from >= to) throw new BadRequestError('from must be before to');
  const limit = parseLimit(params);
  const after = params.has('cursor') ? decodeCursor(params.get('cursor')!) : undefined;
  return { symbol: sym, interval, from, to, after, limit };
}
