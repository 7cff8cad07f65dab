// The pacer of connection attempts and subscribe messages: slots a spacing apart, none before a hold, cancel frees nothing early.
import t from 'tap';
import { Pacer } from '../../../src/ingest/feeds/pacer.js';

const times = () => {
  const start = performance.now();
  const fired: number[] = [];
  return { fired, mark: () => fired.push(performance.now() - start) };
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('slots are at least the spacing apart', async (t) => {
  const p = new Pacer(40);
  const { fired, mark } = times();
  for (let i = 0; i < 4; i++) p.schedule(mark);
  await sleep(200);
  t.equal(fired.length, 4);
  t.ok(fired[0]! < 500, `the first at once (${fired[0]!.toFixed(1)} ms)`);
  for (let i = 1; i < 4; i++) t.ok(fired[i]! - fired[i - 1]! >= 39, `gap ${(fired[i]! - fired[i - 1]!).toFixed(1)} ms`);
});

t.test('nothing runs before a hold, even what was booked before it', async (t) => {
  const p = new Pacer(0);
  const { fired, mark } = times();
  p.schedule(mark, performance.now() + 30);
  p.hold(performance.now() + 100);
  p.schedule(mark);
  p.hold(performance.now() + 10); // never shortens
  await sleep(180);
  t.equal(fired.length, 2);
  t.ok(
    fired.every((f) => f >= 99),
    `both at or after the hold: ${fired.map((f) => f.toFixed(1)).join(', ')} ms`,
  );
});

t.test('a cancelled slot never runs', async (t) => {
  const p = new Pacer(10);
  let ran = 0;
  const cancel = p.schedule(() => ran++, performance.now() + 20);
  cancel();
  cancel();
  await sleep(50);
  t.equal(ran, 0);
});
