// The gateway: one uWebSockets.js app serving live bars over WebSocket, health, metrics and the chart page.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import type { HttpResponse, TemplatedApp, us_listen_socket, WebSocket } from 'uWebSockets.js';
import type { Config } from '../config.js';
import { TickEngineError } from '../errors.js';
import type { Logger } from '../log.js';
import { registry, wsClosed, wsConnections, wsMessages } from '../metrics.js';
import { projectRoot } from '../paths.js';
import type { Bar } from '../aggregate/bar.js';
import { BarsFeed } from './bars-feed.js';
import { encodeCursor, parseBarsQuery } from './bars-query.js';
import { BarHistory } from './history.js';
import { openApiDocument } from './openapi.js';
import { Streams } from './streams.js';
import { barTopic, parseRequest, serializeAck, serializeBarMessage, serializeBarsPage, serializeError, serializeSnapshot } from './protocol.js';
import { loadUws } from './uws.js';

interface Conn {
  id: number;
}

export class Gateway {
  private app: TemplatedApp | undefined;
  private listenSocket: us_listen_socket | undefined;
  private feed: BarsFeed;
  private readonly history: BarHistory;
  private readonly streams: Streams;
  private readonly symbols = new Set<string>();
  private readonly intervals: ReadonlySet<string>;
  private nextConnId = 1;
  private readonly open = new Set<WebSocket<Conn>>();
  private ready = false;
  /** The bound port (useful with TE_GATEWAY_PORT=0). */
  port = 0;

  constructor(
    private readonly config: Config,
    kafka: Kafka,
    private readonly log: Logger,
  ) {
    this.intervals = new Set(config.intervals.map((i) => i.name));
    this.feed = new BarsFeed(config, kafka, log, (bar) => this.publishBar(bar));
    this.history = new BarHistory(config);
    this.streams = new Streams(config.snapshotBars);
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
    const app = uws.App();
    this.app = app;
    app
      .ws<Conn>('/ws', {
        compression: uws.DISABLED,
        maxPayloadLength: 64 * 1024,
        idleTimeout: 60,
        // Past this many buffered bytes a client is disconnected, never silently skipped: a connected client
        // misses no final bar, and the server holds at most this much per connection.
        maxBackpressure: this.config.wsMaxBufferBytes,
        closeOnBackpressureLimit: 1,
        sendPingsAutomatically: true,
        upgrade: (res, req, ctx) => {
          res.upgrade<Conn>(
            { id: this.nextConnId++ },
            req.getHeader('sec-websocket-key'),
            req.getHeader('sec-websocket-protocol'),
            req.getHeader('sec-websocket-extensions'),
            ctx,
          );
        },
        open: (ws) => {
          this.open.add(ws);
          wsConnections.inc();
        },
        message: (ws, data) => this.onMessage(ws, Buffer.from(data).toString('utf8')),
        close: (ws, code) => {
          this.open.delete(ws);
          wsConnections.dec();
          wsClosed.inc({ code: String(code) });
        },
      })
      .get('/', (res) => this.send(res, '200 OK', 'text/html; charset=utf-8', page))
      .get('/vendor/lightweight-charts.js', (res) => this.send(res, '200 OK', 'application/javascript', chartsJs))
      .get('/health', (res) => this.json(res, '200 OK', { status: 'ok' }))
      .get('/ready', (res) => (this.ready ? this.json(res, '200 OK', { status: 'ready' }) : this.json(res, '503 Service Unavailable', { status: 'starting' })))
      .get('/api/v1/instruments', (res) => this.json(res, '200 OK', { intervals: [...this.intervals], symbols: [...this.symbols].sort() }))
      .get('/openapi.json', (res) => this.send(res, '200 OK', 'application/json', openapi))
      .get('/api/v1/bars/:symbol', (res, req) => this.onBars(res, req.getParameter(0), req.getQuery() ?? ''))
      .get('/metrics', (res) => {
        let aborted = false;
        res.onAborted(() => (aborted = true));
        registry.metrics().then(
          (text) => !aborted && res.cork(() => res.writeStatus('200 OK').writeHeader('content-type', registry.contentType).end(text)),
          (err: unknown) => !aborted && res.cork(() => this.json(res, '500 Internal Server Error', { code: 'TE_METRICS', message: String(err) })),
        );
      })
      .any('/*', (res, req) =>
        this.json(res, '404 Not Found', { code: 'TE_NOT_FOUND', message: `no route for ${req.getMethod().toUpperCase()} ${req.getUrl()}` }),
      );

    await new Promise<void>((resolve, reject) => {
      app.listen(this.config.gatewayHost, this.config.gatewayPort, (sock) => {
        if (!sock)
          return reject(new TickEngineError('TE_LISTEN', `gateway cannot listen on ${this.config.gatewayHost}:${this.config.gatewayPort} (port taken?)`));
        this.listenSocket = sock;
        this.port = uws.us_socket_local_port(sock);
        resolve();
      });
    });
    await this.feed.start();
    this.ready = true;
    this.log.info({ url: this.url }, 'gateway listening');
  }

