// The QuestDB tables' versioned layouts (the bars and signals tables; the tick archive): the steps in order, recorded
// in te_schema_migrations under each table's name. QuestDB has no
// locks or transactional DDL, so every step is idempotent (IF NOT EXISTS): two migrators at once may both run a step,
// harmlessly, and both record it (the versions are read as a set).
import { SchemaError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { MIGRATIONS_TABLE, pendingSteps, stepChecksum, type AppliedStep, type MigrationResult, type MigrationStep } from '../migrations.js';
import { questdbExec, questdbTableExists } from './questdb-exec.js';

/** Version 1's columns and their QuestDB types, checked before an unrecorded table is adopted. */
const V1_TYPES: Record<string, string> = {
  symbol: 'SYMBOL',
  bar_interval: 'SYMBOL',
  bucket: 'TIMESTAMP',
  open: 'DOUBLE',
  high: 'DOUBLE',
  low: 'DOUBLE',
  close: 'DOUBLE',
  volume: 'DOUBLE',
  quote_volume: 'DOUBLE',
  vwap: 'DOUBLE',
  trade_count: 'LONG',
  buy_volume: 'DOUBLE',
  first_event_time: 'TIMESTAMP',
  last_event_time: 'TIMESTAMP',
  revision: 'INT',
  final: 'BOOLEAN',
};

/** The steps of a bars table `t` (and `t_signals`). Never edit a released step: add one. */
export function questdbSteps(t: string): MigrationStep[] {
  return [
    {
      version: 1,
      name: 'bars table: WAL, daily partitions, DEDUP UPSERT KEYS on the bar identity',
      statements: [
        `CREATE TABLE IF NOT EXISTS ${t} (symbol SYMBOL, bar_interval SYMBOL, bucket TIMESTAMP, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE,
          volume DOUBLE, quote_volume DOUBLE, vwap DOUBLE, trade_count LONG, buy_volume DOUBLE, first_event_time TIMESTAMP, last_event_time TIMESTAMP,
          revision INT, final BOOLEAN) TIMESTAMP(bucket) PARTITION BY DAY WAL DEDUP UPSERT KEYS(bucket, symbol, bar_interval)`,
      ],
    },
    {
      version: 2,
      name: 'signals table',
      statements: [
        `CREATE TABLE IF NOT EXISTS ${t}_signals (symbol SYMBOL, bar_interval SYMBOL, bar_time TIMESTAMP, name SYMBOL, direction SYMBOL,
          value1 DOUBLE, value2 DOUBLE, value3 DOUBLE) TIMESTAMP(bar_time) PARTITION BY DAY WAL DEDUP UPSERT KEYS(bar_time, symbol, bar_interval, name)`,
      ],
    },
    // A SYMBOL, 'true' or 'false', absent when unknown: a QuestDB BOOLEAN cannot be null.
    { version: 3, name: 'bars.complete (bar schema version 2)', statements: [`ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS complete SYMBOL`] },
  ];
}

/** The tick archive's version 1 columns and their QuestDB types (the sequence is left out: it describes the feed). */
const ARCHIVE_V1_TYPES: Record<string, string> = {
  venue: 'SYMBOL',
  symbol: 'SYMBOL',
  trade_id: 'VARCHAR',
  ts: 'TIMESTAMP',
  price: 'DOUBLE',
  size: 'DOUBLE',
  side: 'SYMBOL',
  ingest_time: 'TIMESTAMP',
  venue_symbol: 'SYMBOL',
};

/** The steps of a tick archive table `t`. Never edit a released step: add one. */
export function archiveSteps(t: string): MigrationStep[] {
  return [
    {
      version: 1,
      name: 'tick archive: WAL, daily partitions, DEDUP UPSERT KEYS on the tick identity',
      statements: [
        `CREATE TABLE IF NOT EXISTS ${t} (venue SYMBOL, symbol SYMBOL, trade_id VARCHAR, ts TIMESTAMP, price DOUBLE, size DOUBLE,
          side SYMBOL, ingest_time TIMESTAMP, venue_symbol SYMBOL) TIMESTAMP(ts) PARTITION BY DAY WAL DEDUP UPSERT KEYS(ts, venue, symbol, trade_id)`,
      ],
    },
  ];
}

/** Which layout a table follows: its steps, and the version 1 columns an unrecorded table must have to be adopted. */
export type QuestDbLayout = 'bars' | 'archive';
interface Layout {
  steps: (t: string) => MigrationStep[];
  v1Types: Record<string, string>;
  /** The designated timestamp column. */
  designated: string;
}
const LAYOUTS: Record<QuestDbLayout, Layout> = {
  bars: { steps: questdbSteps, v1Types: V1_TYPES, designated: 'bucket' },
  archive: { steps: archiveSteps, v1Types: ARCHIVE_V1_TYPES, designated: 'ts' },
};

export interface QuestDbMigrateOptions {
  httpUrl: string;
  table: string;
  /** Default 'bars'. */
  layout?: QuestDbLayout;
  dryRun?: boolean;
  timeoutMs: number;
  log: Logger;
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

export async function migrateQuestDb(opts: QuestDbMigrateOptions): Promise<MigrationResult> {
  const { httpUrl, table, timeoutMs } = opts;
  const store = 'questdb';
  const exec = (sql: string) => questdbExec(httpUrl, sql, timeoutMs);
  const layout = LAYOUTS[opts.layout ?? 'bars'];
  const steps = layout.steps(table);
  const exists = (name: string) => questdbTableExists(httpUrl, name, timeoutMs);
  // Not partitioned, so not WAL: an insert is visible to the next query (a WAL table's rows appear a little later).
  if (!opts.dryRun)
    await exec(
      `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (target SYMBOL, version INT, name STRING, checksum STRING, applied_at TIMESTAMP) TIMESTAMP(applied_at) PARTITION BY NONE`,
    );
  const seen = new Map<number, AppliedStep>();
  if (await exists(MIGRATIONS_TABLE)) {
    const rows = (await exec(`SELECT version, name, checksum FROM ${MIGRATIONS_TABLE} WHERE target = ${quote(table)} ORDER BY applied_at`)).dataset ?? [];
    for (const [version, name, checksum] of rows as [number, string, string][]) if (!seen.has(version)) seen.set(version, { version, name, checksum });
  }
  let applied = [...seen.values()];
  // QuestDB cannot delete the records of a table that was dropped (a wiped store being restored, say): made again.
  if (applied.length > 0 && !(await exists(table))) {
    opts.log.warn({ store, table }, 'schema steps recorded for a table that no longer exists: applying every step again');
    applied = [];
  }
  const adopted = applied.length === 0 && (await exists(table));
  if (adopted) await checkAdoptable(exec, table, layout);
  const pending = pendingSteps(store, table, steps, applied);
  if (opts.dryRun) return { store, target: table, applied: [], pending, adopted };
  for (const step of pending) {
    for (const sql of step.statements) await idempotently(() => exec(sql), opts.log);
    await exec(`INSERT INTO ${MIGRATIONS_TABLE} VALUES (${quote(table)}, ${step.version}, ${quote(step.name)}, ${quote(stepChecksum(step))}, systimestamp())`);
  }
  if (pending.length > 0 || adopted) opts.log.info({ store, table, adopted, applied: pending.map((s) => `${s.version} ${s.name}`) }, 'schema migrated');
  return { store, target: table, applied: pending, pending: [], adopted };
}

/**
 * QuestDB checks IF NOT EXISTS against the table as it is now: two migrators adding the same column at the same
 * moment both pass the check and the second fails ('duplicate column'). Run again, the statement finds the column and
 * succeeds; a statement that still fails after a few tries fails for real.
 */
async function idempotently(run: () => Promise<unknown>, log: Logger): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await run();
      return;
    } catch (err) {
      if (attempt >= 4) throw err;
      log.info({ err: (err as Error).message, attempt }, 'schema step failed, run again (another migrator at the same moment?)');
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }
}

async function checkAdoptable(exec: (sql: string) => ReturnType<typeof questdbExec>, table: string, { v1Types, designated }: Layout): Promise<void> {
  const rows = ((await exec(`SELECT "column", type, designated FROM table_columns(${quote(table)})`)).dataset ?? []) as [string, string, boolean][];
  const have = new Map(rows.map(([c, type]) => [c, type]));
  const wrong = Object.entries(v1Types)
    .filter(([c, type]) => have.get(c) !== type)
    .map(([c, type]) => `${c} ${have.get(c) ?? 'missing'} (expected ${type})`);
  if (!rows.some(([c, , d]) => c === designated && d)) wrong.push(`${designated} is not the designated timestamp`);
  if (wrong.length > 0)
    throw new SchemaError('questdb', `table ${table} exists without a recorded migration and is not the engine's layout: ${wrong.join(', ')}`);
}
