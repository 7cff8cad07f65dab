// The gateway: one uWebSockets.js app serving live bars, trades and signals over WebSocket, REST history
// and quotes, health, metrics and the chart page. Auth, limits and CORS guard every data route.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket, us_socket_context_t, WebSocket } from 'uWebSockets.js';
import type { Config } from '../config.js';
import {
  AuthError,
  BadRequestError,
  clientError,
  describe,
  InternalError,
  LimitExceededError,
  ListenError,
  MisdirectedRequestError,
  NotFoundError,
  TickEngineError,
  UnknownSymbolError,
} from '../errors.js';
import type { Logger } from '../log.js';
import type { Readiness } from '../metrics-server.js';
import {
  authFailures,
  registry,
  sendLatency,
  wsBackpressureClosed,
  wsBytes,
  wsClosed,
  wsConflated,
  wsConnections,
  wsDropped,
  wsMessages,
  wsSubscriptions,
} from '../metrics.js';
import { projectRoot } from '../paths.js';
import type { Bar } from '../contracts/bar.js';
import type { Signal } from '../contracts/signal.js';
import type { Tick } from '../contracts/tick.js';
import { schema } from '../stream/schemas.js';
import { encode } from '../stream/serde.js';
import { Admission, Authenticator, type Principal } from './auth/auth.js';
import { encodeCursor, parseBarsQuery } from './rest/bars-query.js';
import { Cors } from './http/cors.js';
import { GatewayFeed } from './fanout/feed.js';
import { BarHistory } from '../stores/history.js';
import { ambiguousFraming, errorReply, json, readBody, readRequest, writeReply, type Reply, type RequestInfo } from './http/http.js';
import { HostGuard } from './http/host-guard.js';
import { openApiDocument } from './rest/openapi.js';
import { Outbox, type Kind, type OutMessage } from './ws/outbox.js';
import {
  parseMessage,
  requestId,
  validateRequest,
  serializeAck,
  serializeBarMessage,
  serializeBarsPage,
  serializeError,
  serializeQuote,
  serializeQuotes,
  serializeSignalMessage,
  serializeSnapshot,
  serializeTradeMessage,
  type Channel,
  type Quote,
  type SubscribeRequest,
} from './ws/protocol.js';
import { authOptionsFromConfig } from './auth/auth-config.js';
import { Streams, streamKey } from './fanout/streams.js';
import { Subscriptions } from './fanout/subscriptions.js';
import { compileSymbolPatterns, isPattern, validateSymbol } from '../contracts/symbol-pattern.js';
import { loadUws } from './uws.js';
import { parseUntrustedJson } from '../untrusted-json.js';

/** One delta of one stream, as the feed hands it over. */
interface Delta {
  channel: Channel;
  interval: string | undefined;
  symbol: string;
  kind: Kind;
  /** Its type in an Avro frame (schemas/ws-frame.avsc). */
  frame: 'BAR' | 'UPDATE' | 'TRADE' | 'SIGNAL';
  /** Bars: bucket start (conflation); otherwise event or bar time. */
  bucket: number;
  seq: number;
  /** The Kafka record value (wire format), the payload of an Avro frame. */
  raw: Buffer;
  /** Kafka timestamp of the tick behind it (ms). */
  srcTs: number;
  json: (ts: number) => string;
}

/** One WebSocket connection (uWS user data). */
interface Client {
  id: number;
  principal: Principal;
  encoding: 'json' | 'avro';
  release: () => void;
  outbox?: Outbox;
  /** Closes the connection when its credentials expire. */
  expiry?: NodeJS.Timeout;
}

export interface GatewayOptions {
  /** Other parts of the process whose readiness /ready reports too (the aggregator, in the demo). */
  readiness?: Readiness;
  /** Called when the gateway's Kafka consumer stopped for good: the process should shut down. */
  onFatal?: (err: Error) => void;
}

const MAX_QUOTES = 1000;
const MAX_BODY = 256 * 1024;

export class Gateway {
  private app: TemplatedApp | undefined;
  private listenSocket: us_listen_socket | undefined;
  private readonly feed: GatewayFeed;
  private readonly history: BarHistory;
  private readonly streams: Streams;
  private readonly subs = new Subscriptions<Client>((c, symbol) => c.principal.entitled(symbol));
  private readonly intervals: ReadonlySet<string>;
  private readonly auth: Authenticator;
  private readonly admission = new Admission();
  private readonly cors: Cors;
  private readonly hosts: HostGuard;
  private nextConnId = 1;
  private readonly open = new Set<WebSocket<Client>>();
  /** Clients with messages queued in the current round. */
  private readonly dirty = new Set<Client>();
  private ready = false;
  /** The bound port (useful with TE_GATEWAY_PORT=0). */
  port = 0;

