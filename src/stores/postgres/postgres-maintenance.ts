// Storage policies on PostgreSQL and TimescaleDB (tick-engine maintain): daily partitions ahead, retention per
// interval (whole chunks or partitions dropped once every interval in them expired, the expired rows of the others
// deleted), TimescaleDB compression — run here, or registered as the server's own jobs when its background workers run.
import type pg from 'pg';
import type { Logger } from '../../log.js';
import { microsToDay } from '../../time.js';
import { emptyReport, expiringIntervals, type MaintainPolicy, type MaintainReport } from '../maintenance.js';
import type { PgMode } from './postgres-migrations.js';

const DAY_US = 86_400_000_000;

/** The partition of `table` holding the UTC day `day` (YYYY-MM-DD), created if missing. */
export function partitionDdl(table: string, day: string): { name: string; sql: string } {
  const next = new Date(Date.parse(day) + 86_400_000).toISOString().slice(0, 10);
  const name = `${table}_p${day.replace(/-/g, '')}`;
  return { name, sql: `CREATE TABLE IF NOT EXISTS ${name} PARTITION OF ${table} FOR VALUES FROM ('${day}') TO ('${next}')` };
}

/** Where the statements go: the sink's connection, with its session settings. */
export interface PgQueryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** A chunk (TimescaleDB) or partition (PostgreSQL) and the bucket range it holds, µs. */
interface Segment {
  name: string;
  startUs: number;
  endUs: number;
  /** TimescaleDB: compressed, and not partially (rows added since). */
  compressed: boolean;
}

const toUs = (col: string) => `(extract(epoch from ${col}) * 1000000)::bigint`;
const iso = (us: number) => new Date(Math.floor(us / 1000)).toISOString();

async function segments(db: PgQueryable, table: string, mode: PgMode): Promise<Segment[]> {
  if (mode === 'hypertable') {
    // Status bit 8: partially compressed (rows written into the chunk after it was compressed).
    const { rows } = await db.query<{ name: string; start_us: string; end_us: string; compressed: boolean }>(
      `SELECT format('%I.%I', c.chunk_schema, c.chunk_name) AS name, ${toUs('c.range_start')} AS start_us, ${toUs('c.range_end')} AS end_us,
          c.is_compressed AND (ch.status & 8) = 0 AS compressed
        FROM timescaledb_information.chunks c JOIN _timescaledb_catalog.chunk ch ON ch.schema_name = c.chunk_schema AND ch.table_name = c.chunk_name
        WHERE c.hypertable_schema = current_schema() AND c.hypertable_name = $1 ORDER BY c.range_start`,
      [table],
    );
    return rows.map((r) => ({ name: r.name, startUs: Number(r.start_us), endUs: Number(r.end_us), compressed: r.compressed }));
  }
  const { rows } = await db.query<{ name: string; start_us: string; end_us: string }>(
    `SELECT name, ${toUs('b[1]::timestamptz')} AS start_us, ${toUs('b[2]::timestamptz')} AS end_us FROM (
        SELECT c.relname AS name, regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''([^'']+)''\\) TO \\(''([^'']+)''\\)') AS b
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass($1)) p
      WHERE b IS NOT NULL ORDER BY 2`,
    [table],
  );
  return rows.map((r) => ({ name: r.name, startUs: Number(r.start_us), endUs: Number(r.end_us), compressed: false }));
}

/** Whether a real TimescaleDB server runs background jobs (the PGlite endpoint runs none): then policies are its jobs. */
export async function timescaleJobsRun(db: PgQueryable): Promise<boolean> {
  const { rows } = await db.query<{ jobs: boolean }>(
    `SELECT coalesce(current_setting('timescaledb.max_background_workers', true), '0')::int > 0
        AND EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'TimescaleDB Background Worker Launcher') AS jobs`,
  );
  return rows[0]!.jobs;
}

export interface PgMaintainOptions {
  store: string;
  table: string;
  mode: PgMode;
  policy: MaintainPolicy;
  log: Logger;
}

