// Coinbase's history of trades, for the holes in a feed's trade ids: the Exchange API's
// GET /products/{product_id}/trades?after=&limit=, the request URLs and the answers' parsing; the request is passed in.
//
// Why the Exchange API: it is the one public call that pages by trade id. Advanced Trade's public market trades
// (GET /api/v3/brokerage/market/products/{id}/ticker) take only `limit` and a `start`/`end` time, so a hole could be
// looked for by time and never asked for by id. The Exchange's trade ids are the ids Advanced Trade's
// `market_trades` carry (one matching engine; docs/venues.md, Doubts).
//
// Quirks (Coinbase Exchange REST, "Get product trades" and "Pagination", docs.cdp.coinbase.com/exchange/):
// - Cursor pagination, newest first: `after=X` returns trades with ids BELOW X (older), at most 1000 (`limit`, also the
//   default). Each answer's CB-AFTER header is the cursor of the next older page (its last, lowest, trade id). So a
//   hole [from, to] is asked from after = to + 1 down to `from`.
// - `side` is the MAKER's order side ("buy indicates a down-tick"): the taker's is the other one, as in the Exchange
//   WebSocket's `match`. Ids are JSON integers, times ISO-8601 (µs).
// - Public endpoints: 10 requests a second per IP (bursts of 15); past it, HTTP 429 (the HistoryClient waits).
import type { Side, Tick } from '../../contracts/tick.js';
import { DecodeError, describe } from '../../errors.js';
import { MessageFields, parseJsonText } from '../venues/message-fields.js';
import { fromDashed } from '../venues/symbols.js';
import type { VenueTrade } from '../venues/venue-adapter.js';
import { pageHistory, type GapFiller } from './gap-filler.js';
import type { HistoryFillerOptions } from './history-client.js';

const VENUE = 'COINBASE';
export const COINBASE_REST_URL = 'https://api.exchange.coinbase.com';
/** The most trades one answer holds. */
export const COINBASE_HISTORY_LIMIT = 1000;
const MAKER_SIDE_TO_TAKER: Readonly<Record<string, Side>> = { buy: 'SELL', sell: 'BUY' };

/** The request for up to `limit` trades of `productId` with ids below `afterId`, newest first. */
export function coinbaseTradesUrl(productId: string, afterId: string, limit = COINBASE_HISTORY_LIMIT, base = COINBASE_REST_URL): string {
  return `${base}/products/${encodeURIComponent(productId)}/trades?after=${encodeURIComponent(afterId)}&limit=${limit}`;
}

/** An answer's body → its trades (snapshot: true). DecodeError naming the item and field for anything that is not a list of them. */
export function parseCoinbaseTrades(body: string, venueSymbol: string, ingestTimeMicros: number): VenueTrade[] {
  const where = `${VENUE} products/${venueSymbol}/trades`;
  const items = parseJsonText(body, `${where} answer`);
  // An error is {"message":"NotFound"}: the body's start says which.
  if (!Array.isArray(items)) throw new DecodeError(`${where} answer is not a list of trades: ${describe(body)}`);
  const symbol = fromDashed(venueSymbol, `${where} product`);
  return items.map((_, i): VenueTrade => {
    const f = MessageFields.item(items, i, where);
    const tick: Tick = {
      venue: VENUE,
      symbol,
      eventTime: f.iso('time', 'trade time'),
      price: f.decimal('price', 'price'),
      size: f.decimal('size', 'size'),
      side: f.side('side', 'maker side', MAKER_SIDE_TO_TAKER),
      tradeId: f.id('trade_id', 'trade id'),
      ingestTime: ingestTimeMicros,
    };
    if (!/^\d+$/.test(tick.tradeId)) throw new DecodeError(`${where}[${i}] trade id ${describe(tick.tradeId)} is not a decimal number`);
    return { tick, venueSymbol, snapshot: true };
  });
}

export interface CoinbaseGapFillerOptions extends HistoryFillerOptions {
  limit?: number;
}

/** Asks Coinbase's history for a hole's trades, page by page down from its last id along CB-AFTER, until the hole is covered. */
export class CoinbaseGapFiller implements GapFiller {
  constructor(private readonly opts: CoinbaseGapFillerOptions) {}

  fill(venueSymbol: string, fromId: string, toId: string): Promise<VenueTrade[]> {
    const { limit = COINBASE_HISTORY_LIMIT, maxPages = 10 } = this.opts;
    const from = BigInt(fromId);
    return pageHistory(from, BigInt(toId), BigInt(toId) + 1n, maxPages, async (after) => {
      const answer = await this.opts.get(coinbaseTradesUrl(venueSymbol, String(after), limit, this.opts.base));
      const trades = parseCoinbaseTrades(answer.body, venueSymbol, this.opts.nowMicros?.() ?? Date.now() * 1000);
      const lowest = trades.reduce((low, t) => (BigInt(t.tick.tradeId) < low ? BigInt(t.tick.tradeId) : low), after);
      const header = answer.header('cb-after');
      const cursor = header !== undefined && /^\d{1,30}$/.test(header) ? BigInt(header) : lowest;
      // A short page is the start of the product's history; a cursor that does not move down would be asked again for ever.
      return { trades, next: trades.length < limit || cursor >= after || lowest <= from ? undefined : cursor };
    });
  }
}
