// The REST API: /api/v1/instruments, /api/v1/bars/:symbol (history from a store, cursor pagination),
// /api/v1/trades/:symbol (the tick archive, cursor pagination),
// /api/v1/quote/:symbol and POST /api/v1/quotes (from the live series). Every route is guarded, authenticated and
// answered once, as JSON, with CORS headers.
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Config } from '../../config.js';
import type { Bar } from '../../contracts/bar.js';
import { validateSymbol } from '../../contracts/symbol-pattern.js';
import { httpRequestSeconds, httpRequests } from '../../metrics.js';
import { BadRequestError, UnknownSymbolError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { BarHistory } from '../../stores/history.js';
import type { TradeHistory } from '../../stores/trade-history.js';
import { parseUntrustedJson } from '../../untrusted-json.js';
import type { Principal } from '../auth/auth.js';
import { seriesKey, type SeriesBook } from '../fanout/series-book.js';
import { json, readBody, readRequest, writeReply, type Reply, type RequestInfo } from '../http/http.js';
import { entitle, type RequestGate } from '../http/request-gate.js';
import { serializeBarsPage, serializeQuote, serializeQuotes, type Quote } from '../ws/protocol.js';
import { encodeCursor, parseBarsQuery } from './bars-query.js';
import { encodeTradeCursor, parseTradesQuery } from './trades-query.js';

const MAX_QUOTES = 1000;
const MAX_BODY = 256 * 1024;

export interface RestApiDeps {
  config: Config;
  log: Logger;
  gate: RequestGate;
  series: SeriesBook;
  history: BarHistory;
  trades: TradeHistory;
}

export class RestApi {
  private readonly intervals: ReadonlySet<string>;

  constructor(private readonly d: RestApiDeps) {
    this.intervals = new Set(d.config.intervals.map((i) => i.name));
  }

  register(app: TemplatedApp): void {
    app
      .get(
        '/api/v1/instruments',
        this.route('/api/v1/instruments', 0, (_r, p) => this.instruments(p)),
      )
      .get(
        '/api/v1/bars/:symbol',
        this.route('/api/v1/bars/:symbol', 1, (r, p) => this.bars(r, p)),
      )
      .get(
        '/api/v1/trades/:symbol',
        this.route('/api/v1/trades/:symbol', 1, (r, p) => this.trades(r, p)),
      )
      .get(
        '/api/v1/quote/:symbol',
        this.route('/api/v1/quote/:symbol', 1, (r, p) => this.quote(r.params[0]!, p)),
      )
      .post(
        '/api/v1/quotes',
        this.route('/api/v1/quotes', 0, (_r, p, body) => this.quotes(body!, p), { withBody: true }),
      );
  }

  /**
   * A REST route: reads the request synchronously, authenticates, runs the handler, and writes one JSON
   * reply with CORS headers. Nothing of the answer is written before auth has passed.
   */
  private route(
    pattern: string,
    nParams: number,
    handler: (r: RequestInfo, p: Principal, body?: Buffer) => Promise<Reply> | Reply,
    opts: { withBody?: boolean } = {},
  ) {
    const { gate } = this.d;
    return gate.guard((res: HttpResponse, req: HttpRequest) => {
      const r = readRequest(req, nParams);
      const body = opts.withBody ? readBody(res, MAX_BODY) : undefined;
      // When auth fails first the body is never awaited: its own rejection (too large) must not go unhandled.
      body?.catch(() => {});
      let aborted = false;
      res.onAborted(() => (aborted = true));
      const cors = gate.cors.headers(r.origin);
      const end = httpRequestSeconds.startTimer({ route: pattern });
      (async () => handler(r, await gate.admit(r), body && (await body)))()
        .catch((err: unknown) => gate.refuse(err, r.url))
        .then((reply) => {
          if (!aborted) writeReply(res, reply, cors);
          end();
          httpRequests.inc({ route: pattern, status: String(reply.status) });
        });
    });
  }

  private instruments(p: Principal): Reply {
    const symbols = [...this.d.series.symbols].filter((s) => p.entitled(s)).sort();
    return json(200, { intervals: [...this.intervals], symbols });
  }

  private async bars(r: RequestInfo, p: Principal): Promise<Reply> {
    const q = parseBarsQuery(r.params[0]!, r.query, this.intervals);
    entitle(p, [q.symbol]);
    const { bars, next } = await this.d.history.bars(q).catch((err: unknown) => {
      this.d.log.error({ err }, 'history query failed');
      throw err;
    });
    return {
      status: 200,
      type: 'application/json',
      body: serializeBarsPage({ symbol: q.symbol, interval: q.interval, bars, next: next === undefined ? null : encodeCursor(next) }),
    };
  }

  private async trades(r: RequestInfo, p: Principal): Promise<Reply> {
    const q = parseTradesQuery(r.params[0]!, r.query);
    entitle(p, [q.symbol]);
    const { trades, next } = await this.d.trades.trades(q).catch((err: unknown) => {
      this.d.log.error({ err }, 'tick archive query failed');
      throw err;
    });
    return json(200, { symbol: q.symbol, trades, next: next === undefined ? null : encodeTradeCursor(next) });
  }

  private quoteOf(symbol: string): Quote {
    const { series } = this.d;
    const bars: Record<string, Bar | null> = {};
    for (const iv of this.intervals) bars[iv] = series.currentBar(iv, symbol);
    return { symbol, lastTrade: series.trades.get(seriesKey('trades', undefined, symbol))?.last ?? null, bars };
  }

  private quote(symbol: string, p: Principal): Reply {
    validateSymbol(symbol);
    entitle(p, [symbol]);
    if (!this.d.series.symbols.has(symbol)) throw new UnknownSymbolError(symbol);
    return { status: 200, type: 'application/json', body: serializeQuote(this.quoteOf(symbol)) };
  }

  private quotes(body: Buffer, p: Principal): Reply {
    const { series } = this.d;
    const parsed = parseUntrustedJson(body.toString('utf8'), 'body (JSON: {"symbols":["BTC-USD", ...]})');
    const symbols = (parsed as { symbols?: unknown } | null)?.symbols;
    if (!Array.isArray(symbols) || symbols.length === 0 || symbols.length > MAX_QUOTES)
      throw new BadRequestError(`symbols must be a non-empty list of at most ${MAX_QUOTES} symbols`);
    for (const s of symbols) validateSymbol(s);
    const list = [...new Set(symbols as string[])];
    entitle(p, list);
    const known = list.filter((s) => series.symbols.has(s));
    return {
      status: 200,
      type: 'application/json',
      body: serializeQuotes({ quotes: known.map((s) => this.quoteOf(s)), unknown: list.filter((s) => !series.symbols.has(s)) }),
    };
  }
}
