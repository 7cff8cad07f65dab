// Property-based fuzzing at depth: every parser of outside input (tests/fuzz/targets.ts) for BENCH_FUZZ_RUNS cases
// each (default 100,000), with progress, a summary table, and the results as JSON in bench/results/. Each target
// runs in a worker thread watched from here: a case that makes no progress for BENCH_FUZZ_STALL_S (60) seconds is
// reported as a hang (an endless loop cannot report itself), with the seed and case number to replay it.
// Exits 1 if any target found a crash, an internal error or a hang.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { projectRoot } from '../src/paths.js';
import { FUZZ_TARGETS, runTarget, type FuzzResult } from '../tests/fuzz/targets.js';

const RUNS = Number(process.env.BENCH_FUZZ_RUNS ?? 100_000);
const SEED = Number(process.env.BENCH_FUZZ_SEED ?? Date.now() % 2 ** 31);
const STALL_S = Number(process.env.BENCH_FUZZ_STALL_S ?? 60);

interface Job {
  index: number;
  runs: number;
  seed: number;
  /** Cases started so far, written by the worker. */
  progress: Int32Array;
}

if (!isMainThread) {
  const job = workerData as Job;
  const r = await runTarget(FUZZ_TARGETS[job.index]!, job.runs, job.seed, () => Atomics.add(job.progress, 0, 1));
  parentPort!.postMessage(r);
} else {
  process.stdout.write(`fuzzing ${FUZZ_TARGETS.length} targets, ${RUNS} cases each, seed ${SEED}\n`);
  const results: FuzzResult[] = [];
  for (const [index, target] of FUZZ_TARGETS.entries()) {
    process.stdout.write(`  ${target.name} … `);
    const progress = new Int32Array(new SharedArrayBuffer(4));
    const t0 = performance.now();
    const worker = new Worker(new URL(import.meta.url), { workerData: { index, runs: RUNS, seed: SEED, progress } satisfies Job });
    const r = await new Promise<FuzzResult>((resolve) => {
      let last = -1;
      let still = 0;
      const watch = setInterval(() => {
        const n = Atomics.load(progress, 0);
        still = n === last ? still + 1 : 0;
        last = n;
        if (still >= STALL_S) {
          clearInterval(watch);
          void worker.terminate();
          resolve({
            name: target.name,
            runs: n,
            outcomes: {},
            failed: true,
            error: `hang: case ${n} made no progress for ${STALL_S} s (replay with BENCH_FUZZ_SEED=${SEED})`,
            seconds: (performance.now() - t0) / 1000,
          });
        }
      }, 1000);
      worker.once('message', (m: FuzzResult) => {
        clearInterval(watch);
        resolve(m);
      });
      worker.once('error', (err) => {
        clearInterval(watch);
        resolve({
          name: target.name,
          runs: Atomics.load(progress, 0),
          outcomes: {},
          failed: true,
          error: String(err),
          seconds: (performance.now() - t0) / 1000,
        });
      });
    });
    await worker.terminate();
    results.push(r);
    process.stdout.write(`${r.failed ? 'FAILED' : 'ok'} in ${r.seconds.toFixed(1)} s\n`);
    if (r.failed) process.stdout.write(`    counterexample: ${r.counterexample ?? '(none)'}\n    ${r.error}\n`);
  }
  const rows = results.map((r) => {
    const rejected = Object.entries(r.outcomes)
      .filter(([k]) => k !== 'accepted')
      .map(([k, n]) => `${k.replace('rejected:', '')} ${n.toLocaleString('en')}`)
      .join(', ');
    return `| ${r.name} | ${r.runs.toLocaleString('en')} | ${r.failed ? 'FAILED' : '0'} | ${(r.outcomes.accepted ?? 0).toLocaleString('en')} | ${rejected} | ${r.seconds.toFixed(1)} s |`;
  });
  process.stdout.write(
    `\n| target | cases | crashes, internal errors, hangs | inputs accepted | rejections by code | time |\n|---|---|---|---|---|---|\n${rows.join('\n')}\n`,
  );
  const dir = join(projectRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `fuzz-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, runs: RUNS, seed: SEED, results }, null, 2) + '\n');
  process.stdout.write(`saved ${file}\n`);
  process.exitCode = results.some((r) => r.failed) ? 1 : 0;
}
