// Signals on final bars: equal to a plain loop over the indicator series, independent of how bars are
// batched and interleaved across streams, unaffected by revisions.
import t from 'tap';
import type { Bar } from '../../../src/contracts/bar.js';
import { Bollinger, Macd, Rsi, Sma } from '../../../src/aggregate/signals/indicators/index.js';
import { SignalEngine } from '../../../src/aggregate/signals/signal-engine.js';
import type { Signal } from '../../../src/contracts/signal.js';
import { SignalRules } from '../../../src/contracts/signal-rules.js';
import { Prng } from '../../../src/ingest/prng.js';
import { flatBar } from '../../helpers/flat-bar.js';

function bars(symbol: string, n: number, seed: number): Bar[] {
  const rng = new Prng(seed);
  let p = 100;
  return Array.from({ length: n }, (_, i) => {
    p *= Math.exp(rng.normal() * 0.01 + Math.sin(i / 40) * 0.002);
    return flatBar(symbol, '1m', i * 60e6, Math.round(p * 100) / 100);
  });
}

/** The reference: series first, then crossings by direct comparison of consecutive values. */
function expectedSignals(series: Bar[]): Signal[] {
  const f = new Sma(10),
    s = new Sma(30),
    m = new Macd(12, 26, 9),
    r = new Rsi(14),
    b = new Bollinger(20, 2);
  const rows = series.map((bar) => ({
    bar,
    fast: f.update(bar.close),
    slow: s.update(bar.close),
    macd: m.update(bar.close),
    rsi: r.update(bar.close),
    bb: b.update(bar.close),
  }));
  const out: Signal[] = [];
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1]!,
      c = rows[i]!;
    const base = { symbol: c.bar.symbol, interval: c.bar.interval, barTime: c.bar.bucketStart };
    if (a.fast !== undefined && a.slow !== undefined && c.fast !== undefined && c.slow !== undefined) {
      if (a.fast <= a.slow && c.fast > c.slow) out.push({ ...base, name: 'sma_cross', direction: 'UP', values: [c.fast, c.slow] });
      if (a.fast >= a.slow && c.fast < c.slow) out.push({ ...base, name: 'sma_cross', direction: 'DOWN', values: [c.fast, c.slow] });
    }
    if (a.macd && c.macd) {
      if (a.macd.macd <= a.macd.signal && c.macd.macd > c.macd.signal)
        out.push({ ...base, name: 'macd_cross', direction: 'UP', values: [c.macd.macd, c.macd.signal] });
      if (a.macd.macd >= a.macd.signal && c.macd.macd < c.macd.signal)
        out.push({ ...base, name: 'macd_cross', direction: 'DOWN', values: [c.macd.macd, c.macd.signal] });
    }
    if (a.rsi !== undefined && c.rsi !== undefined) {
      if (a.rsi <= 70 && c.rsi > 70) out.push({ ...base, name: 'rsi_zone', direction: 'UP', values: [c.rsi] });
      else if (a.rsi >= 30 && c.rsi < 30) out.push({ ...base, name: 'rsi_zone', direction: 'DOWN', values: [c.rsi] });
    }
    if (a.bb && c.bb) {
      if (a.bar.close <= a.bb.upper && c.bar.close > c.bb.upper)
        out.push({ ...base, name: 'bollinger_breakout', direction: 'UP', values: [c.bar.close, c.bb.upper, c.bb.lower] });
      else if (a.bar.close >= a.bb.lower && c.bar.close < c.bb.lower)
        out.push({ ...base, name: 'bollinger_breakout', direction: 'DOWN', values: [c.bar.close, c.bb.upper, c.bb.lower] });
    }
  }
  return out;
}