  /** Other parts of the process whose readiness /ready reports too (the aggregator, in the demo). */
  private readonly readiness: Readiness | undefined;

  constructor(
    private readonly config: Config,
    kafka: Kafka,
    private readonly log: Logger,
    opts: GatewayOptions = {},
  ) {
    this.readiness = opts.readiness;
    this.intervals = new Set(config.intervals.map((i) => i.name));
    this.feed = new GatewayFeed(config, kafka, log, opts.onFatal, {
      bar: (b, raw, ts) => this.onBar(b, raw, ts),
      update: (b, raw, ts) => this.onUpdate(b, raw, ts),
      signal: (s, raw, ts) => this.onSignal(s, raw, ts),
      trade: (t, raw, ts) => this.onTrade(t, raw, ts),
      batchEnd: () => this.flush(),
    });
    this.history = new BarHistory(config);
    this.streams = new Streams(config.snapshotBars);
    this.auth = new Authenticator(authOptionsFromConfig(config));
    this.cors = new Cors(config.corsOrigins);
    this.hosts = new HostGuard(config.allowedHosts, config.gatewayHost);
  }

  get url(): string {
    return `http://${this.config.gatewayHost}:${this.port}/`;
  }

  async start(): Promise<void> {
    const uws = loadUws();
    const root = projectRoot();
    const page = readFileSync(join(root, 'src/gateway/public/index.html'));
    const chartsJs = readFileSync(join(dirname(fileURLToPath(import.meta.resolve('lightweight-charts'))), 'lightweight-charts.standalone.production.js'));
    const openapi = JSON.stringify(openApiDocument([...this.intervals]));
    const compression = { off: uws.DISABLED, shared: uws.SHARED_COMPRESSOR, dedicated: uws.DEDICATED_COMPRESSOR_32KB }[this.config.wsCompression as 'off'];
    const app = uws.App();
    this.app = app;
    const text = (type: string, body: Buffer | string) => this.guard((res: HttpResponse) => writeReply(res, { status: 200, body, type }));
    app
      .ws<Client>('/ws', {
        compression,
        maxPayloadLength: 64 * 1024,
        idleTimeout: 60,
        // Our outbox enforces the hard limit with a close reason; uWS' own limit sits above it as a backstop.
        maxBackpressure: this.config.wsMaxBufferBytes + 4 * 1024 * 1024,
        closeOnBackpressureLimit: 0,
        sendPingsAutomatically: true,
        upgrade: this.guard((res, req, ctx) => this.onUpgrade(res, req, ctx)),
        open: (ws) => {
          const c = ws.getUserData();
          c.outbox = new Outbox(ws, this.config.wsSoftLimitBytes, this.config.wsMaxBufferBytes, compression !== uws.DISABLED, {
            sent: (m, bytes, now) => {
              wsMessages.inc({ channel: m.channel });
              wsBytes.inc({ channel: m.channel }, bytes);
              if (m.srcTs > 0) sendLatency.observe({ channel: m.channel }, Math.max(0, now - m.srcTs) / 1000);
            },
            conflated: () => wsConflated.inc(),
            dropped: (m) => wsDropped.inc({ channel: m.channel }),
            closedForBackpressure: (buffered) => {
              wsBackpressureClosed.inc();
              this.log.warn({ conn: c.id, principal: c.principal.id, buffered }, 'client closed for backpressure');
            },
          });
          this.open.add(ws);
          wsConnections.inc();
          const expiresAt = c.principal.expiresAt;
          if (expiresAt !== undefined)
            c.expiry = setTimeout(() => ws.end(1008, 'credentials expired: reconnect with a fresh token'), Math.max(0, expiresAt - Date.now()));
        },
        message: (ws, data, isBinary) => this.onMessage(ws.getUserData(), data, isBinary),
        drain: (ws) => ws.getUserData().outbox?.drain(),
        close: (ws, code) => {
          const c = ws.getUserData();
          this.open.delete(ws);
          clearTimeout(c.expiry);
          if (c.outbox) c.outbox.closed = true;
          const before = this.subs.size;
          this.subs.removeClient(c);
          wsSubscriptions.dec(before - this.subs.size);
          this.dirty.delete(c);
          c.release();
          wsConnections.dec();
          wsClosed.inc({ code: String(code) });
        },
      })
      .get('/', text('text/html; charset=utf-8', page))
      .get('/vendor/lightweight-charts.js', text('application/javascript', chartsJs))
      .get('/health', (res) => writeReply(res, json(200, { status: 'ok' })))
      .get('/ready', (res) => {
        const other = this.readiness?.() ?? { ready: true };
        if (!this.ready) return writeReply(res, json(503, { status: 'starting' }));
        writeReply(res, other.ready ? json(200, { status: 'ready' }) : json(503, { status: 'waiting', waitingFor: other.waitingFor }));
      })
      .get(
        '/openapi.json',
        this.guard((res, req) => writeReply(res, { status: 200, body: openapi, type: 'application/json' }, this.cors.headers(req.getHeader('origin')))),
      )
      .get('/metrics', (res) => {
        let aborted = false;
        res.onAborted(() => (aborted = true));
        registry.metrics().then(
          (body) => !aborted && writeReply(res, { status: 200, body, type: registry.contentType }),
          (err: unknown) => !aborted && writeReply(res, errorReply(new InternalError(`metrics could not be collected: ${String(err)}`))),
        );
      })
      .get(
        '/api/v1/instruments',
        this.route(0, (_r, p) => this.instruments(p)),
      )
      .get(
        '/api/v1/bars/:symbol',
        this.route(1, (r, p) => this.bars(r, p)),
      )
      .get(
        '/api/v1/quote/:symbol',
        this.route(1, (r, p) => this.quote(r.params[0]!, p)),
      )
      .post(
        '/api/v1/quotes',
        this.route(0, (r, p, body) => this.quotes(body!, p), true),
      )
      .options(
        '/*',
        this.guard((res, req) => {
          const h = this.cors.preflight(req.getHeader('origin'));
          writeReply(res, { status: 204, body: '' }, h);
        }),
      )
      .any(
        '/*',
        this.guard((res, req) => writeReply(res, errorReply(new NotFoundError(`no route for ${req.getMethod().toUpperCase()} ${req.getUrl()}`)))),
      );

    await new Promise<void>((resolve, reject) => {
      app.listen(this.config.gatewayHost, this.config.gatewayPort, (sock) => {
        if (!sock) return reject(new ListenError(`gateway cannot listen on ${this.config.gatewayHost}:${this.config.gatewayPort} (port taken?)`));
        this.listenSocket = sock;
        this.port = uws.us_socket_local_port(sock);
        resolve();
      });
    });
    await this.feed.start();
    this.ready = true;
    this.log.info({ url: this.url, auth: this.config.authEnabled, compression: this.config.wsCompression }, 'gateway listening');
  }

