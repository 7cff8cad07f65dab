// Schema migrations on every store's real server: tables made by the previous layout (the engine's first one, from
// before signals and bar schema version 2) are checked, adopted and upgraded with their rows kept and readable; a
// second run applies nothing; two migrators at once apply each step once; a foreign layout or an edited step is refused.
import t, { type Test } from 'tap';
import type { Bar } from '../../src/contracts/bar.js';
import { ERROR_CODES, SchemaError } from '../../src/errors.js';
import { Prng } from '../../src/ingest/prng.js';
import { logger } from '../../src/log.js';
import { MIGRATIONS_TABLE, stepChecksum } from '../../src/stores/migrations.js';
import { postgresSteps } from '../../src/stores/postgres/postgres-migrations.js';
import { PostgresSink } from '../../src/stores/postgres/postgres-sink.js';
import { questdbExec } from '../../src/stores/questdb/questdb-exec.js';
import { archiveSteps, questdbSteps } from '../../src/stores/questdb/questdb-migrations.js';
import { QuestDbSink } from '../../src/stores/questdb/questdb-sink.js';
import { TickArchive } from '../../src/stores/questdb/tick-archive.js';
import { runCli } from '../helpers/cli.js';
import { stackEnv, testEnv, uniqueName } from '../helpers/env.js';
import { diffBars } from '../helpers/oracle.js';
import { PREVIOUS_PG_BAR_COLUMNS, questDbCount, readPgBars, readQuestDbBars, waitFor, withPg } from '../helpers/stores.js';

const env = stackEnv();
const log = logger('test');

/** Bars of one UTC day (2024-03-01), `complete` unknown as the previous layout has no column for it. */
function oldBars(n: number, seed: number): Bar[] {
  const rng = new Prng(seed);
  const day = Date.parse('2024-03-01T00:00:00Z') * 1000;
  return Array.from({ length: n }, (_, i) => {
    const open = Number((100 + rng.next() * 10).toFixed(2));
    const volume = 1 + rng.next() * 100;
    return {
      symbol: `S${i % 7}`,
      interval: i % 2 ? '1s' : '1m',
      bucketStart: day + Math.floor(i / 7) * (i % 2 ? 1e6 : 60e6),
      open,
      high: open + 1,
      low: open - 1,
      close: open + 1 / 3,
      volume,
      quoteVolume: volume * open,
      vwap: open,
      tradeCount: 1 + rng.int(1000),
      buyVolume: volume / 3,
      firstEventTime: day + i,
      lastEventTime: day + i + 999,
      revision: i % 3,
      final: true,
      complete: null,
    };
  });
}

/** The previous layout's rows, written as the previous engine wrote them (16 columns). */
async function insertOld(url: string, table: string, bars: Bar[]): Promise<void> {
  const cols = [
    bars.map((b) => b.symbol),
    bars.map((b) => b.interval),
    bars.map((b) => b.bucketStart / 1e6),
    ...(['open', 'high', 'low', 'close', 'volume', 'quoteVolume', 'vwap', 'tradeCount', 'buyVolume'] as const).map((k) => bars.map((b) => b[k])),
    bars.map((b) => b.firstEventTime / 1e6),
    bars.map((b) => b.lastEventTime / 1e6),
    bars.map((b) => b.revision),
    bars.map((b) => b.final),
  ];
  await withPg(url, (c) =>
    c.query(
      `INSERT INTO ${table} (symbol, bar_interval, bucket, open, high, low, close, volume, quote_volume, vwap, trade_count, buy_volume, first_event_time, last_event_time, revision, final)
       SELECT s, i, to_timestamp(b), o, h, l, c, v, q, w, n, bv, to_timestamp(f), to_timestamp(la), r, fi FROM unnest($1::text[], $2::text[], $3::float8[], $4::float8[], $5::float8[],
         $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::float8[], $11::bigint[], $12::float8[], $13::float8[], $14::float8[], $15::int[], $16::bool[])
         AS x(s, i, b, o, h, l, c, v, q, w, n, bv, f, la, r, fi)`,
      cols,
    ),
  );
}

async function recorded(url: string, table: string): Promise<{ version: number; checksum: string }[]> {
  return withPg(url, async (c) => (await c.query(`SELECT version, checksum FROM ${MIGRATIONS_TABLE} WHERE target = $1 ORDER BY version`, [table])).rows);
}

