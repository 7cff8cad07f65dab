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
import { questdbExec } from '../../src/stores/questdb/questdb-sink.js';
import { PREVIOUS_PG_BAR_COLUMNS, questDbCount, readPgBars, readQuestDbBars, waitFor, withPg } from '../helpers/stores.js';

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
      // Every value of bar schema version 2's `complete`: unknown, complete, built across a feed gap.
      complete: [null, true, false][i % 3]!,
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
  t.same(diffBars(await read(), bars), [], 'read back equals what was written, every field (complete: null, true and false)');
  // Write again, half of them changed to a newer revision: still one row per identity, newest values.
  const revised = bars.map((b, i) => (i % 2 ? { ...b, close: b.close + 1, revision: 1, complete: b.complete === null ? false : !b.complete } : b));
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

t.test('PostgreSQL and TimescaleDB: text and numbers the array literals must carry exactly', async (t) => {
  // Symbols with the characters an array literal must quote or escape, and doubles at the edges of their printing.
  const symbols = ['A"B', 'C\\D', 'E,F', '{G}', 'H I', 'NULL', 'é€', ''];
  const doubles = [5e-324, 1e21, 123456789.123456789, 0.1 + 0.2, 2 ** 53 + 2, 1 / 3, 1e-7];
  const base = sampleBars(symbols.length * doubles.length, 9);
  const bars = base.map((b, i) => {
    const x = doubles[i % doubles.length]!;
    return {
      ...b,
      symbol: symbols[i % symbols.length]!,
      bucketStart: b.bucketStart + i * 60_000_000,
      open: x,
      high: x,
      low: x,
      close: x,
      volume: x,
      quoteVolume: x * 3,
      vwap: 3,
      buyVolume: x / 2,
    };
  });
  for (const [name, url] of [
    ['postgres', env.TE_PG_URL!],
    ['timescaledb', env.TE_TSDB_URL!],
  ] as const) {
    const table = uniqueName('bars');
    const sink = new PostgresSink({ name, url, table, log, idleCloseMs: 10_000 });
    await sink.init();
    await sink.write(bars);
    await sink.close();
    t.same(diffBars(await readPgBars(url, table), bars), [], `${name}: read back equals what was written, every field`);
  }
});

t.test('TimescaleDB endpoint: a hypertable', async (t) => {
  const table = uniqueName('bars');
  const sink = new PostgresSink({ name: 'timescaledb', url: env.TE_TSDB_URL!, table, log, idleCloseMs: 10_000 });
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

t.test('PostgreSQL: a table from before bar schema version 2 gains complete; its old rows read null', async (t) => {
  const table = uniqueName('bars');
  const old = sampleBars(3000, 7).filter((b) => b.bucketStart < Date.parse('2024-02-29T00:00:00Z') * 1000);
  await withPg(env.TE_PG_URL!, async (c) => {
    await c.query(`CREATE TABLE ${table} (${PREVIOUS_PG_BAR_COLUMNS}) PARTITION BY RANGE (bucket)`);
    await c.query(`CREATE TABLE ${table}_p20240228 PARTITION OF ${table} FOR VALUES FROM ('2024-02-28') TO ('2024-02-29')`);
    const b = old[0]!;
    await c.query(
      `INSERT INTO ${table} (symbol, bar_interval, bucket, open, high, low, close, volume, quote_volume, vwap, trade_count, buy_volume, first_event_time, last_event_time, revision, final)
       VALUES ($1, $2, to_timestamp($3::float8 / 1e6), $4, $5, $6, $7, $8, $9, $10, $11, $12, to_timestamp($13::float8 / 1e6), to_timestamp($14::float8 / 1e6), 0, true)`,
      [b.symbol, b.interval, b.bucketStart, b.open, b.high, b.low, b.close, b.volume, b.quoteVolume, b.vwap, b.tradeCount, b.buyVolume, 0, 0],
    );
  });
  const sink = new PostgresSink({ name: 'postgres', url: env.TE_PG_URL!, table, log, idleCloseMs: 10_000 });
  await sink.init();
  const before = await readPgBars(env.TE_PG_URL!, table);
  t.same(
    before.map((b) => b.complete),
    [null],
    'the row written before the column existed reads complete null (unknown)',
  );
  await sink.write(old);
  await sink.close();
  t.same(diffBars(await readPgBars(env.TE_PG_URL!, table), old), [], 'then every bar round-trips, complete included');
});

t.test('QuestDB: a table from before bar schema version 2 gains complete', async (t) => {
  const table = uniqueName('bars');
  await questdbExec(
    env.TE_QUESTDB_HTTP!,
    `CREATE TABLE ${table} (symbol SYMBOL, bar_interval SYMBOL, bucket TIMESTAMP, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE,
      volume DOUBLE, quote_volume DOUBLE, vwap DOUBLE, trade_count LONG, buy_volume DOUBLE, first_event_time TIMESTAMP, last_event_time TIMESTAMP,
      revision INT, final BOOLEAN) TIMESTAMP(bucket) PARTITION BY DAY WAL DEDUP UPSERT KEYS(bucket, symbol, bar_interval)`,
  );
  const sink = new QuestDbSink({ httpUrl: env.TE_QUESTDB_HTTP!, table, log });
  await sink.init();
  const bars = sampleBars(300, 8);
  await sink.write(bars);
  await waitFor(
    () => questDbCount(env.TE_QUESTDB_HTTP!, table),
    (c) => c === bars.length,
    30_000,
  );
  await sink.close();
  const got = await readQuestDbBars(env.TE_QUESTDB_PG_URL!, table);
  t.same(diffBars(got, bars), [], 'every bar round-trips, complete null, true and false');
  const cols = await questdbExec(env.TE_QUESTDB_HTTP!, `SHOW COLUMNS FROM ${table}`);
  const complete = cols.dataset?.find((r) => r[0] === 'complete');
  t.equal(complete?.[1], 'SYMBOL', 'complete is a symbol column (QuestDB booleans cannot be null)');
});
