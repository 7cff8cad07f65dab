// Exact window sums: error-free products and a variance that keeps every bit where E[x²] − E[x]² cancels catastrophically.
import t from 'tap';
import { exactSum } from '../../../../src/aggregate/exact-sum.js';
import { ExactWindow, exactAddProduct, exactMeanOf, exactVarianceOf } from '../../../../src/aggregate/signals/indicators/exact-window.js';
import { Prng } from '../../../../src/ingest/prng.js';
import { exactSumOracle } from '../../../helpers/oracle.js';

/** x = m × 2^e exactly, m an integer. */
function decompose(x: number): { m: bigint; e: number } {
  if (x === 0) return { m: 0n, e: 0 };
  let e = 0;
  let m = x;
  while (!Number.isInteger(m)) {
    m *= 2;
    e--;
  }
  return { m: BigInt(m), e };
}

/** Σ of m_i × 2^e_i, correctly rounded (Number(bigint) rounds to nearest, ties to even). */
function exactOf(terms: { m: bigint; e: number }[]): number {
  const minE = Math.min(...terms.map((x) => x.e));
  let s = 0n;
  for (const x of terms) s += x.m << BigInt(x.e - minE);
  return Number(s) * 2 ** minE;
}

t.test('exactAddProduct: a × b captured without rounding', async (t) => {
  const rng = new Prng(3);
  let bad = 0;
  for (let i = 0; i < 5000; i++) {
    const a = (rng.next() - 0.5) * 10 ** rng.int(12);
    const b = (rng.next() - 0.5) * 10 ** rng.int(12);
    const p = exactSum();
    exactAddProduct(p, a, b);
    // Σ partials − a·b must be exactly 0.
    const da = decompose(a);
    const db = decompose(b);
    const terms = [...p.map(decompose), { m: -(da.m * db.m), e: da.e + db.e }];
    if (exactOf(terms) !== 0) bad++;
  }
  t.equal(bad, 0, 'hi + lo = a × b exactly, 5000 random pairs');
});

t.test('variance is n·Σx² − (Σx)² rounded once, over a sliding stream', async (t) => {
  const rng = new Prng(5);
  const n = 20;
  const w = new ExactWindow(n, { squares: true });
  const xs: number[] = [];
  let bad = 0;
  for (let i = 0; i < 3000; i++) {
    const x = Number((1e6 + rng.next() * 10).toFixed(6));
    xs.push(x);
    w.push(x);
    if (!w.full) continue;
    const win = xs.slice(-n).map(decompose);
    const e = Math.min(...win.map((d) => d.e));
    const ints = win.map((d) => d.m << BigInt(d.e - e));
    const s1 = ints.reduce((a, b) => a + b, 0n);
    const s2 = ints.reduce((a, b) => a + b * b, 0n);
    const expected = (Number(BigInt(n) * s2 - s1 * s1) * 2 ** (2 * e)) / (n * n);
    if (w.variance() !== expected) bad++;
  }
  t.equal(bad, 0, 'every window agrees with the BigInt computation bit for bit');
});

t.test('no cancellation near 1e9, where the textbook formula is useless', async (t) => {
  const n = 20;
  const w = new ExactWindow(n, { squares: true });
  const xs = Array.from({ length: n }, (_, i) => 1e9 + 0.5 * i);
  for (const x of xs) w.push(x);
  // An arithmetic sequence of step d has population variance d²(n² − 1)/12 = 0.25 × 399 / 12.
  t.equal(w.variance(), 8.3125);
  const mean = xs.reduce((a, b) => a + b) / n;
  const naive = xs.reduce((a, b) => a + b * b, 0) / n - mean * mean;
  t.comment(`E[x²] − E[x]² in doubles gives ${naive}`);
  t.not(naive, 8.3125, 'the naive form loses it');
  const flat = new ExactWindow(3, { squares: true });
  for (const x of [0.1, 0.1, 0.1]) flat.push(x);
  t.equal(flat.variance(), 0, 'flat window: exactly 0');
  t.equal(flat.total(), exactSumOracle([0.1, 0.1, 0.1]), 'total: the exact sum, rounded once');
});

t.test('without squares there is no variance; clear empties the window', async (t) => {
  const w = new ExactWindow(2, { squares: false });
  w.push(1);
  t.throws(() => w.variance());
  w.clear();
  t.equal(w.size, 0);
  w.push(4);
  t.equal(w.mean(), 4);
});

t.test('the mean and variance of a stretch of values, summed when asked, equal a running window bit for bit', async (t) => {
  const rng = new Prng(11);
  const xs: number[] = [];
  const windows = [1, 10, 20, 30].map((n) => new ExactWindow(n, { squares: true }));
  let bad = 0;
  let checked = 0;
  for (let i = 0; i < 2000; i++) {
    // Values that wander in scale, so sums of several partials occur.
    const x = Number(((1 + rng.next()) * 10 ** Math.floor(rng.next() * 6)).toFixed(4));
    xs.push(x);
    for (const w of windows) {
      w.push(x);
      if (!w.full) continue;
      checked++;
      const from = xs.length - w.length;
      if (!Object.is(exactMeanOf(xs, from, w.length), w.mean()) || !Object.is(exactVarianceOf(xs, from, w.length), w.variance())) bad++;
    }
  }
  t.ok(checked > 7900, `${checked} windows checked`);
  t.equal(bad, 0, 'every mean and variance identical');
});
