// BinnedSum: whatever is added, draining it gives the exact sum (checked against the BigInt oracle), and
// draining into partials that already hold a sum adds to it exactly.
import t from 'tap';
import { BinnedSum } from '../../src/aggregate/binned-sum.js';
import { exactAdd, exactSum, exactValue } from '../../src/aggregate/exact-sum.js';
import { Prng } from '../../src/ingest/prng.js';
import { exactSumOracle } from '../helpers/oracle.js';

function drained(xs: number[], into = exactSum()): number {
  const s = new BinnedSum();
  for (const x of xs) s.add(x);
  s.drainInto(into);
  return exactValue(into);
}

t.test('decimal sizes and prices × sizes, as ticks carry them', async (t) => {
  const rng = new Prng(5);
  for (let round = 0; round < 400; round++) {
    const n = 1 + rng.int(300);
    const sizes = Array.from({ length: n }, () => Number((rng.next() * 10 ** (rng.int(8) - 3)).toFixed(4)));
    const quotes = sizes.map((s) => s * Number((1 + rng.next() * 60000).toFixed(2)));
    for (const xs of [sizes, quotes]) {
      const expected = exactSumOracle(xs);
      const got = drained(xs);
      if (got !== expected) return t.fail(`round ${round}: ${got} vs ${expected}`);
    }
  }
  t.pass('400 rounds of sizes and quote volumes');
});

t.test('any sign and magnitude: the bins and the partials they spill to', async (t) => {
  const rng = new Prng(9);
  const special = [0, -0, 5e-324, -5e-324, 2.2250738585072014e-308, 1e300, -1e300, 2 ** 1000, Number.MAX_VALUE / 4, 2 ** -1000, 1, -1, 0.1];
  for (let round = 0; round < 3000; round++) {
    const n = 1 + rng.int(60);
    const spread = [4, 40, 120, 600][round % 4]!;
    const center = rng.int(400) - 200;
    const xs = Array.from({ length: n }, () =>
      rng.next() < 0.05 ? special[rng.int(special.length)]! : (rng.next() - (round % 3 ? 0.3 : 0.5)) * 2 ** (center + rng.int(spread) - spread / 2),
    );
    // Exact cancellation now and then: the bins must reach zero exactly.
    if (round % 5 === 0) xs.push(...xs.map((x) => -x));
    const expected = exactSumOracle(xs);
    const got = drained(xs);
    if (!Object.is(got, expected) && !(got === 0 && expected === 0)) return t.fail(`round ${round}: ${got} vs ${expected} for [${xs.join()}]`);
  }
  t.pass('3000 rounds');
});

t.test('draining adds to what the partials hold, and starts again from zero', async (t) => {
  const rng = new Prng(13);
  for (let round = 0; round < 300; round++) {
    const before = Array.from({ length: rng.int(20) }, () => (rng.next() - 0.2) * 2 ** (rng.int(60) - 30));
    const xs = Array.from({ length: 1 + rng.int(100) }, () => rng.next() * 2 ** (rng.int(30) - 15));
    const into = exactSum();
    for (const x of before) exactAdd(into, x);
    const s = new BinnedSum();
    for (const x of xs) s.add(x);
    s.drainInto(into);
    if (exactValue(into) !== exactSumOracle([...before, ...xs])) return t.fail(`round ${round}`);
    // Nothing left behind: a second drain adds nothing, and the sum is reusable.
    s.drainInto(into);
    if (exactValue(into) !== exactSumOracle([...before, ...xs])) return t.fail(`round ${round}: second drain changed the sum`);
    s.add(3.25);
    const again = exactSum();
    s.drainInto(again);
    // take(): the same sum as new partials, and nothing left behind.
    for (const x of xs) s.add(x);
    const taken = s.take();
    if (exactValue(taken) !== exactSumOracle(xs)) return t.fail(`round ${round}: take gave ${exactValue(taken)}`);
    s.drainInto(again);
    if (exactValue(again) !== 3.25) return t.fail(`round ${round}: take left something behind`);
    if (exactValue(again) !== 3.25) return t.fail(`round ${round}: reused sum gave ${exactValue(again)}`);
  }
  t.pass('300 rounds');
});

t.test('more values than a bin may take before it is drained (2^20)', async (t) => {
  // 3M values of 32 significant bits, all in one bin: past 2^21 of them the bin would pass 2^53 units and
  // round (odd totals are not doubles there) unless it is drained at the limit.
  const x = 2 ** 32 - 1;
  const n = 3_000_000;
  const s = new BinnedSum();
  for (let i = 0; i < n; i++) s.add(x);
  const into = exactSum();
  s.drainInto(into);
  t.equal(exactValue(into), Number(BigInt(n) * BigInt(x)), 'exact at 3M values');
});
