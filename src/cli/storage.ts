// `tick-engine migrate` and `tick-engine maintain`: the stores' schema steps and storage policies, run once.
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { createSinks } from '../stores/create-sinks.js';
import { policyFromConfig } from '../stores/maintenance.js';
import type { MigrationStep } from '../stores/migrations.js';
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

export async function runMigrate(config: Config, options: Map<string, string | boolean>, log: Logger): Promise<number> {
  const dryRun = options.get('dry-run') === true;
  await eachSink(config, log, async (sink) => {
    if (!sink.migrate) return;
    const r = await sink.migrate({ dryRun });
    const adopted = r.adopted ? ' (existing tables checked and adopted)' : '';
    const line = dryRun
      ? r.pending.length > 0
        ? `pending: ${steps(r.pending)}`
        : 'up to date, nothing pending'
      : r.applied.length > 0
        ? `applied: ${steps(r.applied)}`
        : 'up to date, nothing applied';
    process.stdout.write(`${sink.name} ${r.target}: ${line}${adopted}\n`);
  });
  return 0;
}

export async function runMaintain(config: Config, log: Logger): Promise<number> {
  const policy = policyFromConfig(config);
  await eachSink(config, log, async (sink) => {
    if (!sink.maintain) return;
    process.stdout.write(JSON.stringify(await sink.maintain(policy)) + '\n');
  });
  return 0;
}
