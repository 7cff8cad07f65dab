// The heap-snapshot summary: a real snapshot of a child process holding a known number of objects of its own class.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { heapSummaryLines, summarizeHeap } from '../../bench/heap-summary.js';

t.test('objects of a class are counted and sized from a real snapshot', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'heap-'));
  const script = `class Probe7 { constructor(i) { this.a = i; this.b = [i, i + 0.5]; } }
globalThis.keep = Array.from({ length: 12345 }, (_, i) => new Probe7(i));
require('v8').writeHeapSnapshot(require('path').join(${JSON.stringify(dir)}, 'x.heapsnapshot'));`;
  execFileSync(process.execPath, ['-e', script]);
  const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot'))!;
  const s = summarizeHeap(JSON.parse(readFileSync(join(dir, file), 'utf8')));
  const probe = s.groups.find((g) => g.name === 'Probe7');
  t.equal(probe?.count, 12345, 'every instance, once');
  t.ok(probe!.bytes >= 12345 * 16 && probe!.bytes <= 12345 * 128, `self sizes summed: ${probe!.bytes} bytes`);
  t.equal(
    s.groups.reduce((a, g) => a + g.bytes, 0),
    s.totalBytes,
    'the groups add up to the total',
  );
  t.ok(
    s.groups.every((g, i) => i === 0 || s.groups[i - 1]!.bytes >= g.bytes),
    'largest first',
  );
  const lines = heapSummaryLines(s, 3);
  t.equal(lines.length, 4);
  t.match(lines[0], /^live heap after GC: \d+\.\d MB$/);
});
