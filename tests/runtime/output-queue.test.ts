// The output queue: nothing leaves before every target has it; a failing target is retried alone (targets that
// succeeded are not written again), and each target gets its steps oldest first, never a newer one before an
// older one it failed on.
import t from 'tap';
import { OutputQueue, type OutputStep, type OutputTarget } from '../../src/runtime/output-queue.js';
import type { Bar } from '../../src/contracts/bar.js';

const bar = (bucketStart: number, revision = 0) => ({ symbol: 'A', interval: '1s', bucketStart, revision }) as Bar;
const step = (...bars: Bar[]): OutputStep => ({ bars, signals: [], letters: [], sourceTs: 0 });

/** A target that records what it got and fails while `down`. */
function target(name: string) {
  const got: number[][] = [];
  const t = {
    down: false,
    got,
    target: {
      name,
      dependency: name,
      wants: (s: OutputStep) => s.bars.length > 0,
      write: async (s: OutputStep) => {
        if (t.down) throw new Error(`${name} down`);
        got.push(s.bars.map((b) => b.bucketStart));
      },
    } satisfies OutputTarget,
  };
  return t;
}
const run = (tg: OutputTarget, s: OutputStep) => tg.write(s);
/** A queue writing straight to the targets, its failed writes counted by target. */
function queue(targets: OutputTarget[]) {
  const reported: string[] = [];
  const q = new OutputQueue(targets, run, (tg) => reported.push(tg.name));
  return { q, reported };
}

t.test('a failing target is retried alone, in order, until everything is durable', async (t) => {
  const pg = target('postgres');
  const topic = target('kafka:bars');
  const { q, reported } = queue([pg.target, topic.target]);
  q.push(step(bar(1)));
  pg.down = true;
  let failures = await q.flushOnce();
  t.same(
    failures.map((f) => f.target.name),
    ['postgres'],
  );
  t.same(topic.got, [[1]], 'the topic has step 1');
  t.notOk(q.empty, 'step 1 stays queued: postgres lacks it');
  q.push(step(bar(2)));
  q.push(step()); // nothing for anyone: not queued
  t.equal(q.size, 2);
  failures = await q.flushOnce();
  t.equal(failures.length, 1);
  t.same(topic.got, [[1], [2]], 'the topic got step 2 once, step 1 was not sent again');
  pg.down = false;
  failures = await q.flushOnce();
  t.same(failures, []);
  t.same(pg.got, [[1], [2]], 'postgres got both, oldest first');
  t.same(topic.got, [[1], [2]], 'the topic nothing more');
  t.ok(q.empty);
  t.same(reported, ['postgres', 'postgres'], 'each failed write reported once');
});

t.test('a target stops at its first failure: a newer step never lands before an older one', async (t) => {
  const qdb = target('questdb');
  let calls = 0;
  const flaky: OutputTarget = {
    ...qdb.target,
    write: async (s) => {
      // Fails on the first step, would succeed on the second: the second must wait.
      if (calls++ === 0) throw new Error('timeout');
      return qdb.target.write(s);
    },
  };
  const { q } = queue([flaky]);
  q.push(step(bar(1, 0)));
  q.push(step(bar(1, 1)));
  await q.flushOnce();
  t.same(qdb.got, [], 'revision 1 was not written after revision 0 failed');
  await q.flushOnce();
  t.same(qdb.got, [[1], [1]], 'then both, in order');
  t.ok(q.empty);
});

/** A target whose writes wait until released, one at a time, in the order they came. */
function gated(name: string) {
  const got: number[][] = [];
  const waiting: { resolve: () => void; reject: (e: Error) => void; bars: number[] }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const target: OutputTarget = {
    name,
    dependency: name,
    wants: (s) => s.bars.length > 0,
    write: (s) =>
      new Promise<void>((resolve, reject) => {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        const bars = s.bars.map((b) => b.bucketStart);
        waiting.push({
          bars,
          resolve: () => {
            inFlight--;
            got.push(bars);
            resolve();
          },
          reject: (e) => {
            inFlight--;
            reject(e);
          },
        });
      }),
  };
  return {
    target,
    got,
    waiting,
    get maxInFlight() {
      return maxInFlight;
    },
  };
}
const turn = () => new Promise((r) => setImmediate(r));