  // ---------------------------------------------------------------------------------------------- auth

  /** Who is calling, and may they make one more request now. Throws AuthError. */
  private async admit(r: RequestInfo): Promise<Principal> {
    const p = await this.auth.authenticate(r.credentials);
    if (this.config.authEnabled) this.admission.allowRequest(p);
    return p;
  }

  /**
   * What a client is told about a failed request, upgrade or WebSocket message (one mapping for all: clientError);
   * every refusal by auth or limits is counted here, once, and anything that is not a TickEngineError is logged.
   */
  private failure(err: unknown, url: string): ReturnType<typeof clientError> {
    if (err instanceof AuthError) authFailures.inc({ reason: err.reason });
    else if (!(err instanceof TickEngineError)) this.log.error({ err, url }, 'request failed');
    return clientError(err);
  }

  /** The JSON error reply to a request or upgrade. */
  private refuse(err: unknown, url: string): Reply {
    const e = this.failure(err, url);
    return json(e.status, { code: e.code, message: e.message });
  }

  /**
   * Before any handler: a request whose framing is ambiguous (two Content-Length headers, or one with
   * Transfer-Encoding) could smuggle a second request past us, so its connection is closed at once, before
   * anything after it is read; a Host this gateway does not answer to (DNS rebinding) gets 421.
   */
  private guard<A extends unknown[]>(handler: (res: HttpResponse, req: HttpRequest, ...rest: A) => void) {
    return (res: HttpResponse, req: HttpRequest, ...rest: A): void => {
      if (ambiguousFraming(req)) {
        authFailures.inc({ reason: 'framing' });
        res.close();
        return;
      }
      if (!this.hosts.allows(req.getHeader('host'))) {
        authFailures.inc({ reason: 'host' });
        writeReply(res, errorReply(new MisdirectedRequestError(`host ${describe(req.getHeader('host'))} is not served here (TE_ALLOWED_HOSTS)`)));
        return;
      }
      handler(res, req, ...rest);
    };
  }