  /** GET /api/v1/bars/:symbol?interval&from&to&limit&cursor — history from the configured store, paginated. */
  private onBars(res: HttpResponse, symbol: string, query: string): void {
    let q;
    try {
      q = parseBarsQuery(symbol, query, this.intervals);
    } catch (err) {
      const e = err as TickEngineError;
      return this.json(res, '400 Bad Request', { code: e.code, message: e.message });
    }
    let aborted = false;
    res.onAborted(() => (aborted = true));
    this.history.bars(q).then(
      ({ bars, next }) => {
        if (aborted) return;
        res.cork(() =>
          res
            .writeStatus('200 OK')
            .writeHeader('content-type', 'application/json')
            .end(serializeBarsPage({ symbol: q.symbol, interval: q.interval, bars, next: next === undefined ? null : encodeCursor(next) })),
        );
      },
      (err: unknown) => {
        const e = err as TickEngineError;
        this.log.error({ err }, 'history query failed');
        if (!aborted) res.cork(() => this.json(res, '503 Service Unavailable', { code: e.code ?? 'TE_STORE_UNAVAILABLE', message: e.message }));
      },
    );
  }

  private onMessage(ws: WebSocket<Conn>, text: string): void {
    let req;
    try {
      req = parseRequest(text, this.intervals);
    } catch (err) {
      const e = err as TickEngineError;
      ws.send(serializeError({ type: 'error', code: e.code ?? 'TE_BAD_REQUEST', message: e.message }));
      return;
    }
    if (req.op === 'ping') {
      ws.send('{"type":"pong"}');
      return;
    }
    for (const s of req.symbols) {
      const topic = barTopic(req.interval, s);
      if (req.op === 'subscribe') ws.subscribe(topic);
      else ws.unsubscribe(topic);
    }
    ws.send(serializeAck({ type: req.op === 'subscribe' ? 'subscribed' : 'unsubscribed', channel: 'bars', interval: req.interval, symbols: req.symbols }));
    if (req.op !== 'subscribe') return;
    const states = req.symbols.includes('*')
      ? this.streams.ofInterval(req.interval)
      : req.symbols.map((sym) => this.streams.get(req.interval, sym) ?? { symbol: sym, interval: req.interval, seq: 0, bars: [] });
    for (const st of states)
      ws.send(serializeSnapshot({ type: 'snapshot', channel: 'bars', symbol: st.symbol, interval: st.interval, seq: st.seq, bars: st.bars }));
  }

  private publishBar(bar: Bar): void {
    const app = this.app;
    if (!app) return;
    this.symbols.add(bar.symbol);
    // Recording and publishing happen in one synchronous step, as do subscribing and sending a snapshot:
    // a subscriber's snapshot ends exactly where its first delta begins.
    const seq = this.streams.record(bar);
    const msg = serializeBarMessage({ type: 'bar', seq, bar });
    app.publish(barTopic(bar.interval, bar.symbol), msg);
    app.publish(barTopic(bar.interval, '*'), msg);
    wsMessages.inc();
  }

  private send(res: HttpResponse, status: string, type: string, body: Buffer | string): void {
    res.cork(() => res.writeStatus(status).writeHeader('content-type', type).end(body));
  }

  private json(res: HttpResponse, status: string, body: unknown): void {
    this.send(res, status, 'application/json', JSON.stringify(body));
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
