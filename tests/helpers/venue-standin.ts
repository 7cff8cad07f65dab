// A local stand-in for a venue's public WebSocket, for the feed connection tests: a `ws` server on 127.0.0.1 (a free
// port) that speaks enough of one venue's protocol for the client — subscribe messages checked and acknowledged,
// trades sent in the venue's real format (the shapes of tests/fixtures/venues/ and of the adapters' comments) from a
// seeded generator, heartbeats and pongs — with faults on command: drop a connection, go silent (TCP kept open),
// refuse the upgrade with 429 and a Retry-After, announce a server shutdown (Binance), leave pings unanswered.
// Every upgrade, subscribe, ping and close is recorded with its time (performance.now(), the clock the client's
// timers use) so a test can assert on the timeline. On the same port it answers the venue's REST history of trades
// (restUrl; Binance historicalTrades, Kraken Trades, OKX history-trades, Coinbase Exchange products/…/trades) from
// its history list, in each venue's documented answer form and paging, and can refuse those requests with 429.
// Nothing here connects anywhere.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { Prng } from '../../src/ingest/prng.js';
import type { VenueName } from '../../src/ingest/venues/venue-adapter.js';

export type StandinEventKind = 'upgrade' | 'refused' | 'open' | 'subscribe' | 'ping' | 'close' | 'rejected';

export interface StandinEvent {
  /** performance.now() when it happened. */
  at: number;
  conn: number;
  kind: StandinEventKind;
  /** subscribe: the venue symbols asked for; rejected: why. */
  symbols?: string[];
  text?: string;
  /** close: the code and who closed ('client': a close frame or the socket ended by the client; 'server': a fault). */
  code?: number;
  by?: 'client' | 'server';
}

/** One trade as the stand-in sent it: what the adapter must read back. */
export interface StandinTrade {
  venueSymbol: string;
  tradeId: string;
  price: string;
  size: string;
  side: 'BUY' | 'SELL';
  timeMs: number;
  /** The connections it went to (two while one replaces the other). */
  conns: number[];
}

/** A trade of a list a test sends (sendTrades). */
export type ListedTrade = Omit<StandinTrade, 'conns'>;

/**
 * A seeded list of trades: for each venue symbol, `count` trades with consecutive ids from `firstId`, interleaved
 * symbol by symbol, a random walk of prices (2 decimals), sizes (4 decimals) and sides, ms times 10 ms apart from
 * `startMs` (a minute ago by default: plausible, never ahead of the ingest time).
 */
export function tradeList(venueSymbols: readonly string[], { firstId = 1001, count = 60, seed = 11, startMs = Date.now() - 60_000 } = {}): ListedTrade[] {
  const prng = new Prng(seed);
  const prices = venueSymbols.map(() => 100 + 900 * prng.next());
  const out: ListedTrade[] = [];
  for (let i = 0; i < count; i++) {
    venueSymbols.forEach((venueSymbol, k) => {
      prices[k] = prices[k]! * (1 + (prng.next() - 0.5) * 0.002);
      out.push({
        venueSymbol,
        tradeId: String(firstId + i),
        price: prices[k]!.toFixed(2),
        size: (0.0001 + prng.next() * 3).toFixed(4),
        side: prng.next() < 0.5 ? 'BUY' : 'SELL',
        timeMs: startMs + 10 * (i * venueSymbols.length + k),
      });
    });
  }
  return out;
}

interface Conn {
  id: number;
  ws: WebSocket;
  symbols: Set<string>;
  heartbeats: boolean;
  silent: boolean;
  closedByServer: boolean;
  /** performance.now() of the last frame or ping sent to it. */
  lastSentAt: number;
}

/** One REST request the stand-in answered (or refused): its path and query, the status, when (performance.now()). */
export interface RestRequest {
  at: number;
  path: string;
  status: number;
}

export interface StandinOptions {
  seed?: number;
  /** Refuse (with an error message, recorded as 'rejected') a subscribe that would pass this many symbols on one connection. */
  maxSymbolsPerConnection?: number;
}

