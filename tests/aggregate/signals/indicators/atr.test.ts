// ATR: Wilder's smoothing of the true range with TA-Lib's seeding, checked on every bar of the real S&P 500 series.
import t from 'tap';
import { Atr, trueRange } from '../../../../src/aggregate/signals/indicators/atr.js';
import type { Bar } from '../../../../src/contracts/bar.js';
import { compareSeries, reference, relativeError, sp500, TOLERANCE } from './reference.js';

const bars = sp500();

function run(period: number, xs: Pick<Bar, 'high' | 'low' | 'close'>[]): (number | undefined)[] {
  const atr = new Atr(period);
  return xs.map((b) => atr.update(b));
}

t.test('matches TA-Lib ATR(14) on every bar of the S&P 500 series', async (t) => {
  compareSeries(t, 'ATR(14)', run(14, bars), reference('atr14'));
});

t.test('true range includes gaps from the previous close', async (t) => {
  t.equal(trueRange(12, 10, 11), 2, 'inside bar: high − low');
  t.equal(trueRange(15, 14, 10), 5, 'gap up: high − previous close');
  t.equal(trueRange(8, 7, 10), 3, 'gap down: previous close − low');
});

t.test('no true range on the first bar; seed is the mean of the next n (hand-computed)', async (t) => {
  const atr = new Atr(2);
  t.equal(atr.update({ high: 100, low: 0, close: 10 }), undefined, 'first bar: no previous close');
  t.equal(atr.update({ high: 12, low: 10, close: 11 }), undefined);
  t.notOk(atr.ready);
  t.equal(atr.update({ high: 15, low: 14, close: 14 }), 3, 'mean of 2 and 4');
  t.ok(atr.ready);
  t.equal(atr.update({ high: 15, low: 14, close: 14 }), (3 * 1 + 1) / 2);
});

t.test('a perturbed high changes the output from that bar on', async (t) => {
  const perturbed = bars.map((b, i) => (i === 3500 ? { ...b, high: b.high + 20 } : b));
  const a = run(14, bars);
  const b = run(14, perturbed);
  t.same(a.slice(0, 3500), b.slice(0, 3500), 'earlier bars unchanged');
  t.ok(b[3500]! > a[3500]!, 'a wider bar raises the ATR');
  t.ok(relativeError(b[3500]!, reference('atr14')[3500]!) > TOLERANCE, 'the comparison against the reference would catch it');
});

t.test('argument checks', async (t) => {
  t.throws(() => new Atr(0), { code: 'TE_INVALID_ARG' });
  t.throws(() => new Atr(14).update({ high: NaN, low: 1, close: 1 }), { code: 'TE_INVALID_ARG' });
});
