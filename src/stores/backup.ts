// Backup and restore of what the stores hold: every bar and signal of each store in TE_SINKS, and the tick archive,
// as JSON lines files in a directory with a manifest (counts and SHA-256 of each file). Restore writes them back
// through the engine's own writers (the sinks' idempotent upserts, the archive's dedup), after the migrations have
// made the tables, so a restore into an empty or a partly filled store ends with exactly the backed-up rows.
//
// Logical, not pg_dump: the local TimescaleDB endpoint is PostgreSQL 17 (PGlite), which the machine's pg_dump 15
// refuses, and QuestDB's own CHECKPOINT needs its data directory; one format for all three also restores into any
// of them. docs/operations.md (Backups) gives the server-level commands for a production deployment.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import type { Config } from '../config.js';
import type { Bar } from '../contracts/bar.js';
import type { Signal } from '../contracts/signal.js';
import { ConfigError, StoreUnavailableError } from '../errors.js';
import type { Logger } from '../log.js';
import { createSinks } from './create-sinks.js';
import { BarHistory, isMissingTable, type HistoryStore } from './history.js';
import { signalsTable } from './postgres/postgres-sink.js';
import { TickArchive } from './questdb/tick-archive.js';
import { TradeHistory, type ArchivedTrade } from './trade-history.js';

const FORMAT = 'tick-engine-backup/1';
const PAGE = 5000;
/** Far enough for any bar (as the REST history's bound). */
const END = 7_258_118_400_000_000;

export interface BackupManifest {
  format: typeof FORMAT;
  createdAt: string;
  barsTable: string;
  ticksTable: string;
  /** Per file: rows and SHA-256 of its bytes. */
  files: Record<string, { rows: number; sha256: string }>;
}

/** Writes JSON lines to a file with backpressure, hashing as it goes. */
class JsonLinesFile {
  private readonly out;
  private readonly hash = createHash('sha256');
  rows = 0;
  constructor(path: string) {
    this.out = createWriteStream(path);
  }
  async write(rows: readonly unknown[]): Promise<void> {
    if (rows.length === 0) return;
    let text = '';
    for (const r of rows) text += JSON.stringify(r) + '\n';
    this.hash.update(text);
    this.rows += rows.length;
    if (!this.out.write(text)) await once(this.out, 'drain');
  }
  async close(): Promise<{ rows: number; sha256: string }> {
    this.out.end();
    await once(this.out, 'close');
    return { rows: this.rows, sha256: this.hash.digest('hex') };
  }
}

async function* readJsonLines<T>(path: string, batch: number): AsyncGenerator<T[]> {
  let rows: T[] = [];
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    if (line === '') continue;
    rows.push(JSON.parse(line) as T);
    if (rows.length === batch) {
      yield rows;
      rows = [];
    }
  }
  if (rows.length) yield rows;
}

function storeUrl(config: Config, store: HistoryStore): string {
  return { postgres: config.pgUrl, timescaledb: config.tsdbUrl, questdb: config.questdbPgUrl }[store];
}