  /**
   * A REST route: reads the request synchronously, authenticates, runs the handler, and writes one JSON
   * reply with CORS headers. Nothing of the answer is written before auth has passed.
   */
  private route(nParams: number, handler: (r: RequestInfo, p: Principal, body?: Buffer) => Promise<Reply> | Reply, withBody = false) {
    return this.guard((res: HttpResponse, req: HttpRequest) => {
      const r = readRequest(req, nParams);
      const body = withBody ? readBody(res, MAX_BODY) : undefined;
      // When auth fails first the body is never awaited: its own rejection (too large) must not go unhandled.
      body?.catch(() => {});
      let aborted = false;
      res.onAborted(() => (aborted = true));
      const cors = this.cors.headers(r.origin);
      (async () => handler(r, await this.admit(r), body && (await body)))()
        .catch((err: unknown) => this.refuse(err, r.url))
        .then((reply) => !aborted && writeReply(res, reply, cors));
    });
  }

  private onUpgrade(res: HttpResponse, req: HttpRequest, ctx: us_socket_context_t): void {
    const r = readRequest(req);
    const key = req.getHeader('sec-websocket-key');
    const protocol = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    const encoding = new URLSearchParams(r.query).get('encoding') ?? 'json';
    if (encoding !== 'json' && encoding !== 'avro')
      return writeReply(res, errorReply(new BadRequestError(`encoding must be json or avro (got ${describe(encoding)})`)));
    if (!this.cors.allows(r.origin, r.host)) {
      authFailures.inc({ reason: 'origin' });
      return writeReply(res, errorReply(new AuthError(403, 'origin', `origin ${r.origin} is not allowed (TE_CORS_ORIGINS)`)));
    }
    let aborted = false;
    res.onAborted(() => (aborted = true));
    this.admit(r).then(
      (principal) => {
        let release: () => void = () => {};
        if (this.config.authEnabled) {
          try {
            release = this.admission.acquireConnection(principal);
          } catch (err) {
            const reply = this.refuse(err, r.url);
            if (!aborted) writeReply(res, reply);
            return;
          }
        }
        if (aborted) return release();
        const client: Client = { id: this.nextConnId++, principal, encoding, release };
        res.cork(() => res.upgrade<Client>(client, key, protocol, extensions, ctx));
      },
      (err: unknown) => {
        const reply = this.refuse(err, r.url);
        if (!aborted) writeReply(res, reply);
      },
    );
  }

  // ---------------------------------------------------------------------------------------------- WebSocket requests

  private onMessage(c: Client, data: ArrayBuffer, isBinary: boolean): void {
    const reply = (s: string) => this.pushControl(c, s);
    let id: string | undefined;
    try {
      if (isBinary) throw new BadRequestError('requests are JSON text frames');
      let msg: Record<string, unknown> | undefined;
      let invalid: unknown;
      try {
        const parsed = parseMessage(Buffer.from(data).toString('utf8'));
        id = requestId(parsed);
        msg = parsed;
      } catch (err) {
        invalid = err;
      }
      // Even a malformed message counts against the rate limit.
      if (this.config.authEnabled) this.admission.allowRequest(c.principal);
      if (!msg) throw invalid;
      const req = validateRequest(msg, this.intervals);
      if (req.op === 'ping') reply(req.id === undefined ? '{"type":"pong"}' : JSON.stringify({ type: 'pong', id: req.id }));
      else if (req.op === 'subscribe') this.subscribe(c, req);
      else this.unsubscribe(c, req);
    } catch (err) {
      const e = this.failure(err, 'ws');
      reply(serializeError({ type: 'error', id, code: e.code, message: e.message }));
    }
    this.flush();
  }

