// The fault-injection run of tests/e2e/faults.e2e.test.ts at length: BENCH_FAULTS_PER_KIND (default 20) faults of
// each kind — PostgreSQL, the TimescaleDB endpoint, QuestDB and the broker each stopped and restarted, and hung
// with SIGSTOP/SIGCONT, and the engine's own processes stalled — under a live feed, then every store, the bars
// topic and a live client checked against the offline bars. Prints the figures, saves JSON, exits 1 on a failure.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../src/paths.js';
import { FAULT_KINDS } from '../tests/helpers/faults.js';
import { runLiveScenario, scenarioFailures, summarizeScenario } from '../tests/helpers/live-scenario.js';

const PER_KIND = Number(process.env.BENCH_FAULTS_PER_KIND ?? 20);
const SEED = Number(process.env.BENCH_FAULTS_SEED ?? 23);

process.stdout.write(`${PER_KIND} faults of each of ${FAULT_KINDS.length} kinds under a live feed (seed ${SEED})\n`);
const r = await runLiveScenario({
  plan: { perKind: PER_KIND, seed: SEED, downMs: [1500, 6000], gapMs: [300, 1500] },
  seed: SEED,
  env: { TE_SIM_RATE: process.env.BENCH_FAULTS_RATE ?? '2000' },
  onProgress: (line) => process.stdout.write(`  ${line}\n`),
});
process.stdout.write(`\n${summarizeScenario(r)}\n`);
const dir = join(projectRoot(), 'bench', 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `faults-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.json`);
const report: Partial<typeof r> = { ...r };
delete report.config;
delete report.aggregatorLog;
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), perKind: PER_KIND, seed: SEED, ...report }, null, 2) + '\n');
if (r.aggregatorLog) writeFileSync(file.replace(/\.json$/, '.aggregator.log'), r.aggregatorLog);
process.stdout.write(`saved ${file}\n`);
process.exitCode = scenarioFailures(r).length ? 1 : 0;