async function columns(url: string, table: string): Promise<Record<string, string>> {
  return withPg(url, async (c) => {
    const { rows } = await c.query<{ column_name: string; data_type: string }>(
      'SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1',
      [table],
    );
    return Object.fromEntries(rows.map((r) => [r.column_name, r.data_type]));
  });
}

async function upgradePostgres(t: Test, store: 'postgres' | 'timescaledb', url: string): Promise<void> {
  const mode = store === 'timescaledb' ? 'hypertable' : 'partitioned';
  const table = uniqueName('bars');
  await withPg(url, async (c) => {
    if (mode === 'hypertable') {
      await c.query(`CREATE TABLE ${table} (${PREVIOUS_PG_BAR_COLUMNS})`);
      await c.query(`SELECT create_hypertable('${table}', by_range('bucket', INTERVAL '1 day'))`);
    } else {
      await c.query(`CREATE TABLE ${table} (${PREVIOUS_PG_BAR_COLUMNS}) PARTITION BY RANGE (bucket)`);
      await c.query(`CREATE INDEX ${table}_bucket_brin ON ${table} USING brin (bucket)`);
      await c.query(`CREATE TABLE ${table}_p20240301 PARTITION OF ${table} FOR VALUES FROM ('2024-03-01') TO ('2024-03-02')`);
    }
  });
  const old = oldBars(2000, 11);
  await insertOld(url, table, old);

  const sink = () => new PostgresSink({ name: store, url, table, log, idleCloseMs: 10_000 });
  const steps = postgresSteps(table, mode);
  const s1 = sink();
  const dry = await s1.migrate({ dryRun: true });
  t.same(
    dry.pending.map((s) => s.version),
    steps.map((s) => s.version),
    'dry run: every step pending',
  );
  t.ok(dry.adopted, 'dry run: the existing table was checked');
  t.notOk('complete' in (await columns(url, table)), 'dry run changed nothing');

  const first = await s1.migrate();
  await s1.close();
  t.ok(first.adopted, 'the unrecorded table is adopted');
  t.same(
    first.applied.map((s) => s.version),
    steps.map((s) => s.version),
    `applied ${steps.map((s) => s.version).join(', ')}`,
  );
  t.same(
    await recorded(url, table),
    steps.map((s) => ({ version: s.version, checksum: stepChecksum(s) })),
    'each step recorded once with its checksum',
  );
  const cols = await columns(url, table);
  t.equal(cols.complete, 'boolean', 'bars.complete added');
  t.equal(Object.keys(cols).length, 18, 'the 17 columns of version 1 and complete');
  t.equal((await columns(url, `${table}_signals`)).vals, 'ARRAY', 'signals table created');
  const got = await readPgBars(url, table);
  t.same(diffBars(got, old), [], `the ${old.length} old rows are kept and read back, every field (complete null: unknown)`);

  if (mode === 'hypertable') {
    const settings = await withPg(
      url,
      async (c) =>
        (await c.query(`SELECT segmentby, orderby FROM timescaledb_information.hypertable_compression_settings WHERE hypertable = $1::regclass`, [table])).rows,
    );
    t.same(settings, [{ segmentby: 'symbol,bar_interval', orderby: 'bucket' }], 'compression: segment by symbol and interval, order by bucket');
  } else {
    const idx = await withPg(url, async (c) => (await c.query(`SELECT indexdef FROM pg_indexes WHERE indexname = $1`, [`${table}_bucket_brin`])).rows);
    t.match(idx[0]?.indexdef, /USING brin \(bucket\)/, 'BRIN on bucket as before');
  }

  const s2 = sink();
  const second = await s2.migrate();
  t.same(second.applied, [], 'a second run applies nothing');
  t.notOk(second.adopted, 'and finds the record');
  await s2.write(oldBars(50, 12).map((b) => ({ ...b, revision: 5, complete: true })));
  await s2.close();
  t.equal((await readPgBars(url, table)).filter((b) => b.complete === true).length, 50, 'the upgraded table takes new bars with complete');
}

t.test('PostgreSQL 15: the previous layout upgraded, rows kept', (t) => upgradePostgres(t, 'postgres', env.TE_PG_URL!));
t.test('TimescaleDB: the previous hypertable upgraded, compression set, rows kept', (t) => upgradePostgres(t, 'timescaledb', env.TE_TSDB_URL!));

