// Each venue's REST history of trades, as a stand-in answers it from the trades it holds: Binance historicalTrades,
// Kraken Trades, OKX history-trades, Coinbase Exchange products/…/trades, in each venue's documented answer form and
// paging. Bybit has no such call.
import type { VenueName } from '../ingest/venues/venue-adapter.js';
import type { ListedTrade } from './trade-list.js';

/** Kraken's REST names: v2's BTC is XBT, DOGE is XDG; the answer keys some pairs by their old internal names. */
const KRAKEN_REST_ASSET: Record<string, string> = { BTC: 'XBT', DOGE: 'XDG' };
const KRAKEN_RESULT_KEY: Record<string, string> = { XBTUSD: 'XXBTZUSD', ETHUSD: 'XETHZUSD', XBTEUR: 'XXBTZEUR' };

/**
 * A REST history request → the venue's answer from `trades` (each venue's documented paging and item form), or
 * undefined when the path is none of this venue's history calls.
 */
export function restAnswer(
  venue: VenueName,
  u: URL,
  trades: readonly ListedTrade[],
): { status: number; body: unknown; headers?: Record<string, string> } | undefined {
  const q = (name: string) => u.searchParams.get(name);
  const id = (t: ListedTrade) => BigInt(t.tradeId);
  const of = (venueSymbol: string) => trades.filter((t) => t.venueSymbol === venueSymbol);
  const ascending = (list: ListedTrade[]) => [...list].sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
  const lower = (t: ListedTrade) => (t.side === 'BUY' ? 'buy' : 'sell');
  const limit = (given: string | null, byDefault: number, max: number) => Math.min(max, given === null ? byDefault : Number(given));
  switch (venue) {
    case 'BINANCE': {
      if (u.pathname !== '/api/v3/historicalTrades') return undefined;
      const from = q('fromId');
      const list = ascending(of(q('symbol') ?? '')).filter((t) => from === null || id(t) >= BigInt(from));
      const items = list.slice(0, limit(q('limit'), 500, 1000)).map((t) => ({
        id: Number(t.tradeId),
        price: t.price,
        qty: t.size,
        quoteQty: (Number(t.price) * Number(t.size)).toFixed(8),
        time: t.timeMs,
        isBuyerMaker: t.side === 'SELL',
        isBestMatch: true,
      }));
      return { status: 200, body: items };
    }
    case 'KRAKEN': {
      if (u.pathname !== '/0/public/Trades') return undefined;
      const pair = q('pair') ?? '';
      const venueSymbol = [...new Set(trades.map((t) => t.venueSymbol))].find(
        (s) =>
          s
            .split('/')
            .map((a) => KRAKEN_REST_ASSET[a] ?? a)
            .join('') === pair,
      );
      if (venueSymbol === undefined) return { status: 200, body: { error: ['EQuery:Unknown asset pair'] } };
      const since = BigInt(q('since') ?? '0');
      const ns = (t: ListedTrade) => BigInt(t.timeMs) * 1_000_000n;
      // Oldest first, by time then id; `since` exclusive; `last` the time (ns) of the last trade given.
      const list = ascending(of(venueSymbol))
        .sort((a, b) => a.timeMs - b.timeMs)
        .filter((t) => ns(t) > since)
        .slice(0, limit(q('count'), 1000, 1000));
      const items = list.map((t) => [t.price, t.size, t.timeMs / 1000, t.side === 'BUY' ? 'b' : 's', 'm', '', Number(t.tradeId)]);
      const last = list.length > 0 ? ns(list[list.length - 1]!) : since;
      return { status: 200, body: { error: [], result: { [KRAKEN_RESULT_KEY[pair] ?? pair]: items, last: String(last) } } };
    }
    case 'OKX': {
      if (u.pathname !== '/api/v5/market/history-trades') return undefined;
      if ((q('type') ?? '1') !== '1' || q('before') !== null)
        return { status: 400, body: { code: '50014', msg: 'the stand-in pages by tradeId with after only', data: [] } };
      const instId = q('instId') ?? '';
      if (!trades.some((t) => t.venueSymbol === instId)) return { status: 200, body: { code: '51001', msg: 'Instrument ID does not exist', data: [] } };
      const after = q('after');
      const list = ascending(of(instId))
        .reverse()
        .filter((t) => after === null || id(t) < BigInt(after))
        .slice(0, limit(q('limit'), 100, 100));
      const data = list.map((t) => ({ instId, side: lower(t), sz: t.size, source: '0', px: t.price, tradeId: t.tradeId, ts: String(t.timeMs) }));
      return { status: 200, body: { code: '0', msg: '', data } };
    }
    case 'COINBASE': {
      const m = /^\/products\/([^/]+)\/trades$/.exec(u.pathname);
      if (!m) return undefined;
      const product = decodeURIComponent(m[1]!);
      if (!trades.some((t) => t.venueSymbol === product)) return { status: 404, body: { message: 'NotFound' } };
      const after = q('after');
      const list = ascending(of(product))
        .reverse()
        .filter((t) => after === null || id(t) < BigInt(after))
        .slice(0, limit(q('limit'), 1000, 1000));
      // `side` is the maker's: a taker BUY took a resting sell.
      const body = list.map((t) => ({
        time: new Date(t.timeMs).toISOString(),
        trade_id: Number(t.tradeId),
        price: t.price,
        size: t.size,
        side: t.side === 'BUY' ? 'sell' : 'buy',
      }));
      const headers: Record<string, string> = list.length > 0 ? { 'cb-before': list[0]!.tradeId, 'cb-after': list[list.length - 1]!.tradeId } : {};
      return { status: 200, body, headers };
    }
    case 'BYBIT':
      return undefined;
  }
}
