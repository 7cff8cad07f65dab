// WebSocket sessions: the upgrade (encoding, origin, credentials, connection limit), the connection's life (its
// outbox, its credentials' expiry, its subscriptions released at close), and its requests — subscribe (a snapshot,
// then deltas, with nothing missed in between), unsubscribe, ping.
import type { HttpRequest, HttpResponse, us_socket_context_t, WebSocket, WebSocketBehavior } from 'uWebSockets.js';
import type { Config } from '../../config.js';
import { AuthError, BadRequestError, describe, LimitExceededError } from '../../errors.js';
import type { Logger } from '../../log.js';
import {
  authFailures,
  sendLatency,
  wsBackpressureClosed,
  wsBytes,
  wsClosed,
  wsConflated,
  wsConnections,
  wsDropped,
  wsMessages,
  wsSubscriptions,
} from '../../metrics.js';
import { compileSymbolPatterns, isPattern } from '../../contracts/symbol-pattern.js';
import type { DirectRoutes } from '../fanout/direct-routes.js';
import type { Fanout } from '../fanout/fanout.js';
import type { SeriesBook } from '../fanout/series-book.js';
import type { Subscriptions } from '../fanout/subscriptions.js';
import { errorReply, readRequest, writeReply } from '../http/http.js';
import { entitle, type RequestGate } from '../http/request-gate.js';
import type { Client } from './client.js';
import { Outbox, type OutMessage } from './outbox.js';
import { parseMessage, requestId, serializeAck, serializeError, serializeSnapshot, validateRequest, type SubscribeRequest } from './protocol.js';

export interface WsSessionsDeps {
  config: Config;
  log: Logger;
  gate: RequestGate;
  subs: Subscriptions<Client>;
  series: SeriesBook;
  fanout: Fanout;
  /** Direct delivery (uWS pub/sub) to the clients that keep up; undefined: every message through the outbox. */
  direct?: DirectRoutes;
}

/** Metrics of a message handed to clients: `n` at once through pub/sub, or 1 through an outbox. */
export function countSent(m: OutMessage, bytes: number, n: number, now: number): void {
  wsMessages.inc({ channel: m.channel }, n);
  wsBytes.inc({ channel: m.channel }, bytes * n);
  // Once per hand-over: a published delta reaches all its topic's members in the same native call.
  if (m.srcTs > 0) sendLatency.observe({ channel: m.channel }, Math.max(0, now - m.srcTs) / 1000);
}

export class WsSessions {
  private readonly open = new Set<WebSocket<Client>>();
  private readonly intervals: ReadonlySet<string>;
  private nextConnId = 1;

  constructor(private readonly d: WsSessionsDeps) {
    this.intervals = new Set(d.config.intervals.map((i) => i.name));
  }

  /** The uWS behaviour of the /ws route; `compressed`: permessage-deflate is on (the outbox counts its bytes so). */
  behavior(compression: number, compressed: boolean): WebSocketBehavior<Client> {
    const { config, gate } = this.d;
    return {
      compression,
      maxPayloadLength: 64 * 1024,
      idleTimeout: 60,
      // Our outbox enforces the hard limit with a close reason; uWS' own limit sits above it as a backstop. With direct
      // delivery it is off: uWS would drop a published message past it without a trace, where the sweep closes the client.
      maxBackpressure: this.d.direct ? 0 : config.wsMaxBufferBytes + 4 * 1024 * 1024,
      closeOnBackpressureLimit: 0,
      sendPingsAutomatically: true,
      upgrade: gate.guard((res, req, ctx) => this.upgrade(res, req, ctx)),
      open: (ws) => this.opened(ws, compressed),
      message: (ws, data, isBinary) => this.message(ws.getUserData(), data, isBinary),
      drain: (ws) => {
        const c = ws.getUserData();
        c.outbox?.drain();
        this.d.direct?.comeBack(c);
      },
      close: (ws, code) => this.closed(ws, code),
    };
  }

  private upgrade(res: HttpResponse, req: HttpRequest, ctx: us_socket_context_t): void {
    const { config, gate } = this.d;
    const r = readRequest(req);
    const key = req.getHeader('sec-websocket-key');
    const protocol = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    const encoding = new URLSearchParams(r.query).get('encoding') ?? 'json';
    if (encoding !== 'json' && encoding !== 'avro')
      return writeReply(res, errorReply(new BadRequestError(`encoding must be json or avro (got ${describe(encoding)})`)));
    if (!gate.cors.allows(r.origin, r.host)) {
      authFailures.inc({ reason: 'origin' });
      return writeReply(res, errorReply(new AuthError(403, 'origin', `origin ${r.origin} is not allowed (TE_CORS_ORIGINS)`)));
    }
    let aborted = false;
    res.onAborted(() => (aborted = true));
    gate.admit(r).then(
      (principal) => {
        let release: () => void = () => {};
        if (config.authEnabled) {
          try {
            release = gate.admission.acquireConnection(principal);
          } catch (err) {
            const reply = gate.refuse(err, r.url);
            if (!aborted) writeReply(res, reply);
            return;
          }
        }
        if (aborted) return release();
        const client: Client = { id: this.nextConnId++, principal, encoding, release };
        res.cork(() => res.upgrade<Client>(client, key, protocol, extensions, ctx));
      },
      (err: unknown) => {
        const reply = gate.refuse(err, r.url);
        if (!aborted) writeReply(res, reply);
      },
    );
  }