  private subscribe(c: Client, req: SubscribeRequest): void {
    const { channel, interval } = req;
    const exact = req.symbols.filter((s) => !isPattern(s));
    entitle(c.principal, exact);
    const fresh = req.symbols.filter((s) => !this.subs.has(c, channel, interval, s));
    // Caps hold with auth off too (the anonymous principal carries TE_LIMIT_SUBSCRIPTIONS): no client, and no set of
    // clients, can make the gateway hold or resolve unbounded subscriptions. The request is taken whole or not at all.
    this.admission.checkSubscriptions(c.principal, this.subs.count(c) + fresh.length);
    const freshPatterns = fresh.filter(isPattern).length;
    if (freshPatterns && this.subs.patternsOf(c) + freshPatterns > this.config.limitPatterns)
      throw new LimitExceededError(`pattern subscriptions per connection are limited to ${this.config.limitPatterns} (TE_LIMIT_PATTERNS)`);
    if (this.subs.size + fresh.length > this.config.limitSubscriptionsTotal)
      throw new LimitExceededError(
        `this gateway holds its maximum of ${this.config.limitSubscriptionsTotal} subscriptions (TE_LIMIT_SUBSCRIPTIONS_TOTAL); try another instance`,
      );
    for (const s of fresh) this.subs.add(c, channel, interval, s);
    wsSubscriptions.inc(fresh.length);
    this.pushControl(c, serializeAck({ type: 'subscribed', id: req.id, channel, interval, symbols: req.symbols }));
    // Subscribing and taking the snapshot happen in this one synchronous step, as do recording and
    // publishing a delta: a snapshot ends exactly where the first delta begins.
    const patterns = req.symbols.filter(isPattern);
    const symbols = new Set(exact);
    if (patterns.length) {
      const match = compileSymbolPatterns(patterns);
      for (const sym of this.streams.symbolsOf(channel, interval)) if (match(sym) && c.principal.entitled(sym)) symbols.add(sym);
    }
    for (const sym of [...symbols].sort()) this.pushControl(c, serializeSnapshot(this.streams.snapshot(channel, interval, sym)));
  }

  private unsubscribe(c: Client, req: SubscribeRequest): void {
    let n = 0;
    for (const s of req.symbols) if (this.subs.remove(c, req.channel, req.interval, s)) n++;
    wsSubscriptions.dec(n);
    this.pushControl(c, serializeAck({ type: 'unsubscribed', id: req.id, channel: req.channel, interval: req.interval, symbols: req.symbols }));
  }

  /**
   * Control messages (acks, snapshots, errors) go out at once rather than at the end of the round: a
   * subscription to '*' can bring megabytes of snapshots, which the socket takes as they come, where queued
   * together they would count against the hard limit all at the same time.
   */
  private pushControl(c: Client, data: string): void {
    if (c.outbox?.push({ kind: 'control', channel: 'control', stream: '', bucket: 0, data, binary: false, srcTs: 0 })) c.outbox.flush();
  }

  // ---------------------------------------------------------------------------------------------- publishing

  /** Queue one delta for every subscriber of its stream; serialized at most once per encoding. */
  private deliver(d: Delta): void {
    const subscribers = this.subs.subscribers(d.channel, d.interval, d.symbol);
    if (subscribers.length === 0) return;
    const ts = Date.now();
    const base = { kind: d.kind, channel: d.channel, stream: streamKey(d.channel, d.interval, d.symbol), bucket: d.bucket, srcTs: d.srcTs };
    let asJson: OutMessage | undefined;
    let asAvro: OutMessage | undefined;
    for (const c of subscribers) {
      const m =
        c.encoding === 'avro'
          ? (asAvro ??= { ...base, data: encode(schema('frame'), { type: d.frame, seq: d.seq, ts, payload: d.raw }), binary: true })
          : (asJson ??= { ...base, data: d.json(ts), binary: false });
      if (c.outbox?.push(m)) this.dirty.add(c);
    }
  }

  private onBar(bar: Bar, raw: Buffer, srcTs: number): void {
    const seq = this.streams.recordBar(bar);
    const json = (ts: number) => serializeBarMessage({ type: 'bar', seq, ts, bar });
    this.deliver({ channel: 'bars', interval: bar.interval, symbol: bar.symbol, kind: 'final', frame: 'BAR', bucket: bar.bucketStart, seq, raw, srcTs, json });
  }

  private onUpdate(bar: Bar, raw: Buffer, srcTs: number): void {
    const seq = this.streams.recordUpdate(bar);
    if (seq === undefined) return;
    const json = (ts: number) => serializeBarMessage({ type: 'update', seq, ts, bar });
    this.deliver({
      channel: 'bars',
      interval: bar.interval,
      symbol: bar.symbol,
      kind: 'update',
      frame: 'UPDATE',
      bucket: bar.bucketStart,
      seq,
      raw,
      srcTs,
      json,
    });
  }

