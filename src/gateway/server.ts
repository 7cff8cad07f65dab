// The gateway: one uWebSockets.js app serving live bars, trades and signals over WebSocket (ws/), REST history
// and quotes (rest/), health, readiness, metrics and the chart page. This file wires the parts and holds the route
// table; the request gate (http/) guards every data route and upgrade, fan-out (fanout/) delivers the Kafka feed.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import type { HttpResponse, TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { Config } from '../config.js';
import { InternalError, ListenError, NotFoundError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Readiness } from '../metrics-server.js';
import { registry } from '../metrics.js';
import { projectRoot } from '../paths.js';
import { BarHistory } from '../stores/history.js';
import { TradeHistory } from '../stores/trade-history.js';
import { DirectRoutes } from './fanout/direct-routes.js';
import { Fanout } from './fanout/fanout.js';
import { GatewayFeed } from './fanout/feed.js';
import { SeriesBook } from './fanout/series-book.js';
import { Subscriptions } from './fanout/subscriptions.js';
import { errorReply, json, writeReply } from './http/http.js';
import { RequestGate } from './http/request-gate.js';
import { openApiDocument } from './rest/openapi.js';
import { RestApi } from './rest/rest-api.js';
import { SchemaRegistryApi } from './rest/schema-registry-api.js';
import { prepareSchemaRegistry } from '../stream/schema-registry.js';
import { loadUws } from './uws.js';
import type { Client } from './ws/client.js';
import { countSent, WsSessions } from './ws/ws-sessions.js';

export interface GatewayOptions {
  /** Other parts of the process whose readiness /ready reports too (the aggregator, in the demo). */
  readiness?: Readiness;
  /** Called when the gateway's Kafka consumer stopped for good: the process should shut down. */
  onFatal?: (err: Error) => void;
}

export class Gateway {
  private app: TemplatedApp | undefined;
  private listenSocket: us_listen_socket | undefined;
  private readonly feed: GatewayFeed;
  private readonly history: BarHistory;
  private readonly trades: TradeHistory;
  private readonly gate: RequestGate;
  private readonly sessions: WsSessions;
  private readonly rest: RestApi;
  private readonly readiness: Readiness | undefined;
  private readonly compress: boolean;
  private ready = false;
  /** Why the schema registry (TE_SCHEMA_REGISTRY_URL) cannot be reached, while at start-up it cannot. */
  private registryDown: string | undefined;
  /** The bound port (useful with TE_GATEWAY_PORT=0). */
  port = 0;

  constructor(
    private readonly config: Config,
    kafka: Kafka,
    private readonly log: Logger,
    opts: GatewayOptions = {},
  ) {
    this.readiness = opts.readiness;
    // Whether a WebSocket message may be compressed (permessage-deflate negotiated): direct publishes and the outbox's sends alike.
    const compress = config.wsCompression !== 'off';
    this.compress = compress;
    const series = new SeriesBook(config.snapshotBars);
    const subs = new Subscriptions<Client>((c, symbol) => c.principal.entitled(symbol));
    const direct = config.wsDirect
      ? new DirectRoutes({
          publish: (topic, data, binary) => this.app?.publish(topic, data, binary, compress),
          soft: config.wsSoftLimitBytes,
          hard: config.wsMaxBufferBytes,
          sent: countSent,
        })
      : undefined;
    const fanout = new Fanout(subs, series, direct);
    this.feed = new GatewayFeed(config, kafka, log, opts.onFatal, {
      bar: (b, raw, ts) => fanout.bar(b, raw, ts),
      update: (b, raw, ts) => fanout.update(b, raw, ts),
      signal: (s, raw, ts) => fanout.signal(s, raw, ts),
      trade: (t, raw, ts) => fanout.trade(t, raw, ts),
      batchEnd: () => fanout.batchEnd(),
    });
    this.history = new BarHistory(config);
    this.gate = new RequestGate(config, log);
    this.sessions = new WsSessions({ config, log, gate: this.gate, subs, series, fanout, direct });
    this.trades = new TradeHistory(config);
    this.rest = new RestApi({ config, log, gate: this.gate, series, history: this.history, trades: this.trades });
  }

  get url(): string {
    return `http://${this.config.gatewayHost}:${this.port}/`;
  }

