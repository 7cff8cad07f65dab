// The per-connection backpressure policy: what a client gets when it reads slower than data flows.
//
//   buffered ≤ soft limit   everything is sent, in order;
//   buffered > soft limit   in-progress bar updates are conflated to the latest per series (sent on drain),
//                           trades are dropped (counted; the trade seq shows the gap);
//   final bars, signals and control messages are never dropped: one that would take the buffer past the
//   hard limit closes the client with 1008 and a reason instead, so a connected client has every final bar.
//
// "buffered" is what the socket has not yet written (uWS getBufferedAmount) plus what this outbox queued
// in the current round. Messages queue during a round (a Kafka batch) and go out in corked writes, at the
// end of the round or whenever a quarter of the soft limit is queued.
import type { Channel } from './protocol.js';

export type Kind = 'final' | 'update' | 'trade' | 'control';

export interface OutMessage {
  kind: Kind;
  channel: Channel | 'control';
  /** Series key (conflation is per series); '' for control messages. */
  series: string;
  /** Bars: bucket start, so a final bar supersedes a conflated update of the same or an older bucket. */
  bucket: number;
  data: string | Uint8Array;
  binary: boolean;
  /** Kafka timestamp (ms) of the tick behind the message, for the tick-to-send histogram; 0 = none. */
  srcTs: number;
}

/** What the outbox needs of a uWS WebSocket. */
export interface SocketLike {
  getBufferedAmount(): number;
  /** 0 sent, 1 buffered (backpressure), 2 dropped. */
  send(data: string | Uint8Array, isBinary: boolean, compress: boolean): number;
  cork(cb: () => void): void;
  end(code: number, reason: string): void;
}

export interface OutboxEvents {
  sent(m: OutMessage, bytes: number, now: number): void;
  conflated(): void;
  dropped(m: OutMessage): void;
  closedForBackpressure(buffered: number): void;
}

export const BACKPRESSURE_CLOSE_CODE = 1008;

/** Bytes a message puts on the wire (before framing and permessage-deflate). */
export const messageBytes = (d: string | Uint8Array): number => (typeof d === 'string' ? Buffer.byteLength(d) : d.byteLength);

export class Outbox {
  private queue: OutMessage[] = [];
  private queuedBytes = 0;
  /** Latest update per series held back while the client is past the soft limit. */
  private readonly held = new Map<string, OutMessage>();
  private readonly flushAt: number;
  closed = false;

  constructor(
    private readonly ws: SocketLike,
    private readonly soft: number,
    private readonly hard: number,
    private readonly compress: boolean,
    private readonly events: OutboxEvents,
  ) {
    this.flushAt = Math.max(4096, Math.min(soft / 4, 64 * 1024));
  }

  get buffered(): number {
    return this.ws.getBufferedAmount() + this.queuedBytes;
  }

  /** Queue a message under the policy; returns true when something was queued (the caller flushes). */
  push(m: OutMessage): boolean {
    if (this.closed) return false;
    const buffered = this.buffered;
    switch (m.kind) {
      case 'update': {
        if (buffered <= this.soft && !this.held.has(m.series)) return this.enqueue(m);
        if (this.held.has(m.series)) this.events.conflated();
        // Re-inserted at the end: held updates go out in the order their series last changed.
        this.held.delete(m.series);
        this.held.set(m.series, m);
        return false;
      }
      case 'trade':
        if (buffered > this.soft) {
          this.events.dropped(m);
          return false;
        }
        return this.enqueue(m);
      default: {
        const bytes = messageBytes(m.data);
        if (buffered + bytes > this.hard) {
          this.close(buffered + bytes);
          return false;
        }
        if (m.kind === 'final') {
          const h = this.held.get(m.series);
          if (h && h.bucket <= m.bucket) this.held.delete(m.series);
        }
        return this.enqueue(m, bytes);
      }
    }
  }

  private enqueue(m: OutMessage, bytes = messageBytes(m.data)): true {
    this.queue.push(m);
    this.queuedBytes += bytes;
    // A big round (a Kafka batch after a pause) goes out in slices: queued bytes count toward the limits, and
    // a client that reads fine must not look slow because the socket has not been given the data yet.
    if (this.queuedBytes >= this.flushAt) this.flush();
    return true;
  }

  /** Write the queued messages in one corked batch. */
  flush(now = Date.now()): void {
    if (this.closed || this.queue.length === 0) return;
    const q = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    this.ws.cork(() => {
      for (const m of q) {
        if (this.ws.send(m.data, m.binary, this.compress) === 2) {
          // uWS dropped it: only possible past its own maxBackpressure, which sits above our hard limit.
          this.close(this.ws.getBufferedAmount());
          return;
        }
        this.events.sent(m, messageBytes(m.data), now);
      }
    });
  }

  /** The socket drained some: release held updates while under the soft limit. */
  drain(now = Date.now()): void {
    if (this.closed || this.held.size === 0) return;
    for (const [k, m] of this.held) {
      if (this.buffered > this.soft) break;
      this.held.delete(k);
      this.enqueue(m);
    }
    this.flush(now);
  }

  get heldUpdates(): number {
    return this.held.size;
  }

  /** Nothing queued and nothing held back. */
  get idle(): boolean {
    return this.queue.length === 0 && this.held.size === 0;
  }

  /** The socket holds more than the hard limit (found by direct delivery's sweep): close as a final bar past it would. */
  overflow(buffered: number): void {
    if (!this.closed) this.close(buffered);
  }

  private close(buffered: number): void {
    this.closed = true;
    this.queue = [];
    this.queuedBytes = 0;
    this.held.clear();
    this.events.closedForBackpressure(buffered);
    this.ws.end(BACKPRESSURE_CLOSE_CODE, `backpressure: ${buffered} bytes unsent would pass the limit of ${this.hard}; reconnect and resubscribe`);
  }
}
