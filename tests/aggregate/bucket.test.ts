// Bucket alignment against an independent BigInt floor, and against time_bucket's documented results.
import t from 'tap';
import { bucketStart } from '../../src/aggregate/bucket.js';
import { parseInterval } from '../../src/contracts/interval.js';
import { Prng } from '../../src/ingest/prng.js';
import { floorBucket } from '../helpers/oracle.js';

const S = 1_000_000;

t.test('matches BigInt floor division for random times, positive and negative', async (t) => {
  const rng = new Prng(7);
  const widths = ['1s', '5s', '15s', '1m', '5m', '15m', '1h', '4h', '1d'].map(parseInterval);
  let checked = 0;
  for (let i = 0; i < 20000; i++) {
    const ts = Math.floor((rng.next() * 2 - 1) * 4e15); // ±127 years around the epoch, µs
    const w = widths[rng.int(widths.length)]!;
    const got = bucketStart(ts, w);
    if (got !== floorBucket(ts, w)) t.fail(`bucketStart(${ts}, ${w}) = ${got}, expected ${floorBucket(ts, w)}`);
    checked++;
  }
  t.equal(checked, 20000);
});

t.test('time_bucket semantics: UTC, epoch origin, floors towards -infinity', async (t) => {
  // time_bucket('1 minute', '1969-12-31 23:59:30+00') = '1969-12-31 23:59:00+00'
  t.equal(bucketStart(-30 * S, 60 * S), -60 * S);
  t.equal(bucketStart(-60 * S, 60 * S), -60 * S, 'a boundary belongs to the bucket it starts');
  t.equal(bucketStart(-1, S), -S, 'one µs before the epoch');
  t.equal(bucketStart(0, S), 0);
  t.equal(bucketStart(59_999_999, 60 * S), 0);
  t.equal(bucketStart(Date.parse('2024-03-10T13:47:12.5Z') * 1000, parseInterval('4h')), Date.parse('2024-03-10T12:00:00Z') * 1000);
  t.equal(bucketStart(Date.parse('2024-03-10T13:47:12.5Z') * 1000, parseInterval('1d')), Date.parse('2024-03-10T00:00:00Z') * 1000);
});

t.test('origin shifts the grid', async (t) => {
  const origin = 15 * 60 * S;
  t.equal(bucketStart(20 * 60 * S, 3600 * S, origin), 15 * 60 * S);
  t.equal(bucketStart(10 * 60 * S, 3600 * S, origin), -45 * 60 * S);
});

t.test('interval names', async (t) => {
  t.equal(parseInterval('1s'), S);
  t.equal(parseInterval('15m'), 900 * S);
  t.equal(parseInterval('4h'), 4 * 3600 * S);
  t.equal(parseInterval('1d'), 86400 * S);
  for (const bad of ['', '0s', '1w', '1.5m', 'm', '-1s', '1 m']) t.throws(() => parseInterval(bad), { code: 'TE_INVALID_ARG' }, `rejects '${bad}'`);
});
