// Loads the real S&P 500 daily series and TA-Lib's values for it (provenance: tests/fixtures/README.md), and compares series.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Bar } from '../../../../src/contracts/bar.js';
import { projectRoot } from '../../../../src/paths.js';
import type { Test } from 'tap';

/** Every value after warm-up must be within this relative error of the reference. */
export const TOLERANCE = 1e-9;

export interface DailyBar extends Bar {
  /** Trading day, YYYY-MM-DD. */
  date: string;
}

let bars: DailyBar[] | undefined;

/**
 * The 5,031 daily bars, oldest first. Daily files carry no quote volume, so quoteVolume is volume × typical price,
 * computed in the same operation order as the reference (TA-Lib's TYPPRICE, then pandas-ta's product).
 */
export function sp500(): DailyBar[] {
  if (bars) return bars;
  const text = gunzipSync(readFileSync(join(projectRoot(), 'tests/fixtures/sp500.csv.gz'))).toString('utf8');
  const [header, ...rows] = text.trim().split(/\r?\n/);
  if (header !== 'Date,Open,High,Low,Close,Adj Close,Volume') throw new Error(`unexpected header: ${header}`);
  bars = rows.map((row) => {
    const f = row.split(',');
    const [m, d, y] = f[0]!.split('/').map(Number) as [number, number, number];
    const [open, high, low, close, , volume] = f.slice(1).map(Number) as [number, number, number, number, number, number];
    const typical = (high + low + close) / 3.0;
    const quoteVolume = typical * volume;
    const day = Date.UTC(y, m - 1, d);
    return {
      date: new Date(day).toISOString().slice(0, 10),
      symbol: 'SPX',
      interval: '1d',
      bucketStart: day * 1000,
      open,
      high,
      low,
      close,
      volume,
      quoteVolume,
      vwap: quoteVolume / volume,
      tradeCount: 0,
      buyVolume: 0,
      firstEventTime: day * 1000,
      lastEventTime: day * 1000,
      revision: 0,
      final: true,
      complete: null,
    };
  });
  return bars;
}

let columns: Map<string, (number | undefined)[]> | undefined;

/** One column of tests/fixtures/sp500-indicators-reference.csv: undefined where the reference is in warm-up. */
export function reference(name: string): (number | undefined)[] {
  if (!columns) {
    const lines = readFileSync(join(projectRoot(), 'tests/fixtures/sp500-indicators-reference.csv'), 'utf8')
      .trim()
      .split(/\r?\n/)
      .filter((l) => !l.startsWith('#'));
    const names = lines[0]!.split(',');
    const cols = new Map<string, (number | undefined)[]>(names.map((n) => [n, []]));
    const dates: string[] = [];
    for (const line of lines.slice(1)) {
      const f = line.split(',');
      if (f.length !== names.length) throw new Error(`bad reference row: ${line}`);
      dates.push(f[0]!);
      names.forEach((n, i) => cols.get(n)!.push(f[i] === '' ? undefined : Number(f[i])));
    }
    const series = sp500();
    if (dates.length !== series.length || dates.some((d, i) => d !== series[i]!.date)) throw new Error('reference rows do not match the series dates');
    columns = cols;
  }
  const col = columns.get(name);
  if (!col) throw new Error(`no reference column ${name}`);
  return col;
}

export function relativeError(actual: number, expected: number): number {
  if (actual === expected) return 0;
  return Math.abs(actual - expected) / Math.abs(expected);
}

/**
 * Checks every bar: warm-up must end on the same bar as the reference's, and every later value must be within
 * TOLERANCE. One assertion per property (not per bar) keeps the output readable; the first failing bar is named.
 */
export function compareSeries(t: Test, name: string, actual: (number | undefined)[], expected: (number | undefined)[]): number {
  t.equal(actual.length, expected.length, `${name}: one value per bar`);
  const warmActual = actual.findIndex((x) => x !== undefined);
  const warmExpected = expected.findIndex((x) => x !== undefined);
  t.equal(warmActual, warmExpected, `${name}: first value on bar ${warmExpected} (warm-up ${warmExpected} bars), as the reference`);
  t.ok(warmExpected >= 0 && expected.slice(warmExpected).every((x) => x !== undefined), `${name}: reference has a value on every bar after warm-up`);
  let max = 0;
  let worst = -1;
  let firstBad: string | undefined;
  let compared = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    if (e === undefined || a === undefined) {
      if (e !== a && firstBad === undefined) firstBad = `bar ${i}: got ${a}, expected ${e}`;
      continue;
    }
    compared++;
    const r = relativeError(a, e);
    if (!(r <= max)) {
      max = r;
      worst = i;
    }
    if (!(r <= TOLERANCE) && firstBad === undefined) firstBad = `bar ${i}: got ${a}, expected ${e} (relative error ${r})`;
  }
  t.comment(
    `${name}: ${compared} bars compared after a warm-up of ${warmExpected}; max relative error ${max.toExponential(3)}${worst >= 0 ? ` (bar ${worst})` : ''}`,
  );
  t.equal(compared, expected.length - warmExpected, `${name}: every bar after warm-up compared`);
  t.equal(firstBad, undefined, `${name}: every value within ${TOLERANCE} relative error`);
  return max;
}
