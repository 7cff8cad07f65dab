// The bench's memory line reads prom-client's default metrics: checked against a real exposition of this process,
// compared with what v8 and process report directly.
import t from 'tap';
import { getHeapSpaceStatistics } from 'node:v8';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { heapLine, parseHeap } from '../../bench/heap.js';

t.test('heap figures from a real exposition agree with v8 and process', async (t) => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'x_' });
  const h = parseHeap(await registry.metrics(), 'x_');
  const mb = (b: number) => b / 2 ** 20;
  // The process changes between the scrape and these reads: allow a few MB.
  t.ok(Math.abs(h.rssMb - mb(process.memoryUsage().rss)) < 16, `RSS ${h.rssMb} MB`);
  t.ok(Math.abs(h.heapTotalMb - mb(process.memoryUsage().heapTotal)) < 16, `heap total ${h.heapTotalMb} MB`);
  t.ok(h.heapUsedMb > 0 && h.heapUsedMb <= h.heapTotalMb, `heap used ${h.heapUsedMb} of ${h.heapTotalMb} MB`);
  const v8Spaces = getHeapSpaceStatistics().map((s) => s.space_name.replace(/_space$/, ''));
  t.same(Object.keys(h.spaces).sort(), v8Spaces.sort(), 'every V8 space');
  t.ok(h.spaces.old!.usedMb <= h.spaces.old!.totalMb, 'old space used within reserved');
  t.match(heapLine(h), /^RSS \d+ MB, heap used \d+ of \d+ MB reserved \(.*old \d+\/\d+.*\), external \d+ MB$/);
});

t.test('absent metrics read as NaN, not as zero', async (t) => {
  const h = parseHeap('# nothing here\n');
  t.ok(Number.isNaN(h.rssMb) && Number.isNaN(h.heapUsedMb) && Number.isNaN(h.externalMb));
  t.same(h.spaces, {});
});

t.test('a labelled series does not answer for an unlabelled name', async (t) => {
  const text = 'y_nodejs_heap_size_used_bytes{pid="1"} 1048576\ny_nodejs_heap_size_used_bytes 2097152\n';
  t.equal(parseHeap(text, 'y_').heapUsedMb, 2);
});
