// Where the machine's CPU goes during a measurement window: user + system time of every process from /proc, before
// and after, grouped by what the process is (the engine's processes by pid, the servers by their command line), as
// cores used on average over the window. On two shared cores this says whether a latency is the engine's own or
// the queueing of a saturated machine.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_S = 100; // USER_HZ on Linux

interface Sample {
  at: number;
  /** CPU seconds by pid, with each pid's group. */
  cpu: Map<number, { group: string; seconds: number }>;
}

function groupOf(pid: number, named: Map<number, string>): string | undefined {
  const own = named.get(pid);
  if (own) return own;
  let cmd: string;
  try {
    cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return undefined;
  }
  // Kafka's perf tools (the references) before the broker: their class path names Kafka's jars too.
  if (/ProducerPerformance|ConsumerPerformance/.test(cmd)) return 'kafka perf tool';
  if (cmd.includes('kafka.Kafka')) return 'kafka';
  if (cmd.includes('questdb')) return 'questdb';
  if (cmd.includes('timescaledb-server')) return 'timescaledb endpoint';
  if (/postgres/.test(cmd)) return 'postgresql';
  return cmd.trim() === '' ? undefined : 'other';
}

/** Seconds of fields `n` and `n + 1` (1-based, as proc(5) numbers them) of a stat file, in clock ticks there. */
function statSeconds(path: string, n: number): number {
  const stat = readFileSync(path, 'utf8');
  // The fields after the command (field 2, in parentheses, may hold spaces) start with field 3.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[n - 3]) + Number(f[n - 2])) / TICKS_PER_S;
}

/** A sample of every process's CPU time; `named` labels the engine's own processes (pid → name). */
export function sampleCpu(named: Map<number, string>): Sample {
  const cpu = new Map<number, { group: string; seconds: number }>();
  for (const d of readdirSync('/proc')) {
    const pid = Number(d);
    if (!Number.isInteger(pid)) continue;
    try {
      // Fields 14 and 15 of stat: utime, stime.
      const seconds = statSeconds(`/proc/${pid}/stat`, 14);
      const group = groupOf(pid, named);
      if (group) cpu.set(pid, { group, seconds });
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return { at: performance.now(), cpu };
}

/** CPU seconds between two samples by group, unrounded (processes that started in between count from zero; those
 * that ended in between are missing, as their time is no longer in /proc). */
function secondsByGroup(before: Sample, after: Sample): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [pid, a] of after.cpu) {
    const b = before.cpu.get(pid)?.seconds ?? 0;
    out[a.group] = (out[a.group] ?? 0) + (a.seconds - b);
  }
  return out;
}

/** Each value to two decimals, the groups by share, largest first. */
function rounded(by: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(by)
      .map(([k, v]) => [k, Number(v.toFixed(2))] as const)
      .sort((x, y) => y[1] - x[1]),
  );
}

/** Cores used on average between two samples, by group. */
export function coresUsed(before: Sample, after: Sample): Record<string, number> {
  const wall = (after.at - before.at) / 1000;
  return rounded(Object.fromEntries(Object.entries(secondsByGroup(before, after)).map(([k, v]) => [k, v / wall])));
}

/** CPU seconds used between two samples, by group. */
export function cpuSeconds(before: Sample, after: Sample): Record<string, number> {
  return rounded(secondsByGroup(before, after));
}

/** The sum of a coresUsed() record, to two decimals: how much of the machine the window used. */
export function totalCores(cores: Record<string, number>): number {
  return Number(
    Object.values(cores)
      .reduce((a, b) => a + b, 0)
      .toFixed(2),
  );
}

/** `group 0.61, group 0.37, …` (coresUsed() sorts the groups by share). */
export function coresLine(cores: Record<string, number>): string {
  return Object.entries(cores)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

/** CPU seconds of this process's children that have exited and been waited for (cutime + cstime of /proc/self/stat). */
export function exitedChildrenCpuSeconds(): number {
  // Fields 16 and 17 of stat: cutime, cstime.
  return statSeconds('/proc/self/stat', 16);
}
