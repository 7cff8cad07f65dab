// The live-path breakdown reads bucketed histograms from /metrics text: checked against a real prom-client
// exposition, with each quantile computed independently from the observed values.
import t from 'tap';
import { Histogram, Registry } from 'prom-client';
import { parseBuckets, stageFigures, stageTable } from '../../bench/stages.js';

const BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1];

/** The upper bound (ms) of the bucket holding the q-th observation, from the values themselves. */
function bucketOf(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const v = sorted[Math.ceil(q * sorted.length) - 1]!;
  return (BUCKETS.find((b) => v <= b) ?? Infinity) * 1000;
}

t.test('quantiles of the window between two scrapes, per label value', async (t) => {
  const registry = new Registry();
  const h = new Histogram({ name: 'x_seconds', help: 'x', labelNames: ['stage'], buckets: BUCKETS, registers: [registry] });
  let seed = 7;
  const rnd = () => ((seed = (seed * 48271) % 2147483647) / 2147483647) ** 3;
  for (let i = 0; i < 500; i++) h.observe({ stage: 'early' }, rnd());
  const before = parseBuckets(await registry.metrics(), 'x_seconds', 'stage');
  const fold: number[] = [];
  const wait: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const a = rnd() * 0.2;
    const b = rnd() * 2;
    fold.push(a);
    wait.push(b);
    h.observe({ stage: 'fold' }, a);
    h.observe({ stage: 'wait' }, b);
  }
  const figures = stageFigures(before, parseBuckets(await registry.metrics(), 'x_seconds', 'stage'));
  t.same(Object.keys(figures).sort(), ['fold', 'wait'], 'a label with nothing observed in the window is left out');
  t.equal(figures.fold!.count, 1000);
  t.equal(figures.fold!.p50Ms, bucketOf(fold, 0.5), 'fold p50');
  t.equal(figures.fold!.p99Ms, bucketOf(fold, 0.99), 'fold p99');
  t.equal(figures.wait!.p50Ms, bucketOf(wait, 0.5), 'wait p50');
  t.equal(figures.wait!.p99Ms, bucketOf(wait, 0.99), 'wait p99 (beyond the last bucket: +Inf)');
});

t.test('a label other than le, in any order, and +Inf', async (t) => {
  const text = ['y_bucket{le="0.1",target="a"} 3', 'y_bucket{target="a",le="+Inf"} 4', 'y_bucket{le="0.1",other="b"} 9'].join('\n');
  const b = parseBuckets(text, 'y', 'target');
  t.same([...b.keys()], ['a']);
  t.same(
    [...b.get('a')!.entries()],
    [
      [0.1, 3],
      [Infinity, 4],
    ],
  );
});

t.test('the printed table: stages in path order, then the others; past the top bucket is ∞', async (t) => {
  const lines = stageTable({
    'write:extra': { count: 2, p50Ms: 5, p99Ms: 10 },
    fold: { count: 3, p50Ms: 2.5, p99Ms: Infinity },
    tick_to_fold: { count: 4, p50Ms: 10, p99Ms: 75 },
  });
  t.same(
    lines.map((l) => l.trim().split(/\s+/)[0]),
    ['tick_to_fold', 'fold', 'write:extra'],
  );
  t.match(lines[1]!, /p50 ≤ +2\.5 ms {2}p99 ≤ +∞ ms {2}\(3\)/);
  t.match(lines[0]!, /p99 ≤ +75 ms/);
});
