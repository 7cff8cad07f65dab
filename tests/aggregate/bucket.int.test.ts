// Bucket alignment against the real thing: TimescaleDB time_bucket and PostgreSQL date_bin over random times.
import t, { type Test } from 'tap';
import { bucketStart } from '../../src/aggregate/bucket.js';
import { parseInterval } from '../../src/contracts/interval.js';
import { Prng } from '../../src/ingest/prng.js';
import { microsToIso } from '../../src/time.js';
import { stackEnv } from '../helpers/env.js';
import { withPg } from '../helpers/stores.js';

const env = stackEnv();
const names = ['1s', '5s', '15s', '1m', '5m', '15m', '1h', '4h', '1d'];
const pgInterval: Record<string, string> = { s: 'seconds', m: 'minutes', h: 'hours', d: 'days' };

function samples(seed: number): { ts: number; iv: string }[] {
  const rng = new Prng(seed);
  return Array.from({ length: 2000 }, (_, i) => ({
    // Both sides of the epoch, with µs precision.
    ts: Math.floor((rng.next() * 2 - 1) * 2e15) + (i % 7 === 0 ? 0 : rng.int(1_000_000)),
    iv: names[i % names.length]!,
  }));
}

async function compare(t: Test, url: string, fn: string) {
  const cases = samples(fn.length);
  const us = (e: string) => `(extract(epoch from ${e}) * 1000000)::bigint`;
  const sqlIv = (iv: string) => `${iv.slice(0, -1)} ${pgInterval[iv.slice(-1)]!}`;
  const got = await withPg(url, (c) =>
    c.query<{ b: string }>(
      `SELECT ${us(fn === 'time_bucket' ? `time_bucket(x.iv::interval, x.ts, '1970-01-01 00:00:00+00'::timestamptz)` : `date_bin(x.iv::interval, x.ts, '1970-01-01 00:00:00+00'::timestamptz)`)} AS b
       FROM unnest($1::timestamptz[], $2::text[]) WITH ORDINALITY AS x(ts, iv, n) ORDER BY n`,
      [cases.map((c) => microsToIso(c.ts)), cases.map((c) => sqlIv(c.iv))],
    ),
  );
  let mismatches = 0;
  cases.forEach((c, i) => {
    const want = Number(got.rows[i]!.b);
    const mine = bucketStart(c.ts, parseInterval(c.iv));
    if (want !== mine && mismatches++ < 5) t.fail(`${c.iv} ${microsToIso(c.ts)}: ${fn} gives ${want}, bucketStart ${mine}`);
  });
  t.equal(mismatches, 0, `${cases.length} timestamps agree with ${fn}`);
}

t.test('TimescaleDB time_bucket with the epoch as origin', (t) => compare(t, env.TE_TSDB_URL!, 'time_bucket'));
t.test('PostgreSQL date_bin with the epoch as origin', (t) => compare(t, env.TE_PG_URL!, 'date_bin'));

t.test('time_bucket default origin agrees for every interval dividing a day', async (t) => {
  // TimescaleDB's default origin is Monday 2000-01-03, a whole number of days after the epoch.
  const cases = samples(99);
  const got = await withPg(env.TE_TSDB_URL!, (c) =>
    c.query<{ b: string }>(
      `SELECT (extract(epoch from time_bucket(x.iv::interval, x.ts)) * 1000000)::bigint AS b FROM unnest($1::timestamptz[], $2::text[]) WITH ORDINALITY AS x(ts, iv, n) ORDER BY n`,
      [cases.map((c) => microsToIso(c.ts)), cases.map((c) => `${c.iv.slice(0, -1)} ${pgInterval[c.iv.slice(-1)]!}`)],
    ),
  );
  const bad = cases.filter((c, i) => Number(got.rows[i]!.b) !== bucketStart(c.ts, parseInterval(c.iv)));
  t.equal(bad.length, 0);
});