  private opened(ws: WebSocket<Client>, compressed: boolean): void {
    const { config, log } = this.d;
    const c = ws.getUserData();
    c.outbox = new Outbox(ws, config.wsSoftLimitBytes, config.wsMaxBufferBytes, compressed, {
      sent: (m, bytes, now) => countSent(m, bytes, 1, now),
      conflated: () => wsConflated.inc(),
      dropped: (m) => wsDropped.inc({ channel: m.channel }),
      closedForBackpressure: (buffered) => {
        wsBackpressureClosed.inc();
        log.warn({ conn: c.id, principal: c.principal.id, buffered }, 'client closed for backpressure');
      },
    });
    this.d.direct?.add(c, ws);
    this.open.add(ws);
    wsConnections.inc();
    const expiresAt = c.principal.expiresAt;
    if (expiresAt !== undefined)
      c.expiry = setTimeout(() => ws.end(1008, 'credentials expired: reconnect with a fresh token'), Math.max(0, expiresAt - Date.now()));
  }

  private closed(ws: WebSocket<Client>, code: number): void {
    const { subs, fanout } = this.d;
    const c = ws.getUserData();
    this.open.delete(ws);
    clearTimeout(c.expiry);
    if (c.outbox) c.outbox.closed = true;
    const before = subs.size;
    subs.removeClient(c);
    wsSubscriptions.dec(before - subs.size);
    fanout.forget(c);
    c.release();
    wsConnections.dec();
    wsClosed.inc({ code: String(code) });
  }

  private message(c: Client, data: ArrayBuffer, isBinary: boolean): void {
    const { config, gate } = this.d;
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
      if (config.authEnabled) gate.admission.allowRequest(c.principal);
      if (!msg) throw invalid;
      const req = validateRequest(msg, this.intervals);
      if (req.op === 'ping') reply(req.id === undefined ? '{"type":"pong"}' : JSON.stringify({ type: 'pong', id: req.id }));
      else if (req.op === 'subscribe') this.subscribe(c, req);
      else this.unsubscribe(c, req);
    } catch (err) {
      const e = gate.failure(err, 'ws');
      reply(serializeError({ type: 'error', id, code: e.code, message: e.message }));
    }
    this.d.fanout.batchEnd();
  }

  private subscribe(c: Client, req: SubscribeRequest): void {
    const { config, gate, subs, series } = this.d;
    const { channel, interval } = req;
    const exact = req.symbols.filter((s) => !isPattern(s));
    entitle(c.principal, exact);
    const fresh = req.symbols.filter((s) => !subs.has(c, channel, interval, s));
    // Caps hold with auth off too (the anonymous principal carries TE_LIMIT_SUBSCRIPTIONS): no client, and no set of
    // clients, can make the gateway hold or resolve unbounded subscriptions. The request is taken whole or not at all.
    gate.admission.checkSubscriptions(c.principal, subs.count(c) + fresh.length);
    const freshPatterns = fresh.filter(isPattern).length;
    if (freshPatterns && subs.patternsOf(c) + freshPatterns > config.limitPatterns)
      throw new LimitExceededError(`pattern subscriptions per connection are limited to ${config.limitPatterns} (TE_LIMIT_PATTERNS)`);
    if (subs.size + fresh.length > config.limitSubscriptionsTotal)
      throw new LimitExceededError(
        `this gateway holds its maximum of ${config.limitSubscriptionsTotal} subscriptions (TE_LIMIT_SUBSCRIPTIONS_TOTAL); try another instance`,
      );
    for (const s of fresh) subs.add(c, channel, interval, s);
    wsSubscriptions.inc(fresh.length);
    this.pushControl(c, serializeAck({ type: 'subscribed', id: req.id, channel, interval, symbols: req.symbols }));
    // Subscribing and taking the snapshot happen in this one synchronous step, as do recording and
    // publishing a delta: a snapshot ends exactly where the first delta begins.
    const patterns = req.symbols.filter(isPattern);
    const symbols = new Set(exact);
    if (patterns.length) {
      const match = compileSymbolPatterns(patterns);
      for (const sym of series.symbolsOf(channel, interval)) if (match(sym) && c.principal.entitled(sym)) symbols.add(sym);
    }
    for (const sym of [...symbols].sort()) this.pushControl(c, serializeSnapshot(series.snapshot(channel, interval, sym)));
  }

  private unsubscribe(c: Client, req: SubscribeRequest): void {
    let n = 0;
    for (const s of req.symbols) if (this.d.subs.remove(c, req.channel, req.interval, s)) n++;
    wsSubscriptions.dec(n);
    this.pushControl(c, serializeAck({ type: 'unsubscribed', id: req.id, channel: req.channel, interval: req.interval, symbols: req.symbols }));
  }

  /**
   * Control messages (acks, snapshots, errors) go out at once rather than at the end of the round: a
   * subscription to '*' can bring megabytes of snapshots, which the socket takes as they come, where queued
   * together they would count against the hard limit all at the same time.
   */
  private pushControl(c: Client, data: string): void {
    if (c.outbox?.push({ kind: 'control', channel: 'control', series: '', bucket: 0, data, binary: false, srcTs: 0 })) c.outbox.flush();
  }

  /** Close every connection (the gateway is stopping). */
  closeAll(code: number, reason: string): void {
    for (const ws of [...this.open]) ws.end(code, reason);
  }
}
