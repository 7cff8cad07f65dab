// Storage policies (tick-engine maintain) on the real servers: TimescaleDB compression of a day of bars (sizes printed),
// late revisions landing in compressed chunks, retention per interval dropping exactly the expired chunks or
// partitions and rows of the expired intervals only; PostgreSQL partitions ahead; QuestDB TTL.
import t, { type Test } from 'tap';
import type { Bar } from '../../src/contracts/bar.js';
import { RetentionPolicy } from '../../src/contracts/retention.js';
import type { Signal } from '../../src/contracts/signal.js';
import type { Tick } from '../../src/contracts/tick.js';
import { Prng } from '../../src/ingest/prng.js';
import { logger } from '../../src/log.js';
import type { MaintainPolicy } from '../../src/stores/maintenance.js';
import { PostgresSink } from '../../src/stores/postgres/postgres-sink.js';
import { questdbExec } from '../../src/stores/questdb/questdb-exec.js';
import { QuestDbSink } from '../../src/stores/questdb/questdb-sink.js';
import { TickArchive } from '../../src/stores/questdb/tick-archive.js';
import { runCli } from '../helpers/cli.js';
import { stackEnv, testEnv, uniqueName } from '../helpers/env.js';
import { barId, diffBars } from '../helpers/oracle.js';
import { questDbCount, readPgBars, readPgSignals, readQuestDbBars, waitFor, withPg } from '../helpers/stores.js';

const env = stackEnv();
const log = logger('test');
const DAY_US = 86_400_000_000;
const dayUs = (iso: string) => Date.parse(`${iso}T00:00:00Z`) * 1000;
const WIDTH: Record<string, number> = { '1s': 1e6, '1m': 60e6, '1h': 3600e6, '1d': DAY_US };

/** A random-walk bar (prices in cents, as a venue's) for each symbol and bucket. */
function walkBars(symbols: number, interval: string, from: number, count: number, rng: Prng): Bar[] {
  const out: Bar[] = [];
  for (let s = 0; s < symbols; s++) {
    let price = 100 + s * 10;
    for (let i = 0; i < count; i++) {
      const open = price;
      price = Math.max(1, Number((price + (rng.next() - 0.5) * 0.2).toFixed(2)));
      const volume = Number((rng.next() * 5).toFixed(4)) + 0.0001;
      const start = from + i * WIDTH[interval]!;
      out.push({
        symbol: `SYM${s}`,
        interval,
        bucketStart: start,
        open,
        high: Math.max(open, price) + 0.01,
        low: Math.min(open, price) - 0.01,
        close: price,
        volume,
        quoteVolume: volume * (open + price) * 0.5,
        vwap: (open + price) * 0.5,
        tradeCount: 1 + rng.int(50),
        buyVolume: volume * rng.next(),
        firstEventTime: start + rng.int(1000),
        lastEventTime: start + WIDTH[interval]! - 1 - rng.int(1000),
        revision: 0,
        final: true,
        complete: true,
      });
    }
  }
  return out;
}

async function writeAll(sink: PostgresSink, bars: Bar[]): Promise<void> {
  for (let i = 0; i < bars.length; i += 20_000) await sink.write(bars.slice(i, i + 20_000));
}

const policy = (p: Partial<MaintainPolicy> & { nowMs: number }): MaintainPolicy => ({
  retention: RetentionPolicy.KEEP_ALL,
  intervals: ['1s', '1m', '1h', '1d'],
  compressAfterUs: null,
  partitionsAhead: 0,
  chunkIntervalUs: DAY_US,
  ...p,
});

interface Chunk {
  name: string;
  start: string;
  compressed: boolean;
}

async function chunks(table: string): Promise<Chunk[]> {
  return withPg(env.TE_TSDB_URL!, async (c) => {
    const { rows } = await c.query<{ name: string; start: Date; compressed: boolean }>(
      `SELECT format('%I.%I', chunk_schema, chunk_name) AS name, range_start AS start, is_compressed AS compressed
         FROM timescaledb_information.chunks WHERE hypertable_name = $1 ORDER BY range_start`,
      [table],
    );
    return rows.map((r) => ({ name: r.name, start: r.start.toISOString().slice(0, 10), compressed: r.compressed }));
  });
}