t.test('PostgreSQL: two migrators at once apply each step exactly once', async (t) => {
  const table = uniqueName('bars');
  const sinks = [0, 1].map(() => new PostgresSink({ name: 'postgres', url: env.TE_PG_URL!, table, log, idleCloseMs: 10_000 }));
  const results = await Promise.all(sinks.map((s) => s.migrate()));
  await Promise.all(sinks.map((s) => s.close()));
  const applied = results.map((r) => r.applied.map((s) => s.version));
  t.comment(`migrator A applied [${applied[0]!.join(', ')}], migrator B [${applied[1]!.join(', ')}]`);
  t.same([...applied[0]!, ...applied[1]!].sort(), [1, 2, 3], 'between them every step once');
  t.ok(
    applied.some((a) => a.length === 0),
    'the one that waited for the lock found nothing to do',
  );
  t.same(
    (await recorded(env.TE_PG_URL!, table)).map((r) => r.version),
    [1, 2, 3],
  );
});

t.test('PostgreSQL: a foreign table and an edited step are refused (TE_SCHEMA)', async (t) => {
  const foreign = uniqueName('bars');
  await withPg(env.TE_PG_URL!, (c) => c.query(`CREATE TABLE ${foreign} (symbol text, bucket timestamptz, price numeric)`));
  const s = new PostgresSink({ name: 'postgres', url: env.TE_PG_URL!, table: foreign, log, idleCloseMs: 10_000 });
  const err = await s.migrate().catch((e: unknown) => e);
  t.type(err, SchemaError);
  t.equal((err as SchemaError).code, ERROR_CODES.schema);
  t.match((err as Error).message, /bar_interval missing/, (err as Error).message);
  t.same(await recorded(env.TE_PG_URL!, foreign), [], 'nothing recorded (the transaction rolled back)');
  await s.close();

  const table = uniqueName('bars');
  const a = new PostgresSink({ name: 'postgres', url: env.TE_PG_URL!, table, log, idleCloseMs: 10_000 });
  await a.migrate();
  await withPg(env.TE_PG_URL!, (c) => c.query(`UPDATE ${MIGRATIONS_TABLE} SET checksum = 'edited' WHERE target = $1 AND version = 2`, [table]));
  const edited = await a.migrate().catch((e: unknown) => e);
  t.equal((edited as SchemaError).code, ERROR_CODES.schema);
  t.match((edited as Error).message, /migration 2 \(signals table\) was applied with checksum edited/);
  await a.close();
});

