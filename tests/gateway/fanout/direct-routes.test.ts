// Direct delivery (uWS pub/sub) against a stand-in for uWS' topic tree that behaves as uWS does where it matters:
// published messages wait per subscriber until the loop drains them, and a direct send on a socket drains that
// socket's pending messages first. Checked: one publish per delta and encoding for the clients that keep up; a client
// past the soft limit falls back to its outbox (conflation), one past the hard limit is closed with 1008; a drained
// client comes back; every client sees each series once, in seq order, across its changes of mode; unsubscribed and
// closed clients are left alone.
import t, { type Test } from 'tap';
import type { Bar } from '../../../src/contracts/bar.js';
import { DirectRoutes, SWEEP_MS } from '../../../src/gateway/fanout/direct-routes.js';
import { Fanout } from '../../../src/gateway/fanout/fanout.js';
import { SeriesBook } from '../../../src/gateway/fanout/series-book.js';
import { Subscriptions } from '../../../src/gateway/fanout/subscriptions.js';
import type { Principal } from '../../../src/gateway/auth/auth.js';
import type { Client, TopicSocket } from '../../../src/gateway/ws/client.js';
import { Outbox, type SocketLike } from '../../../src/gateway/ws/outbox.js';

const SOFT = 1000;
const HARD = 5000;

class Hub {
  readonly topics = new Map<string, Set<FakeWs>>();
  publishes = 0;
  publish(topic: string, data: string | Uint8Array): void {
    this.publishes++;
    for (const ws of this.topics.get(topic) ?? []) ws.pending.push(String(data));
  }
  /** uWS' drain at the end of a loop iteration. */
  drain(): void {
    for (const set of this.topics.values()) for (const ws of set) ws.flushPending();
  }
}

class FakeWs implements TopicSocket, SocketLike {
  buffered = 0;
  closed = false;
  pending: string[] = [];
  /** Everything the client received, in order. */
  log: string[] = [];
  ended: { code: number; reason: string } | undefined;
  constructor(private readonly hub: Hub) {}
  private alive(): void {
    if (this.closed) throw new Error('Invalid access of closed uWS.WebSocket');
  }
  flushPending(): void {
    this.log.push(...this.pending);
    this.pending = [];
  }
  subscribe(topic: string): boolean {
    this.alive();
    let s = this.hub.topics.get(topic);
    if (!s) this.hub.topics.set(topic, (s = new Set()));
    s.add(this);
    return true;
  }
  unsubscribe(topic: string): boolean {
    this.alive();
    return this.hub.topics.get(topic)?.delete(this) ?? false;
  }
  getBufferedAmount(): number {
    this.alive();
    return this.buffered;
  }
  send(data: string | Uint8Array): number {
    this.alive();
    this.flushPending(); // as uWS' WebSocket::send does for a subscriber
    this.log.push(String(data));
    return 0;
  }
  cork(cb: () => void): void {
    cb();
  }
  end(code: number, reason: string): void {
    this.ended = { code, reason };
  }
  subscribedTo(): number {
    let n = 0;
    for (const s of this.hub.topics.values()) if (s.has(this)) n++;
    return n;
  }
  /** (type, seq, bucketStart) of every bar message received. */
  bars(): { type: string; seq: number; bucket: number }[] {
    return this.log.map((s) => JSON.parse(s) as { type: string; seq: number; bar: Bar }).map((m) => ({ type: m.type, seq: m.seq, bucket: m.bar.bucketStart }));
  }
}

const anyone: Principal = {
  id: 'a',
  kind: 'anonymous',
  symbols: ['*'],
  entitled: () => true,
  limits: { maxConnections: Infinity, maxSubscriptions: Infinity, requestsPerSecond: Infinity },
};

function bar(bucketStart: number, tradeCount: number, final: boolean): Bar {
  return {
    symbol: 'BTC-USD',
    interval: '1s',
    bucketStart,
    open: 1,
    high: 2,
    low: 0.5,
    close: 1.5,
    volume: tradeCount,
    quoteVolume: tradeCount,
    vwap: 1,
    tradeCount,
    buyVolume: 0,
    firstEventTime: bucketStart,
    lastEventTime: bucketStart,
    revision: 0,
    final,
    complete: null,
  };
}

