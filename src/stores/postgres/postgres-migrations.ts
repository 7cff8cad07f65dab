// The PostgreSQL/TimescaleDB bar tables' versioned layout: the steps in order, applied under an advisory lock and
// recorded in te_schema_migrations; tables made before migrations were recorded are checked and adopted.
import type pg from 'pg';
import { SchemaError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { MIGRATIONS_TABLE, pendingSteps, stepChecksum, type AppliedStep, type MigrationResult, type MigrationStep } from '../migrations.js';

/** 'hypertable' with TimescaleDB, 'partitioned' (native daily range partitions) on plain PostgreSQL. */
export type PgMode = 'hypertable' | 'partitioned';

/** Bars as the first engine wrote them (before bar schema version 2's `complete`). */
const V1_COLUMNS = `symbol text NOT NULL, bar_interval text NOT NULL, bucket timestamptz NOT NULL,
  open double precision NOT NULL, high double precision NOT NULL, low double precision NOT NULL, close double precision NOT NULL,
  volume double precision NOT NULL, quote_volume double precision NOT NULL, vwap double precision NOT NULL,
  trade_count bigint NOT NULL, buy_volume double precision NOT NULL,
  first_event_time timestamptz NOT NULL, last_event_time timestamptz NOT NULL,
  revision integer NOT NULL, final boolean NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (symbol, bar_interval, bucket)`;

/** Version 1's columns and their types (information_schema's data_type), checked before an unrecorded table is adopted. */
const V1_TYPES: Record<string, string> = {
  symbol: 'text',
  bar_interval: 'text',
  bucket: 'timestamp with time zone',
  open: 'double precision',
  high: 'double precision',
  low: 'double precision',
  close: 'double precision',
  volume: 'double precision',
  quote_volume: 'double precision',
  vwap: 'double precision',
  trade_count: 'bigint',
  buy_volume: 'double precision',
  first_event_time: 'timestamp with time zone',
  last_event_time: 'timestamp with time zone',
  revision: 'integer',
  final: 'boolean',
  updated_at: 'timestamp with time zone',
};

const SIGNAL_COLUMNS = `symbol text NOT NULL, bar_interval text NOT NULL, bar_time timestamptz NOT NULL, name text NOT NULL,
  direction text NOT NULL, vals double precision[] NOT NULL, PRIMARY KEY (symbol, bar_interval, bar_time, name)`;

/** TimescaleDB chunks one day wide: see docs/operations.md (Storage policies) for why one day for every interval. */
export const CHUNK_INTERVAL = '1 day';

/** The steps of a bars table `t` (and `t_signals`) in this mode. Never edit a released step: add one. */
export function postgresSteps(t: string, mode: PgMode): MigrationStep[] {
  const steps: MigrationStep[] = [
    {
      version: 1,
      name: mode === 'hypertable' ? 'bars hypertable, daily chunks' : 'bars table, daily range partitions, BRIN on bucket',
      statements:
        mode === 'hypertable'
          ? [
              `CREATE TABLE IF NOT EXISTS ${t} (${V1_COLUMNS})`,
              `SELECT create_hypertable('${t}', by_range('bucket', INTERVAL '${CHUNK_INTERVAL}'), if_not_exists => TRUE)`,
            ]
          : [
              `CREATE TABLE IF NOT EXISTS ${t} (${V1_COLUMNS}) PARTITION BY RANGE (bucket)`,
              `CREATE INDEX IF NOT EXISTS ${t}_bucket_brin ON ${t} USING brin (bucket)`,
            ],
    },
    { version: 2, name: 'signals table', statements: [`CREATE TABLE IF NOT EXISTS ${t}_signals (${SIGNAL_COLUMNS})`] },
    // Bar schema version 2: null = unknown, as for the bars written before it.
    { version: 3, name: 'bars.complete (bar schema version 2)', statements: [`ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS complete boolean`] },
  ];
  if (mode === 'hypertable')
    steps.push({
      version: 4,
      name: 'compression: segment by symbol and interval, order by bucket',
      statements: [
        `ALTER TABLE ${t} SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol, bar_interval', timescaledb.compress_orderby = 'bucket')`,
      ],
    });
  return steps;
}

/** One lock for every migrator of every table in the database (creating te_schema_migrations itself races otherwise). */
const LOCK_KEY = 0x7465_6d67; // 'temg'

export interface PgMigrateOptions {
  store: string;
  table: string;
  mode: PgMode;
  /** List the pending steps, change nothing. */
  dryRun?: boolean;
  log: Logger;
}

/** Bring `table` to the latest version; concurrent migrators wait on the advisory lock and find nothing left to do. */
export async function migratePostgres(pool: pg.Pool, opts: PgMigrateOptions): Promise<MigrationResult> {
  const { store, table, mode } = opts;
  const steps = postgresSteps(table, mode);
  const client = await pool.connect();
  let failed: Error | undefined;
  // Checked out, the client has no pool listener: a dropped connection fails the statement in flight, not the process.
  const onError = (err: Error) => opts.log.warn({ err, store, table }, 'connection dropped during a migration');
  client.on('error', onError);
  try {
    if (!opts.dryRun) {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
      await client.query(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (target text NOT NULL, version integer NOT NULL, name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(), checksum text NOT NULL, PRIMARY KEY (target, version))`);
    }
    const recorded = await regclassExists(client, MIGRATIONS_TABLE);
    const applied = recorded
      ? (await client.query<AppliedStep>(`SELECT version, name, checksum FROM ${MIGRATIONS_TABLE} WHERE target = $1 ORDER BY version`, [table])).rows
      : [];
    const adopted = applied.length === 0 && (await regclassExists(client, table));
    if (adopted) await checkAdoptable(client, store, table, mode);
    const pending = pendingSteps(store, table, steps, applied);
    if (opts.dryRun) return { store, target: table, applied: [], pending, adopted };
    for (const step of pending) {
      for (const sql of step.statements) await client.query(sql);
      await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (target, version, name, checksum) VALUES ($1, $2, $3, $4)`, [
        table,
        step.version,
        step.name,
        stepChecksum(step),
      ]);
    }
    await client.query('COMMIT');
    if (pending.length > 0 || adopted) opts.log.info({ store, table, adopted, applied: pending.map((s) => `${s.version} ${s.name}`) }, 'schema migrated');
    return { store, target: table, applied: pending, pending: [], adopted };
  } catch (err) {
    failed = err as Error;
    if (!opts.dryRun) await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    // A failed connection is not handed back to the pool.
    client.off('error', onError);
    client.release(failed);
  }
}

async function regclassExists(client: pg.PoolClient, name: string): Promise<boolean> {
  const { rows } = await client.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [name]);
  return rows[0]!.found;
}

/** A table made before migrations were recorded: it must be version 1's, in this mode, to be adopted. */
async function checkAdoptable(client: pg.PoolClient, store: string, table: string, mode: PgMode): Promise<void> {
  const { rows } = await client.query<{ column_name: string; data_type: string }>(
    'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1',
    [table],
  );
  const have = new Map(rows.map((r) => [r.column_name, r.data_type]));
  const wrong = Object.entries(V1_TYPES)
    .filter(([c, type]) => have.get(c) !== type)
    .map(([c, type]) => `${c} ${have.get(c) ?? 'missing'} (expected ${type})`);
  if (wrong.length > 0) throw new SchemaError(store, `table ${table} exists without a recorded migration and is not the engine's layout: ${wrong.join(', ')}`);
  const layout =
    mode === 'hypertable'
      ? `SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_schema = current_schema() AND hypertable_name = $1) AS ok`
      : `SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass($1)) AS ok`;
  const { rows: ok } = await client.query<{ ok: boolean }>(layout, [table]);
  if (!ok[0]!.ok)
    throw new SchemaError(
      store,
      `table ${table} exists without a recorded migration and is not ${mode === 'hypertable' ? 'a hypertable' : 'range-partitioned'}`,
    );
}
