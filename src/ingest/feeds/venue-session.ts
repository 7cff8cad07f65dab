// Keeps one venue's feed alive: its symbols split into groups the venue's limits allow, one connection per group,
// reconnected with backoff and jitter and subscribed again, and replaced before the venue closes it (by age, or when
// the server announces a shutdown) with the new connection subscribed before the old one is closed.
//
// During a replacement both connections carry the same streams for a moment, so a trade may arrive twice: that is
// expected. Trades keep the venue's trade id, and duplicates are dropped downstream by (venue, symbol, trade id),
// never here (a reconnect can equally re-send a trade: Kraken's and Coinbase's snapshots, Coinbase's last_match).
import { backoffMs } from '../../backoff.js';
import { DecodeError, InvalidArgumentError } from '../../errors.js';
import { logger, type Logger } from '../../log.js';
import {
  feedConnectionHeardAt,
  feedConnectionsOpen,
  feedConnectionsOpened,
  feedDecodeErrors,
  feedLastFrameAt,
  feedMessagesIn,
  feedReconnects,
} from '../../metrics.js';
import type { VenueAdapter, VenueTrade } from '../venues/venue-adapter.js';
import { Pacer } from './pacer.js';
import { VenueConnection, type ConnectionEnd } from './venue-connection.js';
import { VENUE_RULES, type VenueRules } from './venue-rules.js';

export interface VenueSessionOptions {
  adapter: VenueAdapter;
  /** The venue's symbols ('BTCUSDT', 'BTC/USD'); repeated ones are followed once. */
  symbols: readonly string[];
  /**
   * The trades of each frame that carries any, with the frame's receive time (µs since the epoch). Called from the
   * socket's message event: it must not throw (an exception here is a bug, and ends the process as one).
   */
  onTrades(trades: VenueTrade[], receivedAtMicros: number): void;
  /**
   * A connection group is back after it was lost at `lostAtMs` (not a planned replacement: that overlaps): the venue
   * symbols it carries may have missed trades meanwhile.
   */
  onBack?(venueSymbols: readonly string[], lostAtMs: number): void;
  /** Default: the adapter's defaultUrl. */
  url?: string;
  /** Default: the venue's (VENUE_RULES; configuredRules applies TE_FEED_*). */
  rules?: VenueRules;
  /** Longest wait between reconnect attempts (TE_FEED_BACKOFF_MAX_MS); 30 s by default. */
  backoffMaxMs?: number;
  /** First wait (before jitter); 100 ms by default. */
  backoffBaseMs?: number;
  /** Jitter source (tests pin it). */
  random?: () => number;
  /** The `venue` label of the metrics; the venue by default. Two sessions of one venue in a process need two labels. */
  label?: string;
  closeTimeoutMs?: number;
  log?: Logger;
}

/** A group of symbols whose connections have received nothing for the stale time: what /health names. */
export interface StaleConnection {
  venue: string;
  connection: string;
  symbols: number;
  silentMs: number;
  staleMs: number;
}

/** Why a new connection is started after the first: the end of the one before it, or a planned replacement. */
export type ReconnectReason = 'stale' | 'closed' | 'error' | 'rate-limited' | 'rotation';

interface Group {
  index: number;
  /** `<label>#<index>`: the prefix of its connections' names in the logs, and the metrics' connection label. */
  name: string;
  /** When any connection of the group last received anything, pings and pongs included (Date.now()); the start before the first. */
  lastHeardAt: number;
  symbols: readonly string[];
  messages: readonly string[];
  /** The connection that carries the group's feed (or is being opened to). */
  current: VenueConnection | undefined;
  /** The replacement being opened; it becomes current once ready, and the current one is closed then. */
  successor: VenueConnection | undefined;
  /** A connection waiting for its slot (backoff, pacing, Retry-After). */
  cancelConnect: (() => void) | undefined;
  rotateTimer: NodeJS.Timeout | undefined;
  /** Failed attempts in a row: the backoff's exponent. */
  failures: number;
  /** Connections made so far, to name them. */
  made: number;
  /** Lost and not yet back: logged once when lost, once when back. */
  down: boolean;
  /** When it went down (Date.now()). */
  downSince: number;
  /** A connection of the group has been ready (subscribed and answered) at least once: the first is logged. */
  everReady: boolean;
}

export class VenueSession {
  readonly rules: VenueRules;
  readonly label: string;
  private readonly o: VenueSessionOptions;
  private readonly url: string;
  private readonly log: Logger;
  private readonly groupList: Group[];
  private readonly connectPacer: Pacer;
  private readonly subscribePacer: Pacer;
  private readonly live = new Set<VenueConnection>();
  private readonly decodeLogged = new WeakSet<VenueConnection>();
  private readonly messagesIn;
  private readonly decodeErrors;
  private readonly openGauge;
  private lastFrameAt = Date.now();
  private started = false;
  private stopped = false;
  private whenStopped: (() => void) | undefined;

