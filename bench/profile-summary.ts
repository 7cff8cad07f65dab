// Where the time goes: the V8 CPU profiles (`--cpu-prof`) of a benchmark's processes and threads, summed by self
// time per function and per area of the code (engine folder, kafkajs, pg, uWS, node internals, GC, idle).
// Usage: node dist/bench/profile-summary.js <dir of .cpuprofile files> [top N]   (writes <dir>/summary.json too)
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The area a function belongs to: an engine folder (src/stream, …), a package, node's own code, or V8's pseudo-frames. */
export function areaOf(f: CallFrame): string {
  if (f.url === '') return f.functionName.startsWith('(') ? f.functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f.url);
  if (pkg) return pkg[1]!;
  const src = /\/dist\/(src\/[^/]+)\//.exec(f.url) ?? /\/dist\/(src)\/[^/]+\.js$/.exec(f.url);
  if (src) return src[1]!;
  if (f.url.startsWith('node:')) return 'node';
  return f.url.split('/').slice(-2).join('/');
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  areas: { area: string; ms: number; share: number }[];
  functions: { fn: string; area: string; ms: number; share: number }[];
}

export function summarize(file: string, top: number): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const selfUs = new Map<number, number>();
  p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const byFn = new Map<string, { area: string; us: number }>();
  const byArea = new Map<string, number>();
  let total = 0;
  for (const n of p.nodes) {
    const us = selfUs.get(n.id) ?? 0;
    if (us === 0) continue;
    total += us;
    const area = areaOf(n.callFrame);
    const fn = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
    const e = byFn.get(fn) ?? { area, us: 0 };
    e.us += us;
    byFn.set(fn, e);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
  }
  const ms = (us: number) => Math.round(us / 1000);
  const share = (us: number) => Number((us / total).toFixed(3));
  return {
    file: basename(file),
    totalMs: ms(total),
    areas: [...byArea.entries()].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, ms: ms(us), share: share(us) })),
    functions: [...byFn.entries()]
      .sort((a, b) => b[1].us - a[1].us)
      .slice(0, top)
      .map(([fn, e]) => ({ fn, area: e.area, ms: ms(e.us), share: share(e.us) })),
  };
}

function main(): void {
  const [dir, topText] = process.argv.slice(2);
  if (!dir || dir === '--help' || dir === '-h') {
    process.stdout.write('usage: node dist/bench/profile-summary.js <dir of .cpuprofile files> [top N (15)]\n');
    process.exit(dir ? 0 : 2);
  }
  const top = Number(topText ?? 15);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort();
  const summaries = files.map((f) => summarize(join(dir, f), top));
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summaries, null, 2) + '\n');
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`.padStart(6);
  for (const s of summaries) {
    const lines = [`\n${s.file}: ${s.totalMs} ms sampled`];
    lines.push(
      '  by area: ' +
        s.areas
          .slice(0, 10)
          .map((a) => `${a.area} ${pct(a.share).trim()}`)
          .join(', '),
    );
    for (const f of s.functions) lines.push(`  ${String(f.ms).padStart(7)} ms ${pct(f.share)}  ${f.fn}  [${f.area}]`);
    process.stdout.write(lines.join('\n') + '\n');
  }
}

if (process.argv[1]?.endsWith('profile-summary.js')) main();
