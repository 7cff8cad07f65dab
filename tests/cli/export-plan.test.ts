// `tick-engine export` options into a plan, without a store: defaults, the format from the file name, the range, the
// patterns; each bad value a ConfigError naming its flag (the CLI's exit codes are in export.int.test.ts).
import t from 'tap';
import { ConfigError } from '../../src/errors.js';
import { exportPlan, MAX_EXPORT_TIME } from '../../src/cli/export/export-plan.js';

const plan = (o: Record<string, string>) => exportPlan(new Map(Object.entries(o)));

t.test('defaults: bars, the whole range, every interval, CSV on standard output', async (t) => {
  const p = plan({ symbols: '*' });
  t.same([p.what, p.from, p.to, p.intervals, p.format, p.out], ['bars', 0, MAX_EXPORT_TIME, undefined, 'csv', '-']);
  t.equal(MAX_EXPORT_TIME, Date.parse('2200-01-01T00:00:00Z') * 1000, 'the end: 2200-01-01, as the REST history');
});

t.test('the format follows the file name unless given', async (t) => {
  for (const [out, format] of [
    ['a.csv', 'csv'],
    ['dir.x/a.JSONL', 'jsonl'],
    ['a.ndjson', 'jsonl'],
    ['a.parquet', 'parquet'],
  ] as const)
    t.equal(plan({ symbols: '*', out }).format, format, out);
  t.equal(plan({ symbols: '*', out: 'a.parquet', format: 'csv' }).format, 'csv', '--format wins');
  t.equal(plan({ symbols: '*', format: 'jsonl' }).format, 'jsonl', 'JSON lines to standard output');
});

t.test('range: ISO-8601 or µs, [from, to)', async (t) => {
  const p = plan({ symbols: '*', from: '2024-05-01', to: '2024-05-01T00:00:01.000001Z' });
  t.same([p.from, p.to], [Date.parse('2024-05-01T00:00:00Z') * 1000, Date.parse('2024-05-01T00:00:01Z') * 1000 + 1]);
  t.same([plan({ symbols: '*', from: '5', to: '6' }).from, plan({ symbols: '*', from: '5', to: '6' }).to], [5, 6]);
});

t.test('patterns: several, deduplicated, matched whole and case-sensitively', async (t) => {
  const p = plan({ symbols: 'BTC-*, ETH-USD,BTC-*,?OGE-USDT', interval: '1m,1h,1m' });
  t.same(p.patterns, ['BTC-*', 'ETH-USD', '?OGE-USDT']);
  t.same(p.intervals, ['1m', '1h']);
  t.same(['BTC-USD', 'BTC-', 'btc-usd', 'ETH-USD', 'ETH-USDT', 'DOGE-USDT', 'XDOGE-USDT'].filter(p.matches), ['BTC-USD', 'BTC-', 'ETH-USD', 'DOGE-USDT']);
});

t.test('each bad value names its flag', async (t) => {
  const cases: [Record<string, string>, string][] = [
    [{}, '--symbols'],
    [{ symbols: '' }, '--symbols'],
    [{ symbols: 'x'.repeat(65) }, '--symbols'],
    [{ symbols: '*', interval: '1m,' }, '--interval'],
    [{ symbols: '*', interval: '0s' }, '--interval'],
    [{ symbols: '*', from: '2024-02-30' }, '--from'],
    [{ symbols: '*', to: '-1' }, '--to'],
    [{ symbols: '*', from: '10', to: '10' }, '--from'],
    [{ symbols: '*', out: '' }, '--out'],
    [{ symbols: '*', out: 'a.parquet.gz' }, '--format'],
    [{ symbols: '*', format: 'parquet', out: '-' }, '--out'],
    [{ symbols: '*', what: 'ticks', interval: '1m' }, '--interval'],
    [{ symbols: '*', what: 'quotes' }, '--what'],
  ];
  for (const [o, flag] of cases) {
    let err: unknown;
    try {
      plan(o);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof ConfigError, `${JSON.stringify(o)}: a ConfigError`);
    t.equal((err as ConfigError).key, flag, `${JSON.stringify(o)}: names ${flag}`);
  }
});
