// The soak: the whole engine under steady live load for BENCH_SOAK_SECONDS (default 600) with one fault of a random
// kind every BENCH_SOAK_FAULT_EVERY_S (default 60) — a server stopped or hung, an engine process stalled — while
// RSS, open file descriptors and event-loop delay of the aggregator and the gateway are sampled every 5 s. At the
// end the same checks as the fault run. Prints the figures beside what each guarantee promises, saves JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../src/paths.js';
import { runLiveScenario, scenarioFailures, summarizeScenario, type Sample } from '../tests/helpers/live-scenario.js';

const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 600);
const EVERY = Number(process.env.BENCH_SOAK_FAULT_EVERY_S ?? 60);
const SEED = Number(process.env.BENCH_SOAK_SEED ?? 31);

process.stdout.write(`soak: ${SECONDS} s of live load, a fault every ${EVERY} s (seed ${SEED})\n`);
const r = await runLiveScenario({
  durationMs: SECONDS * 1000,
  faultEveryMs: EVERY * 1000,
  seed: SEED,
  env: { TE_SIM_RATE: process.env.BENCH_SOAK_RATE ?? '1500' },
  onProgress: (line) => process.stdout.write(`  ${new Date().toISOString().slice(11, 19)} ${line}\n`),
});

/** Per process: first and last minute's median, and the maximum, of each sampled figure. */
function trend(samples: Sample[], name: string) {
  const mine = samples.filter((s) => s.process === name).sort((a, b) => a.at - b.at);
  if (mine.length === 0) return undefined;
  const t0 = mine[0]!.at;
  const t1 = mine[mine.length - 1]!.at;
  const median = (xs: number[]) => {
    const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
    return s.length ? s[Math.floor(s.length / 2)]! : NaN;
  };
  const first = mine.filter((s) => s.at - t0 <= 60_000);
  const last = mine.filter((s) => t1 - s.at <= 60_000);
  const pick = (f: (s: Sample) => number | undefined) => ({
    firstMinute: median(first.map((s) => f(s) ?? NaN)),
    lastMinute: median(last.map((s) => f(s) ?? NaN)),
    max: Math.max(...mine.map((s) => f(s) ?? -Infinity)),
  });
  return { samples: mine.length, rssMb: pick((s) => s.rssMb), fds: pick((s) => s.fds), loopP99Ms: pick((s) => s.loopP99Ms) };
}
const trends = { aggregator: trend(r.samples, 'aggregator'), gateway: trend(r.samples, 'gateway') };
process.stdout.write(
  `\n${summarizeScenario(r)}\n\n| process | RSS MB first min → last min (max) | open fds first → last (max) | event-loop p99 ms first → last (max) |\n|---|---|---|---|\n`,
);
for (const [name, tr] of Object.entries(trends)) {
  if (!tr) continue;
  const f = (x: { firstMinute: number; lastMinute: number; max: number }, d = 0) =>
    `${x.firstMinute.toFixed(d)} → ${x.lastMinute.toFixed(d)} (${x.max.toFixed(d)})`;
  process.stdout.write(`| ${name} | ${f(tr.rssMb)} | ${f(tr.fds)} | ${f(tr.loopP99Ms, 1)} |\n`);
}
const dir = join(projectRoot(), 'bench', 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `soak-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.json`);
const report: Partial<typeof r> = { ...r };
delete report.config;
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), durationS: SECONDS, faultEveryS: EVERY, seed: SEED, trends, ...report }, null, 2) + '\n');
process.stdout.write(`saved ${file}\n`);
// Bounded: nothing may keep growing. The first minute is warm-up (JIT, pools, caches); the last minute may be at most
// half again as large in memory and hold at most 50 more open files, whatever faults came between.
const unbounded: string[] = [];
for (const [name, tr] of Object.entries(trends)) {
  if (!tr) continue;
  if (tr.rssMb.lastMinute > tr.rssMb.firstMinute * 1.5) unbounded.push(`${name} RSS ${tr.rssMb.firstMinute} → ${tr.rssMb.lastMinute} MB`);
  if (tr.fds.lastMinute > tr.fds.firstMinute + 50) unbounded.push(`${name} open files ${tr.fds.firstMinute} → ${tr.fds.lastMinute}`);
}
process.stdout.write(
  unbounded.length ? `NOT BOUNDED: ${unbounded.join('; ')}\n` : 'memory and open files bounded (last minute within 1.5× RSS and +50 files of the first)\n',
);
process.exitCode = scenarioFailures(r).length || unbounded.length ? 1 : 0;
