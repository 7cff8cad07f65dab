// One simulated live-chart client: connects, subscribes, reads every message, and measures — latency from the
// gateway's send and from the source record, gaps in each series' seq, snapshots, close codes — into the
// worker's shared tallies. Dropped by the gateway, it reconnects with backoff and resubscribes.
import WebSocket from 'ws';
import { newHistogram, recordUs, type Histogram } from './latency-histogram.js';
import { peekAvro, peekJson, seriesKeyOf, type Peeked } from './peek.js';

export interface ClientSpec {
  /** The subscribe requests, as sent. */
  requests: string[];
  encoding: 'json' | 'avro';
  slow: boolean;
}

export interface ClientOptions {
  url: string;
  /** Sent on the upgrade request: credentials (Authorization, X-API-Key). */
  headers: Record<string, string>;
  slowPauseMs: number;
  slowEveryMs: number;
}

/** What a worker's clients measured since the last report. */
export class Tallies {
  messages = 0;
  bytes = 0;
  gaps = 0;
  tradeGaps = 0;
  errors = 0;
  attempts = 0;
  disconnects = 0;
  snapshots = 0;
  resubscribed = 0;
  closes: Record<string, number> = {};
  send: Histogram = newHistogram();
  source: Histogram = newHistogram();
  resubscribe: Histogram = newHistogram();

  /** What was tallied since the last call, the tallies starting again from zero. */
  take(): Tallies {
    const out = Object.assign(new Tallies(), this);
    Object.assign(this, new Tallies());
    return out;
  }
}

const nowUs = () => (performance.timeOrigin + performance.now()) * 1000;

export class LoadClient {
  private ws: WebSocket | undefined;
  /** Series → the seq the next numbered delta must carry. */
  private readonly next = new Map<string, number>();
  private wanted = false;
  private retries = 0;
  /** When the gateway dropped us (µs): the time to the first snapshot after reconnecting is the resubscribe time. */
  private droppedAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private slowTimer: NodeJS.Timeout | undefined;
  open = false;

  constructor(
    private readonly spec: ClientSpec,
    private readonly opts: ClientOptions,
    private readonly t: Tallies,
  ) {}

  /** Whether the socket is gone (closed, or never opened). */
  get closed(): boolean {
    return this.ws === undefined || this.ws.readyState === WebSocket.CLOSED;
  }

  get active(): boolean {
    return this.wanted;
  }

  start(): void {
    this.wanted = true;
    this.connect();
  }

  stop(): void {
    this.wanted = false;
    clearTimeout(this.retryTimer);
    clearInterval(this.slowTimer);
    const ws = this.ws;
    if (ws?.isPaused) ws.resume(); // a slow reader in a pause would not read the close handshake
    if (ws && ws.readyState === WebSocket.OPEN) ws.close(1000, 'load: ramp down');
    else ws?.terminate();
    this.open = false;
  }

  private connect(): void {
    const { url, headers } = this.opts;
    this.t.attempts++;
    const target = this.spec.encoding === 'avro' ? `${url}${url.includes('?') ? '&' : '?'}encoding=avro` : url;
    const ws = new WebSocket(target, { perMessageDeflate: false, headers });
    this.ws = ws;
    this.next.clear();
    ws.on('open', () => {
      this.open = true;
      this.retries = 0;
      for (const r of this.spec.requests) ws.send(r);
      if (this.spec.slow) this.startSlowReading(ws);
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('error', () => this.t.errors++);
    ws.on('close', (code: number) => {
      clearInterval(this.slowTimer);
      this.open = false;
      this.t.closes[code] = (this.t.closes[code] ?? 0) + 1;
      if (this.ws !== ws || !this.wanted) return;
      // Not asked for: the gateway closed us (restart, backpressure) or the connection failed.
      this.t.disconnects++;
      if (this.droppedAt === 0) this.droppedAt = nowUs();
      const delay = Math.min(2000, 200 * 2 ** this.retries++) * (0.5 + Math.random());
      this.retryTimer = setTimeout(() => this.wanted && this.connect(), delay);
    });
  }

  /** A slow reader stops reading its socket now and then: the gateway's buffers for it fill up. */
  private startSlowReading(ws: WebSocket): void {
    const { slowPauseMs, slowEveryMs } = this.opts;
    this.slowTimer = setInterval(() => {
      ws.pause();
      setTimeout(() => ws.readyState === WebSocket.OPEN && ws.resume(), slowPauseMs);
    }, slowEveryMs);
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const t = this.t;
    t.messages++;
    t.bytes += data.length;
    if (isBinary) {
      const p = peekAvro(data);
      if (p) this.onDelta(p);
      return;
    }
    const text = data.toString('utf8');
    const p = peekJson(text);
    if (p) return this.onDelta(p);
    const m = JSON.parse(text) as { type: string; channel?: string; interval?: string; symbol?: string; seq?: number };
    if (m.type === 'snapshot') {
      t.snapshots++;
      this.next.set(seriesKeyOf(m.channel!, m.interval, m.symbol!), m.seq! + 1);
      if (this.droppedAt !== 0) {
        recordUs(t.resubscribe, nowUs() - this.droppedAt);
        t.resubscribed++;
        this.droppedAt = 0;
      }
    } else if (m.type === 'error') t.errors++;
  }

  private onDelta(p: Peeked): void {
    const t = this.t;
    // Latencies are those of clients that read continuously: a slow reader's are its own pauses.
    if (!this.spec.slow) {
      const now = nowUs();
      recordUs(t.send, now - p.ts * 1000);
      if (p.sourceUs > 0) recordUs(t.source, now - p.sourceUs);
    }
    if (p.type === 'update') return; // carries the last final bar's seq: not numbered itself
    const want = this.next.get(p.key) ?? 1; // a series born after the subscribe starts at 1
    if (p.seq !== want) {
      if (p.type === 'trade') t.tradeGaps++;
      else t.gaps++;
    }
    this.next.set(p.key, p.seq + 1);
  }
}
