// What a process's live heap is made of: a V8 heap snapshot (taken after a full GC, e.g. by `--heapsnapshot-signal`)
// summed by constructor (objects) or by node type (arrays, numbers, strings, code, native memory), largest first.
// Usage: node dist/bench/heap-summary.js <file.heapsnapshot> [top N]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface HeapGroup {
  /** A constructor's name for objects, `(type)` for the rest: `(closure)`, `(array)`, `(number)`, `(native)`, … */
  name: string;
  count: number;
  /** Sum of the nodes' self sizes, bytes. */
  bytes: number;
}

/** Self sizes summed by group, largest first, and the total. */
export function summarizeHeap(snap: HeapSnapshot): { totalBytes: number; groups: HeapGroup[] } {
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const stride = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const groups = new Map<string, HeapGroup>();
  let totalBytes = 0;
  for (let i = 0; i < snap.nodes.length; i += stride) {
    const type = types[snap.nodes[i + typeAt]!]!;
    const name = type === 'object' ? snap.strings[snap.nodes[i + nameAt]!]! : `(${type})`;
    const bytes = snap.nodes[i + sizeAt]!;
    totalBytes += bytes;
    const g = groups.get(name);
    if (g) {
      g.count++;
      g.bytes += bytes;
    } else groups.set(name, { name, count: 1, bytes });
  }
  return { totalBytes, groups: [...groups.values()].sort((a, b) => b.bytes - a.bytes) };
}

/** Printable lines: the total, then the top groups (MB, count, name). */
export function heapSummaryLines(s: { totalBytes: number; groups: HeapGroup[] }, top: number): string[] {
  const mb = (b: number) => (b / 2 ** 20).toFixed(1);
  return [
    `live heap after GC: ${mb(s.totalBytes)} MB`,
    ...s.groups.slice(0, top).map((g) => `${mb(g.bytes).padStart(8)} MB ${String(g.count).padStart(9)}  ${g.name.slice(0, 80)}`),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, top] = process.argv.slice(2);
  if (!file || file === '--help') {
    process.stdout.write('usage: node dist/bench/heap-summary.js <file.heapsnapshot> [top N, default 25]\n');
    process.exit(file ? 0 : 2);
  }
  const snap = JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshot;
  process.stdout.write(heapSummaryLines(summarizeHeap(snap), Number(top ?? 25)).join('\n') + '\n');
}
