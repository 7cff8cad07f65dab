// Direct delivery: a client that keeps up gets its deltas through uWebSockets.js pub/sub — one native publish per
// delta and encoding, whatever the number of subscribers — instead of a JS call into its outbox per message. A client
// found past the soft limit falls back to its outbox (the backpressure policy: conflation, dropped trades, the hard
// limit); it comes back once its outbox holds nothing and its socket has drained to half the soft limit.
//
// What keeps this exact:
//  - At each delivery a subscriber is either a member of the series' uWS topic or served by its outbox, never both:
//    a series' route is re-derived (resync) at its first delivery after its subscribers or any client's mode changed,
//    before the delta goes out.
//  - Order: uWS sends a socket's pending pub/sub messages before any direct send on it (WebSocket::send drains the
//    subscriber first), and modes change between rounds, never inside one; so a client sees each series in seq order
//    across its changes of mode, and its control messages (acks, snapshots) in the order they were made.
//  - Nothing is skipped silently: uWS' own maxBackpressure is off on this route (a published message past it would be
//    dropped without a trace). A direct client's buffer is bounded by the sweep instead, which runs every SWEEP_MS while
//    deltas are published, and at the next turn of the loop after a round that published more than the soft limit.
//    Past the hard limit at a sweep, the client is closed with 1008 as the outbox would close it.
import type { Client, TopicSocket } from '../ws/client.js';
import { messageBytes, type OutMessage } from '../ws/outbox.js';

export interface DirectRoutesOptions {
  /** uWS app.publish. */
  publish: (topic: string, data: string | Uint8Array, binary: boolean) => void;
  soft: number;
  hard: number;
  /** A delta handed to `n` clients at once (for the metrics the outbox's `sent` event feeds per message). */
  sent: (m: OutMessage, bytes: number, n: number, now: number) => void;
}

/** How a series' delta reaches its subscribers, as of the last resync. */
export interface Route {
  readonly id: string;
  /** Subscribers served by their outbox. */
  queued: Client[];
  /** Topic members per encoding. */
  json: number;
  avro: number;
  subs: readonly Client[];
  epoch: number;
  members: Set<Client>;
  readonly topics: { json: string; avro: string };
}

/** Between two sweeps while deltas flow. */
export const SWEEP_MS = 100;

export class DirectRoutes {
  private readonly routes = new Map<string, Route>();
  /** Clients in direct mode. */
  private readonly direct = new Set<Client>();
  /** Clients fallen back to their outbox, each waiting to come back. */
  private readonly fallen = new Set<Client>();
  /** Bumped at every change of a client's mode: every route resyncs at its next delivery. */
  private epoch = 0;
  /** Bytes published since the last sweep: more than any one client can have gained meanwhile. */
  private published = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerSoon = false;

  constructor(private readonly o: DirectRoutesOptions) {}

  /** A new connection starts direct. */
  add(c: Client, socket: TopicSocket): void {
    c.direct = { socket, on: true, closed: false };
    this.direct.add(c);
  }

  /** A closed connection: uWS has already dropped its topics. */
  forget(c: Client): void {
    if (c.direct) c.direct.closed = true;
    this.direct.delete(c);
    this.fallen.delete(c);
  }

  get directClients(): number {
    return this.direct.size;
  }

  /** The route of a series for this delivery; undefined when nobody subscribes to it. */
  route(id: string, subs: readonly Client[]): Route | undefined {
    let r = this.routes.get(id);
    if (subs.length === 0) {
      if (r) {
        this.resync(r, subs);
        this.routes.delete(id);
      }
      return undefined;
    }
    if (!r) {
      r = { id, queued: [], json: 0, avro: 0, subs: [], epoch: -1, members: new Set(), topics: { json: `json\u0001${id}`, avro: `avro\u0001${id}` } };
      this.routes.set(id, r);
    }
    if (r.subs !== subs || r.epoch !== this.epoch) this.resync(r, subs);
    return r;
  }

  private resync(r: Route, subs: readonly Client[]): void {
    const members = new Set<Client>();
    const queued: Client[] = [];
    let json = 0;
    let avro = 0;
    for (const c of subs) {
      const d = c.direct;
      if (!d?.on || d.closed || c.outbox?.closed) {
        queued.push(c);
        continue;
      }
      members.add(c);
      if (!r.members.has(c)) d.socket.subscribe(r.topics[c.encoding]);
      if (c.encoding === 'avro') avro++;
      else json++;
    }
    for (const c of r.members) if (!members.has(c) && !c.direct!.closed) c.direct!.socket.unsubscribe(r.topics[c.encoding]);
    r.members = members;
    r.queued = queued;
    r.json = json;
    r.avro = avro;
    r.subs = subs;
    r.epoch = this.epoch;
  }

  /** Hand one delta to the route's topic members of one encoding. */
  publish(r: Route, encoding: 'json' | 'avro', m: OutMessage, now: number): void {
    const n = encoding === 'avro' ? r.avro : r.json;
    if (n === 0) return;
    const bytes = messageBytes(m.data);
    this.o.publish(r.topics[encoding], m.data, m.binary);
    this.published += bytes;
    this.o.sent(m, bytes, n, now);
  }

  /** End of a round: make sure a sweep follows, at the next turn of the loop if this round published a lot. */
  roundEnd(): void {
    if (this.published === 0 || this.direct.size === 0) return;
    const soon = this.published > this.o.soft;
    if (this.timer && (this.timerSoon || !soon)) return;
    clearTimeout(this.timer);
    this.timerSoon = soon;
    // A timer, not setImmediate: it fires after uWS has drained this round's publishes into the sockets.
    this.timer = setTimeout(() => this.sweep(), soon ? 0 : SWEEP_MS);
    this.timer.unref();
  }

  /** Move the clients past the soft limit to their outbox (closing those past the hard one), and bring back the drained. */
  sweep(): void {
    this.timer = undefined;
    this.published = 0;
    for (const c of this.direct) {
      const buffered = c.direct!.socket.getBufferedAmount();
      if (buffered <= this.o.soft) continue;
      c.direct!.on = false;
      this.direct.delete(c);
      this.fallen.add(c);
      this.epoch++;
      if (buffered > this.o.hard) c.outbox?.overflow(buffered);
    }
    for (const c of this.fallen) this.comeBack(c);
  }

  /** A fallen-back client whose outbox is empty and whose socket has drained to half the soft limit goes direct again. */
  comeBack(c: Client): void {
    const d = c.direct;
    if (!d || d.on || d.closed || !c.outbox || c.outbox.closed || !c.outbox.idle) return;
    if (d.socket.getBufferedAmount() > this.o.soft / 2) return;
    d.on = true;
    this.fallen.delete(c);
    this.direct.add(c);
    this.epoch++;
  }
}