/** Every signal of a store's signals table. */
async function readSignals(config: Config, store: HistoryStore): Promise<Signal[]> {
  const client = new pg.Client({ connectionString: storeUrl(config, store) });
  // A connection that drops fails the query in flight (reported below); without a listener it would end the process.
  client.on('error', () => undefined);
  const table = signalsTable(config.barsTable);
  try {
    await client.connect();
    if (store === 'questdb') {
      const { rows } = await client.query<Record<string, unknown>>(
        `SELECT symbol, bar_interval, cast(bar_time AS long) AS bar_us, name, direction, value1, value2, value3 FROM ${table} ORDER BY bar_time, symbol, bar_interval, name`,
      );
      return rows.map((r) => ({
        symbol: String(r.symbol),
        interval: String(r.bar_interval),
        barTime: Number(r.bar_us),
        name: r.name as Signal['name'],
        direction: r.direction as Signal['direction'],
        values: [r.value1, r.value2, r.value3].filter((v) => v !== null && v !== undefined).map(Number),
      }));
    }
    const { rows } = await client.query<Record<string, unknown>>(
      `SELECT symbol, bar_interval, (extract(epoch from bar_time) * 1000000)::bigint AS bar_us, name, direction, vals FROM ${table} ORDER BY bar_time, symbol, bar_interval, name`,
    );
    return rows.map((r) => ({
      symbol: String(r.symbol),
      interval: String(r.bar_interval),
      barTime: Number(r.bar_us),
      name: r.name as Signal['name'],
      direction: r.direction as Signal['direction'],
      values: (r.vals as number[]).map(Number),
    }));
  } catch (err) {
    if (isMissingTable(err)) return [];
    throw new StoreUnavailableError(store, err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Back up every store of TE_SINKS and the tick archive (when its table exists) into `dir`, which must be new or empty. */
export async function backup(config: Config, dir: string, log: Logger): Promise<BackupManifest> {
  if (existsSync(dir) && readdirSync(dir).length) throw new ConfigError('--out', `${dir} is not empty: a backup goes into a new or empty directory`);
  mkdirSync(dir, { recursive: true });
  const files: BackupManifest['files'] = {};
  for (const store of config.sinks as HistoryStore[]) {
    const history = new BarHistory(config, { store });
    try {
      const bars = new JsonLinesFile(join(dir, `${store}.bars.jsonl`));
      let series: Awaited<ReturnType<BarHistory['series']>> = [];
      try {
        series = await history.series(0, END);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err; // no bars table yet: an empty backup of it
      }
      for await (const page of history.pages(series, { from: 0, to: END, pageRows: PAGE })) await bars.write(page);
      files[`${store}.bars.jsonl`] = await bars.close();
      const signals = new JsonLinesFile(join(dir, `${store}.signals.jsonl`));
      await signals.write(await readSignals(config, store));
      files[`${store}.signals.jsonl`] = await signals.close();
      log.info({ store, bars: files[`${store}.bars.jsonl`]!.rows, signals: files[`${store}.signals.jsonl`]!.rows }, 'store backed up');
    } finally {
      await history.close();
    }
  }
  const trades = new TradeHistory(config);
  try {
    const symbols = await trades.symbols(0, END).catch((err: unknown) => {
      if (err instanceof ConfigError) return undefined; // no archive
      throw err;
    });
    if (symbols) {
      const ticks = new JsonLinesFile(join(dir, 'ticks.jsonl'));
      for await (const page of trades.pages(
        symbols.map((s) => s.symbol),
        { from: 0, to: END, pageRows: PAGE },
      ))
        await ticks.write(page);
      files['ticks.jsonl'] = await ticks.close();
      log.info({ ticks: files['ticks.jsonl'].rows }, 'tick archive backed up');
    }
  } finally {
    await trades.close();
  }
  const manifest: BackupManifest = { format: FORMAT, createdAt: new Date().toISOString(), barsTable: config.barsTable, ticksTable: config.ticksTable, files };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

/** Check a backup's files against its manifest (rows and SHA-256), before anything is written. */
async function verify(dir: string): Promise<BackupManifest> {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) throw new ConfigError('--from', `${dir} holds no manifest.json: not a backup of tick-engine backup`);
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as BackupManifest;
  if (manifest.format !== FORMAT) throw new ConfigError('--from', `${dir}: backup format ${String(manifest.format)}, this engine reads ${FORMAT}`);
  for (const [file, want] of Object.entries(manifest.files)) {
    const hash = createHash('sha256');
    let rows = 0;
    for await (const chunk of createReadStream(join(dir, file))) {
      hash.update(chunk as Buffer);
      for (const b of chunk as Buffer) if (b === 10) rows++;
    }
    const sha256 = hash.digest('hex');
    if (sha256 !== want.sha256 || rows !== want.rows)
      throw new ConfigError(
        '--from',
        `${file} does not match the manifest (${rows} rows, sha256 ${sha256.slice(0, 12)}…; expected ${want.rows}, ${want.sha256.slice(0, 12)}…)`,
      );
  }
  return manifest;
}

/** Write a backup back into the stores of TE_SINKS it holds, and the tick archive; returns rows written per file. */
export async function restore(config: Config, dir: string, log: Logger): Promise<Record<string, number>> {
  const manifest = await verify(dir);
  const written: Record<string, number> = {};
  for (const sink of createSinks(config, log)) {
    const barsFile = `${sink.name}.bars.jsonl`;
    if (!manifest.files[barsFile]) {
      log.warn({ store: sink.name }, 'the backup holds nothing of this store');
      continue;
    }
    await sink.init();
    try {
      written[barsFile] = 0;
      for await (const bars of readJsonLines<Bar>(join(dir, barsFile), PAGE)) {
        await sink.write(bars);
        written[barsFile] += bars.length;
      }
      const signalsFile = `${sink.name}.signals.jsonl`;
      if (manifest.files[signalsFile] && sink.writeSignals) {
        written[signalsFile] = 0;
        for await (const signals of readJsonLines<Signal>(join(dir, signalsFile), PAGE)) {
          await sink.writeSignals(signals);
          written[signalsFile] += signals.length;
        }
      }
      log.info({ store: sink.name, bars: written[barsFile], signals: written[signalsFile] }, 'store restored');
    } finally {
      await sink.close();
    }
  }
  if (manifest.files['ticks.jsonl']) {
    const archive = new TickArchive({ httpUrl: config.questdbHttp, table: config.ticksTable, log });
    await archive.init();
    try {
      written['ticks.jsonl'] = 0;
      for await (const ticks of readJsonLines<ArchivedTrade>(join(dir, 'ticks.jsonl'), PAGE)) {
        await archive.write(ticks);
        written['ticks.jsonl'] += ticks.length;
      }
      log.info({ ticks: written['ticks.jsonl'] }, 'tick archive restored');
    } finally {
      await archive.close();
    }
  }
  return written;
}
