// Zoned daily buckets and custom origins against the real thing: TimescaleDB time_bucket with a time zone
// and with an origin, over random instants and every hour around DST changes.
import t from 'tap';
import { fixedBucketing, zonedDayBucketing } from '../../src/aggregate/bucketing.js';
import { Prng } from '../../src/ingest/prng.js';
import { microsToIso } from '../../src/time.js';
import { stackEnv } from '../helpers/env.js';
import { withPg } from '../helpers/stores.js';

const env = stackEnv();
const H = 3_600_000_000;

function instants(seed: number): number[] {
  const rng = new Prng(seed);
  const out: number[] = [];
  // Random instants 2000–2030 ...
  for (let i = 0; i < 600; i++) out.push(Date.parse('2000-01-01T00:00:00Z') * 1000 + Math.floor(rng.next() * 30 * 365.25 * 24) * H + rng.int(H));
  // ... and every hour (±1 µs) across the 2024 DST changes of both hemispheres.
  for (const day of ['2024-03-09', '2024-03-30', '2024-04-06', '2024-10-05', '2024-10-26', '2024-11-02']) {
    const base = Date.parse(`${day}T00:00:00Z`) * 1000;
    for (let h = 0; h < 72; h++) out.push(base + h * H, base + h * H - 1);
  }
  return out;
}

for (const zone of ['America/New_York', 'Europe/London', 'Australia/Sydney', 'Asia/Kathmandu']) {
  t.test(`1d in ${zone} = time_bucket('1 day', ts, '${zone}')`, async (t) => {
    const b = zonedDayBucketing(zone);
    const ts = instants(zone.length);
    const rows = await withPg(env.TE_TSDB_URL!, (c) =>
      c.query<{ b: string }>(
        `SELECT (extract(epoch from time_bucket('1 day', x.ts, $2)) * 1000000)::bigint AS b FROM unnest($1::timestamptz[]) WITH ORDINALITY AS x(ts, n) ORDER BY n`,
        [ts.map(microsToIso), zone],
      ),
    );
    let bad = 0;
    ts.forEach((x, i) => {
      const want = Number(rows.rows[i]!.b);
      const got = b.start(x);
      if (got !== want && bad++ < 5) t.fail(`${microsToIso(x)}: start ${microsToIso(got)}, time_bucket ${microsToIso(want)}`);
      const end = b.end(got);
      if (!(got <= x && x < end) && bad++ < 5) t.fail(`${microsToIso(x)} not in [${microsToIso(got)}, ${microsToIso(end)})`);
      if (b.start(end) !== end && bad++ < 5) t.fail(`end ${microsToIso(end)} does not start the next day`);
    });
    t.equal(bad, 0, `${ts.length} instants agree`);
    const lengths = new Set(ts.map((x) => (b.end(b.start(x)) - b.start(x)) / H));
    if (zone !== 'Asia/Kathmandu') t.same([...lengths].sort(), [23, 24, 25], 'days of 23, 24 and 25 hours');
  });
}

t.test('fixed buckets from an origin = time_bucket(width, ts, origin)', async (t) => {
  const origin = Date.parse('2024-01-01T00:07:30Z') * 1000;
  const b = fixedBucketing(15 * 60_000_000, origin);
  const ts = instants(3);
  const rows = await withPg(env.TE_TSDB_URL!, (c) =>
    c.query<{ b: string }>(
      `SELECT (extract(epoch from time_bucket('15 minutes', x.ts, $2::timestamptz)) * 1000000)::bigint AS b FROM unnest($1::timestamptz[]) WITH ORDINALITY AS x(ts, n) ORDER BY n`,
      [ts.map(microsToIso), microsToIso(origin)],
    ),
  );
  t.equal(ts.filter((x, i) => b.start(x) !== Number(rows.rows[i]!.b)).length, 0, `${ts.length} instants agree`);
});
