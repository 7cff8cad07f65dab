// The fan-out reference: a minimal gateway on the `ws` library that serves the same protocol from the same parts —
// the Kafka feed, series book, subscriptions, fan-out (serialized once per encoding) and outbox (backpressure
// policy) of src/gateway — so that a comparison with the uWebSockets.js gateway measures the socket layer, nothing
// else. No auth, REST or metrics: /ready and /ws only. Run by bench/fanout.ts (node dist/bench/ws-gateway.js, with
// the gateway's environment: TE_KAFKA_BROKERS, TE_TOPIC_*, TE_GATEWAY_PORT).
import { createServer } from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';
import { loadConfig } from '../src/config.js';
import { BadRequestError, TickEngineError } from '../src/errors.js';
import { logger, rootLogger } from '../src/log.js';
import { Fanout } from '../src/gateway/fanout/fanout.js';
import { GatewayFeed } from '../src/gateway/fanout/feed.js';
import { SeriesBook } from '../src/gateway/fanout/series-book.js';
import { Subscriptions } from '../src/gateway/fanout/subscriptions.js';
import type { Principal } from '../src/gateway/auth/auth.js';
import type { Client } from '../src/gateway/ws/client.js';
import { Outbox, type SocketLike } from '../src/gateway/ws/outbox.js';
import { compileSymbolPatterns, isPattern } from '../src/contracts/symbol-pattern.js';
import { parseRequest, serializeAck, serializeError, serializeSnapshot } from '../src/gateway/ws/protocol.js';
import { createKafka } from '../src/stream/kafka.js';

const config = loadConfig({ env: process.env });
rootLogger(config.logLevel);
const log = logger('ws-gateway');
const intervals = new Set(config.intervals.map((i) => i.name));
const anyone: Principal = {
  id: 'anonymous',
  kind: 'anonymous',
  symbols: ['*'],
  entitled: () => true,
  limits: { maxConnections: Infinity, maxSubscriptions: Infinity, requestsPerSecond: Infinity },
};

/** A `ws` socket as the outbox sees a uWS one: buffered bytes, send, cork, end. */
function socketLike(ws: WebSocket): SocketLike {
  return {
    getBufferedAmount: () => ws.bufferedAmount,
    send: (data, isBinary) => {
      ws.send(data, { binary: isBinary });
      return ws.bufferedAmount > 0 ? 1 : 0;
    },
    cork: (cb) => {
      const sock = (ws as unknown as { _socket: import('node:net').Socket })._socket;
      sock.cork();
      try {
        cb();
      } finally {
        sock.uncork();
      }
    },
    end: (code, reason) => ws.close(code, reason),
  };
}

const series = new SeriesBook(config.snapshotBars);
const subs = new Subscriptions<Client>();
const fanout = new Fanout(subs, series);
let ready = false;

function control(c: Client, data: string): void {
  if (c.outbox?.push({ kind: 'control', channel: 'control', series: '', bucket: 0, data, binary: false, srcTs: 0 })) c.outbox.flush();
}

function onRequest(c: Client, text: string): void {
  try {
    const req = parseRequest(text, intervals);
    if (req.op === 'ping') return control(c, '{"type":"pong"}');
    if (req.op === 'unsubscribe') {
      for (const s of req.symbols) subs.remove(c, req.channel, req.interval, s);
      return control(c, serializeAck({ type: 'unsubscribed', id: req.id, channel: req.channel, interval: req.interval, symbols: req.symbols }));
    }
    for (const s of req.symbols) subs.add(c, req.channel, req.interval, s);
    control(c, serializeAck({ type: 'subscribed', id: req.id, channel: req.channel, interval: req.interval, symbols: req.symbols }));
    const symbols = new Set(req.symbols.filter((s) => !isPattern(s)));
    const patterns = req.symbols.filter(isPattern);
    if (patterns.length) {
      const match = compileSymbolPatterns(patterns);
      for (const sym of series.symbolsOf(req.channel, req.interval)) if (match(sym)) symbols.add(sym);
    }
    for (const sym of [...symbols].sort()) control(c, serializeSnapshot(series.snapshot(req.channel, req.interval, sym)));
  } catch (err) {
    const e = err instanceof TickEngineError ? err : new BadRequestError(String(err));
    control(c, serializeError({ type: 'error', code: e.code, message: e.message }));
  }
}

const http = createServer((req, res) => {
  res.writeHead(req.url === '/ready' && ready ? 200 : req.url === '/health' ? 200 : 503, { 'content-type': 'application/json' });
  res.end(ready ? '{"status":"ready"}' : '{"status":"starting"}');
});
const wss = new WebSocketServer({ server: http, path: '/ws', perMessageDeflate: false, maxPayload: 64 * 1024 });
let nextId = 1;
wss.on('connection', (ws, req) => {
  const encoding = new URL(req.url ?? '/', 'http://x').searchParams.get('encoding') === 'avro' ? 'avro' : 'json';
  const c: Client = { id: nextId++, principal: anyone, encoding, release: () => {} };
  c.outbox = new Outbox(socketLike(ws), config.wsSoftLimitBytes, config.wsMaxBufferBytes, false, {
    sent: () => {},
    conflated: () => {},
    dropped: () => {},
    closedForBackpressure: (buffered) => log.warn({ conn: c.id, buffered }, 'client closed for backpressure'),
  });
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) return control(c, serializeError({ type: 'error', code: 'TE_BAD_REQUEST', message: 'requests are JSON text frames' }));
    onRequest(c, data.toString('utf8'));
    fanout.batchEnd();
  });
  // The outbox sends held (conflated) updates once the socket drains.
  ws.on('drain', () => c.outbox?.drain());
  (ws as unknown as { _socket: import('node:net').Socket })._socket.on('drain', () => c.outbox?.drain());
  ws.on('close', () => {
    if (c.outbox) c.outbox.closed = true;
    subs.removeClient(c);
    fanout.forget(c);
  });
  ws.on('error', () => {});
});

const feed = new GatewayFeed(
  config,
  createKafka(config, 'ws-gateway'),
  log,
  (err) => {
    log.error({ err }, 'feed stopped');
    process.exit(1);
  },
  {
    bar: (b, raw, ts) => fanout.bar(b, raw, ts),
    update: (b, raw, ts) => fanout.update(b, raw, ts),
    signal: (s, raw, ts) => fanout.signal(s, raw, ts),
    trade: (t, raw, ts) => fanout.trade(t, raw, ts),
    batchEnd: () => fanout.batchEnd(),
  },
);

await new Promise<void>((resolve) => http.listen(config.gatewayPort, '127.0.0.1', resolve));
await feed.start();
ready = true;
log.info({ port: config.gatewayPort }, 'ws reference gateway listening');
const stop = async () => {
  ready = false;
  for (const ws of wss.clients) ws.close(1001, 'server shutting down');
  await feed.stop();
  http.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
