// Exact sums: any order, any split into partials, gives the correctly rounded exact sum.
import t from 'tap';
import { exactAdd, exactMerge, exactSum, exactTight, exactValue } from '../../src/aggregate/exact-sum.js';
import { Prng } from '../../src/ingest/prng.js';
import { exactSumOracle } from '../helpers/oracle.js';

function shuffle<T>(xs: T[], rng: Prng): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

t.test('classic cancellation cases', async (t) => {
  const s = exactSum();
  for (const x of [1e100, 1.0, -1e100, 1e-100]) exactAdd(s, x);
  t.equal(exactValue(s), 1, 'exact: 1 + 1e-100 rounds to 1 (a naive left-to-right sum gives 1e-100)');
  const s2 = exactSum();
  for (let i = 0; i < 10; i++) exactAdd(s2, 0.1);
  t.equal(exactValue(s2), 1, '0.1 ten times is exactly rounded to 1');
  t.equal(exactValue(exactSum()), 0);
});

t.test('order and partitioning never change the result', async (t) => {
  const rng = new Prng(11);
  for (let round = 0; round < 300; round++) {
    const n = 1 + rng.int(400);
    const xs = Array.from({ length: n }, () => Number((rng.next() * 10 ** (rng.int(8) - 3)).toFixed(4)) * Number((1 + rng.next() * 5000).toFixed(2)));
    const expected = exactSumOracle(xs);
    const seq = exactSum();
    for (const x of shuffle(xs, rng)) exactAdd(seq, x);
    // Split into random chunks, sum each, merge in random order.
    const chunks: number[][] = [];
    const order = shuffle(xs, rng);
    while (order.length) chunks.push(order.splice(0, 1 + rng.int(50)));
    const merged = exactSum();
    for (const c of shuffle(chunks, rng)) {
      const part = exactSum();
      for (const x of c) exactAdd(part, x);
      exactMerge(merged, part);
    }
    if (exactValue(seq) !== expected || exactValue(merged) !== expected) {
      t.fail(`round ${round}: seq ${exactValue(seq)} merged ${exactValue(merged)} expected ${expected}`);
      return;
    }
  }
  t.pass('300 random multisets agree with the BigInt oracle');
});

t.test('mixed signs and magnitudes', async (t) => {
  const rng = new Prng(3);
  for (let round = 0; round < 200; round++) {
    const xs = Array.from({ length: 50 }, () => (rng.next() - 0.5) * 2 ** (rng.int(120) - 60));
    const s = exactSum();
    for (const x of xs) exactAdd(s, x);
    const e = exactSumOracle(xs);
    if (exactValue(s) !== e) return t.fail(`round ${round}: ${exactValue(s)} vs ${e}`);
  }
  t.pass('200 rounds');
});

t.test('exactAdd leaves exactly the partials of the textbook form (truncate, then push)', async (t) => {
  // The reference: Shewchuk's grow-expansion as first written here. exactAdd now avoids resizing the array
  // when it can; the partials themselves (not only the rounded value) must stay the same.
  const reference = (p: number[], x: number) => {
    let i = 0;
    for (const v of [...p]) {
      let y = v;
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) p[i++] = lo;
      x = hi;
    }
    p.length = i;
    p.push(x);
  };
  const rng = new Prng(21);
  for (let round = 0; round < 500; round++) {
    const a = exactSum();
    const b: number[] = [];
    for (let k = 0; k < 60; k++) {
      const x = rng.next() < 0.1 ? -b.reduce((s, v) => s + v, 0) : (rng.next() - 0.4) * 2 ** (rng.int(80) - 40);
      exactAdd(a, x);
      reference(b, x);
      if (a.length !== b.length || a.some((v, i) => !Object.is(v, b[i]))) return t.fail(`round ${round}, add ${k}: [${a.join()}] vs [${b.join()}]`);
    }
  }
  t.pass('500 rounds of 60 additions, partial for partial');
});

t.test('exactTight: the same sum, a copy only when it grew', async (t) => {
  const p = exactSum();
  exactAdd(p, 1);
  t.equal(exactTight(p, 1), p, 'not grown: the array itself');
  exactAdd(p, 1e-30);
  const q = exactTight(p, 1);
  t.not(q, p, 'grown: a copy');
  t.same(q, p, 'with the same partials');
  t.equal(exactValue(q), 1 + 1e-30);
});