function setup() {
  const hub = new Hub();
  const subs = new Subscriptions<Client>();
  const sent = { messages: 0, calls: 0 };
  const direct = new DirectRoutes({
    publish: (topic, data) => hub.publish(topic, data),
    soft: SOFT,
    hard: HARD,
    sent: (_m, _b, n) => {
      sent.messages += n;
      sent.calls++;
    },
  });
  const fanout = new Fanout(subs, new SeriesBook(10), direct);
  let id = 1;
  const counts = { conflated: 0, closed: 0 };
  const client = (opts: { direct?: boolean } = {}) => {
    const ws = new FakeWs(hub);
    const c: Client = { id: id++, principal: anyone, encoding: 'json', release: () => {} };
    c.outbox = new Outbox(ws, SOFT, HARD, false, {
      sent: () => {},
      conflated: () => counts.conflated++,
      dropped: () => {},
      closedForBackpressure: () => counts.closed++,
    });
    if (opts.direct !== false) direct.add(c, ws);
    subs.add(c, 'bars', '1s', 'BTC-USD');
    return { c, ws };
  };
  /** One feed round: the deltas, the round's end, then uWS' drain at the end of the loop iteration. */
  const round = (...deltas: [number, number, boolean][]) => {
    for (const [b, n, final] of deltas) (final ? fanout.bar.bind(fanout) : fanout.update.bind(fanout))(bar(b, n, final), Buffer.alloc(0), 0);
    fanout.batchEnd();
    hub.drain();
  };
  return { hub, subs, direct, fanout, client, round, sent, counts };
}

/** Each series is seen once and in order: final bars' seq consecutive from 1, updates never behind the last final. */
function checkOrder(t: Test, ws: FakeWs, finals: number, label: string) {
  const got = ws.bars();
  const finalSeqs = got.filter((m) => m.type === 'bar').map((m) => m.seq);
  t.same(
    finalSeqs,
    Array.from({ length: finals }, (_, i) => i + 1),
    `${label}: every final bar once, in seq order`,
  );
  let lastFinalSeq = 0;
  let ok = true;
  for (const m of got) {
    if (m.type === 'bar') lastFinalSeq = m.seq;
    else if (m.seq !== lastFinalSeq) ok = false;
  }
  t.ok(ok, `${label}: every update carries the seq of the final bar before it`);
}

t.test('clients that keep up get one publish per delta; the others their outbox', async (t) => {
  const s = setup();
  const a = s.client();
  const b = s.client();
  const q = s.client({ direct: false });
  s.round([0, 1, false], [0, 2, false]);
  s.round([0, 3, true]);
  t.equal(s.hub.publishes, 3, 'three deltas, three publishes for the two direct clients');
  t.equal(s.sent.messages, 6, 'counted as six messages handed over');
  t.equal(a.ws.subscribedTo(), 1, 'a direct client is a member of its series topic');
  t.equal(q.ws.subscribedTo(), 0, 'a client without direct delivery is not');
  for (const [name, x] of [
    ['direct a', a],
    ['direct b', b],
    ['outbox', q],
  ] as const) {
    t.same(
      x.ws.bars().map((m) => m.type),
      ['update', 'update', 'bar'],
      `${name}: received everything`,
    );
    checkOrder(t, x.ws, 1, name);
  }
});

t.test('past the soft limit a client falls back to its outbox and conflates; drained, it comes back', async (t) => {
  const s = setup();
  const a = s.client();
  const b = s.client();
  s.round([0, 1, false]);
  a.ws.buffered = SOFT + 1;
  s.direct.sweep();
  s.round([0, 2, false], [0, 3, false], [0, 4, false]);
  t.equal(a.ws.subscribedTo(), 0, 'the slow client left the topic');
  t.equal(s.counts.conflated, 2, 'its updates conflate to the latest');
  t.equal(a.c.outbox!.heldUpdates, 1, 'one update held');
  s.round([0, 5, true]);
  t.equal(a.c.outbox!.heldUpdates, 0, 'the final bar supersedes the held update');
  a.ws.buffered = 0;
  s.direct.comeBack(a.c);
  t.equal(a.ws.subscribedTo(), 0, 'back in direct mode, but topics change only at the next delivery');
  s.round([1, 1, false]);
  t.equal(a.ws.subscribedTo(), 1, 'back in the topic once drained and idle');
  s.round([1, 2, false], [1, 3, true], [2, 1, false]);
  t.same(
    a.ws.bars().map((m) => `${m.type}${m.bucket}`),
    ['update0', 'bar0', 'update1', 'update1', 'bar1', 'update2'],
    'the slow client: the first update, the final bar (its held updates superseded), then everything again',
  );
  t.equal(b.ws.bars().length, 9, 'the other client got every delta');
  checkOrder(t, a.ws, 2, 'slow client');
  checkOrder(t, b.ws, 2, 'fast client');
});

