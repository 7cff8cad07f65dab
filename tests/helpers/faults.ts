// Fault injection against the real servers of the running stack and the engine's own processes: stop and
// restart a server, hang it (SIGSTOP … SIGCONT), or stall an engine process. Used by the fault e2e test and the
// fault and soak benchmarks; every fault is undone before the next one starts.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Prng } from '../../src/ingest/prng.js';
import { projectRoot } from '../../src/paths.js';
import type { CliProcess } from './cli.js';

const sh = promisify(execFile);

export const SERVERS = ['postgres', 'timescaledb', 'questdb', 'kafka'] as const;
export type Server = (typeof SERVERS)[number];

/** `server:stop` (stop, wait, start), `server:hang` (SIGSTOP, wait, SIGCONT), `process:stall` (SIGSTOP an engine process). */
export type FaultKind = `${Server}:stop` | `${Server}:hang` | 'engine:stall';
export const FAULT_KINDS: readonly FaultKind[] = [...SERVERS.flatMap((s) => [`${s}:stop`, `${s}:hang`] as FaultKind[]), 'engine:stall'];

export interface FaultRecord {
  kind: FaultKind;
  /** Which engine process, for a stall. */
  target?: string;
  /** Wall-clock ms the fault began and how long the server or process was out. */
  at: number;
  downMs: number;
  /** Including the time the server took to start again. */
  totalMs: number;
}

/** Runs a stack component script (deploy/local/<server>.sh) with the current environment (the test or bench stack). */
async function stack(server: Server, action: 'stop' | 'start' | 'pause' | 'resume'): Promise<void> {
  await sh('bash', [join(projectRoot(), 'deploy/local', `${server}.sh`), action], { env: process.env, maxBuffer: 1 << 20 });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Inject one fault and undo it; resolves once the server or process runs again. */
export async function injectFault(kind: FaultKind, downMs: number, engine: Record<string, CliProcess>, pick: () => number): Promise<FaultRecord> {
  const at = Date.now();
  const [what, how] = kind.split(':') as [string, string];
  let target: string | undefined;
  if (what === 'engine') {
    const names = Object.keys(engine).filter((n) => engine[n]!.child.exitCode === null);
    target = names[Math.floor(pick() * names.length)]!;
    const child = engine[target]!.child;
    child.kill('SIGSTOP');
    await sleep(downMs);
    child.kill('SIGCONT');
  } else if (how === 'stop') {
    await stack(what as Server, 'stop');
    await sleep(downMs);
    await stack(what as Server, 'start');
  } else {
    await stack(what as Server, 'pause');
    try {
      await sleep(downMs);
    } finally {
      await stack(what as Server, 'resume');
    }
  }
  return { kind, target, at, downMs, totalMs: Date.now() - at };
}

export interface FaultPlan {
  /** Faults of each kind. */
  perKind: number;
  seed: number;
  /** How long a server or process stays out, ms (uniform in [min, max]). */
  downMs: [number, number];
  /** Pause between two faults, ms. */
  gapMs: [number, number];
  kinds?: readonly FaultKind[];
}

/** The plan's faults in a seeded random order, with their outage lengths. */
export function schedule(plan: FaultPlan): { kind: FaultKind; downMs: number; gapMs: number }[] {
  const rng = new Prng(plan.seed);
  const kinds = plan.kinds ?? FAULT_KINDS;
  const list = kinds.flatMap((kind) => Array.from({ length: plan.perKind }, () => kind));
  for (let i = list.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  const between = ([lo, hi]: [number, number]) => lo + rng.int(hi - lo + 1);
  return list.map((kind) => ({ kind, downMs: between(plan.downMs), gapMs: between(plan.gapMs) }));
}

/** Run a plan's faults one after another; `onFault` sees each as it ends (progress). Stops early if `stop()` says so. */
export async function runFaults(
  plan: FaultPlan,
  engine: Record<string, CliProcess>,
  onFault?: (f: FaultRecord, index: number, total: number) => void,
  stop: () => boolean = () => false,
): Promise<FaultRecord[]> {
  const rng = new Prng(plan.seed ^ 0x5a5a);
  const done: FaultRecord[] = [];
  const list = schedule(plan);
  for (const [i, f] of list.entries()) {
    if (stop()) break;
    const rec = await injectFault(f.kind, f.downMs, engine, () => rng.next());
    done.push(rec);
    onFault?.(rec, i, list.length);
    await sleep(f.gapMs);
  }
  return done;
}

/** Faults per kind, for reports. */
export function countByKind(faults: FaultRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of faults) out[f.kind] = (out[f.kind] ?? 0) + 1;
  return out;
}