  private onSignal(signal: Signal, raw: Buffer, srcTs: number): void {
    const seq = this.streams.recordSignal(signal);
    const json = (ts: number) => serializeSignalMessage({ type: 'signal', seq, ts, signal });
    this.deliver({
      channel: 'signals',
      interval: signal.interval,
      symbol: signal.symbol,
      kind: 'final',
      frame: 'SIGNAL',
      bucket: signal.barTime,
      seq,
      raw,
      srcTs,
      json,
    });
  }

  private onTrade(trade: Tick, raw: Buffer, srcTs: number): void {
    const seq = this.streams.recordTrade(trade);
    const json = (ts: number) => serializeTradeMessage({ type: 'trade', seq, ts, trade });
    this.deliver({
      channel: 'trades',
      interval: undefined,
      symbol: trade.symbol,
      kind: 'trade',
      frame: 'TRADE',
      bucket: trade.eventTime,
      seq,
      raw,
      srcTs,
      json,
    });
  }

  private flush(): void {
    const now = Date.now();
    for (const c of this.dirty) c.outbox?.flush(now);
    this.dirty.clear();
  }

  // ---------------------------------------------------------------------------------------------- REST

  private instruments(p: Principal): Reply {
    const symbols = [...this.streams.symbols].filter((s) => p.entitled(s)).sort();
    return json(200, { intervals: [...this.intervals], symbols });
  }

  private async bars(r: RequestInfo, p: Principal): Promise<Reply> {
    const q = parseBarsQuery(r.params[0]!, r.query, this.intervals);
    entitle(p, [q.symbol]);
    const { bars, next } = await this.history.bars(q).catch((err: unknown) => {
      this.log.error({ err }, 'history query failed');
      throw err;
    });
    return {
      status: 200,
      type: 'application/json',
      body: serializeBarsPage({ symbol: q.symbol, interval: q.interval, bars, next: next === undefined ? null : encodeCursor(next) }),
    };
  }

  private quoteOf(symbol: string): Quote {
    const bars: Record<string, Bar | null> = {};
    for (const iv of this.intervals) bars[iv] = this.streams.currentBar(iv, symbol);
    return { symbol, lastTrade: this.streams.trades.get(streamKey('trades', undefined, symbol))?.last ?? null, bars };
  }

  private quote(symbol: string, p: Principal): Reply {
    validateSymbol(symbol);
    entitle(p, [symbol]);
    if (!this.streams.symbols.has(symbol)) throw new UnknownSymbolError(symbol);
    return { status: 200, type: 'application/json', body: serializeQuote(this.quoteOf(symbol)) };
  }

  private quotes(body: Buffer, p: Principal): Reply {
    const parsed = parseUntrustedJson(body.toString('utf8'), 'body (JSON: {"symbols":["BTC-USD", ...]})');
    const symbols = (parsed as { symbols?: unknown } | null)?.symbols;
    if (!Array.isArray(symbols) || symbols.length === 0 || symbols.length > MAX_QUOTES)
      throw new BadRequestError(`symbols must be a non-empty list of at most ${MAX_QUOTES} symbols`);
    for (const s of symbols) validateSymbol(s);
    const list = [...new Set(symbols as string[])];
    entitle(p, list);
    const known = list.filter((s) => this.streams.symbols.has(s));
    return {
      status: 200,
      type: 'application/json',
      body: serializeQuotes({ quotes: known.map((s) => this.quoteOf(s)), unknown: list.filter((s) => !this.streams.symbols.has(s)) }),
    };
  }

  async stop(): Promise<void> {
    this.ready = false;
    await this.feed.stop();
    if (this.listenSocket) loadUws().us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
    // 1001 "going away": clients reconnect elsewhere; nothing keeps the event loop alive after this.
    for (const ws of [...this.open]) ws.end(1001, 'server shutting down');
    await this.history.close();
    this.log.info('gateway stopped');
  }
}

/** Throws 403 naming (up to five of) the symbols the principal is not entitled to. */
function entitle(p: Principal, symbols: string[]): void {
  const denied = symbols.filter((s) => !p.entitled(s));
  if (denied.length) throw new AuthError(403, 'not_entitled', `not entitled to ${denied.slice(0, 5).join(', ')}${denied.length > 5 ? ', …' : ''}`);
}
