// OKX's history of trades, for the holes in a feed's trade ids: GET /api/v5/market/history-trades?instId=&type=1&after=,
// the request URLs and the answers' parsing; the HTTP request itself is passed in (`get`).
//
// Quirks (OKX API v5, "GET / Trades history", www.okx.com/docs-v5/en/#order-book-trading-market-data-get-trades-history):
// - `type=1` pages by trade id; `after` returns the trades with ids BELOW it (exclusive), newest first, at most 100
//   (`limit`, also the default). So a hole [from, to] is asked from after = to + 1 down to `from`, the next page
//   after the lowest id of the last one. The history reaches back 3 months. 20 requests per 2 s per IP.
// - Answers are {"code":"0","msg":"","data":[{instId,tradeId,px,sz,side,source,ts}]}; any other code is an error
//   (50011: rate limit, with HTTP 429, which the HistoryClient waits out).
// - Each item is one fill, where the `trades` WebSocket channel may push several fills of one order as one trade
//   (`count`, the last fill's id): a filled hole therefore holds single fills. A `count` in an item is read as on the
//   WebSocket (idSpan). `side` is the taker's; `ts` ms as a string; `sz` base currency on SPOT, contracts otherwise.
import { DecodeError, describe } from '../../errors.js';
import { isObject, MessageFields, parseJsonText } from '../venues/message-fields.js';
import { okxTrade } from '../venues/okx.js';
import type { VenueTrade } from '../venues/venue-adapter.js';
import { pageHistory, type GapFiller } from './gap-filler.js';
import type { HistoryFillerOptions } from './history-client.js';

const VENUE = 'OKX';
export const OKX_REST_URL = 'https://www.okx.com';
/** The most trades one answer holds. */
export const OKX_HISTORY_LIMIT = 100;

/** The request for up to `limit` trades of `instId` with ids below `afterId`, newest first. */
export function okxHistoryUrl(instId: string, afterId: string, limit = OKX_HISTORY_LIMIT, base = OKX_REST_URL): string {
  return `${base}/api/v5/market/history-trades?instId=${encodeURIComponent(instId)}&type=1&after=${encodeURIComponent(afterId)}&limit=${limit}`;
}

/** An answer's body → its trades (snapshot: true). DecodeError naming the item and field for anything else, error answers included. */
export function parseOkxHistory(body: string, ingestTimeMicros: number): VenueTrade[] {
  const where = `${VENUE} history-trades`;
  const msg = parseJsonText(body, `${where} answer`);
  if (!isObject(msg)) throw new DecodeError(`${where} answer is ${describe(msg)}, not an object`);
  const m = new MessageFields(msg, where);
  if (m.text('code', 'result code') !== '0') throw new DecodeError(`${where} answer is an error: code ${describe(msg.code)} ${describe(msg.msg)}`);
  const data = m.array('data', 'trades');
  return data.map((_, i): VenueTrade => {
    const trade = okxTrade(MessageFields.item(data, i, `${where} data`), ingestTimeMicros, true);
    if (!/^\d+$/.test(trade.tick.tradeId)) throw new DecodeError(`${where} data[${i}] trade id ${describe(trade.tick.tradeId)} is not a decimal number`);
    return trade;
  });
}

export interface OkxGapFillerOptions extends HistoryFillerOptions {
  limit?: number;
}

/** Asks OKX's history for a hole's trades, page by page down from its last id, until the hole is covered or the history has no more. */
export class OkxGapFiller implements GapFiller {
  constructor(private readonly opts: OkxGapFillerOptions) {}

  fill(venueSymbol: string, fromId: string, toId: string): Promise<VenueTrade[]> {
    const { limit = OKX_HISTORY_LIMIT, maxPages = 20 } = this.opts;
    const from = BigInt(fromId);
    return pageHistory(from, BigInt(toId), BigInt(toId) + 1n, maxPages, async (after) => {
      const { body } = await this.opts.get(okxHistoryUrl(venueSymbol, String(after), limit, this.opts.base));
      const trades = parseOkxHistory(body, this.opts.nowMicros?.() ?? Date.now() * 1000);
      const lowest = trades.reduce((low, t) => (BigInt(t.tick.tradeId) < low ? BigInt(t.tick.tradeId) : low), after);
      // A short page is the end of the 3 months; a page that does not move down would be asked again for ever.
      return { trades, next: trades.length < limit || lowest >= after || lowest <= from ? undefined : lowest };
    });
  }
}
