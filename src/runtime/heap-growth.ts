// The aggregator's V8 heap growth (TE_HEAP_GROWTH_PERCENT). V8 sizes the old generation at some multiple of what the
// last full GC kept, from how fast it collects against how fast the program allocates; for the aggregator, whose
// state is long-lived but whose bars die young in the thousands a second, that choice reserved 4–5 times the live
// heap (bench/memory.ts). The flag is read at every GC, so setting it at start-up applies to the process and to
// every worker thread (V8 flags are per process).
import { setFlagsFromString } from 'node:v8';
import type { Logger } from '../log.js';

/** Apply a heap growing percent (0: leave V8's default). */
export function applyHeapGrowth(percent: number, log: Logger): void {
  if (percent === 0) return;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  log.info({ heapGrowthPercent: percent }, 'V8 heap growth set');
}
