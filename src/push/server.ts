// The push endpoint (tick-engine push-gateway): a uWebSockets.js server of its own, apart from the subscriber
// gateway, where brokers and MetaTrader 5 Expert Advisors push trades and quotes —
//   POST /v1/ticks        one batch per request: NDJSON or framed Avro (Content-Type), answered once written;
//   GET  /v1/ticks/ws     WebSocket: one batch per message (text: NDJSON, binary: framed Avro), one answer each;
//   /health, /ready, /metrics.
// Every batch needs an API key of TE_PUSH_KEYS_FILE; the gateway's HTTP helpers, framing check, authenticator and
// admission limits are reused as they are.
import type { Kafka } from 'kafkajs';
import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket, us_socket_context_t, WebSocket, WebSocketBehavior } from 'uWebSockets.js';
import type { Config } from '../config.js';
import {
  AuthError,
  BadRequestError,
  clientError,
  ERROR_CODES,
  InternalError,
  ListenError,
  NotFoundError,
  OverloadedError,
  TickEngineError,
} from '../errors.js';
import type { Logger } from '../log.js';
import { authFailures, pushBatchSeconds, pushBatches, registry } from '../metrics.js';
import { Admission } from '../gateway/auth/auth.js';
import { ambiguousFraming, errorReply, json, readBody, readRequest, writeReply, type Reply, type RequestInfo } from '../gateway/http/http.js';
import { loadUws } from '../gateway/uws.js';
import { serializeAnswer } from './answer.js';
import { formatOf } from './batch.js';
import { PushIngest } from './ingest.js';
import { PushKeys, type PushScope } from './keys.js';
import { PushWriter } from './writer.js';

/** Batches one WebSocket connection may have waiting for their answers; past it a message is refused (TE_OVERLOADED). */
const MAX_WS_IN_FLIGHT = 16;
/** Answers waiting for a slow WebSocket reader, bytes; past it the connection is closed (uWS closes it). */
const MAX_WS_BACKPRESSURE = 1024 * 1024;

interface Conn {
  scope: PushScope;
  release: () => void;
  seq: number;
  inFlight: number;
  closed: boolean;
}

export class PushServer {
  private listenSocket: us_listen_socket | undefined;
  private readonly sockets = new Set<WebSocket<Conn>>();
  private readonly admission = new Admission();
  private readonly ingest: PushIngest;
  private inFlight = 0;
  private idle: (() => void) | undefined;
  private ready = false;
  /** The bound port (useful with TE_PUSH_PORT=0). */
  port = 0;

  private constructor(
    private readonly config: Config,
    private readonly keys: PushKeys,
    private readonly writer: PushWriter,
    private readonly log: Logger,
  ) {
    this.ingest = new PushIngest(config, writer, log);
  }

  /**
   * Reads the keys (a bad file fails here, before the broker is contacted), opens the writer, reads back the
   * identities written within the dedupe window, then listens.
   */
  static async start(config: Config, kafka: Kafka, log: Logger): Promise<PushServer> {
    const keys = PushKeys.fromConfig(config);
    const writer = await PushWriter.open(config, kafka, keys.anyVenueAllowed, log);
    let server: PushServer | undefined;
    try {
      await writer.recall();
      server = new PushServer(config, keys, writer, log);
      await server.listen();
    } catch (err) {
      await writer.close().catch(() => undefined);
      throw err;
    }
    return server;
  }

  get url(): string {
    return `http://${this.config.pushHost}:${this.port}/`;
  }