t.test('kick: a step queued while a slow target still writes the previous one reaches the other targets at once', async (t) => {
  const slow = gated('timescaledb');
  const topic = target('kafka:bars');
  const { q } = queue([slow.target, topic.target]);
  q.push(step(bar(1)));
  q.kick();
  const first = q.flushOnce(); // step 1's makeDurable, waiting for the slow store
  await turn();
  t.same(topic.got, [[1]]);
  q.push(step(bar(2)));
  q.kick();
  await turn();
  t.same(topic.got, [[1], [2]], 'step 2 is on the topic while the store still writes step 1');
  t.same(
    slow.waiting.map((w) => w.bars),
    [[1]],
    'the store writes one step at a time',
  );
  slow.waiting.shift()!.resolve();
  t.same(await first, [], 'step 1 durable: that flush does not wait for step 2');
  await turn();
  t.same(
    slow.waiting.map((w) => w.bars),
    [[2]],
    'the store went on to step 2 by itself',
  );
  t.equal(q.size, 1, 'step 2 waits for the store');
  const second = q.flushOnce();
  slow.waiting.shift()!.resolve();
  t.same(await second, []);
  t.ok(q.empty);
  t.same(slow.got, [[1], [2]], 'oldest first');
  t.equal(slow.maxInFlight, 1, 'never two writes at once to one target');
  t.same(topic.got, [[1], [2]], 'nothing written twice');
});

t.test('a kicked write that fails is reported once and retried by the next flushOnce, in order', async (t) => {
  const store = gated('questdb');
  const { q, reported } = queue([store.target]);
  q.push(step(bar(1, 0)));
  q.push(step(bar(1, 1)));
  q.kick();
  await turn();
  store.waiting.shift()!.reject(new Error('paused'));
  await turn();
  t.same(reported, ['questdb'], 'reported when it failed, with nobody waiting');
  t.same(store.waiting, [], 'revision 1 is not written after revision 0 failed');
  const flushed = q.flushOnce();
  await turn();
  t.same(
    store.waiting.map((w) => w.bars),
    [[1]],
    'the retry starts at revision 0',
  );
  store.waiting.shift()!.resolve();
  await turn();
  store.waiting.shift()!.resolve();
  t.same(await flushed, []);
  t.same(reported, ['questdb'], 'the retry succeeded: nothing more reported');
  t.ok(q.empty);
});

t.test('close: no write starts any more, a flushOnce waiting for more gives up, close waits for the write in flight', async (t) => {
  const store = gated('postgres');
  const { q, reported } = queue([store.target]);
  q.push(step(bar(1)));
  q.push(step(bar(2)));
  q.kick();
  const flushed = q.flushOnce();
  await turn();
  let closed = false;
  const closing = q.close().then(() => (closed = true));
  await turn();
  t.notOk(closed, 'close waits for the write in flight');
  store.waiting.shift()!.resolve();
  await closing;
  const failures = await flushed;
  t.same(
    failures.map((f) => [f.target.name, (f.error as { code?: string }).code]),
    [['postgres', 'TE_ABANDONED']],
    'the flush waiting for step 2 gives up',
  );
  t.same(store.waiting, [], 'step 2 was not started');
  q.push(step(bar(3)));
  q.kick();
  await turn();
  t.same(store.waiting, [], 'a kick does nothing');
  t.same(
    (await q.flushOnce()).map((f) => f.target.name),
    ['postgres'],
    'a flush after close gives up at once',
  );
  t.same(store.got, [[1]], 'only the step in flight at close was written');
  t.same(reported, [], 'giving up is no failed write');
});

t.test('a write that throws at once fails like one that rejects', async (t) => {
  const thrower: OutputTarget = {
    name: 'questdb',
    dependency: 'questdb',
    wants: () => true,
    write: () => {
      throw new Error('sync');
    },
  };
  const { q, reported } = queue([thrower]);
  q.push(step(bar(1)));
  const failures = await q.flushOnce();
  t.same(
    failures.map((f) => (f.error as Error).message),
    ['sync'],
  );
  t.same(reported, ['questdb']);
  t.notOk(q.empty);
});
