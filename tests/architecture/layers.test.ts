// The shape of src/ holds as it grows: imports point down the layers only, no module imports itself through others,
// and no folder holds more than about a quarter of the code. The layers (docs/architecture.md, "Layout"):
//
//   cli       the commands: wire everything
//   push      the push endpoint: brokers and MetaTrader 5 post ticks and quotes (uses the gateway's HTTP and auth parts)
//   load      the load harness (tick-engine load): scenarios, thresholds, client workers, synthetic feed, reports
//   gateway   WebSocket and REST serving (auth/, http/, rest/, ws/, fanout/)
//   runtime   what drives the aggregation: consumer, workers, output path, replay
//   standins  local stand-ins of the venues (their WebSocket and REST history), fed by the simulator or a test's list:
//             beside the layers, not in them: they use ingest and below, and only cli (and tests) use them
//   ingest    sources of ticks: the simulator and feed, files (files/), venue messages (venues/)
//   stores    each store's write and read side
//   stream    Kafka plumbing and codecs (fetch/: replay's own fetch client)
//   aggregate pure bar maths: buckets, sums, OHLCV, open bars, the fold, the partition aggregator, signals/
//   base      the files at the top of src/: configuration, logs, metrics, small utilities
//   contracts tick, bar, signal, interval, validation, the tick cursor: imports only errors
//   errors    errors.ts: imports nothing
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import t from 'tap';
import { projectRoot } from '../../src/paths.js';

const LAYERS = ['errors', 'contracts', 'base', 'aggregate', 'stream', 'stores', 'ingest', 'standins', 'runtime', 'gateway', 'push', 'load', 'cli'] as const;
type Layer = (typeof LAYERS)[number];
// About a quarter, as the structure issue asks. (It was raised to 0.3 while the venue feeds' gap fillers took
// src/ingest to about 28.5 %; with the load harness, push endpoint and stand-ins in their own folders, the largest,
// src/ingest, is about 22 % on 2026-12-02. If it outgrows this, the venues' adapters and feeds become a layer.)
const MAX_FOLDER_SHARE = 0.25;

const src = join(projectRoot(), 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return files(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

function layerOf(file: string): Layer {
  const rel = relative(src, file);
  if (rel === 'errors.ts') return 'errors';
  const top = rel.split('/')[0]!;
  if (!rel.includes('/')) return 'base';
  if (!(LAYERS as readonly string[]).includes(top))
    throw new Error(`${rel}: folder src/${top} is in no layer (add it to this test and to docs/architecture.md)`);
  return top as Layer;
}

/** Relative imports of a file (static, type-only and dynamic), resolved to .ts files. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.{1,2}\/[^']+)'/g)].map((m) => resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')));
}

const all = files(src);
const graph = new Map(all.map((f) => [f, importsOf(f)]));

t.test('imports point down the layers', async (t) => {
  const against: string[] = [];
  for (const [file, deps] of graph) {
    const from = LAYERS.indexOf(layerOf(file));
    for (const dep of deps) {
      const to = LAYERS.indexOf(layerOf(dep));
      if (to > from) against.push(`${relative(src, file)} (${layerOf(file)}) imports ${relative(src, dep)} (${layerOf(dep)})`);
    }
  }
  t.same(against, [], 'no import from a lower layer to a higher one');
  const contracts = [...graph].flatMap(([f, deps]) =>
    layerOf(f) === 'contracts' ? deps.filter((d) => !['errors', 'contracts'].includes(layerOf(d))).map((d) => `${relative(src, f)} → ${relative(src, d)}`) : [],
  );
  t.same(contracts, [], 'contracts import nothing but errors');
  // The stand-ins are a test and demo device: no part of the engine may come to rely on one.
  const standins = [...graph].flatMap(([f, deps]) =>
    deps.filter((d) => layerOf(d) === 'standins' && !['standins', 'cli'].includes(layerOf(f))).map((d) => `${relative(src, f)} → ${relative(src, d)}`),
  );
  t.same(standins, [], 'only cli imports src/standins');
  t.ok(
    all.every((f) => graph.get(f)!.every((d) => graph.has(d))),
    'every relative import names a file of src/',
  );
});

t.test('no import cycles', async (t) => {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    path.push(f);
    for (const d of graph.get(f) ?? []) {
      if (state.get(d) === 'open') cycles.push([...path.slice(path.indexOf(d)), d].map((x) => relative(src, x)).join(' → '));
      else if (!state.has(d)) visit(d);
    }
    path.pop();
    state.set(f, 'done');
  };
  for (const f of all) if (!state.has(f)) visit(f);
  t.same(cycles, [], 'the module graph is acyclic');
});

t.test('no folder holds more than about a quarter of the code', async (t) => {
  const lines = (f: string) => readFileSync(f, 'utf8').split('\n').length;
  const total = all.reduce((n, f) => n + lines(f), 0);
  const byFolder = new Map<string, number>();
  for (const f of all) {
    const rel = relative(src, f);
    if (!rel.includes('/')) continue;
    const top = rel.split('/')[0]!;
    byFolder.set(top, (byFolder.get(top) ?? 0) + lines(f));
  }
  for (const [folder, n] of byFolder) t.ok(n / total <= MAX_FOLDER_SHARE, `src/${folder}: ${n} of ${total} lines (${((100 * n) / total).toFixed(1)} %)`);
});