const key = (x: Signal) => `${x.symbol}|${x.barTime}|${x.name}`;
const sorted = (xs: Signal[]) => [...xs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

t.test('signals equal the reference loop, whatever the batching and interleaving', async (t) => {
  const a = bars('A', 3000, 1);
  const b = bars('B', 3000, 2);
  const expected = [...expectedSignals(a), ...expectedSignals(b)];
  t.ok(expected.length > 200, `${expected.length} signals expected`);
  for (const name of ['sma_cross', 'macd_cross', 'rsi_zone', 'bollinger_breakout'])
    t.ok(
      expected.some((x) => x.name === name),
      `some ${name}`,
    );
  const rng = new Prng(9);
  const engine = new SignalEngine();
  const got: Signal[] = [];
  let i = 0;
  while (i < 3000) {
    const n = 1 + rng.int(50);
    // Interleave the two streams in one batch, bars of each in order, plus a revision of an older bar.
    const batch = [...a.slice(i, i + n), ...b.slice(i, i + n)];
    if (i > 5) batch.push({ ...a[i - 3]!, revision: 1, close: a[i - 3]!.close * 2 });
    got.push(...engine.onBars(batch));
    i += n;
  }
  t.same(sorted(got), sorted(expected), 'same signals, same values');
});

t.test('per-pattern and per-interval rules: each stream gets exactly its configured signals', async (t) => {
  const a = bars('A', 1500, 1);
  const b = bars('B', 1500, 2);
  const c = bars('C', 1500, 3);
  // First match wins: A gets two kinds; C's rule is for another interval, so C, like B, falls to the last rule.
  const rules = SignalRules.parse('A@*=sma_cross,rsi_zone;C@1s=sma_cross;*@1m=macd_cross', ['1s', '1m']);
  const got = new SignalEngine(rules).onBars([...a, ...b, ...c]);
  const want = [
    ...expectedSignals(a).filter((x) => x.name === 'sma_cross' || x.name === 'rsi_zone'),
    ...expectedSignals(b).filter((x) => x.name === 'macd_cross'),
    ...expectedSignals(c).filter((x) => x.name === 'macd_cross'),
  ];
  t.ok(want.length > 50, `${want.length} signals expected`);
  t.same(sorted(got), sorted(want), 'only the configured signals, same values');
  t.same(new SignalEngine(SignalRules.parse('off')).onBars(a), [], "'off': none");
  t.same(new SignalEngine(SignalRules.parse('A@1s=sma_cross')).onBars(a), [], 'a rule for another interval does not apply');
});

t.test('signal rules: parsing and errors', async (t) => {
  const r = SignalRules.parse(' BTC-*@1m = sma_cross , macd_cross ; *@* = rsi_zone ', ['1s', '1m']);
  t.same([...r.select('BTC-USD', '1m')], ['sma_cross', 'macd_cross']);
  t.same([...r.select('BTC-USD', '1s')], ['rsi_zone']);
  t.same([...r.select('ETH-USD', '1m')], ['rsi_zone']);
  t.same([...SignalRules.parse('off').select('A', '1s')], []);
  for (const [text, re] of [
    ['A=sma_cross', /is not pattern@interval=name/],
    ['A@1s=wobble', /unknown signal 'wobble'/],
    ['A@5m=sma_cross', /interval 5m is not one of 1s, 1m/],
    ['A\u0001B@1s=sma_cross', /control characters/],
  ] as const)
    t.throws(() => SignalRules.parse(text, ['1s', '1m']), { message: re }, text);
});

t.test('state: one row of doubles per series, in the snapshot layout, built independently from the indicator objects', async (t) => {
  // The layout stored snapshots use: last bucket, count, the last 30 closes oldest first (NaN-padded), the previous
  // bar's 8 figures, MACD's and RSI's own saved state. Rebuilt here with the indicator classes, bar by bar.
  for (const n of [1, 17, 30, 95]) {
    const series = bars('X', n, 4);
    const engine = new SignalEngine();
    engine.onBars(series);
    const f = new Sma(10),
      s = new Sma(30),
      m = new Macd(12, 26, 9),
      r = new Rsi(14),
      b = new Bollinger(20, 2);
    let prev: number[] = [];
    for (const bar of series) {
      const c = bar.close;
      const fast = f.update(c),
        slow = s.update(c),
        macd = m.update(c),
        rsi = r.update(c),
        bb = b.update(c);
      prev = [fast, slow, macd?.macd, macd?.signal, rsi, c, bb?.upper, bb?.lower].map((v) => v ?? NaN);
    }
    const closes = series.slice(-30).map((x) => x.close);
    const row: number[] = [series[n - 1]!.bucketStart, closes.length, ...closes, ...new Array<number>(30 - closes.length).fill(NaN), ...prev];
    m.saveState(row);
    r.saveState(row);
    const state = engine.state();
    t.same(state.keys, ['1m\u0000X'], `n=${n}: one series`);
    t.equal(state.data.length, row.length, `n=${n}: ${row.length} doubles`);
    const differ = row.findIndex((v, i) => !Object.is(v, state.data[i]));
    t.equal(differ, -1, `n=${n}: every double equal (first difference at ${differ})`);
  }
  t.same(new SignalEngine().state(), { keys: [], data: new Float64Array(0) }, 'no series: empty');
});

t.test('restored from a state mid-stream, an engine gives the signals an uninterrupted one gives', async (t) => {
  const streams = ['A', 'B', 'C'].map((s, i) => bars(s, 400, 10 + i));
  const all = new SignalEngine().onBars(streams.flat());
  for (const cut of [1, 29, 30, 31, 200, 399]) {
    const first = new SignalEngine();
    const got = first.onBars(streams.flatMap((x) => x.slice(0, cut)));
    const state = first.state();
    // Through a copy, as a snapshot decodes it; the restoring engine has seen another series already.
    const second = new SignalEngine();
    second.onBars(bars('Z', 5, 99));
    second.restore({ keys: [...state.keys], data: Float64Array.from(state.data) });
    got.push(...second.onBars(streams.flatMap((x) => x.slice(cut))));
    t.same(sorted(got), sorted(all), `cut at bar ${cut}: ${all.length} signals, same values`);
  }
});
