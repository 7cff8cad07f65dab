// One WebSocket connection to a venue: open, send the subscribe messages at the venue's pace, hand on every text frame
// with its receive time, keep the connection alive by the venue's rules, and end it when nothing at all arrives.
import WebSocket from 'ws';
import type { Logger } from '../../log.js';
import type { Pacer } from './pacer.js';
import { retryAfterMs } from './retry-after.js';
import type { Keepalive } from './venue-rules.js';

/**
 * Why a connection ended. stale: nothing received for the stale time (closed here); closed: by the venue or the
 * network; error: the connection or its upgrade failed; rate-limited: the upgrade was answered 429 or 418;
 * stopped: closed here on purpose (stop, or replaced by its successor).
 */
export type ConnectionEndReason = 'stale' | 'closed' | 'error' | 'rate-limited' | 'stopped';

export interface ConnectionEnd {
  reason: ConnectionEndReason;
  /** What the venue asked to wait before the next attempt (Retry-After), in ms, when it said. */
  retryAfterMs: number | undefined;
  /** The HTTP status of a refused upgrade. */
  status: number | undefined;
  /** The WebSocket close code (1006: no close frame, the TCP connection just ended). */
  code: number | undefined;
  error: Error | undefined;
  /** How long the connection had been ready (subscribed and answered), ms; 0 when it never was. */
  readyMs: number;
}

export interface VenueConnectionOptions {
  /** Names the connection in logs: the session's group of symbols and the attempt. */
  name: string;
  url: string;
  keepalive: Keepalive;
  staleMs: number;
  subscribeMessages: readonly string[];
  /** Paces the subscribe messages (shared by a session's connections). */
  subscribePacer: Pacer;
  /** Each text frame, except keepalive replies, with its receive time in µs since the epoch. */
  onFrame(frame: string, receivedAtMicros: number): void;
  /** The upgrade was accepted. */
  onOpen(): void;
  /** Every subscribe message went out and the venue has sent a frame since (normally its ack): the connection carries the feed. */
  onReady(): void;
  /** Called once, when the socket is gone and no timer of the connection is left. */
  onEnd(end: ConnectionEnd): void;
  /** Anything received: a frame, a keepalive reply, a WebSocket ping or pong (what keeps the connection from being stale). */
  onActivity?(): void;
  log: Logger;
  /** How long a close handshake may take before the socket is destroyed. */
  closeTimeoutMs?: number;
  /** Monotonic ms clock (tests may pass their own). */
  now?: () => number;
}

type State = 'new' | 'connecting' | 'open' | 'ready' | 'ended';

export class VenueConnection {
  private readonly o: VenueConnectionOptions;
  private readonly now: () => number;
  private ws: WebSocket | undefined;
  private state: State = 'new';
  /** Set when this side decides the end: stale, or stopped. */
  private endReason: 'stale' | 'stopped' | undefined;
  private refused: { status: number; retryAfterMs: number | undefined } | undefined;
  private error: Error | undefined;
  private lastActivity = 0;
  private lastPingAt = 0;
  private pings = 0;
  private readyAt = 0;
  private subscribesSent = 0;
  private readonly cancelSubscribes: (() => void)[] = [];
  private watchdog: NodeJS.Timeout | undefined;
  private closeTimer: NodeJS.Timeout | undefined;

  constructor(options: VenueConnectionOptions) {
    this.o = options;
    this.now = options.now ?? (() => performance.now());
  }

  get name(): string {
    return this.o.name;
  }

  get isReady(): boolean {
    return this.state === 'ready';
  }

  get ended(): boolean {
    return this.state === 'ended';
  }

  open(): void {
    if (this.state !== 'new') return;
    this.state = 'connecting';
    // The handshake gets the stale time too: a venue that accepts TCP and never answers the upgrade is as dead as a silent one.
    const ws = new WebSocket(this.o.url, { handshakeTimeout: this.o.staleMs });
    this.ws = ws;
    ws.on('open', () => this.onOpen());
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    // Binance pings every 20 s; ws answers with a pong by itself (autoPong, its default). Both directions are traffic.
    ws.on('ping', () => this.activity());
    ws.on('pong', () => this.activity());
    ws.on('unexpected-response', (_req, res) => {
      // A refused upgrade (429, 418, 5xx): keep what the venue asked for, then end the attempt. Listening here means
      // ws leaves the request to us: terminate() aborts it and emits 'error' and 'close'.
      this.refused = { status: res.statusCode ?? 0, retryAfterMs: retryAfterMs(res.headers['retry-after']) };
      res.resume();
      ws.terminate();
    });
    ws.on('error', (err) => {
      this.error ??= err;
    });
    ws.on('close', (code) => this.finish(code));
  }