t.test('QuestDB: the previous layout upgraded, rows kept; a second run applies nothing', async (t) => {
  const table = uniqueName('bars');
  await questdbExec(
    env.TE_QUESTDB_HTTP!,
    `CREATE TABLE ${table} (symbol SYMBOL, bar_interval SYMBOL, bucket TIMESTAMP, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE,
      volume DOUBLE, quote_volume DOUBLE, vwap DOUBLE, trade_count LONG, buy_volume DOUBLE, first_event_time TIMESTAMP, last_event_time TIMESTAMP,
      revision INT, final BOOLEAN) TIMESTAMP(bucket) PARTITION BY DAY WAL DEDUP UPSERT KEYS(bucket, symbol, bar_interval)`,
  );
  const old = oldBars(300, 13);
  const us = (x: number) => `cast(${x} AS timestamp)`;
  const values = old.map(
    (b) =>
      `('${b.symbol}', '${b.interval}', ${us(b.bucketStart)}, ${b.open}, ${b.high}, ${b.low}, ${b.close}, ${b.volume}, ${b.quoteVolume}, ${b.vwap}, ${b.tradeCount}, ${b.buyVolume}, ${us(b.firstEventTime)}, ${us(b.lastEventTime)}, ${b.revision}, ${b.final})`,
  );
  // In requests of 40 rows: /exec takes its SQL in the URL.
  for (let i = 0; i < values.length; i += 40) await questdbExec(env.TE_QUESTDB_HTTP!, `INSERT INTO ${table} VALUES ${values.slice(i, i + 40).join(',')}`);
  await waitFor(
    () => questDbCount(env.TE_QUESTDB_HTTP!, table),
    (n) => n === old.length,
    30_000,
  );

  const sink = new QuestDbSink({ httpUrl: env.TE_QUESTDB_HTTP!, table, log });
  const dry = await sink.migrate({ dryRun: true });
  t.same(
    dry.pending.map((s) => s.version),
    [1, 2, 3],
    'dry run: every step pending',
  );
  const first = await sink.migrate();
  t.ok(first.adopted, 'the unrecorded table is adopted');
  t.same(
    first.applied.map((s) => s.version),
    [1, 2, 3],
  );
  const rows = (await questdbExec(env.TE_QUESTDB_HTTP!, `SELECT version, checksum FROM ${MIGRATIONS_TABLE} WHERE target = '${table}' ORDER BY version`))
    .dataset;
  t.same(
    rows,
    questdbSteps(table).map((s) => [s.version, stepChecksum(s)]),
    'each step recorded once with its checksum',
  );
  // ALTER on a WAL table is applied asynchronously.
  const cols = await waitFor(
    async () => (await questdbExec(env.TE_QUESTDB_HTTP!, `SELECT "column", type FROM table_columns('${table}')`)).dataset as [string, string][],
    (c) => c.some(([n]) => n === 'complete'),
    30_000,
  );
  t.same(
    cols.find(([n]) => n === 'complete'),
    ['complete', 'SYMBOL'],
    'bars.complete added as a symbol',
  );
  t.equal(await questDbCount(env.TE_QUESTDB_HTTP!, `${table}_signals`), 0, 'signals table created');
  t.same(diffBars(await readQuestDbBars(env.TE_QUESTDB_PG_URL!, table), old), [], `the ${old.length} old rows are kept and read back (complete null)`);
  t.same((await sink.migrate()).applied, [], 'a second run applies nothing');
  await sink.close();
});

t.test('QuestDB: two migrators at once on a fresh table both succeed (idempotent steps); the next run applies nothing', async (t) => {
  const table = uniqueName('bars');
  const both = await Promise.all([0, 1].map(() => new QuestDbSink({ httpUrl: env.TE_QUESTDB_HTTP!, table, log }).migrate()));
  t.comment(`migrator A applied [${both[0]!.applied.map((s) => s.version).join(', ')}], migrator B [${both[1]!.applied.map((s) => s.version).join(', ')}]`);
  t.same([...new Set(both.flatMap((r) => r.applied.map((s) => s.version)))].sort(), [1, 2, 3], 'every step applied (by one or both: QuestDB has no lock)');
  const cols = await waitFor(
    async () => (await questdbExec(env.TE_QUESTDB_HTTP!, `SELECT "column" FROM table_columns('${table}')`)).dataset!.map((r) => r[0]),
    (c) => c.includes('complete'),
    30_000,
  );
  t.equal(cols.length, 17, 'the table has its 17 columns once');
  t.same((await new QuestDbSink({ httpUrl: env.TE_QUESTDB_HTTP!, table, log }).migrate()).applied, [], 'a third run applies nothing');
});

t.test('tick-engine migrate: --dry-run lists, a run applies, a second run applies nothing', async (t) => {
  const e = testEnv({ TE_SINKS: 'postgres,questdb' });
  const table = e.TE_BARS_TABLE!;
  const run = async (args: string[]) => {
    const p = runCli(['migrate', ...args], e);
    const code = await p.exited;
    t.equal(code, 0, `migrate ${args.join(' ')} exits 0`);
    return p.output();
  };
  const dry = await run(['--dry-run']);
  t.match(dry, new RegExp(`postgres ${table}: pending: 1 bars table, daily range partitions, BRIN on bucket; 2 signals table; 3 bars.complete`));
  t.match(dry, new RegExp(`questdb ${table}: pending: 1 bars table`));
  t.equal(await withPg(env.TE_PG_URL!, async (c) => (await c.query('SELECT to_regclass($1) AS r', [table])).rows[0].r), null, 'dry run created nothing');
  const real = await run([]);
  t.match(real, new RegExp(`postgres ${table}: applied: 1 `));
  t.match(real, new RegExp(`questdb ${table}: applied: 1 `));
  const again = await run([]);
  t.match(again, new RegExp(`postgres ${table}: up to date, nothing applied`));
  t.match(again, new RegExp(`questdb ${table}: up to date, nothing applied`));
});

