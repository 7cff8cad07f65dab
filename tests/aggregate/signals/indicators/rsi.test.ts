// RSI: Wilder's smoothing with TA-Lib's seeding, checked on every bar of the real S&P 500 series.
import t from 'tap';
import { Rsi } from '../../../../src/aggregate/signals/indicators/rsi.js';
import { compareSeries, reference, relativeError, sp500, TOLERANCE } from './reference.js';

const closes = sp500().map((b) => b.close);

function run(period: number, xs: number[]): (number | undefined)[] {
  const rsi = new Rsi(period);
  return xs.map((x) => rsi.update(x));
}

t.test('matches TA-Lib RSI(14) on every bar of the S&P 500 series', async (t) => {
  compareSeries(t, 'RSI(14)', run(14, closes), reference('rsi14'));
});

t.test('seed from plain means of the first n changes, then Wilder smoothing (hand-computed)', async (t) => {
  const rsi = new Rsi(2);
  t.equal(rsi.update(1), undefined);
  t.equal(rsi.update(2), undefined, 'one change is not enough for period 2');
  t.notOk(rsi.ready);
  t.equal(rsi.update(1), 50, 'gains 1, losses 1: means 0.5 / 0.5');
  t.ok(rsi.ready);
  // avgGain = (0.5 × 1 + 2) / 2 = 1.25, avgLoss = (0.5 × 1 + 0) / 2 = 0.25.
  t.equal(rsi.update(3), 100 * (1.25 / 1.5));
});

t.test('edge cases: only gains 100, only losses 0, perfectly flat 50 (TA-Lib says 0 there; see rsi.ts)', async (t) => {
  t.equal(run(3, [1, 2, 3, 4, 5]).at(-1), 100);
  t.equal(run(3, [5, 4, 3, 2, 1]).at(-1), 0);
  t.equal(run(3, [7, 7, 7, 7, 7]).at(-1), 50);
});

t.test('a perturbed close changes the output from that bar on', async (t) => {
  const perturbed = closes.slice();
  perturbed[2000] = closes[2000]! - 5;
  const a = run(14, closes);
  const b = run(14, perturbed);
  t.ok(
    a.slice(0, 2000).every((x, i) => x === b[i]),
    'earlier bars unchanged',
  );
  t.not(a[2000], b[2000], 'bar 2000 changes');
  t.ok(relativeError(b[2000]!, reference('rsi14')[2000]!) > TOLERANCE, 'the comparison against the reference would catch it');
});

t.test('argument checks', async (t) => {
  t.throws(() => new Rsi(1), { code: 'TE_INVALID_ARG' });
  t.throws(() => new Rsi(2).update(NaN), { code: 'TE_INVALID_ARG' });
});