const mb = (n: number) => `${(n / 1048576).toFixed(2)} MiB`;

t.test('TimescaleDB: a day of bars compressed (sizes), read back exactly; late revisions land in the compressed chunk', async (t) => {
  const table = uniqueName('bars');
  const rng = new Prng(21);
  const day = dayUs('2024-05-01');
  // A day of 2 symbols: 1s, 1m, 1h and 1d bars (172,800 + 2,880 + 48 + 2 rows).
  const bars = ['1s', '1m', '1h', '1d'].flatMap((iv) => walkBars(2, iv, day, DAY_US / WIDTH[iv]!, rng));
  const sink = new PostgresSink({ name: 'timescaledb', url: env.TE_TSDB_URL!, table, log, idleCloseMs: 60_000, timeoutMs: 120_000 });
  await sink.init();
  let started = Date.now();
  await writeAll(sink, bars);
  t.comment(`${bars.length} bars written in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const size = async () => withPg(env.TE_TSDB_URL!, async (c) => Number((await c.query(`SELECT hypertable_size($1) AS n`, [table])).rows[0].n));
  await sink.close();
  const before = await size();

  const sink2 = new PostgresSink({ name: 'timescaledb', url: env.TE_TSDB_URL!, table, log, idleCloseMs: 60_000, timeoutMs: 120_000 });
  // Compress after 1 day; now = the end of 2024-05-02: the chunk of 05-01 ended a day ago.
  const [chunk] = await chunks(table);
  started = Date.now();
  const r1 = await sink2.maintain(policy({ compressAfterUs: DAY_US, nowMs: dayUs('2024-05-03') / 1000 }));
  t.comment(`maintain took ${((Date.now() - started) / 1000).toFixed(1)} s: compress_chunk ${r1.ms.compress} ms, VACUUM ${r1.ms.vacuum} ms`);
  t.equal(r1.how, 'explicit', 'the endpoint runs no background jobs: policies applied by maintain itself');
  t.same(r1.compressed, [chunk!.name], 'the one chunk older than TE_COMPRESS_AFTER compressed');
  await sink2.close();
  const after = await size();
  const stats = await withPg(
    env.TE_TSDB_URL!,
    async (c) =>
      (
        await c.query(
          `SELECT sum(before_compression_total_bytes)::bigint AS before, sum(after_compression_total_bytes)::bigint AS after FROM chunk_compression_stats($1)`,
          [table],
        )
      ).rows[0],
  );
  t.comment(
    `a day of bars (${bars.length} rows, 2 symbols × 1s/1m/1h/1d): hypertable_size ${mb(before)} before compression, ${mb(after)} after ` +
      `(${(before / after).toFixed(1)}×); chunk_compression_stats: ${mb(Number(stats.before))} → ${mb(Number(stats.after))}`,
  );
  t.ok(after < before, 'compression made the table smaller');
  t.same(
    (await chunks(table)).map((c) => c.compressed),
    [true],
  );
  t.same(diffBars(await readPgBars(env.TE_TSDB_URL!, table), bars), [], 'every bar reads back exactly from the compressed chunk');

  // Late revisions into the compressed chunk: a newer revision replaces, an older one is ignored, nothing duplicates.
  const late = bars.filter((_, i) => i % 499 === 0);
  const revised = late.map((b) => ({ ...b, close: b.close + 0.5, high: b.high + 0.5, revision: 1 }));
  const stale = late.slice(0, 50).map((b) => ({ ...b, close: -1, revision: 0 }));
  const sink3 = new PostgresSink({ name: 'timescaledb', url: env.TE_TSDB_URL!, table, log, idleCloseMs: 60_000, timeoutMs: 120_000 });
  await sink3.write(revised);
  await sink3.write(stale);
  await sink3.close();
  const expected = new Map(bars.map((b) => [barId(b), b]));
  for (const b of revised) expected.set(barId(b), b);
  t.same(
    diffBars(await readPgBars(env.TE_TSDB_URL!, table), [...expected.values()]),
    [],
    `${revised.length} late revisions landed in the compressed chunk, stale ones did not`,
  );
  const sink4 = new PostgresSink({ name: 'timescaledb', url: env.TE_TSDB_URL!, table, log, idleCloseMs: 60_000, timeoutMs: 120_000 });
  const partial = await size();
  const r2 = await sink4.maintain(policy({ compressAfterUs: DAY_US, nowMs: dayUs('2024-05-03') / 1000 }));
  await sink4.close();
  t.comment(`after ${revised.length} late revisions: ${mb(partial)}; compressed again and vacuumed: ${mb(await size())}`);
  t.same(r2.settings, ['vacuumed'], 'the endpoint has no autovacuum: maintain vacuums what it changed');
  t.same(r2.compressed, [chunk!.name], 'the partially compressed chunk is compressed again');
  t.same(diffBars(await readPgBars(env.TE_TSDB_URL!, table), [...expected.values()]), [], 'and still reads back exactly');

  // Retention of one interval inside the compressed chunk: its rows are whole batches (bar_interval is a segment-by
  // column), so the others stay compressed.
  const sink5 = new PostgresSink({ name: 'timescaledb', url: env.TE_TSDB_URL!, table, log, idleCloseMs: 60_000, timeoutMs: 120_000 });
  const r3 = await sink5.maintain(policy({ retention: RetentionPolicy.parse('1s=1d'), compressAfterUs: DAY_US, nowMs: dayUs('2024-05-03') / 1000 }));
  await sink5.close();
  const ones = bars.filter((b) => b.interval === '1s').length;
  t.same(r3.deleted, { '1s': ones }, `every 1s bar of the compressed day deleted (${ones} rows)`);
  t.same(r3.dropped, [], 'the chunk stays: it holds bars of other intervals');
  // The statement's own time (the endpoint serves one session at a time: waiting for it is not the delete's cost).
  t.comment(
    `1s retention inside the compressed chunk: ${ones} rows deleted in ${r3.ms['delete 1s']} ms (VACUUM ${r3.ms.vacuum} ms); hypertable_size now ${mb(await size())}`,
  );
  t.same(
    diffBars(
      await readPgBars(env.TE_TSDB_URL!, table),
      [...expected.values()].filter((b) => b.interval !== '1s'),
    ),
    [],
    'the 1m, 1h and 1d bars remain exactly',
  );
});

/**
 * Ten days (2024-06-01 … 06-10) of 1s, 1m and 1d bars and signals for 2 symbols, except that 06-02 has no 1d bar:
 * once its 1s and 1m rows expire, its chunk or partition is empty and goes.
 */
function tenDays(): { bars: Bar[]; signals: Signal[] } {
  const rng = new Prng(33);
  const bars: Bar[] = [];
  for (let d = 0; d < 10; d++) {
    const day = dayUs('2024-06-01') + d * DAY_US;
    bars.push(...walkBars(2, '1s', day + 3600e6, 30, rng), ...walkBars(2, '1m', day + 7200e6, 20, rng));
    if (d !== 1) bars.push(...walkBars(2, '1d', day, 1, rng));
  }
  const signals: Signal[] = bars
    .filter((_, i) => i % 10 === 0)
    .map((b) => ({ symbol: b.symbol, interval: b.interval, barTime: b.bucketStart, name: 'rsi_zone', direction: 'UP', values: [71.5] }));
  return { bars, signals };
}

/** What survives retention: each row at or after its interval's cutoff (an interval without one is kept). */
const kept = <T extends { interval: string }>(rows: T[], time: (x: T) => number, keepFrom: Record<string, number>): T[] =>
  rows.filter((x) => time(x) >= (keepFrom[x.interval] ?? -Infinity));
const barTime = (b: Bar) => b.bucketStart;
const signalTime = (s: Signal) => s.barTime;

const NOW = dayUs('2024-06-11') / 1000;

async function retentionRun(t: Test, store: 'timescaledb' | 'postgres'): Promise<void> {
  const url = store === 'timescaledb' ? env.TE_TSDB_URL! : env.TE_PG_URL!;
  const table = uniqueName('bars');
  const { bars, signals } = tenDays();
  // The endpoint serves one session at a time: the sink gives it back after each statement, so the checks can read.
  const sink = new PostgresSink({ name: store, url, table, log, idleCloseMs: 0, timeoutMs: 120_000 });
  await sink.init();
  await sink.write(bars);
  await sink.writeSignals(signals);
  if (store === 'timescaledb') {
    // Compress every chunk ended two days before now first: retention then works on compressed chunks.
    const r = await sink.maintain(policy({ compressAfterUs: 2 * DAY_US, nowMs: NOW }));
    t.equal(r.compressed.length, 8, 'chunks of 06-01 … 06-08 compressed');
  }
  const segNames = async () =>
    store === 'timescaledb'
      ? (await chunks(table)).map((c) => `${c.start}`)
      : await withPg(url, async (c) =>
          (
            await c.query<{ p: string }>(
              `SELECT c.relname AS p FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY 1`,
              [table],
            )
          ).rows.map((r) => `${r.p.slice(-8, -4)}-${r.p.slice(-4, -2)}-${r.p.slice(-2)}`),
        );
  const allDays = Array.from({ length: 10 }, (_, d) => `2024-06-${String(d + 1).padStart(2, '0')}`);
  t.same((await segNames()).slice(0, 10), allDays, 'one chunk or partition per day');
  const chunkNames = new Map((await chunks(table)).map((c) => [c.start, c.name]));
  const nameOf = (day: string) => (store === 'timescaledb' ? chunkNames.get(day)! : `${table}_p${day.replace(/-/g, '')}`);
  const name0602 = nameOf('2024-06-02');

  // 1s kept 3 days, 1m 6 days, 1d for ever: no day expires whole, but 06-02 (no 1d bar) is left empty.
  const r1 = await sink.maintain(policy({ retention: RetentionPolicy.parse('1s=3d,1m=6d,1d=forever'), partitionsAhead: 3, nowMs: NOW }));
  const keep1 = { '1s': dayUs('2024-06-08'), '1m': dayUs('2024-06-05') };
  t.same(r1.dropped, [name0602], 'only the chunk or partition left empty (06-02: no 1d bar) dropped');
  t.same(
    r1.deleted,
    {
      '1s': bars.filter((b) => b.interval === '1s' && b.bucketStart < keep1['1s']).length,
      '1m': bars.filter((b) => b.interval === '1m' && b.bucketStart < keep1['1m']).length,
      '1s signals': signals.filter((s) => s.interval === '1s' && s.barTime < keep1['1s']).length,
      '1m signals': signals.filter((s) => s.interval === '1m' && s.barTime < keep1['1m']).length,
    },
    'rows deleted: the expired 1s and 1m bars and signals, counted',
  );
  t.same(diffBars(await readPgBars(url, table), kept(bars, barTime, keep1)), [], 'exactly the unexpired bars remain: 1s from 06-08, 1m from 06-05, every 1d');
  t.same((await readPgSignals(url, `${table}_signals`)).length, kept(signals, signalTime, keep1).length, 'and the unexpired signals');
  if (store === 'postgres') {
    t.same(
      r1.created,
      ['20240611', '20240612', '20240613', '20240614'].map((d) => `${table}_p${d}`),
      'partitions created ahead: today and 3 more days',
    );
    t.same((await segNames()).slice(-4), ['2024-06-11', '2024-06-12', '2024-06-13', '2024-06-14']);
  }

  // Everything else kept 6 days: days whose end is 6 days or more before now go whole (06-01, 06-03, 06-04).
  const r2 = await sink.maintain(policy({ retention: RetentionPolicy.parse('1s=3d,*=6d'), nowMs: NOW }));
  t.same(r2.dropped, [nameOf('2024-06-01'), nameOf('2024-06-03'), nameOf('2024-06-04')], 'the chunks or partitions ended by 06-05 dropped');
  const keep2 = { ...keep1, '1d': dayUs('2024-06-05') };
  t.same(diffBars(await readPgBars(url, table), kept(bars, barTime, keep2)), [], 'the bars of 06-05 on remain, 1s from 06-08');
  t.same((await segNames())[0], '2024-06-05', 'the oldest chunk or partition left starts at 06-05');
  const r3 = await sink.maintain(policy({ retention: RetentionPolicy.parse('1s=3d,*=6d'), nowMs: NOW }));
  t.same([r3.dropped, r3.deleted], [[], {}], 'a second run finds nothing to do');
  if (store === 'timescaledb') {
    const r4 = await sink.maintain(policy({ chunkIntervalUs: 7 * DAY_US, nowMs: NOW }));
    t.same(r4.settings, [`chunk interval: ${7 * 86_400} s`], 'TE_TSDB_CHUNK_INTERVAL applied to new chunks');
    await sink.write(walkBars(1, '1d', dayUs('2024-07-01'), 1, new Prng(1)));
    const ranges = await withPg(url, async (c) =>
      (
        await c.query(
          `SELECT range_end - range_start AS width FROM timescaledb_information.chunks WHERE hypertable_name = $1 AND range_end > '2024-07-01' ORDER BY range_start`,
          [table],
        )
      ).rows.map((r: { width: { days: number } }) => r.width.days),
    );
    t.same(ranges, [7], 'the next chunk spans 7 days');
  }
  await sink.close();
}

t.test('TimescaleDB: retention per interval on compressed chunks', (t) => retentionRun(t, 'timescaledb'));
t.test('PostgreSQL 15: partitions ahead, retention per interval', (t) => retentionRun(t, 'postgres'));

t.test('QuestDB: TTL set when every interval expires (the longest), none otherwise; QuestDB drops the old partitions', async (t) => {
  const table = uniqueName('bars');
  const sink = new QuestDbSink({ httpUrl: env.TE_QUESTDB_HTTP!, table, log });
  await sink.init();
  const { bars } = tenDays();
  await sink.write(bars);
  await waitFor(
    () => questDbCount(env.TE_QUESTDB_HTTP!, table),
    (n) => n === bars.length,
    30_000,
  );
  const ttl = async (name: string) =>
    (await questdbExec(env.TE_QUESTDB_HTTP!, `SELECT ttlValue, ttlUnit FROM tables() WHERE table_name = '${name}'`)).dataset![0] as [number, string];

  const r1 = await sink.maintain(policy({ retention: RetentionPolicy.parse('1s=3d,1d=forever'), nowMs: NOW }));
  t.same(r1.settings, [`${table}: TTL none`, `${table}_signals: TTL none`], 'an interval kept for ever: no TTL');

  const r2 = await sink.maintain(policy({ retention: RetentionPolicy.parse('1s=1d,*=36h'), nowMs: NOW }));
  t.same(r2.settings, [`${table}: TTL 2 days`, `${table}_signals: TTL 2 days`], 'every interval expires: TTL the longest, in whole days');
  t.same(
    await waitFor(
      () => ttl(table),
      (v) => v[0] === 2,
      30_000,
    ),
    [2, 'DAY'],
    'QuestDB reports the TTL',
  );
  // QuestDB applies a TTL when it commits: one more row, then the partitions ended 2 days before the newest bar go.
  await sink.write([{ ...bars[bars.length - 1]!, revision: 1 }]);
  const newest = Math.max(...bars.map((b) => b.bucketStart));
  // QuestDB's rule: a partition goes when its end is before the newest timestamp minus the TTL.
  const stays = bars.filter((b) => Math.floor(b.bucketStart / DAY_US) * DAY_US + DAY_US >= newest - 2 * DAY_US);
  await waitFor(
    () => questDbCount(env.TE_QUESTDB_HTTP!, table),
    (n) => n === stays.length,
    30_000,
  );
  const left = await readQuestDbBars(env.TE_QUESTDB_PG_URL!, table);
  t.same(
    [...new Set(left.map((b) => new Date(b.bucketStart / 1000).toISOString().slice(0, 10)))].sort(),
    ['2024-06-08', '2024-06-09', '2024-06-10'],
    'QuestDB dropped every daily partition ended more than 2 days before the newest bar',
  );
  await sink.close();
});

t.test('tick-engine maintain: wall-clock retention and partitions ahead on PostgreSQL, one JSON report per store', async (t) => {
  const e = testEnv({ TE_SINKS: 'postgres', TE_RETENTION: '*=30d', TE_PARTITIONS_AHEAD: '2' });
  const table = e.TE_BARS_TABLE!;
  const sink = new PostgresSink({ name: 'postgres', url: env.TE_PG_URL!, table, log, idleCloseMs: 10_000 });
  await sink.init();
  const old = tenDays().bars;
  await sink.write(old);
  const recent = walkBars(2, '1m', Math.floor(Date.now() / 60_000) * 60e6 - 3600e6, 30, new Prng(5));
  await sink.write(recent);
  await sink.close();
  const p = runCli(['maintain'], e);
  t.equal(await p.exited, 0, 'maintain exits 0');
  // Standard output's report among the logs.
  const report = JSON.parse(
    p
      .output()
      .split('\n')
      .find((l) => l.startsWith('{"store"'))!,
  ) as { dropped: string[]; created: string[]; store: string };
  t.equal(report.store, 'postgres');
  t.same(
    report.dropped,
    Array.from({ length: 10 }, (_, d) => `${table}_p202406${String(d + 1).padStart(2, '0')}`),
    'the ten days of 2024 dropped (older than 30 days)',
  );
  const today = new Date().toISOString().slice(0, 10).replace(/-/g, '');
  t.ok(
    report.created.every((n) => n > `${table}_p${today}`),
    `partitions ahead created: ${report.created.join(', ')}`,
  );
  t.same(diffBars(await readPgBars(env.TE_PG_URL!, table), recent), [], 'the recent bars remain');
});

t.test('tick-engine maintain: TE_ARCHIVE_TTL_DAYS sets the tick archive TTL; QuestDB drops its old daily partitions', async (t) => {
  const e = testEnv({ TE_SINKS: 'questdb', TE_ARCHIVE_TTL_DAYS: '2' });
  const http = env.TE_QUESTDB_HTTP!;
  const ticksTable = e.TE_TICKS_TABLE!;
  // The bars table maintain also visits, and an archive of ten days of ticks, four a day.
  const sink = new QuestDbSink({ httpUrl: http, table: e.TE_BARS_TABLE!, log });
  await sink.init();
  await sink.close();
  const archive = new TickArchive({ httpUrl: http, table: ticksTable, log });
  t.teardown(() => archive.close());
  await archive.init();
  const ticks: Tick[] = [];
  for (let d = 0; d < 10; d++)
    for (let i = 0; i < 4; i++) {
      const eventTime = dayUs('2024-06-01') + d * DAY_US + i * 6 * 3600e6 + 1;
      ticks.push({ venue: 'SIM', symbol: 'BTC-USD', eventTime, price: 100 + d, size: 1, side: 'BUY', tradeId: `${d}-${i}`, ingestTime: eventTime + 5 });
    }
  await archive.write(ticks.slice(0, -1));
  await waitFor(
    () => questDbCount(http, ticksTable),
    (n) => n === ticks.length - 1,
    30_000,
  );

  const p = runCli(['maintain'], e);
  t.equal(await p.exited, 0, 'maintain exits 0');
  const reports = p
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{"store"'))
    .map((l) => JSON.parse(l) as { target: string; settings: string[] });
  t.same(reports.find((r) => r.target === ticksTable)?.settings, [`${ticksTable}: TTL 2 days`], 'a report for the archive table');
  const ttl = await questdbExec(http, `SELECT ttlValue, ttlUnit FROM tables() WHERE table_name = '${ticksTable}'`);
  t.same(ttl.dataset![0], [2, 'DAY'], 'QuestDB reports the TTL');
  // QuestDB applies the TTL when it commits: the last tick, then the partitions ended 2 days before it go.
  await archive.write(ticks.slice(-1));
  const newest = ticks[ticks.length - 1]!.eventTime;
  const stays = ticks.filter((x) => Math.floor(x.eventTime / DAY_US) * DAY_US + DAY_US >= newest - 2 * DAY_US);
  await waitFor(
    () => questDbCount(http, ticksTable),
    (n) => n === stays.length,
    30_000,
  );
  t.equal(await questDbCount(http, ticksTable), stays.length, `the ticks of the last three days left (${stays.length} of ${ticks.length})`);
});
