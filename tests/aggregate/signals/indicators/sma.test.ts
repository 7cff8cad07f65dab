// SMA: agrees with TA-Lib on every bar of 20 years of real S&P 500 closes, and stays exact where a running sum drifts.
import t from 'tap';
import { Sma } from '../../../../src/aggregate/signals/indicators/sma.js';
import { Prng } from '../../../../src/ingest/prng.js';
import { exactSumOracle } from '../../../helpers/oracle.js';
import { compareSeries, reference, relativeError, sp500, TOLERANCE } from './reference.js';

const closes = sp500().map((b) => b.close);

function run(period: number, xs: number[]): (number | undefined)[] {
  const sma = new Sma(period);
  return xs.map((x) => sma.update(x));
}

t.test('matches TA-Lib SMA(20) and SMA(200) on every bar of the S&P 500 series', async (t) => {
  t.ok(closes.length > 5000, `${closes.length} real daily bars`);
  compareSeries(t, 'SMA(20)', run(20, closes), reference('sma20'));
  compareSeries(t, 'SMA(200)', run(200, closes), reference('sma200'));
});

t.test('a perturbed close changes exactly the n values whose window holds it; later values are bit-identical again', async (t) => {
  const perturbed = closes.slice();
  perturbed[3000] = closes[3000]! + 1;
  const a = run(20, closes);
  const b = run(20, perturbed);
  const changed = a.flatMap((x, i) => (x !== b[i] ? [i] : []));
  t.same(
    changed,
    Array.from({ length: 20 }, (_, k) => 3000 + k),
    'bars 3000..3019 differ, no others',
  );
  t.ok(relativeError(b[3000]!, reference('sma20')[3000]!) > TOLERANCE, 'the comparison against the reference would catch it');
});

t.test('every value is the correctly rounded window sum / n, over a long stream of mixed magnitudes', async (t) => {
  const rng = new Prng(7);
  const n = 20;
  const xs = Array.from({ length: 50_000 }, () => (rng.next() < 0.02 ? 1e12 : 1) * rng.next() * 1000);
  const got = run(n, xs);
  let mismatches = 0;
  for (let i = n - 1; i < xs.length; i++) if (got[i] !== exactSumOracle(xs.slice(i - n + 1, i + 1)) / n) mismatches++;
  t.equal(mismatches, 0, `${xs.length - n + 1} values equal the BigInt oracle bit for bit`);
});

t.test('a huge value leaving the window leaves no trace (a plain running sum keeps its rounding error for ever)', async (t) => {
  const xs = [1e17, ...Array.from({ length: 1000 }, () => 0.1)];
  const sma = new Sma(4);
  let naive = 0;
  let last: number | undefined;
  for (let i = 0; i < xs.length; i++) {
    last = sma.update(xs[i]!);
    naive += xs[i]!;
    if (i >= 4) naive -= xs[i - 4]!;
  }
  t.equal(last, 0.1, 'exact: mean of four 0.1s');
  t.not(naive / 4, 0.1, `running sum is off for ever: ${naive / 4}`);
});

t.test('warm-up, ready and argument checks', async (t) => {
  const sma = new Sma(3);
  t.equal(sma.update(1), undefined);
  t.equal(sma.update(2), undefined);
  t.notOk(sma.ready);
  t.equal(sma.update(6), 3);
  t.ok(sma.ready);
  t.equal(sma.value, 3);
  t.throws(() => sma.update(NaN), { code: 'TE_INVALID_ARG' });
  t.equal(sma.update(7), 5, 'a rejected input leaves the window untouched');
  t.throws(() => new Sma(0), { code: 'TE_INVALID_ARG' });
  t.throws(() => new Sma(2.5), { code: 'TE_INVALID_ARG' });
  t.equal(new Sma(1).update(42), 42);
});
