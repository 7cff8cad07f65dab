// VWAP: cumulative Σ quoteVolume / Σ volume, reset each session, checked on every bar of the real S&P 500 series against pandas-ta.
import t from 'tap';
import { Vwap } from '../../../../src/aggregate/signals/indicators/vwap.js';
import { compareSeries, reference, relativeError, sp500, TOLERANCE, type DailyBar } from './reference.js';

const bars = sp500();

/** Sessions are calendar months here (pandas-ta's anchor "M"), so reset() runs 240 times over the series. */
function run(xs: DailyBar[], resetEachMonth = true): (number | undefined)[] {
  const vwap = new Vwap();
  let month = '';
  return xs.map((b) => {
    if (resetEachMonth && b.date.slice(0, 7) !== month) {
      vwap.reset();
      month = b.date.slice(0, 7);
    }
    return vwap.update(b);
  });
}

t.test('matches pandas-ta vwap(anchor="M") on every bar of the S&P 500 series', async (t) => {
  compareSeries(t, 'VWAP (monthly sessions)', run(bars), reference('vwap_month'));
});

t.test('reset() matters: without it the values drift away from the session VWAP', async (t) => {
  const noReset = run(bars, false);
  const ref = reference('vwap_month');
  const far = noReset.filter((x, i) => relativeError(x!, ref[i]!) > TOLERANCE).length;
  t.ok(far > bars.length / 2, `${far} of ${bars.length} bars differ without resets`);
});

t.test('a perturbed bar changes the rest of its session only', async (t) => {
  const i = 2000;
  const perturbed = bars.map((b, k) => (k === i ? { ...b, quoteVolume: b.quoteVolume * 1.01 } : b));
  const a = run(bars);
  const b = run(perturbed);
  const month = bars[i]!.date.slice(0, 7);
  const sameMonth = (k: number) => bars[k]!.date.slice(0, 7) === month;
  t.ok(
    a.every((x, k) => (k >= i && sameMonth(k) ? x !== b[k] : x === b[k])),
    `only bars ${month} from bar ${i} on change`,
  );
  t.ok(relativeError(b[i]!, reference('vwap_month')[i]!) > TOLERANCE, 'the comparison against the reference would catch it');
});

t.test('reset, zero volume and argument checks', async (t) => {
  const v = new Vwap();
  t.notOk(v.ready);
  t.equal(v.update({ volume: 0, quoteVolume: 0 }), undefined, 'no volume yet, no price');
  t.notOk(v.ready);
  t.equal(v.update({ volume: 2, quoteVolume: 20 }), 10);
  t.equal(v.update({ volume: 2, quoteVolume: 28 }), 12);
  t.ok(v.ready);
  v.reset();
  t.notOk(v.ready);
  t.equal(v.value, undefined);
  t.equal(v.update({ volume: 1, quoteVolume: 5 }), 5, 'a new session starts from its first bar');
  t.throws(() => v.update({ volume: -1, quoteVolume: 5 }), { code: 'TE_INVALID_ARG' });
  t.throws(() => v.update({ volume: 1, quoteVolume: NaN }), { code: 'TE_INVALID_ARG' });
  t.equal(v.update({ volume: 1, quoteVolume: 7 }), 6, 'rejected bars left the sums alone');
});
