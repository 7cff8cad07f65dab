// Bollinger Bands: SMA ± 2 population deviations, checked on every bar of the real S&P 500 series against TA-Lib's BBANDS.
import t from 'tap';
import { Bollinger, type BollingerValue } from '../../../../src/aggregate/signals/indicators/bollinger.js';
import { Sma } from '../../../../src/aggregate/signals/indicators/sma.js';
import { compareSeries, reference, relativeError, sp500, TOLERANCE } from './reference.js';

const closes = sp500().map((b) => b.close);

function run(xs: number[], period = 20, k = 2): (BollingerValue | undefined)[] {
  const bb = new Bollinger(period, k);
  return xs.map((x) => bb.update(x));
}

t.test('matches TA-Lib BBANDS(20, 2, 2, SMA): upper, middle and lower on every bar of the S&P 500 series', async (t) => {
  const got = run(closes);
  compareSeries(
    t,
    'Bollinger upper',
    got.map((v) => v?.upper),
    reference('bb_upper'),
  );
  compareSeries(
    t,
    'Bollinger middle',
    got.map((v) => v?.middle),
    reference('bb_middle'),
  );
  compareSeries(
    t,
    'Bollinger lower',
    got.map((v) => v?.lower),
    reference('bb_lower'),
  );
  const sma = new Sma(20);
  t.ok(
    closes.every((c, i) => sma.update(c) === got[i]?.middle),
    'the middle band is the SMA, bit for bit',
  );
});

t.test('population deviation, hand-computed; a flat window has bands exactly on the mean', async (t) => {
  // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, population deviation 2 (the sample one would be 2.138…).
  const v = run([2, 4, 4, 4, 5, 5, 7, 9], 8, 2).at(-1)!;
  t.same(v, { upper: 9, middle: 5, lower: 1 });
  const flat = run([0.1, 0.1, 0.1], 3).at(-1)!;
  t.ok(flat.upper === flat.middle && flat.lower === flat.middle, `flat 0.1s: all three bands ${flat.middle}, deviation exactly 0`);
  t.equal(run([1, 2, 3], 3, 0).at(-1)!.upper, 2, 'k = 0 collapses the bands');
});

t.test('a perturbed close moves the bands while it is in the window', async (t) => {
  const perturbed = closes.slice();
  perturbed[2500] = closes[2500]! * 0.99;
  const a = run(closes);
  const b = run(perturbed);
  t.not(a[2510]!.upper, b[2510]!.upper);
  t.same(a[2520], b[2520], 'identical again once it has left the window');
  t.ok(relativeError(b[2500]!.lower, reference('bb_lower')[2500]!) > TOLERANCE, 'the comparison against the reference would catch it');
});

t.test('argument checks', async (t) => {
  t.throws(() => new Bollinger(0), { code: 'TE_INVALID_ARG' });
  t.throws(() => new Bollinger(20, -1), { code: 'TE_INVALID_ARG' });
  t.throws(() => new Bollinger(20, NaN), { code: 'TE_INVALID_ARG' });
  const bb = new Bollinger(2);
  t.equal(bb.update(1), undefined);
  t.notOk(bb.ready);
  t.throws(() => bb.update(NaN), { code: 'TE_INVALID_ARG' });
  t.same(bb.update(3), { upper: 4, middle: 2, lower: 0 });
  t.ok(bb.ready);
});
