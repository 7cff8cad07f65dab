// The aggregator's memory as its own /metrics reports it (prom-client's default process metrics): RSS, the V8 heap
// of its main thread (used and reserved, by space) and memory outside the heap. Scraped while a run's feed is still
// on, so a reader can tell live state from what V8 keeps in reserve. Worker threads' heaps are not in these figures
// (they are in RSS).

export interface HeapFigures {
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  /** Used / reserved MB of each V8 space ("new", "old", "code", "large_object", …). */
  spaces: Record<string, { usedMb: number; totalMb: number }>;
}

const mb = (bytes: number) => Math.round(bytes / 2 ** 20);

/** The value of the unlabelled `name`, or of its series labelled with `label="value"`; NaN when absent. */
function value(text: string, name: string, label?: string): number {
  const series = label ? `${name}\\{[^}]*${label}[^}]*\\}` : `${name}(?:\\{\\})?`;
  const m = new RegExp(`^${series} ([\\d.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** The figures of a Prometheus text exposition with prom-client's default metrics under `prefix`. */
export function parseHeap(text: string, prefix = 'tick_engine_'): HeapFigures {
  const spaces: HeapFigures['spaces'] = {};
  const re = new RegExp(`^${prefix}nodejs_heap_space_size_used_bytes\\{[^}]*space="(\\w+)"[^}]*\\} ([\\d.e+-]+)$`, 'gm');
  for (const m of text.matchAll(re)) {
    const space = m[1]!;
    spaces[space] = { usedMb: mb(Number(m[2])), totalMb: mb(value(text, `${prefix}nodejs_heap_space_size_total_bytes`, `space="${space}"`)) };
  }
  return {
    rssMb: mb(value(text, `${prefix}process_resident_memory_bytes`)),
    heapUsedMb: mb(value(text, `${prefix}nodejs_heap_size_used_bytes`)),
    heapTotalMb: mb(value(text, `${prefix}nodejs_heap_size_total_bytes`)),
    externalMb: mb(value(text, `${prefix}nodejs_external_memory_bytes`)),
    spaces,
  };
}

/** One line: RSS, heap used of reserved, the spaces that hold more than 1 MB, external. */
export function heapLine(h: HeapFigures): string {
  const spaces = Object.entries(h.spaces)
    .filter(([, s]) => s.totalMb >= 1)
    .map(([name, s]) => `${name} ${s.usedMb}/${s.totalMb}`)
    .join(', ');
  return `RSS ${h.rssMb} MB, heap used ${h.heapUsedMb} of ${h.heapTotalMb} MB reserved (${spaces}), external ${h.externalMb} MB`;
}