  async start(): Promise<void> {
    const uws = loadUws();
    const gate = this.gate;
    const page = readFileSync(join(projectRoot(), 'src/gateway/public/index.html'));
    const chartsJs = readFileSync(join(dirname(fileURLToPath(import.meta.resolve('lightweight-charts'))), 'lightweight-charts.standalone.production.js'));
    const openapi = JSON.stringify(openApiDocument(this.config.intervals.map((i) => i.name)));
    const compression = { off: uws.DISABLED, shared: uws.SHARED_COMPRESSOR, dedicated: uws.DEDICATED_COMPRESSOR_32KB }[this.config.wsCompression as 'off'];
    const app = uws.App();
    this.app = app;
    const text = (type: string, body: Buffer | string) => gate.guard((res: HttpResponse) => writeReply(res, { status: 200, body, type }));
    app
      .ws<Client>('/ws', this.sessions.behavior(compression, this.compress))
      .get('/', text('text/html; charset=utf-8', page))
      .get('/vendor/lightweight-charts.js', text('application/javascript', chartsJs))
      // Probes and scrapers address pods by IP: /health, /ready and /metrics answer any Host.
      .get('/health', (res) => writeReply(res, json(200, { status: 'ok' })))
      .get('/ready', (res) => {
        const other = this.readiness?.() ?? { ready: true };
        if (this.registryDown)
          return writeReply(res, json(503, { status: 'waiting', waitingFor: [{ dependency: 'schema-registry', error: this.registryDown }] }));
        if (!this.ready) return writeReply(res, json(503, { status: 'starting' }));
        writeReply(res, other.ready ? json(200, { status: 'ready' }) : json(503, { status: 'waiting', waitingFor: other.waitingFor }));
      })
      .get('/metrics', (res) => {
        let aborted = false;
        res.onAborted(() => (aborted = true));
        registry.metrics().then(
          (body) => !aborted && writeReply(res, { status: 200, body, type: registry.contentType }),
          (err: unknown) => !aborted && writeReply(res, errorReply(new InternalError(`metrics could not be collected: ${String(err)}`))),
        );
      })
      .get(
        '/openapi.json',
        gate.guard((res, req) => writeReply(res, { status: 200, body: openapi, type: 'application/json' }, gate.cors.headers(req.getHeader('origin')))),
      );
    this.rest.register(app);
    // Without a schema registry the gateway serves the registry's read API for our fixed ids; with one, the ids on the
    // wire are the registry's and clients ask it.
    if (!this.config.schemaRegistryUrl) new SchemaRegistryApi(this.config, gate).register(app);
    app
      .options(
        '/*',
        gate.guard((res, req) => writeReply(res, { status: 204, body: '' }, gate.cors.preflight(req.getHeader('origin')))),
      )
      .any(
        '/*',
        gate.guard((res, req) => writeReply(res, errorReply(new NotFoundError(`no route for ${req.getMethod().toUpperCase()} ${req.getUrl()}`)))),
      );

    await new Promise<void>((resolve, reject) => {
      app.listen(this.config.gatewayHost, this.config.gatewayPort, (sock) => {
        if (!sock) return reject(new ListenError(`gateway cannot listen on ${this.config.gatewayHost}:${this.config.gatewayPort} (port taken?)`));
        this.listenSocket = sock;
        this.port = uws.us_socket_local_port(sock);
        resolve();
      });
    });
    if (this.config.schemaRegistryUrl) {
      await prepareSchemaRegistry(this.config, {
        log: this.log,
        role: 'reader',
        retryMaxMs: this.config.retryMaxMs,
        onDown: (err) => (this.registryDown = err instanceof Error ? err.message : String(err)),
        onUp: () => (this.registryDown = undefined),
      });
    }
    await this.feed.start();
    this.ready = true;
    this.log.info({ url: this.url, auth: this.config.authEnabled, compression: this.config.wsCompression }, 'gateway listening');
  }

  async stop(): Promise<void> {
    this.ready = false;
    await this.feed.stop();
    if (this.listenSocket) loadUws().us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
    // 1001 "going away": clients reconnect elsewhere; nothing keeps the event loop alive after this.
    this.sessions.closeAll(1001, 'server shutting down');
    await this.history.close();
    await this.trades.close();
    this.log.info('gateway stopped');
  }
}