export async function maintainPostgres(db: PgQueryable, opts: PgMaintainOptions): Promise<MaintainReport> {
  const { store, table, mode, policy } = opts;
  const nowUs = (policy.nowMs ?? Date.now()) * 1000;
  const jobs = mode === 'hypertable' && (await timescaleJobsRun(db));
  const report = emptyReport(store, table, jobs ? 'jobs' : 'explicit');

  if (mode === 'partitioned') await createAhead(db, table, nowUs, policy.partitionsAhead, report);
  if (mode === 'hypertable' && (await setChunkInterval(db, table, policy.chunkIntervalUs)))
    report.settings.push(`chunk interval: ${policy.chunkIntervalUs / 1e6} s`);
  if (jobs) await registerJobs(db, table, policy, report);

  let segs = await segments(db, table, mode);
  const drop = async (seg: Segment) => {
    if (mode === 'hypertable')
      await db.query(`SELECT drop_chunks($1, older_than => $2::timestamptz, newer_than => $3::timestamptz)`, [table, iso(seg.endUs), iso(seg.startUs)]);
    else await db.query(`DROP TABLE IF EXISTS ${seg.name}`);
    report.dropped.push(seg.name);
  };

  // Every interval expired: whole chunks or partitions go (the retention job does this on a real server).
  const longest = policy.retention.longest;
  if (longest !== null && !jobs) for (const seg of segs.filter((s) => s.endUs <= nowUs - longest)) await drop(seg);
  segs = segs.filter((s) => !report.dropped.includes(s.name));

  // Some intervals expired: their rows go, the others stay. Partition and chunk exclusion keep each DELETE to the old data.
  const expiring = expiringIntervals(policy, nowUs);
  for (const { interval, cutoffUs } of expiring) {
    if (!segs.some((s) => s.startUs < cutoffUs)) continue;
    const started = performance.now();
    const bars = await db.query(`DELETE FROM ${table} WHERE bar_interval = $1 AND bucket < $2`, [interval, iso(cutoffUs)]);
    report.ms[`delete ${interval}`] = Math.round(performance.now() - started);
    const signals = await db.query(`DELETE FROM ${table}_signals WHERE bar_interval = $1 AND bar_time < $2`, [interval, iso(cutoffUs)]);
    if (bars.rowCount) report.deleted[interval] = bars.rowCount;
    if (signals.rowCount) report.deleted[`${interval} signals`] = signals.rowCount;
  }
  // A chunk or partition left empty by those deletes (every interval it held expired) goes too.
  const latestCutoff = Math.max(-Infinity, ...expiring.map((e) => e.cutoffUs));
  for (const seg of segs.filter((s) => s.endUs <= latestCutoff)) {
    const { rows } = await db.query<{ empty: boolean }>(`SELECT NOT EXISTS (SELECT 1 FROM ${seg.name}) AS empty`);
    if (rows[0]!.empty) await drop(seg);
  }
  segs = segs.filter((s) => !report.dropped.includes(s.name));

  // Compression last: nothing is compressed only to be dropped. Partially compressed chunks (late revisions) are
  // compressed again.
  if (mode === 'hypertable' && !jobs && policy.compressAfterUs !== null) {
    const started = performance.now();
    for (const seg of segs.filter((s) => !s.compressed && s.endUs <= nowUs - policy.compressAfterUs!)) {
      await db.query('SELECT compress_chunk($1::regclass, if_not_compressed => true)', [seg.name]);
      report.compressed.push(seg.name);
    }
    if (report.compressed.length > 0) report.ms.compress = Math.round(performance.now() - started);
  }
  // No background workers, no autovacuum either: deleted rows and the batches that recompression replaced stay on disk
  // until a VACUUM (without one, a day's table on the endpoint grew from 70 to 109 MiB
  // through compression, late revisions, recompression and a retention delete).
  if (mode === 'hypertable' && !jobs && (report.compressed.length > 0 || Object.keys(report.deleted).length > 0)) {
    const started = performance.now();
    await db.query(`VACUUM ${table}`);
    report.settings.push('vacuumed');
    report.ms.vacuum = Math.round(performance.now() - started);
  }
  opts.log.info({ ...report }, 'storage policies applied');
  return report;
}

/** New chunks of `table` span `us`; true when that changed it. */
export async function setChunkInterval(db: PgQueryable, table: string, us: number): Promise<boolean> {
  const { rows } = await db.query<{ us: string }>(
    `SELECT ${toUs('time_interval')} AS us FROM timescaledb_information.dimensions WHERE hypertable_schema = current_schema() AND hypertable_name = $1 AND column_name = 'bucket'`,
    [table],
  );
  if (rows.length > 0 && Number(rows[0]!.us) === us) return false;
  await db.query(`SELECT set_chunk_time_interval($1, make_interval(secs => $2))`, [table, us / 1e6]);
  return true;
}

async function createAhead(db: PgQueryable, table: string, nowUs: number, ahead: number, report: MaintainReport): Promise<void> {
  const today = Math.floor(nowUs / DAY_US) * DAY_US;
  for (let d = 0; d <= ahead; d++) {
    const { name, sql } = partitionDdl(table, microsToDay(today + d * DAY_US));
    const { rows } = await db.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [name]);
    if (rows[0]!.found) continue;
    await db.query(sql);
    report.created.push(name);
  }
}

/** A real TimescaleDB server: its compression and retention jobs, replaced so a changed policy takes effect. */
async function registerJobs(db: PgQueryable, table: string, policy: MaintainPolicy, report: MaintainReport): Promise<void> {
  await db.query('SELECT remove_compression_policy($1, if_exists => true)', [table]);
  if (policy.compressAfterUs !== null) {
    await db.query(`SELECT add_compression_policy($1, compress_after => make_interval(secs => $2))`, [table, policy.compressAfterUs / 1e6]);
    report.settings.push(`compression policy: after ${policy.compressAfterUs / 1e6} s`);
  }
  await db.query('SELECT remove_retention_policy($1, if_exists => true)', [table]);
  const longest = policy.retention.longest;
  if (longest !== null) {
    await db.query(`SELECT add_retention_policy($1, drop_after => make_interval(secs => $2))`, [table, longest / 1e6]);
    report.settings.push(`retention policy: drop chunks after ${longest / 1e6} s`);
  }
}
