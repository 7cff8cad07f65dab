// Every store sink against its real server: table layout chosen by capability, exact round trip, idempotent upserts.
import t, { type Test } from 'tap';
import type { Bar } from '../../src/contracts/bar.js';
import { PostgresSink } from '../../src/stores/postgres/postgres-sink.js';
import { QuestDbSink } from '../../src/stores/questdb/questdb-sink.js';
import type { BarSink } from '../../src/stores/sink.js';
import { Prng } from '../../src/ingest/prng.js';
import { logger } from '../../src/log.js';
import { stackEnv, uniqueName } from '../helpers/env.js';
import { diffBars } from '../helpers/oracle.js';
import { questDbCount, readPgBars, readQuestDbBars, waitFor, withPg } from '../helpers/stores.js';

const env = stackEnv();
const log = logger('test');

/** Bars with awkward doubles (non-terminating binary fractions, tiny and huge values) and µs times over two days. */
function sampleBars(n: number, seed: number): Bar[] {
  const rng = new Prng(seed);
  const out: Bar[] = [];
  const day0 = Date.parse('2024-02-28T23:59:00Z') * 1000;
  for (let i = 0; i < n; i++) {
    const open = Number((rng.next() * 1000).toFixed(2)) + 0.1;
    const volume = rng.next() * 1e-3 + rng.next() * 1e6;
    const quoteVolume = volume * (open + rng.next());
    out.push({
      symbol: `S${i % 37}`,
      interval: i % 2 ? '1s' : '1m',
      bucketStart: day0 + Math.floor(i / 37) * 1_000_000 * (i % 2 ? 1 : 60),
      open,
      high: open * 1.01,
      low: open / 1.01,
      close: open + 1 / 3,
      volume,
      quoteVolume,
      vwap: quoteVolume / volume,
      tradeCount: 1 + rng.int(1e6),
      buyVolume: volume * rng.next(),
      firstEventTime: day0 + rng.int(1e9),
      lastEventTime: day0 + 1e9 + rng.int(1e6) + 7,
      revision: 0,
      final: true,
      complete: null,
    });
  }
  return out;
}

async function roundTrip(t: Test, sink: BarSink, read: () => Promise<Bar[]>, settle: (n: number) => Promise<void>) {
  const bars = sampleBars(3000, 5);
  await sink.init();
  await sink.init(); // idempotent DDL
  await sink.write(bars);
  await settle(bars.length);
  t.same(diffBars(await read(), bars), [], 'read back equals what was written, every field');
  // Write again, half of them changed to a newer revision: still one row per identity, newest values.
  const revised = bars.map((b, i) => (i % 2 ? { ...b, close: b.close + 1, revision: 1 } : b));
  await sink.write(revised);
  await sink.write(revised.slice(0, 100));
  await new Promise((r) => setTimeout(r, 500));
  await settle(bars.length);
  t.same(diffBars(await read(), revised), [], 'upserts replace, never duplicate');
  await sink.close();
}

t.test('PostgreSQL 15 without TimescaleDB: native daily partitions', async (t) => {
  const table = uniqueName('bars');
  const sink = new PostgresSink({ name: 'postgres', url: env.TE_PG_URL!, table, log, idleCloseMs: 10_000 });
  await roundTrip(
    t,
    sink,
    () => readPgBars(env.TE_PG_URL!, table),
    async () => {},
  );
  t.equal(sink.mode, 'partitioned');
  const parts = await withPg(env.TE_PG_URL!, (c) =>
    c.query(`SELECT inhrelid::regclass::text AS p FROM pg_inherits WHERE inhparent = '${table}'::regclass ORDER BY 1`),
  );
  const days = [
    ...new Set(sampleBars(3000, 5).map((b) => new Date(Math.floor(b.bucketStart / 86_400_000_000) * 86_400_000).toISOString().slice(0, 10))),
  ].sort();
  t.ok(days.length >= 2, `the sample spans ${days.length} UTC days`);
  t.same(
    parts.rows.map((r) => r.p),
    days.map((d) => `${table}_p${d.replace(/-/g, '')}`),
    'one partition per UTC day',
  );
});

t.test('TimescaleDB endpoint: a hypertable', async (t) => {
  const table = uniqueName('bars');
  const sink = new PostgresSink({ name: 'timescaledb', url: env.TE_TSDB_URL!, table, log, idleCloseMs: 10_000 });
  // The endpoint serves one session at a time: read after the sink has closed its connection.
  const bars = sampleBars(3000, 6);
  await sink.init();
  await sink.write(bars);
  await sink.write(bars);
  t.equal(sink.mode, 'hypertable');
  await sink.close();
  t.same(diffBars(await readPgBars(env.TE_TSDB_URL!, table), bars), [], 'read back equals what was written, every field, once each');
  const ht = await withPg(env.TE_TSDB_URL!, (c) =>
    c.query(`SELECT hypertable_name FROM timescaledb_information.hypertables WHERE hypertable_name = $1`, [table]),
  );
  t.equal(ht.rowCount, 1, 'registered as a hypertable');
});

t.test('QuestDB: WAL table with DEDUP UPSERT KEYS', async (t) => {
  const table = uniqueName('bars');
  const sink = new QuestDbSink({ httpUrl: env.TE_QUESTDB_HTTP!, table, log });
  await roundTrip(
    t,
    sink,
    () => readQuestDbBars(env.TE_QUESTDB_PG_URL!, table),
    async (n) => {
      // WAL apply is asynchronous: wait until the rows are visible.
      const got = await waitFor(
        () => questDbCount(env.TE_QUESTDB_HTTP!, table),
        (c) => c === n,
        30_000,
      );
      t.equal(got, n, 'row count settles at one row per bar');
    },
  );
});