  constructor(options: VenueSessionOptions) {
    this.o = options;
    this.rules = options.rules ?? VENUE_RULES[options.adapter.venue];
    this.label = options.label ?? options.adapter.venue;
    this.url = options.url ?? options.adapter.defaultUrl;
    this.log = (options.log ?? logger('feed')).child({ venue: this.label });
    const symbols = [...new Set(options.symbols)];
    if (symbols.length === 0) throw new InvalidArgumentError(`${this.label} feed: no symbols to follow`);
    this.groupList = chunks(symbols, this.rules.symbolsPerConnection).map((group, index) => ({
      index,
      name: `${this.label}#${index}`,
      lastHeardAt: Date.now(),
      symbols: group,
      messages: chunks(group, this.rules.symbolsPerRequest).flatMap((request) => options.adapter.subscribe(request)),
      current: undefined,
      successor: undefined,
      cancelConnect: undefined,
      rotateTimer: undefined,
      failures: 0,
      made: 0,
      down: false,
      downSince: 0,
      everReady: false,
    }));
    this.connectPacer = new Pacer(this.rules.connectSpacingMs);
    this.subscribePacer = new Pacer(this.rules.subscribeSpacingMs);
    this.messagesIn = feedMessagesIn.labels(this.label);
    this.decodeErrors = feedDecodeErrors.labels(this.label);
    this.openGauge = feedConnectionsOpen.labels(this.label);
  }

  /** The symbols of each connection, in order. */
  get groups(): readonly (readonly string[])[] {
    return this.groupList.map((g) => g.symbols);
  }

  /** Connections whose socket exists now (connecting, open or closing). */
  get liveConnections(): number {
    return this.live.size;
  }

  /** Whether every group's connection is subscribed and answered now. */
  get connected(): boolean {
    return this.groupList.every((g) => g.current?.isReady === true);
  }

  /** The groups that have received nothing at all for the stale time at `nowMs` (none before start or after stop). */
  staleConnections(nowMs = Date.now()): StaleConnection[] {
    if (!this.started || this.stopped) return [];
    return this.groupList
      .filter((g) => nowMs - g.lastHeardAt >= this.rules.staleMs)
      .map((g) => ({ venue: this.label, connection: g.name, symbols: g.symbols.length, silentMs: nowMs - g.lastHeardAt, staleMs: this.rules.staleMs }));
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.lastFrameAt = Date.now();
    feedLastFrameAt.set(this.label, () => this.lastFrameAt);
    for (const g of this.groupList) {
      g.lastHeardAt = this.lastFrameAt;
      feedConnectionHeardAt.set(g.name, { venue: this.label, connection: g.name, at: () => g.lastHeardAt });
    }
    this.log.info(
      { url: this.url, symbols: this.groupList.reduce((n, g) => n + g.symbols.length, 0), connections: this.groupList.length },
      'venue feed starting',
    );
    for (const g of this.groupList) this.connect(g);
  }

