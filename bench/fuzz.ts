// Property-based fuzzing at depth: every parser of outside input (tests/fuzz/targets.ts) for BENCH_FUZZ_RUNS cases
// each (default 100,000), with progress, a summary table, and the results as JSON in bench/results/. Exits 1 if
// any target found a crash or an internal error (the counterexample is printed, shrunk by fast-check).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../src/paths.js';
import { FUZZ_TARGETS, runTarget, type FuzzResult } from '../tests/fuzz/targets.js';

const RUNS = Number(process.env.BENCH_FUZZ_RUNS ?? 100_000);
const SEED = Number(process.env.BENCH_FUZZ_SEED ?? Date.now() % 2 ** 31);

process.stdout.write(`fuzzing ${FUZZ_TARGETS.length} targets, ${RUNS} cases each, seed ${SEED}\n`);
const results: FuzzResult[] = [];
for (const target of FUZZ_TARGETS) {
  process.stdout.write(`  ${target.name} … `);
  const r = await runTarget(target, RUNS, SEED);
  results.push(r);
  process.stdout.write(`${r.failed ? 'FAILED' : 'ok'} in ${r.seconds.toFixed(1)} s\n`);
  if (r.failed) process.stdout.write(`    counterexample: ${r.counterexample}\n    ${r.error}\n`);
}
const rows = results.map((r) => {
  const rejected = Object.entries(r.outcomes)
    .filter(([k]) => k !== 'accepted')
    .map(([k, n]) => `${k.replace('rejected:', '')} ${n}`)
    .join(', ');
  return `| ${r.name} | ${r.runs.toLocaleString('en')} | ${r.failed ? 'FAILED' : '0'} | ${(r.outcomes.accepted ?? 0).toLocaleString('en')} | ${rejected} | ${r.seconds.toFixed(1)} s |`;
});
process.stdout.write(
  `\n| target | cases | crashes / internal errors | inputs accepted | rejections by code | time |\n|---|---|---|---|---|---|\n${rows.join('\n')}\n`,
);
const dir = join(projectRoot(), 'bench', 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `fuzz-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, runs: RUNS, seed: SEED, results }, null, 2) + '\n');
process.stdout.write(`saved ${file}\n`);
process.exitCode = results.some((r) => r.failed) ? 1 : 0;
