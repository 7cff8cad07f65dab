// A local stand-in for Binance's REST history of trades (GET /api/v3/historicalTrades?symbol=&fromId=&limit=), on
// 127.0.0.1, answering from a trade list in Binance's documented item form (tests/fixtures/venues/binance-rest-history.json):
// the trades of the symbol from fromId on, at most `limit`, oldest first. Any other path is a 404 with Binance's error
// form. Every request is recorded. Nothing here connects anywhere.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListedTrade } from './venue-standin.js';

export class BinanceHistoryStandin {
  private constructor(
    /** Each request's path and query, in order. */
    readonly requests: string[],
    private readonly server: Server,
    /** The base URL (TE_FEED_REST_URL): http://127.0.0.1:<port> */
    readonly url: string,
  ) {}

  static async start(trades: readonly ListedTrade[]): Promise<BinanceHistoryStandin> {
    const requests: string[] = [];
    const server = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://127.0.0.1');
      requests.push(`${u.pathname}${u.search}`);
      const symbol = u.searchParams.get('symbol');
      const fromId = Number(u.searchParams.get('fromId'));
      const limit = Number(u.searchParams.get('limit') ?? '500');
      if (u.pathname !== '/api/v3/historicalTrades' || !symbol || !Number.isInteger(fromId)) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: -1100, msg: 'Illegal characters found in parameter.' }));
        return;
      }
      const items = trades
        .filter((t) => t.venueSymbol === symbol && Number(t.tradeId) >= fromId)
        .sort((a, b) => Number(a.tradeId) - Number(b.tradeId))
        .slice(0, limit)
        .map((t) => ({
          id: Number(t.tradeId),
          price: t.price,
          qty: t.size,
          quoteQty: (Number(t.price) * Number(t.size)).toFixed(8),
          time: t.timeMs,
          isBuyerMaker: t.side === 'SELL',
          isBestMatch: true,
        }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(items));
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new BinanceHistoryStandin(requests, server, `http://127.0.0.1:${port}`);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
