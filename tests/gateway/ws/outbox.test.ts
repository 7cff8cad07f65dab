// The backpressure policy against a fake socket whose unsent bytes the test controls: under the soft limit
// everything goes out in order; past it updates conflate to the latest per series and trades drop; a final
// bar that would pass the hard limit closes the client with 1008 and a reason; draining releases held updates.
import t from 'tap';
import { BACKPRESSURE_CLOSE_CODE, Outbox, type OutMessage, type SocketLike } from '../../../src/gateway/ws/outbox.js';

class FakeSocket implements SocketLike {
  buffered = 0;
  sent: string[] = [];
  ended: { code: number; reason: string } | undefined;
  corks = 0;
  getBufferedAmount(): number {
    return this.buffered;
  }
  send(data: string | Uint8Array): number {
    this.sent.push(String(data));
    return 0;
  }
  cork(cb: () => void): void {
    this.corks++;
    cb();
  }
  end(code: number, reason: string): void {
    this.ended = { code, reason };
  }
}

const msg = (kind: OutMessage['kind'], series: string, data: string, bucket = 0): OutMessage => ({
  kind,
  channel: kind === 'trade' ? 'trades' : 'bars',
  series,
  bucket,
  data,
  binary: false,
  srcTs: 0,
});

function setup(soft = 100, hard = 1000) {
  const ws = new FakeSocket();
  const counts = { conflated: 0, dropped: 0, closed: 0, sent: 0 };
  const box = new Outbox(ws, soft, hard, false, {
    sent: () => counts.sent++,
    conflated: () => counts.conflated++,
    dropped: () => counts.dropped++,
    closedForBackpressure: () => counts.closed++,
  });
  return { ws, box, counts };
}

t.test('under the soft limit: everything, in order, one cork per flush', async (t) => {
  const { ws, box, counts } = setup();
  box.push(msg('update', 'A', 'u1', 10));
  box.push(msg('trade', 'T', 't1'));
  box.push(msg('final', 'A', 'f1', 10));
  box.push(msg('update', 'A', 'u2', 11));
  box.flush();
  t.same(ws.sent, ['u1', 't1', 'f1', 'u2']);
  t.equal(ws.corks, 1);
  t.same(counts, { conflated: 0, dropped: 0, closed: 0, sent: 4 });
});

t.test('past the soft limit: updates conflate per series, trades drop, finals still go', async (t) => {
  const { ws, box, counts } = setup();
  ws.buffered = 500;
  box.push(msg('update', 'A', 'a1', 10));
  box.push(msg('update', 'B', 'b1', 10));
  box.push(msg('update', 'A', 'a2', 10));
  box.push(msg('update', 'A', 'a3', 10));
  box.push(msg('trade', 'T', 't1'));
  box.push(msg('final', 'C', 'c-final', 9));
  box.flush();
  t.same(ws.sent, ['c-final'], 'only the final bar went out');
  t.equal(counts.conflated, 2, 'a1 and a2 were replaced');
  t.equal(counts.dropped, 1, 'the trade was dropped');
  t.equal(box.heldUpdates, 2);
  ws.buffered = 0;
  box.drain();
  t.same(ws.sent, ['c-final', 'b1', 'a3'], 'after drain: the latest update per series, in order of last change');
  t.equal(box.heldUpdates, 0);
});

t.test('a final bar supersedes a held update of the same or an older bucket, not a newer one', async (t) => {
  const { ws, box } = setup();
  ws.buffered = 500;
  box.push(msg('update', 'A', 'a-10', 10));
  box.push(msg('update', 'B', 'b-11', 11));
  box.push(msg('final', 'A', 'A-final-10', 10));
  box.push(msg('final', 'B', 'B-final-10', 10));
  ws.buffered = 0;
  box.drain();
  t.same(ws.sent, ['A-final-10', 'B-final-10', 'b-11']);
});

t.test('an update for a series with a held one waits behind it even when there is room again', async (t) => {
  const { ws, box, counts } = setup();
  ws.buffered = 500;
  box.push(msg('update', 'A', 'a1', 10));
  ws.buffered = 0;
  box.push(msg('update', 'A', 'a2', 10));
  box.flush();
  t.same(ws.sent, [], 'not sent around the held one');
  t.equal(counts.conflated, 1);
  box.drain();
  t.same(ws.sent, ['a2']);
});

t.test('drain stops releasing at the soft limit', async (t) => {
  const { ws, box } = setup(5, 1000);
  ws.buffered = 50;
  box.push(msg('update', 'A', 'aaaaaaaa', 1));
  box.push(msg('update', 'B', 'bbbbbbbb', 1));
  ws.buffered = 0;
  box.drain();
  t.same(ws.sent, ['aaaaaaaa'], 'the first took the buffer past the soft limit');
  t.equal(box.heldUpdates, 1);
});

t.test('a final bar that would pass the hard limit closes the client with a code and a reason', async (t) => {
  const { ws, box, counts } = setup(100, 1000);
  ws.buffered = 990;
  t.equal(box.push(msg('final', 'A', 'x'.repeat(20), 1)), false);
  t.equal(counts.closed, 1);
  t.equal(ws.ended?.code, BACKPRESSURE_CLOSE_CODE);
  t.match(ws.ended?.reason, /^backpressure: 1010 bytes unsent would pass the limit of 1000/);
  t.ok(Buffer.byteLength(ws.ended!.reason) <= 123, 'the reason fits a close frame');
  t.equal(box.push(msg('final', 'A', 'y', 2)), false, 'nothing is queued after the close');
  box.flush();
  t.same(ws.sent, []);
});

t.test('queued bytes count toward the limits before the flush', async (t) => {
  const { ws, box, counts } = setup(10, 40);
  box.push(msg('final', 'A', 'x'.repeat(20), 1));
  box.push(msg('trade', 'T', 'trade'));
  t.equal(counts.dropped, 1, 'the queued final bar took it past the soft limit');
  box.push(msg('final', 'A', 'y'.repeat(25), 2));
  t.equal(counts.closed, 1, '20 queued + 25 > 40');
  t.same(ws.sent, []);
});