  private async listen(): Promise<void> {
    const uws = loadUws();
    const app: TemplatedApp = uws.App();
    app
      .post('/v1/ticks', (res, req) => this.post(res, req))
      .ws<Conn>('/v1/ticks/ws', this.behavior())
      .get('/health', (res) => writeReply(res, json(200, { status: 'ok' })))
      .get('/ready', (res) => writeReply(res, this.ready ? json(200, { status: 'ready' }) : json(503, { status: 'stopping' })))
      .get('/metrics', (res) => {
        let aborted = false;
        res.onAborted(() => (aborted = true));
        registry.metrics().then(
          (body) => !aborted && writeReply(res, { status: 200, body, type: registry.contentType }),
          (err: unknown) => !aborted && writeReply(res, errorReply(new InternalError(`metrics could not be collected: ${String(err)}`))),
        );
      })
      .any('/v1/ticks', (res, req) =>
        writeReply(res, {
          ...json(405, { code: ERROR_CODES.badRequest, message: `${req.getMethod().toUpperCase()} is not allowed: POST a batch` }),
          headers: { allow: 'POST' },
        }),
      )
      .any('/*', (res, req) => writeReply(res, errorReply(new NotFoundError(`no route for ${req.getMethod().toUpperCase()} ${req.getUrl()}`))));
    await new Promise<void>((resolve, reject) => {
      app.listen(this.config.pushHost, this.config.pushPort, (sock) => {
        if (!sock) return reject(new ListenError(`push-gateway cannot listen on ${this.config.pushHost}:${this.config.pushPort} (port taken?)`));
        this.listenSocket = sock;
        this.port = uws.us_socket_local_port(sock);
        resolve();
      });
    });
    this.ready = true;
    this.log.info({ url: this.url, ws: `ws://${this.config.pushHost}:${this.port}/v1/ticks/ws` }, 'push-gateway listening');
  }

  /** Stops taking batches, answers those taken, closes WebSockets (1001) and the producer. */
  async stop(): Promise<void> {
    this.ready = false;
    if (this.listenSocket) loadUws().us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    for (const ws of [...this.sockets]) ws.end(1001, 'server shutting down');
    await this.writer.close();
    this.log.info('push-gateway stopped');
  }

  /** Who is calling, and may they send one more batch now. */
  private async admit(credentials: RequestInfo['credentials']): Promise<PushScope> {
    const scope = await this.keys.authenticate(credentials);
    this.admission.allowRequest(scope.principal);
    return scope;
  }

  /** What a refused or failed batch is answered, counted and (for what is not the client's doing) logged. */
  private failure(err: unknown, where: string): ReturnType<typeof clientError> {
    if (err instanceof AuthError) authFailures.inc({ reason: err.reason });
    else if (!(err instanceof TickEngineError)) this.log.error({ err, where }, 'push batch failed');
    else if (err.status >= 500) this.log.warn({ code: err.code, message: err.message, where }, 'push batch not taken');
    return clientError(err);
  }

  private begin(): () => void {
    this.inFlight++;
    const started = performance.now();
    return () => {
      pushBatchSeconds.observe((performance.now() - started) / 1000);
      if (--this.inFlight === 0) this.idle?.();
    };
  }

  private post(res: HttpResponse, req: HttpRequest): void {
    // Two Content-Lengths, or one with Transfer-Encoding, could smuggle a request: close before reading anything.
    if (ambiguousFraming(req)) {
      authFailures.inc({ reason: 'framing' });
      res.close();
      return;
    }
    const r = readRequest(req);
    const contentType = req.getHeader('content-type');
    const idempotencyKey = req.getHeader('idempotency-key') || undefined;
    let aborted = false;
    let onAbort: (() => void) | undefined;
    res.onAborted(() => {
      aborted = true;
      onAbort?.();
    });
    // A client that goes away mid-body must not leave its batch waiting for ever (a stop waits for every batch).
    const body = new Promise<Buffer>((resolve, reject) => {
      onAbort = () => reject(new BadRequestError('the client closed the connection before the body was complete'));
      readBody(res, this.config.pushMaxBodyBytes).then(resolve, reject);
    });
    // When auth fails first the body is never awaited: its own rejection (too large) must not go unhandled.
    body.catch(() => undefined);
    const done = this.begin();
    (async (): Promise<Reply> => {
      if (!this.ready) throw new OverloadedError('the push-gateway is stopping: send the batch again shortly');
      const scope = await this.admit(r.credentials);
      const format = formatOf(contentType);
      const out = await this.ingest.batch(scope, format, await body, idempotencyKey);
      return { status: out.status, body: out.body, type: 'application/json', headers: out.replayed ? { 'idempotent-replayed': 'true' } : undefined };
    })()
      .catch((err: unknown) => {
        const e = this.failure(err, r.url);
        const reply = json(e.status, { code: e.code, message: e.message });
        if (e.status === 503 || e.status === 429) reply.headers = { 'retry-after': '1' };
        return reply;
      })
      .then((reply) => {
        pushBatches.inc({ transport: 'http', status: String(reply.status) });
        done();
        if (!aborted) writeReply(res, reply);
      });
  }

