// The writer of one output target across partitions: one write at a time, the steps that came meanwhile together in
// the next, in the order they came; a failed write fails each of its steps, the writer goes on, and a step that
// failed in company is written alone from then on.
import t from 'tap';
import { CoalescingWriter } from '../../src/runtime/coalescing-writer.js';

interface Step {
  id: string;
  rows: number;
}
const steps = new Map<string, Step>();
/** The step named `id` (the same object each time, as a partition's queue retries the same step). */
const s = (id: string, rows = 1): Step => {
  const had = steps.get(id);
  if (had) return had;
  const made = { id, rows };
  steps.set(id, made);
  return made;
};

/** A write held open until released or failed, recording what each write got. */
function heldWrites() {
  const got: string[][] = [];
  const gates: { release: () => void; fail: (e: Error) => void }[] = [];
  const write = (batch: Step[]) =>
    new Promise<void>((resolve, reject) => {
      got.push(batch.map((x) => x.id));
      gates.push({ release: resolve, fail: reject });
    });
  return { got, gates, write };
}
const settled = () => new Promise((r) => setImmediate(r));

t.test('an idle writer writes a step at once; steps that come meanwhile go together next, in order', async (t) => {
  const h = heldWrites();
  const w = new CoalescingWriter(h.write);
  const done: string[] = [];
  const a = w.write(s('a')).then(() => done.push('a'));
  await settled();
  t.same(h.got, [['a']], 'the first step is written alone, without waiting for company');
  const rest = ['b', 'c', 'd'].map((x) => w.write(s(x)).then(() => done.push(x)));
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

t.test('a failed write fails each of its steps; a step that failed in company is then written alone', async (t) => {
  const h = heldWrites();
  const w = new CoalescingWriter(h.write);
  const a = w.write(s('f1'));
  await settled();
  const b = w.write(s('f2'));
  const c = w.write(s('f3'));
  h.gates[0]!.fail(new Error('store down'));
  await t.rejects(a, /store down/);
  await settled();
  t.same(h.got[1], ['f2', 'f3']);
  h.gates[1]!.fail(new Error('f3 refused'));
  await t.rejects(b, /f3 refused/, 'every step of the failed write fails with its error');
  await t.rejects(c, /f3 refused/);
  // The partitions retry their steps (the same objects), and a third partition's step comes.
  const b2 = w.write(s('f2'));
  const c2 = w.write(s('f3'));
  const d = w.write(s('f4'));
  await settled();
  t.same(h.got[2], ['f2'], 'a step that failed in company goes alone');
  h.gates[2]!.release();
  await t.resolves(b2);
  await settled();
  t.same(h.got[3], ['f3'], 'and the next one too');
  h.gates[3]!.fail(new Error('f3 refused'));
  await t.rejects(c2, /f3 refused/, 'the refused step fails alone');
  await settled();
  t.same(h.got[4], ['f4'], 'a new step goes on as usual');
  h.gates[4]!.release();
  await t.resolves(d);
});

t.test('a write that throws at once fails like one that rejects', async (t) => {
  let calls = 0;
  const w = new CoalescingWriter<Step>(() => {
    calls++;
    if (calls === 1) throw new Error('sync');
    return Promise.resolve();
  });
  await t.rejects(w.write(s('t1')), /sync/);
  await t.resolves(w.write(s('t2')), 'the writer is not stuck busy');
});

t.test('at most maxSteps steps, and maxWeight rows, a write (a larger step still goes, alone)', async (t) => {
  const h = heldWrites();
  const w = new CoalescingWriter(h.write, { maxSteps: 2 });
  const all = ['m1', 'm2', 'm3', 'm4', 'm5'].map((x) => w.write(s(x)));
  for (let i = 0; i < 3; i++) {
    await settled();
    h.gates[i]!.release();
  }
  await Promise.all(all);
  t.same(h.got, [['m1'], ['m2', 'm3'], ['m4', 'm5']]);

  const g = heldWrites();
  const v = new CoalescingWriter(g.write, { weight: (x) => x.rows, maxWeight: 100 });
  const more = [s('w1', 10), s('w2', 60), s('w3', 40), s('w4', 500), s('w5', 1)].map((x) => v.write(x));
  for (let i = 0; i < 4; i++) {
    await settled();
    g.gates[i]!.release();
  }
  await Promise.all(more);
  t.same(g.got, [['w1'], ['w2', 'w3'], ['w4'], ['w5']], 'rows add up to 100 at most, unless one step is larger');
});