  /**
   * Closes the connection on purpose (stop, or its successor took over): a close handshake, the socket destroyed
   * if the venue does not answer it within closeTimeoutMs. Frames that arrive meanwhile are still handed on.
   */
  close(): void {
    if (this.state === 'ended' || this.endReason) return;
    this.endReason = 'stopped';
    this.cancelPending();
    const ws = this.ws;
    if (!ws) {
      this.finish(undefined);
      return;
    }
    if (ws.readyState === WebSocket.CONNECTING) {
      ws.terminate();
      return;
    }
    ws.close(1000);
    this.closeTimer = setTimeout(() => ws.terminate(), this.o.closeTimeoutMs ?? 1000);
  }

  private onOpen(): void {
    if (this.endReason) return;
    this.state = 'open';
    this.lastActivity = this.lastPingAt = this.now();
    this.o.onOpen();
    this.arm();
    const messages = this.o.subscribeMessages;
    if (messages.length === 0) this.becomeReady();
    for (const msg of messages) {
      this.cancelSubscribes.push(
        this.o.subscribePacer.schedule(() => {
          this.send(msg);
          this.subscribesSent++;
        }),
      );
    }
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    this.activity();
    if (isBinary) return; // none of the venues sends binary frames on these endpoints
    const frame = typeof data === 'string' ? data : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(asBuffers(data)).toString('utf8');
    const ka = this.o.keepalive;
    if (ka.kind === 'client-ping' && ka.isReply(frame)) return;
    if (this.state === 'open' && !this.endReason && this.subscribesSent === this.o.subscribeMessages.length) this.becomeReady();
    this.o.onFrame(frame, Date.now() * 1000);
  }

  private becomeReady(): void {
    this.state = 'ready';
    this.readyAt = this.now();
    this.o.onReady();
  }

  private activity(): void {
    this.lastActivity = this.now();
    this.o.onActivity?.();
  }

  private send(text: string): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(text, (err) => {
      // A send fails only when the socket is going away; its close ends the connection.
      if (err) this.error ??= err;
    });
  }

  /** When the keepalive ping is due (Infinity when the client never pings). */
  private nextPingAt(): number {
    const ka = this.o.keepalive;
    if (ka.kind !== 'client-ping') return Infinity;
    return (ka.when === 'after-silence' ? Math.max(this.lastActivity, this.lastPingAt) : this.lastPingAt) + ka.intervalMs;
  }

  /**
   * One timer per connection, set for the next deadline (a ping due, or the stale time after the last frame) and
   * re-set when it fires: frames only move lastActivity, so no timer is touched per frame.
   */
  private arm(): void {
    const due = Math.min(this.lastActivity + this.o.staleMs, this.nextPingAt());
    this.watchdog = setTimeout(() => this.onWatchdog(), Math.max(1, Math.ceil(due - this.now())));
  }

  private onWatchdog(): void {
    this.watchdog = undefined;
    if (this.state !== 'open' && this.state !== 'ready') return;
    if (this.endReason) return;
    const now = this.now();
    if (now - this.lastActivity >= this.o.staleMs) {
      this.o.log.warn(
        { connection: this.o.name, silentMs: Math.round(now - this.lastActivity), staleMs: this.o.staleMs },
        'venue connection stale: nothing received, closing it',
      );
      this.endReason = 'stale';
      this.cancelPending();
      // No close handshake with a peer that has stopped answering.
      this.ws?.terminate();
      return;
    }
    const ka = this.o.keepalive;
    if (ka.kind === 'client-ping' && now >= this.nextPingAt()) {
      this.lastPingAt = now;
      this.send(ka.message(++this.pings));
    }
    this.arm();
  }

  private cancelPending(): void {
    for (const cancel of this.cancelSubscribes.splice(0)) cancel();
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  private finish(code: number | undefined): void {
    if (this.state === 'ended') return;
    const readyMs = this.state === 'ready' ? this.now() - this.readyAt : 0;
    this.state = 'ended';
    this.cancelPending();
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    const refused = this.refused;
    const reason: ConnectionEndReason =
      this.endReason ?? (refused ? (refused.status === 429 || refused.status === 418 ? 'rate-limited' : 'error') : this.error ? 'error' : 'closed');
    this.o.onEnd({ reason, retryAfterMs: refused?.retryAfterMs, status: refused?.status, code, error: this.error, readyMs });
  }
}

function asBuffers(data: ArrayBuffer | Buffer[]): Buffer[] {
  return Array.isArray(data) ? data : [Buffer.from(data)];
}
