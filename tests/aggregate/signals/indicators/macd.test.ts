// MACD: TA-Lib's alignment (fast EMA seeded on the slow one's first bar) checked on every bar of the real S&P 500 series.
import t from 'tap';
import { Ema } from '../../../../src/aggregate/signals/indicators/ema.js';
import { Macd, type MacdValue } from '../../../../src/aggregate/signals/indicators/macd.js';
import { compareSeries, reference, relativeError, sp500, TOLERANCE } from './reference.js';

const closes = sp500().map((b) => b.close);

function run(xs: number[]): (MacdValue | undefined)[] {
  const macd = new Macd();
  return xs.map((x) => macd.update(x));
}

t.test('matches TA-Lib MACD(12, 26, 9): line, signal and histogram on every bar of the S&P 500 series', async (t) => {
  const got = run(closes);
  compareSeries(
    t,
    'MACD line',
    got.map((v) => v?.macd),
    reference('macd'),
  );
  compareSeries(
    t,
    'MACD signal',
    got.map((v) => v?.signal),
    reference('macd_signal'),
  );
  compareSeries(
    t,
    'MACD histogram',
    got.map((v) => v?.histogram),
    reference('macd_hist'),
  );
  t.equal(
    got.findIndex((v) => v !== undefined),
    33,
    'first output on the 34th close (26 + 9 − 1)',
  );
});

t.test('the seeding convention matters: seeding the fast EMA from the first close would miss the reference', async (t) => {
  const fast = new Ema(12);
  const slow = new Ema(26);
  let line: number | undefined;
  for (const c of closes.slice(0, 34)) {
    const f = fast.update(c);
    const s = slow.update(c);
    line = f !== undefined && s !== undefined ? f - s : undefined;
  }
  const expected = reference('macd')[33]!;
  t.comment(`bar 33: TA-Lib ${expected}, fast EMA seeded from close 0: ${line}`);
  t.ok(relativeError(line!, expected) > 1e-3, 'the other convention is far off on early bars');
});

t.test('a perturbed close changes the output from that bar on', async (t) => {
  const perturbed = closes.slice();
  perturbed[4000] = closes[4000]! + 10;
  const a = run(closes);
  const b = run(perturbed);
  t.same(a.slice(0, 4000), b.slice(0, 4000), 'earlier bars unchanged');
  t.not(a[4000]!.histogram, b[4000]!.histogram, 'bar 4000 changes');
  t.ok(relativeError(b[4000]!.macd, reference('macd')[4000]!) > TOLERANCE, 'the comparison against the reference would catch it');
});

t.test('argument checks', async (t) => {
  t.throws(() => new Macd(26, 12), { code: 'TE_INVALID_ARG' }, 'fast must be shorter than slow');
  t.throws(() => new Macd(12, 12), { code: 'TE_INVALID_ARG' });
  t.throws(() => new Macd(1, 26), { code: 'TE_INVALID_ARG' });
  t.throws(() => new Macd(12, 26, 0), { code: 'TE_INVALID_ARG' });
  const m = new Macd(2, 3, 1);
  t.same(
    [1, 2].map((x) => m.update(x)),
    [undefined, undefined],
  );
  t.notOk(m.ready);
  // slow EMA(3) of 1,2,3 = 2; fast EMA(2) seeded from closes 2,3 = 2.5; signal EMA(1) = the line.
  t.same(m.update(3), { macd: 0.5, signal: 0.5, histogram: 0 });
  t.ok(m.ready);
});
