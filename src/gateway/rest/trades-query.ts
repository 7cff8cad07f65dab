// GET /api/v1/trades/:symbol parameters: parsed and validated into a page query of the tick archive, or a BadRequestError.
// The cursor is the last trade's identity in the archive's order (event time, venue, trade id): trades sharing a
// microsecond are neither skipped nor repeated across pages.
import { validateSymbol } from '../../contracts/symbol-pattern.js';
import { BadRequestError } from '../../errors.js';
import type { TradeCursor, TradesQuery } from '../../stores/trade-history.js';
import { MAX_TIME, parseLimit, parseTime } from './bars-query.js';

export function encodeTradeCursor(c: TradeCursor): string {
  return Buffer.from(JSON.stringify(['t', c.eventTime, c.venue, c.tradeId])).toString('base64url');
}

function decodeTradeCursor(raw: string): TradeCursor {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    v = undefined;
  }
  if (!Array.isArray(v) || v.length !== 4 || v[0] !== 't' || !Number.isSafeInteger(v[1]) || typeof v[2] !== 'string' || typeof v[3] !== 'string')
    throw new BadRequestError('cursor is not one this server issued');
  return { eventTime: v[1] as number, venue: v[2] as string, tradeId: v[3] as string };
}

/** `symbol`: the path parameter, already percent-decoded; `query`: the raw query string (without '?'). */
export function parseTradesQuery(symbol: string, query: string): TradesQuery {
  const params = new URLSearchParams(query);
  for (const key of params.keys()) {
    if (!['from', 'to', 'limit', 'cursor'].includes(key)) throw new BadRequestError(`unknown parameter '${key}' (from, to, limit, cursor)`);
  }
  validateSymbol(symbol);
  const from = params.has('from') ? parseTime('from', params.get('from')!) : 0;
  const to = params.has('to') ? parseTime('to', params.get('to')!) : MAX_TIME;
  if (from >= to) throw new BadRequestError('from must be before to');
  const after = params.has('cursor') ? decodeTradeCursor(params.get('cursor')!) : undefined;
  return { symbol, from, to, after, limit: parseLimit(params) };
}