  /** Closes every connection and clears every timer; resolves once every socket is gone. Nothing reconnects after. */
  stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      feedLastFrameAt.delete(this.label);
      for (const g of this.groupList) {
        feedConnectionHeardAt.delete(g.name);
        g.cancelConnect?.();
        g.cancelConnect = undefined;
        if (g.rotateTimer) clearTimeout(g.rotateTimer);
        g.rotateTimer = undefined;
      }
      for (const c of [...this.live]) c.close();
    }
    if (this.live.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const before = this.whenStopped;
      this.whenStopped = () => {
        before?.();
        resolve();
      };
    });
  }

  /** Starts a connection for the group at its slot: the current one when the group has none, else its successor. */
  private connect(g: Group, notBeforeMs = -Infinity): void {
    g.cancelConnect = this.connectPacer.schedule(() => {
      g.cancelConnect = undefined;
      if (this.stopped) return;
      const c = this.newConnection(g);
      if (g.current) g.successor = c;
      else g.current = c;
      c.open();
    }, notBeforeMs);
  }

  private newConnection(g: Group): VenueConnection {
    let opened = false;
    const c: VenueConnection = new VenueConnection({
      name: `${this.label}#${g.index}.${++g.made}`,
      url: this.url,
      keepalive: this.rules.keepalive,
      staleMs: this.rules.staleMs,
      subscribeMessages: g.messages,
      subscribePacer: this.subscribePacer,
      onFrame: (frame, at) => this.onFrame(g, c, frame, at),
      onOpen: () => {
        opened = true;
        feedConnectionsOpened.inc({ venue: this.label });
        this.openGauge.inc();
        this.log.debug({ connection: c.name }, 'venue connection open');
      },
      onReady: () => this.onReady(g, c),
      onActivity: () => {
        g.lastHeardAt = Date.now();
      },
      onEnd: (end) => {
        if (opened) this.openGauge.dec();
        this.live.delete(c);
        this.onEnd(g, c, end);
      },
      log: this.log,
      ...(this.o.closeTimeoutMs !== undefined ? { closeTimeoutMs: this.o.closeTimeoutMs } : {}),
    });
    this.live.add(c);
    return c;
  }

  private onFrame(g: Group, c: VenueConnection, frame: string, receivedAtMicros: number): void {
    this.lastFrameAt = Date.now();
    this.messagesIn.inc();
    if (this.rules.isShutdownNotice(frame)) {
      if (c === g.current) {
        this.log.info({ connection: c.name }, 'venue announced a server shutdown');
        this.rotate(g);
      }
      return;
    }
    let trades: VenueTrade[];
    try {
      trades = this.o.adapter.parse(frame, receivedAtMicros);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      // One malformed frame loses its own trades, not the connection; counted always, logged once per connection.
      this.decodeErrors.inc();
      if (!this.decodeLogged.has(c)) {
        this.decodeLogged.add(c);
        this.log.warn(
          { connection: c.name, code: err.code, err: err.message },
          'venue frame not understood: dropped (further ones on this connection only counted)',
        );
      }
      return;
    }
    if (trades.length > 0) this.o.onTrades(trades, receivedAtMicros);
  }

  private onReady(g: Group, c: VenueConnection): void {
    if (this.stopped) return;
    if (c === g.successor) {
      // The handover: the successor is subscribed and the venue has answered it, so the old one can go.
      const old = g.current;
      g.current = c;
      g.successor = undefined;
      if (old) {
        this.log.info({ replaced: old.name, by: c.name }, 'venue connection replaced');
        old.close();
      }
    } else if (c !== g.current) {
      return;
    }
    this.armRotation(g);
    if (!g.everReady) {
      g.everReady = true;
      this.log.info({ connection: c.name, symbols: g.symbols.length }, 'venue connected');
    }
    if (g.down) {
      g.down = false;
      this.log.info({ connection: c.name, symbols: g.symbols.length }, 'venue connection back');
      this.o.onBack?.(g.symbols, g.downSince);
    }
  }

  private armRotation(g: Group): void {
    if (g.rotateTimer) clearTimeout(g.rotateTimer);
    g.rotateTimer = undefined;
    const after = this.rules.rotateAfterMs;
    if (after === undefined) return;
    g.rotateTimer = setTimeout(() => {
      g.rotateTimer = undefined;
      this.rotate(g);
    }, after);
  }

  /** Opens the group's next connection while the current one still carries the feed (onReady then closes the old one). */
  private rotate(g: Group): void {
    if (this.stopped || !g.current || g.successor || g.cancelConnect) return;
    if (g.rotateTimer) clearTimeout(g.rotateTimer);
    g.rotateTimer = undefined;
    this.countReconnect('rotation');
    this.log.info({ connection: g.current.name }, 'replacing venue connection: the new one subscribes before the old one closes');
    this.connect(g);
  }

  private onEnd(g: Group, c: VenueConnection, end: ConnectionEnd): void {
    if (end.retryAfterMs !== undefined) {
      // The venue limits connections per IP: every group waits, not only the one refused.
      this.connectPacer.hold(performance.now() + end.retryAfterMs);
    }
    if (this.stopped) {
      if (this.live.size === 0) this.whenStopped?.();
      return;
    }
    // A connection that carried the feed for a stale time was healthy: the next failure starts the backoff over.
    if (end.readyMs >= this.rules.staleMs) g.failures = 0;
    const reason: ReconnectReason = end.reason === 'stopped' ? 'closed' : end.reason;
    const fields = { connection: c.name, reason, status: end.status, code: end.code, err: end.error?.message };
    if (c === g.successor) {
      // The replacement failed before it was ready; the current connection still carries the feed: try again later.
      g.successor = undefined;
      const delay = this.delay(g, end);
      this.countReconnect(reason);
      this.log.warn({ ...fields, retryInMs: delay }, 'replacement venue connection failed; the current one stays');
      this.connect(g, performance.now() + delay);
      return;
    }
    if (c !== g.current) return; // a replaced connection, closing
    g.current = undefined;
    if (g.rotateTimer) clearTimeout(g.rotateTimer);
    g.rotateTimer = undefined;
    if (g.successor) {
      // The old connection went first (the venue closed it): the successor carries on alone.
      g.current = g.successor;
      g.successor = undefined;
      this.log.info({ ...fields, successor: g.current.name }, 'venue connection closed during its replacement');
      return;
    }
    if (g.cancelConnect) return; // a replacement is already waiting for its slot: it becomes the current connection
    const delay = this.delay(g, end);
    this.countReconnect(reason);
    if (!g.down) {
      g.down = true;
      g.downSince = Date.now();
      this.log.warn({ ...fields, retryInMs: delay }, 'venue connection lost; reconnecting');
    } else {
      this.log.debug({ ...fields, retryInMs: delay }, 'venue reconnect attempt failed');
    }
    this.connect(g, performance.now() + delay);
  }

  /** Backoff with jitter, and never less than what the venue asked for. */
  private delay(g: Group, end: ConnectionEnd): number {
    const backoff = backoffMs(g.failures++, this.o.backoffMaxMs ?? 30_000, this.o.backoffBaseMs ?? 100, this.o.random);
    return Math.max(backoff, end.retryAfterMs ?? 0);
  }

  private countReconnect(reason: ReconnectReason): void {
    feedReconnects.inc({ venue: this.label, reason });
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
