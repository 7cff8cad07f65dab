// A local stand-in for a venue's public WebSocket and REST history, for tests, the demo and `tick-engine
// venue-standin`: a `ws` server on 127.0.0.1 that speaks enough of one venue's protocol for the client — subscribe
// messages checked and acknowledged, trades sent in the venue's real format (venue-frames.ts), heartbeats and pongs —
// with faults on command: drop a connection, go silent (TCP kept open), refuse the upgrade with 429 and a Retry-After,
// announce a server shutdown (Binance), leave pings unanswered, skip or repeat trades (the caller decides what it sends).
// Every upgrade, subscribe, ping and close is recorded with its time (performance.now(), the clock the client's
// timers use) so a test can assert on the timeline. On the same port it answers the venue's REST history of trades
// (restUrl; rest-history.ts) from its history list, and can refuse those requests with 429. Nothing here connects
// anywhere.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { InvalidArgumentError } from '../errors.js';
import { Prng } from '../ingest/prng.js';
import type { VenueName } from '../ingest/venues/venue-adapter.js';
import { restAnswer } from './rest-history.js';
import type { ListedTrade, StandinTrade } from './trade-list.js';
import { coinbaseHeartbeat, errorFrame, pingReply, readSubscribe, subscribeAcks, tradeFrame } from './venue-frames.js';

export type { ListedTrade, StandinTrade } from './trade-list.js';

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
  /** The port on 127.0.0.1 (default 0: a free one). */
  port?: number;
  /** Keep only the last this many trades sent (the REST history by default): a long-running stand-in's memory stays bounded. */
  maxTrades?: number;
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
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.port ?? 0, '127.0.0.1', resolve));
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
    if (!c) throw new InvalidArgumentError(`no open connection ${conn}`);
    this.send(c, JSON.stringify({ e: 'serverShutdown', E: Date.now() }));
    if (closeAfterMs !== undefined)
      this.later(closeAfterMs, () => {
        if (!this.conns.has(conn)) return;
        c.closedByServer = true;
        c.ws.close(1001, 'server shutdown');
      });
  }

  /** The venue closes a connection with a close frame (Binance's disconnect at 24 hours: 1000 by default). */
  closeConnection(conn: number, { code = 1000, reason = 'connection lifetime reached' }: { code?: number; reason?: string } = {}): void {
    const c = this.conns.get(conn);
    if (!c) throw new InvalidArgumentError(`no open connection ${conn}`);
    c.closedByServer = true;
    c.ws.close(code, reason);
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
      this.keep(trade);
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
    if (!c) throw new InvalidArgumentError(`no open connection ${conn}`);
    this.send(c, text);
  }

  // ------------------------------------------------------------------------------------------------------ reading

  /** performance.now() of the last frame or ping sent on an open connection. */
  lastSentAt(conn: number): number {
    const c = this.conns.get(conn);
    if (!c) throw new InvalidArgumentError(`no open connection ${conn}`);
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

  private keep(trade: StandinTrade): void {
    this.trades.push(trade);
    const max = this.options.maxTrades;
    // Trimmed in chunks: one splice per 10 % over, not one shift per trade.
    if (max !== undefined && this.trades.length > max * 1.1) this.trades.splice(0, this.trades.length - max);
  }

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
    this.keep(trade);
    return trade;
  }
}