/** The tick archive table as the archive command first created it, before it had migrations (git show 6941f65). */
const PREVIOUS_ARCHIVE_DDL = (t: string) =>
  `CREATE TABLE IF NOT EXISTS ${t} (venue SYMBOL, symbol SYMBOL, trade_id VARCHAR, ts TIMESTAMP, price DOUBLE, size DOUBLE,
    side SYMBOL, ingest_time TIMESTAMP, venue_symbol SYMBOL) TIMESTAMP(ts) PARTITION BY DAY WAL DEDUP UPSERT KEYS(ts, venue, symbol, trade_id)`;

t.test('tick archive: a table from before its migrations is adopted with its rows; a new one is recorded; migrate covers it', async (t) => {
  const e = testEnv({ TE_SINKS: 'questdb' });
  const http = env.TE_QUESTDB_HTTP!;
  const recorded = async (table: string) =>
    (await questdbExec(http, `SELECT version, checksum FROM ${MIGRATIONS_TABLE} WHERE target = '${table}' ORDER BY version`)).dataset as [number, string][];

  // An archive written by the earlier engine: adopted, its rows kept, its step recorded.
  const old = e.TE_TICKS_TABLE!;
  await questdbExec(http, PREVIOUS_ARCHIVE_DDL(old));
  await questdbExec(
    http,
    `INSERT INTO ${old} VALUES ('SIM', 'BTC-USD', '1', '2024-03-01T00:00:00.000001Z', 64000.5, 0.25, 'BUY', '2024-03-01T00:00:00.1Z', null),
      ('SIM', 'BTC-USD', '2', '2024-03-01T00:00:01Z', 64001, 1, 'SELL', '2024-03-01T00:00:01.1Z', 'BTCUSD')`,
  );
  await waitFor(
    async () => questDbCount(http, old),
    (n) => n === 2,
    30_000,
  );
  const archive = new TickArchive({ httpUrl: http, table: old, log });
  t.teardown(() => archive.close());
  t.equal(await archive.exists(), true, 'the old table is there');
  const adopted = await archive.migrate();
  t.equal(adopted.adopted, true, 'the unrecorded table is checked and adopted');
  t.same(
    adopted.applied.map((s) => s.version),
    [1],
    'and its step recorded',
  );
  t.same(
    await recorded(old),
    archiveSteps(old).map((s) => [s.version, stepChecksum(s)]),
    'te_schema_migrations holds the archive step, checksum included',
  );
  t.equal(await questDbCount(http, old), 2, 'its rows kept');
  t.same((await archive.migrate()).applied, [], 'a second run applies nothing');

  // `tick-engine migrate` reports the archive once it exists.
  const p = runCli(['migrate'], e);
  t.equal(await p.exited, 0, 'migrate exits 0');
  t.match(p.output(), new RegExp(`questdb ${old}: up to date, nothing applied`), 'migrate names the archive table');

  // A new archive: made through the migrations by init (what the archive command runs).
  const fresh = `${old}_new`;
  const created = new TickArchive({ httpUrl: http, table: fresh, log });
  t.teardown(() => created.close());
  t.equal(await created.exists(), false, 'no table before init');
  await created.init();
  t.same(
    (await recorded(fresh)).map((r) => r[0]),
    [1],
    'init applied and recorded version 1',
  );
  const columns = (await questdbExec(http, `SELECT "column", type, designated FROM table_columns('${fresh}')`)).dataset as [string, string, boolean][];
  t.same(
    columns.filter(([, , d]) => d).map(([c]) => c),
    ['ts'],
    'ts is the designated timestamp',
  );
  t.equal(columns.length, 9, 'nine columns');

  // A foreign table under the archive's name is refused, named.
  const foreign = `${old}_foreign`;
  await questdbExec(http, `CREATE TABLE ${foreign} (venue SYMBOL, ts TIMESTAMP, price LONG) TIMESTAMP(ts) PARTITION BY DAY WAL`);
  const refused = new TickArchive({ httpUrl: http, table: foreign, log });
  t.teardown(() => refused.close());
  await t.rejects(refused.migrate(), {
    code: 'TE_SCHEMA',
    message: new RegExp(`table ${foreign} exists without a recorded migration .*price LONG \\(expected DOUBLE\\)`),
  });
});
