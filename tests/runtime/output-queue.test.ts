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

t.test('a failing target is retried alone, in order, until everything is durable', async (t) => {
  const pg = target('postgres');
  const topic = target('kafka:bars');
  const q = new OutputQueue([pg.target, topic.target]);
  q.push(step(bar(1)));
  pg.down = true;
  let failures = await q.flushOnce(run);
  t.same(
    failures.map((f) => f.target.name),
    ['postgres'],
  );
  t.same(topic.got, [[1]], 'the topic has step 1');
  t.notOk(q.empty, 'step 1 stays queued: postgres lacks it');
  q.push(step(bar(2)));
  q.push(step()); // nothing for anyone: not queued
  t.equal(q.size, 2);
  failures = await q.flushOnce(run);
  t.equal(failures.length, 1);
  t.same(topic.got, [[1], [2]], 'the topic got step 2 once, step 1 was not sent again');
  pg.down = false;
  failures = await q.flushOnce(run);
  t.same(failures, []);
  t.same(pg.got, [[1], [2]], 'postgres got both, oldest first');
  t.same(topic.got, [[1], [2]], 'the topic nothing more');
  t.ok(q.empty);
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
  const q = new OutputQueue([flaky]);
  q.push(step(bar(1, 0)));
  q.push(step(bar(1, 1)));
  await q.flushOnce(run);
  t.same(qdb.got, [], 'revision 1 was not written after revision 0 failed');
  await q.flushOnce(run);
  t.same(qdb.got, [[1], [1]], 'then both, in order');
  t.ok(q.empty);
});
