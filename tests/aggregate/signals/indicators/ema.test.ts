// EMA: TA-Lib's seeding (mean of the first n closes) and smoothing, checked on every bar of the real S&P 500 series.
import t from 'tap';
import { Ema } from '../../../../src/aggregate/signals/indicators/ema.js';
import { compareSeries, reference, relativeError, sp500, TOLERANCE } from './reference.js';

const closes = sp500().map((b) => b.close);

function run(period: number, xs: number[]): (number | undefined)[] {
  const ema = new Ema(period);
  return xs.map((x) => ema.update(x));
}

t.test('matches TA-Lib EMA(20) and EMA(200) on every bar of the S&P 500 series', async (t) => {
  compareSeries(t, 'EMA(20)', run(20, closes), reference('ema20'));
  compareSeries(t, 'EMA(200)', run(200, closes), reference('ema200'));
});

t.test('seeded with the mean of the first n values, then alpha = 2/(n+1)', async (t) => {
  const ema = new Ema(5);
  t.equal(ema.alpha, 2 / 6);
  t.same(
    [1, 2, 3, 4].map((x) => ema.update(x)),
    [undefined, undefined, undefined, undefined],
  );
  t.notOk(ema.ready);
  t.equal(ema.update(5), 3, 'first value: mean of 1..5');
  t.ok(ema.ready);
  t.equal(ema.update(6), (6 - 3) * (2 / 6) + 3);
});

t.test('a perturbed close leaves earlier values alone and changes every later one', async (t) => {
  const perturbed = closes.slice();
  perturbed[1000] = closes[1000]! * 1.01;
  const a = run(20, closes);
  const b = run(20, perturbed);
  t.ok(
    a.slice(0, 1000).every((x, i) => x === b[i]),
    'bars before 1000 unchanged',
  );
  t.ok(
    a.slice(1000, 1100).every((x, i) => x !== b[1000 + i]),
    'the next 100 bars all change',
  );
  t.ok(relativeError(b[1000]!, reference('ema20')[1000]!) > TOLERANCE, 'the comparison against the reference would catch it');
});

t.test('rejects bad input without touching state, and bad periods', async (t) => {
  const ema = new Ema(2);
  ema.update(1);
  t.throws(() => ema.update(Infinity), { code: 'TE_INVALID_ARG' });
  t.equal(ema.update(3), 2);
  t.throws(() => new Ema(0), { code: 'TE_INVALID_ARG' });
});
