// Binance's history of spot trades by id, for the holes in a feed's trade ids: the request URLs and the answers'
// parsing; the HTTP request itself is passed in (`get`, a HistoryClient's in the feed), so this file does no networking.
//
// - `trade` ids (what the adapter subscribes to, `@trade`) come from GET /api/v3/historicalTrades?fromId=…: items
//   {id, price, qty, quoteQty, time, isBuyerMaker, isBestMatch}; `aggTrade` ids from GET /api/v3/aggTrades?fromId=…:
//   items {a, p, q, f, l, T, m, M}. The two are separate sequences: a filler asks for the kind its feed reads.
// - fromId is included; at most 1000 trades per request (weight 25 for historicalTrades, 4 for aggTrades), oldest
//   first, so a hole of n trades takes ⌈n / 1000⌉ requests.
// - isBuyerMaker / m true ⇒ the taker sold ⇒ SELL, as in the WebSocket events; time / T in ms → µs.
import type { Tick } from '../../contracts/tick.js';
import { DecodeError, describe } from '../../errors.js';
import { MessageFields, parseJsonText } from '../venues/message-fields.js';
import { fromConcatenated } from '../venues/symbols.js';
import type { VenueTrade } from '../venues/venue-adapter.js';
import { pageHistory, type GapFiller } from './gap-filler.js';
import type { HistoryFillerOptions } from './history-client.js';

const VENUE = 'BINANCE';
export const BINANCE_REST_URL = 'https://api.binance.com';
/** The most trades either endpoint returns per request. */
export const BINANCE_HISTORY_LIMIT = 1000;

/** Which id sequence: the `trade` stream's ids or the `aggTrade` stream's. */
export type BinanceTradeKind = 'trade' | 'aggTrade';

const ENDPOINT: Readonly<Record<BinanceTradeKind, string>> = { trade: 'historicalTrades', aggTrade: 'aggTrades' };

/** The request for up to `limit` trades of `venueSymbol` ('BTCUSDT') from id `fromId` on. */
export function binanceHistoryUrl(kind: BinanceTradeKind, venueSymbol: string, fromId: string, limit = BINANCE_HISTORY_LIMIT, base = BINANCE_REST_URL): string {
  return `${base}/api/v3/${ENDPOINT[kind]}?symbol=${encodeURIComponent(venueSymbol)}&fromId=${encodeURIComponent(fromId)}&limit=${limit}`;
}

/**
 * An answer's body → its trades, as the WebSocket adapter would give them (snapshot: true, since they may have been
 * received before). DecodeError naming the item and field for anything that is not a list of such trades (an error
 * object such as {"code":-1121,"msg":"Invalid symbol."} included).
 */
export function parseBinanceHistory(kind: BinanceTradeKind, body: string, venueSymbol: string, ingestTimeMicros: number): VenueTrade[] {
  const where = `${VENUE} ${ENDPOINT[kind]}`;
  const items = parseJsonText(body, `${where} answer`);
  // Binance answers an error as {"code":-1121,"msg":"Invalid symbol."}: the body's start says which.
  if (!Array.isArray(items)) throw new DecodeError(`${where} answer is not a list of trades: ${describe(body)}`);
  const symbol = fromConcatenated(venueSymbol, `${where} symbol`);
  return items.map((_, i): VenueTrade => {
    const f = MessageFields.item(items, i, where);
    const tick: Tick =
      kind === 'trade'
        ? {
            venue: VENUE,
            symbol,
            eventTime: f.ms('time', 'trade time'),
            price: f.decimal('price', 'price'),
            size: f.decimal('qty', 'quantity'),
            side: f.bool('isBuyerMaker', 'buyer is maker') ? 'SELL' : 'BUY',
            tradeId: f.id('id', 'trade id'),
            ingestTime: ingestTimeMicros,
          }
        : {
            venue: VENUE,
            symbol,
            eventTime: f.ms('T', 'trade time'),
            price: f.decimal('p', 'price'),
            size: f.decimal('q', 'quantity'),
            side: f.bool('m', 'buyer is maker') ? 'SELL' : 'BUY',
            tradeId: f.id('a', 'aggregate trade id'),
            ingestTime: ingestTimeMicros,
          };
    if (!/^\d+$/.test(tick.tradeId)) throw new DecodeError(`${where}[${i}] trade id ${describe(tick.tradeId)} is not a decimal number`);
    return { tick, venueSymbol, snapshot: true };
  });
}

export interface BinanceGapFillerOptions extends HistoryFillerOptions {
  kind: BinanceTradeKind;
  limit?: number;
}

/** Asks Binance's history for a hole's trades, page by page from its first id, until the hole is covered or the history has no more. */
export class BinanceGapFiller implements GapFiller {
  constructor(private readonly opts: BinanceGapFillerOptions) {}

  fill(venueSymbol: string, fromId: string, toId: string): Promise<VenueTrade[]> {
    const { kind, limit = BINANCE_HISTORY_LIMIT, maxPages = 10 } = this.opts;
    const to = BigInt(toId);
    return pageHistory(BigInt(fromId), to, BigInt(fromId), maxPages, async (from) => {
      const { body } = await this.opts.get(binanceHistoryUrl(kind, venueSymbol, String(from), limit, this.opts.base));
      const trades = parseBinanceHistory(kind, body, venueSymbol, this.opts.nowMicros?.() ?? Date.now() * 1000);
      const next = trades.reduce((n, t) => (BigInt(t.tick.tradeId) >= n ? BigInt(t.tick.tradeId) + 1n : n), from);
      // A short page is the end of the history so far; a page that does not move on would be asked again for ever.
      return { trades, next: trades.length < limit || next <= from || next > to ? undefined : next };
    });
  }
}
