// `tick-engine migrate` and `tick-engine maintain`: the stores' schema steps and storage policies (the tick archive's
// too, when it exists), run once.
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { createSinks } from '../stores/create-sinks.js';
import { emptyReport, policyFromConfig } from '../stores/maintenance.js';
import type { MigrationResult, MigrationStep } from '../stores/migrations.js';
import { TickArchive } from '../stores/questdb/tick-archive.js';
import type { BarSink } from '../stores/sink.js';

/** DDL and compression may take minutes on a big table: far past the write timeout. */
const STORAGE_TIMEOUT_MS = 600_000;

const steps = (s: MigrationStep[]) => s.map((x) => `${x.version} ${x.name}`).join('; ');

async function eachSink(config: Config, log: Logger, run: (sink: BarSink) => Promise<void>): Promise<void> {
  const sinks = createSinks(config, log, { timeoutMs: STORAGE_TIMEOUT_MS });
  try {
    for (const sink of sinks) await run(sink);
  } finally {
    for (const sink of sinks) await sink.close().catch((err: unknown) => log.warn({ err, sink: sink.name }, 'close failed'));
  }
}

/**
 * The tick archive, when its table exists (the archive command makes it, through the same migrations, at its
 * start): a deployment that runs no archive gets no empty table from `migrate` or `maintain`.
 */
async function withArchive(config: Config, log: Logger, run: (archive: TickArchive) => Promise<void>): Promise<void> {
  const archive = new TickArchive({ httpUrl: config.questdbHttp, table: config.ticksTable, log, timeoutMs: STORAGE_TIMEOUT_MS });
  try {
    if (await archive.exists()) await run(archive);
  } finally {
    await archive.close();
  }
}

function migrationLine(store: string, r: MigrationResult, dryRun: boolean): string {
  const adopted = r.adopted ? ' (existing tables checked and adopted)' : '';
  const line = dryRun
    ? r.pending.length > 0
      ? `pending: ${steps(r.pending)}`
      : 'up to date, nothing pending'
    : r.applied.length > 0
      ? `applied: ${steps(r.applied)}`
      : 'up to date, nothing applied';
  return `${store} ${r.target}: ${line}${adopted}\n`;
}

export async function runMigrate(config: Config, options: Map<string, string | boolean>, log: Logger): Promise<number> {
  const dryRun = options.get('dry-run') === true;
  await eachSink(config, log, async (sink) => {
    if (!sink.migrate) return;
    process.stdout.write(migrationLine(sink.name, await sink.migrate({ dryRun }), dryRun));
  });
  await withArchive(config, log, async (archive) => {
    process.stdout.write(migrationLine('questdb', await archive.migrate({ dryRun }), dryRun));
  });
  return 0;
}

export async function runMaintain(config: Config, log: Logger): Promise<number> {
  const policy = policyFromConfig(config);
  await eachSink(config, log, async (sink) => {
    if (!sink.maintain) return;
    process.stdout.write(JSON.stringify(await sink.maintain(policy)) + '\n');
  });
  await withArchive(config, log, async (archive) => {
    const report = { ...emptyReport('questdb', config.ticksTable, 'jobs'), settings: [await archive.setTtl(config.archiveTtlDays)] };
    log.info({ ...report }, 'tick archive storage policy applied');
    process.stdout.write(JSON.stringify(report) + '\n');
  });
  return 0;
}