  private behavior(): WebSocketBehavior<Conn> {
    return {
      maxPayloadLength: this.config.pushMaxBodyBytes,
      idleTimeout: 120,
      sendPingsAutomatically: true,
      maxBackpressure: MAX_WS_BACKPRESSURE,
      closeOnBackpressureLimit: 1,
      upgrade: (res, req, ctx) => this.upgrade(res, req, ctx),
      open: (ws) => void this.sockets.add(ws),
      message: (ws, data, isBinary) => this.message(ws, Buffer.copyBytesFrom(new Uint8Array(data)), isBinary),
      close: (ws) => {
        const c = ws.getUserData();
        c.closed = true;
        c.release();
        this.sockets.delete(ws);
      },
    };
  }

  private upgrade(res: HttpResponse, req: HttpRequest, ctx: us_socket_context_t): void {
    if (ambiguousFraming(req)) {
      authFailures.inc({ reason: 'framing' });
      res.close();
      return;
    }
    const r = readRequest(req);
    const key = req.getHeader('sec-websocket-key');
    const protocol = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    let aborted = false;
    res.onAborted(() => (aborted = true));
    (async () => {
      if (!this.ready) throw new OverloadedError('the push-gateway is stopping: connect again shortly');
      const scope = await this.keys.authenticate(r.credentials);
      const release = this.admission.acquireConnection(scope.principal);
      if (aborted) return release();
      const conn: Conn = { scope, release, seq: 0, inFlight: 0, closed: false };
      res.cork(() => res.upgrade<Conn>(conn, key, protocol, extensions, ctx));
    })().catch((err: unknown) => {
      const e = this.failure(err, r.url);
      if (!aborted) writeReply(res, json(e.status, { code: e.code, message: e.message }));
    });
  }

  private message(ws: WebSocket<Conn>, body: Buffer, isBinary: boolean): void {
    const c = ws.getUserData();
    const seq = ++c.seq;
    const send = (text: string) => {
      if (!c.closed) ws.send(text, false);
    };
    const done = this.begin();
    c.inFlight++;
    (async () => {
      // Even a batch that will be refused counts against the rate limit.
      this.admission.allowRequest(c.scope.principal);
      if (c.inFlight > MAX_WS_IN_FLIGHT) throw new OverloadedError(`more than ${MAX_WS_IN_FLIGHT} batches of this connection wait for their answers`);
      if (!this.ready) throw new OverloadedError('the push-gateway is stopping: send the batch again shortly');
      const out = await this.ingest.batch(c.scope, isBinary ? 'avro' : 'ndjson', body);
      pushBatches.inc({ transport: 'ws', status: String(out.status) });
      send(serializeAnswer({ ...out.answer!, type: 'result', seq, status: out.status }));
    })()
      .catch((err: unknown) => {
        const e = this.failure(err, 'ws');
        pushBatches.inc({ transport: 'ws', status: String(e.status) });
        send(JSON.stringify({ type: 'error', seq, status: e.status, code: e.code, message: e.message }));
      })
      .finally(() => {
        c.inFlight--;
        done();
      });
  }
}