t.test('a client does not come back while its outbox holds anything or its socket is above half the soft limit', async (t) => {
  const s = setup();
  const a = s.client();
  a.ws.buffered = SOFT + 1;
  s.direct.sweep();
  s.round([0, 1, false], [0, 2, false]);
  a.ws.buffered = SOFT / 2 + 1;
  s.direct.comeBack(a.c);
  s.round([0, 3, false]);
  t.equal(a.ws.subscribedTo(), 0, 'above half the soft limit: stays with its outbox');
  a.ws.buffered = 0;
  s.direct.comeBack(a.c);
  s.round([0, 4, false]);
  t.equal(a.ws.subscribedTo(), 0, 'held updates left: stays');
  a.c.outbox!.drain();
  s.direct.comeBack(a.c);
  s.round([0, 5, true]);
  t.equal(a.ws.subscribedTo(), 1, 'drained and idle: back');
  t.same(
    a.ws.bars().map((m) => `${m.type}${m.bucket}`),
    ['update0', 'bar0'],
    'the latest held update on drain, then the final bar',
  );
  t.equal((JSON.parse(a.ws.log[0]!) as { bar: Bar }).bar.tradeCount, 4, 'the held update was the latest');
});

t.test('past the hard limit at a sweep the client is closed with 1008', async (t) => {
  const s = setup();
  const a = s.client();
  s.round([0, 1, false]);
  a.ws.buffered = HARD + 1;
  s.direct.sweep();
  t.equal(a.ws.ended?.code, 1008);
  t.match(a.ws.ended?.reason, /^backpressure: 5001 bytes unsent would pass the limit of 5000; reconnect/);
  t.equal(s.counts.closed, 1);
});

t.test('the sweep follows the rounds: soon after a round that published past the soft limit, else within SWEEP_MS', async (t) => {
  const s = setup();
  const a = s.client();
  s.round([0, 1, false]);
  a.ws.buffered = SOFT + 1;
  await new Promise((r) => setTimeout(r, SWEEP_MS + 50));
  s.round([0, 2, false]);
  t.equal(a.ws.subscribedTo(), 0, 'a small round: swept within SWEEP_MS');
  const b = s.client();
  s.round([0, 3, false]);
  b.ws.buffered = SOFT + 1;
  // Rounds that publish more than the soft limit in all: the sweep runs at the next turn of the loop.
  for (let i = 4; i < 60; i++) s.round([0, i, false]);
  await new Promise((r) => setTimeout(r, 5));
  s.round([0, 61, false]);
  t.equal(b.ws.subscribedTo(), 0, 'a big round: swept at once');
});

t.test('unsubscribed and closed clients are left alone', async (t) => {
  const s = setup();
  const a = s.client();
  const b = s.client();
  s.round([0, 1, false]);
  s.subs.remove(a.c, 'bars', '1s', 'BTC-USD');
  s.round([0, 2, false]);
  t.equal(a.ws.subscribedTo(), 0, 'unsubscribed: out of the topic');
  t.equal(a.ws.log.length, 1, 'and receives nothing more');
  // Closed: uWS has dropped its topics; any further call on it would throw.
  b.ws.closed = true;
  s.subs.removeClient(b.c);
  s.fanout.forget(b.c);
  t.doesNotThrow(() => s.round([0, 3, false]), 'a closed client is never touched');
  t.doesNotThrow(() => s.direct.sweep());
  s.subs.add(a.c, 'bars', '1s', 'BTC-USD');
  s.round([0, 4, false]);
  t.equal(a.ws.subscribedTo(), 1, 'subscribed again: back in the topic');
  t.equal(s.direct.directClients, 1);
});
