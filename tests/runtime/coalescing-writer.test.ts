// The writer of one output target across partitions: one write at a time, the steps that came meanwhile together in
// the next, in the order they came; a failed write fails each of its steps and the writer goes on.
import t from 'tap';
import { CoalescingWriter } from '../../src/runtime/coalescing-writer.js';

/** A write held open until released, recording what each write got. */
function heldWrites() {
  const got: string[][] = [];
  const gates: { release: () => void; fail: (e: Error) => void }[] = [];
  const write = (steps: string[]) =>
    new Promise<void>((resolve, reject) => {
      got.push(steps);
      gates.push({ release: resolve, fail: reject });
    });
  return { got, gates, write };
}
const settled = () => new Promise((r) => setImmediate(r));

t.test('an idle writer writes a step at once; steps that come meanwhile go together next, in order', async (t) => {
  const h = heldWrites();
  const w = new CoalescingWriter(h.write);
  const done: string[] = [];
  const a = w.write('a').then(() => done.push('a'));
  await settled();
  t.same(h.got, [['a']], 'the first step is written alone, without waiting for company');
  const rest = ['b', 'c', 'd'].map((x) => w.write(x).then(() => done.push(x)));
  await settled();
  t.same(h.got, [['a']], 'nothing else starts while a write runs');
  h.gates[0]!.release();
  await a;
  await settled();
  t.same(h.got, [['a'], ['b', 'c', 'd']], 'the steps queued meanwhile in one write, oldest first');
  t.same(done, ['a'], 'they are not durable before their write is');
  h.gates[1]!.release();
  await Promise.all(rest);
  t.same(done, ['a', 'b', 'c', 'd']);
});

t.test('a failed write fails each of its steps, the next write goes on', async (t) => {
  const h = heldWrites();
  const w = new CoalescingWriter(h.write);
  const a = w.write('a');
  await settled();
  const b = w.write('b');
  const c = w.write('c');
  h.gates[0]!.fail(new Error('store down'));
  await t.rejects(a, /store down/);
  await settled();
  t.same(h.got[1], ['b', 'c']);
  h.gates[1]!.fail(new Error('still down'));
  await t.rejects(b, /still down/, 'every step of the failed write fails with its error');
  await t.rejects(c, /still down/);
  const d = w.write('d');
  await settled();
  t.same(h.got[2], ['d'], 'then a new write, alone');
  h.gates[2]!.release();
  await t.resolves(d);
});

t.test('a write that throws at once fails like one that rejects', async (t) => {
  let calls = 0;
  const w = new CoalescingWriter<string>(() => {
    calls++;
    if (calls === 1) throw new Error('sync');
    return Promise.resolve();
  });
  await t.rejects(w.write('a'), /sync/);
  await t.resolves(w.write('b'), 'the writer is not stuck busy');
});

t.test('at most maxSteps steps a write', async (t) => {
  const h = heldWrites();
  const w = new CoalescingWriter(h.write, 2);
  const all = ['a', 'b', 'c', 'd', 'e'].map((x) => w.write(x));
  for (let i = 0; i < 3; i++) {
    await settled();
    h.gates[i]!.release();
  }
  await Promise.all(all);
  t.same(h.got, [['a'], ['b', 'c'], ['d', 'e']]);
});