export class VenueStandin {
  readonly events: StandinEvent[] = [];
  readonly trades: StandinTrade[] = [];
  /** Trade rounds in which some symbol had no subscribed connection at all (its trade reached nobody). */
  unheard = 0;
  private readonly conns = new Map<number, Conn>();
  private nextConn = 1;
  private readonly prng: Prng;
  private readonly prices = new Map<string, number>();
  private readonly ids = new Map<string, number>();
  private refusals: { status: number; retryAfter: string | undefined }[] = [];
  private pingsRejected = false;
  private pumpTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private seq = 0;
  /** REST requests, in order. */
  readonly restRequests: RestRequest[] = [];
  private history: readonly ListedTrade[] | undefined;
  private restRefusals: { status: number; retryAfter: string | undefined }[] = [];

  private constructor(
    readonly venue: VenueName,
    private readonly server: Server,
    private readonly wss: WebSocketServer,
    readonly url: string,
    private readonly options: StandinOptions,
  ) {
    this.prng = new Prng(options.seed ?? 7);
    server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.onRest(req, res));
  }

  /** The REST base (TE_FEED_REST_URL): http://127.0.0.1:<port> */
  get restUrl(): string {
    return this.url.replace(/^ws:/, 'http:').replace(/\/$/, '');
  }

  static async start(venue: VenueName, options: StandinOptions = {}): Promise<VenueStandin> {
    const server = createServer();
    const wss = new WebSocketServer({ noServer: true });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new VenueStandin(venue, server, wss, `ws://127.0.0.1:${port}/`, options);
  }

  // ------------------------------------------------------------------------------------------------------ faults

  /** The next `n` upgrade requests are answered `status` (429 by default) with this Retry-After (none when undefined). */
  refuseNext(n: number, { status = 429, retryAfter }: { status?: number; retryAfter?: string } = {}): void {
    for (let i = 0; i < n; i++) this.refusals.push({ status, retryAfter });
  }

  /** Ends connections without a close frame (the TCP connection just goes), all open ones by default. */
  drop(conn?: number): void {
    for (const c of this.select(conn)) {
      c.closedByServer = true;
      c.ws.terminate();
    }
  }

  /** These connections (all open ones by default) send nothing any more — no trade, ack, heartbeat, pong or ping — and keep TCP open. */
  silence(conn?: number): void {
    for (const c of this.select(conn)) c.silent = true;
  }

  /** "ping" messages are no longer answered (the connection still sends everything else). */
  rejectPings(on = true): void {
    this.pingsRejected = on;
  }

  /** Binance: the serverShutdown event on a connection; the server closes it (1001) after `closeAfterMs` if it is still open. */
  serverShutdown(conn: number, closeAfterMs?: number): void {
    const c = this.conns.get(conn);
    if (!c) throw new Error(`no open connection ${conn}`);
    this.send(c, JSON.stringify({ e: 'serverShutdown', E: Date.now() }));
    if (closeAfterMs !== undefined)
      this.later(closeAfterMs, () => {
        if (!this.conns.has(conn)) return;
        c.closedByServer = true;
        c.ws.close(1001, 'server shutdown');
      });
  }

  // ------------------------------------------------------------------------------------------------------ traffic

  /** Every `everyMs`, one trade for each symbol (those listed, or every subscribed one), to each connection subscribed to it. 0 stops. */
  pump(everyMs: number, symbols?: readonly string[]): void {
    if (this.pumpTimer) clearInterval(this.pumpTimer);
    this.pumpTimer = everyMs > 0 ? setInterval(() => this.tradeRound(symbols), everyMs) : undefined;
  }

  /** Every `everyMs`, the venue's heartbeat on each subscribed connection (Kraken, Coinbase), or a ping frame (Binance, OKX, Bybit). 0 stops. */
  heartbeats(everyMs: number): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = everyMs > 0 ? setInterval(() => this.heartbeatRound(), everyMs) : undefined;
  }

  /** One trade for each symbol (those listed, or every subscribed one) now. */
  tradeRound(symbols?: readonly string[]): void {
    const wanted = symbols ?? [...new Set([...this.conns.values()].flatMap((c) => [...c.symbols]))].sort();
    for (const symbol of wanted) {
      // Only connections still open both ways: one whose close handshake has begun is sent nothing (as ws does).
      const to = [...this.conns.values()].filter((c) => c.symbols.has(symbol) && !c.silent && c.ws.readyState === c.ws.OPEN);
      if (to.length === 0) {
        if ([...this.conns.values()].every((c) => !c.silent)) this.unheard++;
        continue;
      }
      const trade = this.nextTrade(symbol, to);
      const frame = tradeFrame(this.venue, trade, ++this.seq);
      for (const c of to) this.send(c, frame);
    }
  }

  /**
   * These trades (a list the test made, not the generator's), in order, each as its own frame to every open connection
   * subscribed to its symbol; recorded in `trades` with the connections reached.
   */
  sendTrades(trades: readonly ListedTrade[]): void {
    for (const listed of trades) {
      const to = [...this.conns.values()].filter((c) => c.symbols.has(listed.venueSymbol) && !c.silent && c.ws.readyState === c.ws.OPEN);
      const trade: StandinTrade = { ...listed, conns: to.map((c) => c.id) };
      this.trades.push(trade);
      const frame = tradeFrame(this.venue, trade, ++this.seq);
      for (const c of to) this.send(c, frame);
    }
  }

  /** What the REST history holds (every trade of a list, those never sent included); by default the trades sent so far. */
  setHistory(trades: readonly ListedTrade[]): void {
    this.history = trades;
  }

  /** The next `n` REST requests are answered `status` (429 by default) with this Retry-After (none when undefined). */
  refuseRest(n: number, { status = 429, retryAfter }: { status?: number; retryAfter?: string } = {}): void {
    for (let i = 0; i < n; i++) this.restRefusals.push({ status, retryAfter });
  }

  /** Any text on a connection (a malformed frame, say). */
  sendRaw(conn: number, text: string): void {
    const c = this.conns.get(conn);
    if (!c) throw new Error(`no open connection ${conn}`);
    this.send(c, text);
  }

  // ------------------------------------------------------------------------------------------------------ reading

  /** performance.now() of the last frame or ping sent on an open connection. */
  lastSentAt(conn: number): number {
    const c = this.conns.get(conn);
    if (!c) throw new Error(`no open connection ${conn}`);
    return c.lastSentAt;
  }

  /** Connections open now, by id. */
  openConnections(): number[] {
    return [...this.conns.keys()];
  }

  /** The symbols each connection subscribed to, by connection id (closed ones included), in order. */
  subscriptions(): Map<number, string[]> {
    const out = new Map<number, string[]>();
    for (const e of this.events) if (e.kind === 'subscribe') out.set(e.conn, [...(out.get(e.conn) ?? []), ...e.symbols!]);
    return out;
  }

  of(kind: StandinEventKind, conn?: number): StandinEvent[] {
    return this.events.filter((e) => e.kind === kind && (conn === undefined || e.conn === conn));
  }

  async close(): Promise<void> {
    this.pump(0);
    this.heartbeats(0);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.conns.values()) c.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ------------------------------------------------------------------------------------------------------ inside

  private select(conn?: number): Conn[] {
    return conn === undefined ? [...this.conns.values()] : [this.conns.get(conn)].filter((c): c is Conn => c !== undefined);
  }

  private record(e: Omit<StandinEvent, 'at'>): void {
    this.events.push({ at: performance.now(), ...e });
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private onRest(req: IncomingMessage, res: ServerResponse): void {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      this.restRequests.push({ at: performance.now(), path: `${u.pathname}${u.search}`, status });
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
    const refusal = this.restRefusals.shift();
    if (refusal) return answer(refusal.status, { message: 'Too Many Requests' }, refusal.retryAfter === undefined ? {} : { 'retry-after': refusal.retryAfter });
    const got = restAnswer(this.venue, u, this.history ?? this.trades);
    if (got === undefined) return answer(426, { message: 'upgrade to a WebSocket, or ask a REST history call of this venue' });
    answer(got.status, got.body, got.headers);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const id = this.nextConn++;
    this.record({ conn: id, kind: 'upgrade' });
    const refusal = this.refusals.shift();
    if (refusal) {
      this.record({ conn: id, kind: 'refused', code: refusal.status });
      const retry = refusal.retryAfter === undefined ? '' : `Retry-After: ${refusal.retryAfter}\r\n`;
      socket.end(`HTTP/1.1 ${refusal.status} Too Many Requests\r\n${retry}Content-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const c: Conn = { id, ws, symbols: new Set(), heartbeats: false, silent: false, closedByServer: false, lastSentAt: performance.now() };
      this.conns.set(id, c);
      this.record({ conn: id, kind: 'open' });
      ws.on('message', (data) => this.onMessage(c, String(data)));
      ws.on('close', (code) => {
        this.conns.delete(id);
        this.record({ conn: id, kind: 'close', code, by: c.closedByServer ? 'server' : 'client' });
      });
      ws.on('error', () => undefined); // a client that vanishes mid-frame; its close is recorded
    });
  }

  private send(c: Conn, text: string): void {
    if (c.silent || c.ws.readyState !== c.ws.OPEN) return;
    c.ws.send(text);
    c.lastSentAt = performance.now();
  }

  private reject(c: Conn, why: string, text: string, answer: string): void {
    this.record({ conn: c.id, kind: 'rejected', text: `${why}: ${text}` });
    this.send(c, answer);
  }

  private onMessage(c: Conn, text: string): void {
    const ping = pingReply(this.venue, text);
    if (ping !== undefined) {
      this.record({ conn: c.id, kind: 'ping', text });
      if (!this.pingsRejected) this.send(c, ping);
      return;
    }
    const sub = readSubscribe(this.venue, text);
    if (typeof sub === 'string') return this.reject(c, sub, text, errorFrame(this.venue, sub));
    const limit = this.options.maxSymbolsPerConnection;
    const added = sub.symbols.filter((s) => !c.symbols.has(s));
    if (limit !== undefined && c.symbols.size + added.length > limit)
      return this.reject(c, `over ${limit} symbols on a connection`, text, errorFrame(this.venue, 'too many streams'));
    this.record({ conn: c.id, kind: 'subscribe', symbols: sub.symbols, text });
    for (const s of sub.symbols) c.symbols.add(s);
    if (sub.heartbeats) c.heartbeats = true;
    for (const ack of subscribeAcks(this.venue, text, sub.symbols, ++this.seq)) this.send(c, ack);
  }

  private heartbeatRound(): void {
    for (const c of this.conns.values()) {
      if (c.silent || c.symbols.size === 0) continue;
      if (this.venue === 'KRAKEN') this.send(c, JSON.stringify({ channel: 'heartbeat' }));
      else if (this.venue === 'COINBASE') {
        if (c.heartbeats) this.send(c, coinbaseHeartbeat(++this.seq));
      } else if (c.ws.readyState === c.ws.OPEN) {
        c.ws.ping();
        c.lastSentAt = performance.now();
      }
    }
  }

  private nextTrade(symbol: string, to: Conn[]): StandinTrade {
    const price = (this.prices.get(symbol) ?? 100 + 900 * this.prng.next()) * (1 + (this.prng.next() - 0.5) * 0.002);
    this.prices.set(symbol, price);
    const id = (this.ids.get(symbol) ?? 1000) + 1;
    this.ids.set(symbol, id);
    const trade: StandinTrade = {
      venueSymbol: symbol,
      tradeId: String(id),
      price: price.toFixed(2),
      size: (0.0001 + this.prng.next() * 3).toFixed(4),
      side: this.prng.next() < 0.5 ? 'BUY' : 'SELL',
      timeMs: Date.now(),
      conns: to.map((c) => c.id),
    };
    this.trades.push(trade);
    return trade;
  }
}

// ------------------------------------------------------------------------------------------------ each venue's words

/** The venue's answer to a client ping message, or undefined when the text is not one. */
function pingReply(venue: VenueName, text: string): string | undefined {
  if (venue === 'OKX') return text === 'ping' ? 'pong' : undefined;
  const m = json(text);
  if (venue === 'KRAKEN' && m?.method === 'ping')
    return JSON.stringify({ method: 'pong', req_id: m.req_id, time_in: iso(Date.now()), time_out: iso(Date.now()) });
  if (venue === 'BYBIT' && m?.op === 'ping') return JSON.stringify({ success: true, ret_msg: 'pong', conn_id: 'standin', req_id: m.req_id ?? '', op: 'ping' });
  return undefined;
}

/** A subscribe message in the venue's documented form → its symbols; a string says what is wrong with it. */
function readSubscribe(venue: VenueName, text: string): { symbols: string[]; heartbeats: boolean } | string {
  const m = json(text);
  if (!m) return 'not a JSON object';
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string');
  switch (venue) {
    case 'BINANCE': {
      if (m.method !== 'SUBSCRIBE' || !strings(m.params) || m.id === undefined) return 'not {"method":"SUBSCRIBE","params":[…],"id":…}';
      if (!m.params.every((p) => /^[a-z0-9]+@trade$/.test(p))) return 'streams must be <lowercase symbol>@trade';
      return { symbols: m.params.map((p) => p.slice(0, -'@trade'.length).toUpperCase()), heartbeats: false };
    }
    case 'OKX': {
      const args = m.args;
      if (m.op !== 'subscribe' || !Array.isArray(args) || args.length === 0) return 'not {"op":"subscribe","args":[…]}';
      const ok = args.every((a: unknown) => typeof a === 'object' && a !== null && (a as Record<string, unknown>).channel === 'trades');
      if (!ok) return 'args must be {"channel":"trades","instId":…}';
      return { symbols: args.map((a: unknown) => String((a as Record<string, unknown>).instId)), heartbeats: false };
    }
    case 'KRAKEN': {
      const p = m.params as Record<string, unknown> | undefined;
      if (m.method !== 'subscribe' || !p || p.channel !== 'trade' || !strings(p.symbol))
        return 'not {"method":"subscribe","params":{"channel":"trade","symbol":[…]}}';
      return { symbols: p.symbol, heartbeats: false };
    }
    case 'BYBIT': {
      if (m.op !== 'subscribe' || !strings(m.args)) return 'not {"op":"subscribe","args":[…]}';
      if (m.args.length > 10) return 'args size >10';
      if (!m.args.every((a) => /^publicTrade\.[A-Z0-9]+$/.test(a))) return 'topics must be publicTrade.<SYMBOL>';
      return { symbols: m.args.map((a) => a.slice('publicTrade.'.length)), heartbeats: false };
    }
    case 'COINBASE': {
      if (m.type !== 'subscribe' || !strings(m.product_ids)) return 'not {"type":"subscribe","product_ids":[…],"channel":…}';
      if (m.channel === 'heartbeats') return { symbols: [], heartbeats: true };
      if (m.channel !== 'market_trades') return `unknown channel ${String(m.channel)}`;
      return { symbols: m.product_ids, heartbeats: false };
    }
  }
}

function subscribeAcks(venue: VenueName, text: string, symbols: string[], seq: number): string[] {
  const m = json(text)!;
  switch (venue) {
    case 'BINANCE':
      return [JSON.stringify({ result: null, id: m.id })];
    case 'OKX':
      return symbols.map((instId) => JSON.stringify({ event: 'subscribe', arg: { channel: 'trades', instId }, connId: 'standin' }));
    case 'KRAKEN':
      return symbols.map((symbol) =>
        JSON.stringify({
          method: 'subscribe',
          result: { channel: 'trade', snapshot: false, symbol },
          success: true,
          time_in: iso(Date.now()),
          time_out: iso(Date.now()),
        }),
      );
    case 'BYBIT':
      return [JSON.stringify({ success: true, ret_msg: 'subscribe', conn_id: 'standin', req_id: m.req_id ?? '', op: 'subscribe' })];
    case 'COINBASE':
      return [
        JSON.stringify({
          channel: 'subscriptions',
          client_id: '',
          timestamp: iso(Date.now()),
          sequence_num: seq,
          events: [{ subscriptions: m.channel === 'heartbeats' ? { heartbeats: ['heartbeats'] } : { market_trades: symbols } }],
        }),
      ];
  }
}

function errorFrame(venue: VenueName, msg: string): string {
  switch (venue) {
    case 'BINANCE':
      return JSON.stringify({ code: 2, msg: `Invalid request: ${msg}` });
    case 'OKX':
      return JSON.stringify({ event: 'error', code: '60012', msg });
    case 'KRAKEN':
      return JSON.stringify({ method: 'subscribe', success: false, error: msg, time_in: iso(Date.now()), time_out: iso(Date.now()) });
    case 'BYBIT':
      return JSON.stringify({ success: false, ret_msg: msg, conn_id: 'standin', req_id: '', op: 'subscribe' });
    case 'COINBASE':
      return JSON.stringify({ type: 'error', message: msg });
  }
}

/** One trade in the venue's real message form (tests/fixtures/venues/*.json; OKX per src/ingest/venues/okx.ts). */
function tradeFrame(venue: VenueName, t: StandinTrade, seq: number): string {
  const lower = t.side === 'BUY' ? 'buy' : 'sell';
  switch (venue) {
    case 'BINANCE':
      return JSON.stringify({
        stream: `${t.venueSymbol.toLowerCase()}@trade`,
        data: {
          e: 'trade',
          E: t.timeMs + 1,
          s: t.venueSymbol,
          t: Number(t.tradeId),
          p: t.price,
          q: t.size,
          b: 88,
          a: 50,
          T: t.timeMs,
          m: t.side === 'SELL',
          M: true,
        },
      });
    case 'OKX':
      return JSON.stringify({
        arg: { channel: 'trades', instId: t.venueSymbol },
        data: [{ instId: t.venueSymbol, tradeId: t.tradeId, px: t.price, sz: t.size, side: lower, ts: String(t.timeMs), count: '1' }],
      });
    case 'KRAKEN':
      return JSON.stringify({
        channel: 'trade',
        type: 'update',
        data: [
          {
            symbol: t.venueSymbol,
            side: lower,
            price: Number(t.price),
            qty: Number(t.size),
            ord_type: 'market',
            trade_id: Number(t.tradeId),
            timestamp: iso(t.timeMs),
          },
        ],
      });
    case 'BYBIT':
      return JSON.stringify({
        topic: `publicTrade.${t.venueSymbol}`,
        type: 'snapshot',
        ts: t.timeMs + 1,
        data: [{ T: t.timeMs, s: t.venueSymbol, S: t.side === 'BUY' ? 'Buy' : 'Sell', v: t.size, p: t.price, L: 'PlusTick', i: t.tradeId, BT: false }],
      });
    case 'COINBASE':
      return JSON.stringify({
        channel: 'market_trades',
        client_id: '',
        timestamp: iso(t.timeMs + 1),
        sequence_num: seq,
        events: [
          { type: 'update', trades: [{ trade_id: t.tradeId, product_id: t.venueSymbol, price: t.price, size: t.size, side: t.side, time: iso(t.timeMs) }] },
        ],
      });
  }
}

// ------------------------------------------------------------------------------------------------ each venue's REST history

/** Kraken's REST names: v2's BTC is XBT, DOGE is XDG; the answer keys some pairs by their old internal names. */
const KRAKEN_REST_ASSET: Record<string, string> = { BTC: 'XBT', DOGE: 'XDG' };
const KRAKEN_RESULT_KEY: Record<string, string> = { XBTUSD: 'XXBTZUSD', ETHUSD: 'XETHZUSD', XBTEUR: 'XXBTZEUR' };

/**
 * A REST history request → the venue's answer from `trades` (each venue's documented paging and item form), or
 * undefined when the path is none of this venue's history calls.
 */
function restAnswer(venue: VenueName, u: URL, trades: readonly ListedTrade[]): { status: number; body: unknown; headers?: Record<string, string> } | undefined {
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

function coinbaseHeartbeat(seq: number): string {
  return JSON.stringify({
    channel: 'heartbeats',
    client_id: '',
    timestamp: iso(Date.now()),
    sequence_num: seq,
    events: [{ current_time: new Date().toISOString(), heartbeat_counter: seq }],
  });
}

/** ms → ISO-8601 with six fractional digits, as Kraken v2 writes times. */
function iso(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

function json(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
