// Replay from a CSV file: deterministic output, bars equal to the offline computation, bad lines counted.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { barKey, type Bar } from '../../src/contracts/bar.js';
import type { Tick } from '../../src/contracts/tick.js';
import { replay, type ReplayPartition } from '../../src/runtime/replay.js';
import { packedCursors, type PackedBatch } from '../../src/stream/packed-batch.js';
import { loadConfig } from '../../src/config.js';
import { CSV_HEADER, tickToCsv } from '../../src/ingest/files/csv-ticks.js';
import { csvTickCursors } from '../../src/ingest/files/csv-tick-reader.js';
import { readCsvTicks, recordCursors, type TickRecord as ReplayRecord } from '../helpers/tick-records.js';
import { FeedSimulator } from '../../src/ingest/simulator.js';
import { zonedDayBucketing } from '../../src/aggregate/bucketing.js';
import { schema } from '../../src/stream/schemas.js';
import { encode } from '../../src/stream/serde.js';
import { diffBars, offlineBars } from '../helpers/oracle.js';

const config = loadConfig({ env: { TE_INTERVALS: '1s,5s,1m', TE_MAX_OUT_OF_ORDER_MS: '300', TE_ALLOWED_LATENESS_MS: '700' } });

async function* fromFile(path: string, batchSize = 1000): AsyncGenerator<ReplayPartition> {
  async function* batches(): AsyncGenerator<ReplayRecord[]> {
    let batch: ReplayRecord[] = [];
    for await (const r of readCsvTicks(path)) {
      batch.push(r.tick ? { offset: r.line, tick: r.tick } : { offset: r.line, error: r.error! });
      if (batch.length === batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  }
  yield { partition: 0, batches: recordCursors(batches()) };
}

async function* fromLineBlocks(path: string, chunkBytes: number): AsyncGenerator<ReplayPartition> {
  yield { partition: 0, batches: csvTickCursors(path, chunkBytes) };
}

t.test('CSV replay: deterministic, equal to offline bars, revisions included', async (t) => {
  const sim = new FeedSimulator({ symbols: 12, rate: 500, seed: 5, start: Date.parse('2024-06-01T00:00:00Z') * 1000, jitter: 1_200_000, venue: 'X' });
  const ticks = Array.from({ length: 40_000 }, () => sim.next());
  const dir = mkdtempSync(join(tmpdir(), 'csv-replay-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'ticks.csv');
  writeFileSync(path, [CSV_HEADER, ...ticks.map(tickToCsv), 'bad,line', ''].join('\n'));
  const runs: string[] = [];
  let bars: Bar[] = [];
  for (let run = 0; run < 3; run++) {
    const out: Bar[] = [];
    // Parsed records in batches of 1000 and 37, then the lines where they lie, as `tick-engine replay --file` reads them.
    const source = run < 2 ? fromFile(path, run === 0 ? 1000 : 37) : fromLineBlocks(path, 3000);
    const stats = await replay(config, source, (b) => void out.push(...b));
    t.equal(stats.records, ticks.length + 1);
    t.equal(stats.rejected.TE_DECODE, 1, 'the malformed line is counted as a reject');
    runs.push(JSON.stringify(out));
    bars = out;
  }
  t.equal(runs[0], runs[1], 'two replays (different source batch sizes) emit identical bars in identical order');
  t.equal(runs[2], runs[0], 'lines parsed where they lie (the CLI path) emit the same bars in the same order');
  // Offsets are CSV line numbers: line 2 holds the first tick.
  const expected = offlineBars(
    ticks.map((x, k) => ({ ...x, partition: 0, offset: k + 2 })),
    { intervals: config.intervals, maxOutOfOrder: 300_000, allowedLateness: 700_000 },
  );
  t.ok(expected.revised.length > 50 && expected.late.length > 50, `${expected.revised.length} revising and ${expected.late.length} dropped late ticks`);
  const latest = new Map<string, Bar>();
  for (const b of bars) latest.set(`${b.symbol}|${b.interval}|${b.bucketStart}`, b);
  t.same(diffBars([...latest.values()], expected.finalBars), [], 'latest version of every bar = offline bars');
});

t.test('daily bars in a time zone roll up from hours across a DST change, equal to offline bars', async (t) => {
  const zoned = loadConfig({ env: { TE_INTERVALS: '1h,1d', TE_DAILY_TIMEZONE: 'America/New_York', TE_MAX_OUT_OF_ORDER_MS: '0', TE_ALLOWED_LATENESS_MS: '0' } });
  // Four days across the end of US daylight saving time (2024-11-03: a 25-hour day), a tick every ~12 s.
  const sim = new FeedSimulator({ symbols: 3, rate: 0.25, seed: 8, start: Date.parse('2024-11-01T12:00:00Z') * 1000, jitter: 0, venue: 'X' });
  const ticks = Array.from({ length: 4 * 86_400 * 0.25 }, () => sim.next());
  const dir = mkdtempSync(join(tmpdir(), 'zoned-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'ticks.csv');
  writeFileSync(path, [CSV_HEADER, ...ticks.map(tickToCsv)].join('\n'));
  const out: Bar[] = [];
  await replay(zoned, fromFile(path), (b) => void out.push(...b));
  const day = zonedDayBucketing('America/New_York');
  const expected = offlineBars(
    ticks.map((x, k) => ({ ...x, partition: 0, offset: k + 2 })),
    {
      intervals: zoned.intervals,
      maxOutOfOrder: 0,
      bucketOf: (iv, ts) => (iv === '1d' ? { start: day.start(ts), end: day.end(day.start(ts)) } : undefined),
    },
  );
  const days = expected.finalBars.filter((b) => b.interval === '1d');
  t.ok(days.length >= 6, `${days.length} final daily bars`);
  t.ok(
    days.some((b) => day.end(b.bucketStart) - b.bucketStart === 25 * 3_600_000_000),
    'one of them is the 25-hour day',
  );
  t.same(diffBars(out, expected.finalBars), [], 'hourly and zoned daily bars = offline bars');
});

t.test('wire-format records (the Kafka path) give the same bars as parsed ticks; bad values are counted', async (t) => {
  const sim = new FeedSimulator({ symbols: 30, rate: 800, seed: 12, start: Date.parse('2024-06-01T00:00:00Z') * 1000, jitter: 900_000, venue: 'X' });
  const ticks = Array.from({ length: 30_000 }, () => sim.next());
  const s = schema('tick');
  const bad = new Set([5, 4096, 20_000]);
  const source = (raw: boolean, batchSize: number): AsyncIterable<ReplayPartition> =>
    (async function* () {
      async function* batches(): AsyncGenerator<ReplayRecord[]> {
        for (let i = 0; i < ticks.length; i += batchSize) {
          yield ticks.slice(i, i + batchSize).map((x, k) => {
            const offset = i + k;
            if (bad.has(offset)) return raw ? { offset, value: Buffer.from([0, 0, 0, 0, 9]) } : { offset, error: 'bad' };
            return raw ? { offset, value: encode(s, x) } : { offset, tick: x };
          });
        }
      }
      yield { partition: 0, batches: recordCursors(batches()) };
    })();
  const parsed: Bar[] = [];
  const raw: Bar[] = [];
  const a = await replay(config, source(false, 4096), (b) => void parsed.push(...b));
  const b = await replay(config, source(true, 333), (x) => void raw.push(...x));
  t.equal(JSON.stringify(raw), JSON.stringify(parsed), 'identical bar versions in identical order');
  t.same(b, a, 'identical stats');
  // Values where they lie in a fetch response (PackedBatch with starts): other bytes between them, one null value.
  const inPlace = (batchSize: number): AsyncIterable<ReplayPartition> =>
    (async function* () {
      async function* batches(): AsyncGenerator<PackedBatch> {
        for (let i = 0; i < ticks.length; i += batchSize) {
          const n = Math.min(batchSize, ticks.length - i);
          const parts: Buffer[] = [];
          const starts = new Int32Array(n);
          const lengths = new Int32Array(n);
          let pos = 0;
          for (let k = 0; k < n; k++) {
            const offset = i + k;
            const gap = Buffer.alloc(1 + (offset % 7), 0xee);
            const value = offset === 7 ? null : bad.has(offset) ? Buffer.from([0, 0, 0, 0, 9]) : encode(s, ticks[offset]!);
            parts.push(gap);
            pos += gap.length;
            starts[k] = pos;
            lengths[k] = value ? value.length : -1;
            if (value) parts.push(value);
            pos += value?.length ?? 0;
          }
          yield { data: Buffer.concat(parts), starts, lengths, offsets: Float64Array.from({ length: n }, (_, k) => i + k) };
        }
      }
      yield { partition: 0, batches: packedCursors(batches()) };
    })();
  const inPlaceBars: Bar[] = [];
  const c = await replay(config, inPlace(2500), (x) => void inPlaceBars.push(...x));
  const withoutSeven = (bars: Bar[]) => bars.filter((x) => x.symbol !== ticks[7]!.symbol);
  t.equal(
    JSON.stringify(withoutSeven(inPlaceBars)),
    JSON.stringify(withoutSeven(raw)),
    'values read in place: the same bars (symbols other than the nulled tick’s)',
  );
  t.equal(c.rejected.TE_DECODE, bad.size + 1, 'the null value is a TE_DECODE reject too');
  t.equal(b.rejected.TE_DECODE, bad.size, 'undecodable values are counted as TE_DECODE');
  t.ok(raw.length > 1000, `${raw.length} bar versions`);
});

t.test('includeOpen: every partition’s open bars at the end, after all final bars, equal to the offline open bars', async (t) => {
  const sim = new FeedSimulator({ symbols: 9, rate: 600, seed: 21, start: Date.parse('2024-06-01T00:00:00Z') * 1000, jitter: 1_000_000, venue: 'X' });
  // Ends 0.15 s into 00:01:37: mid-bucket at 1s, 5s and 1m, with two 1s bars open per symbol (the watermark is
  // 0.3 s behind). One symbol stops 3 s earlier: its open 1m bar holds closed 1s bars only.
  const end = Date.parse('2024-06-01T00:01:37.150Z') * 1000;
  const all: Tick[] = [];
  for (let x = sim.next(); x.eventTime < end; x = sim.next()) all.push(x);
  const quiet = all[0]!.symbol;
  const ticks = all.filter((x) => x.symbol !== quiet || x.eventTime < end - 3_000_000);
  // Two partitions, every symbol in one of them (as keyed records are), offsets from 0 in each.
  const symbols = [...new Set(ticks.map((x) => x.symbol))].sort();
  const partitionOf = (symbol: string) => symbols.indexOf(symbol) % 2;
  const records = [0, 1].map((p) => ticks.filter((x) => partitionOf(x.symbol) === p).map((tick, offset) => ({ offset, tick })));
  const source = (batchSize: number): AsyncIterable<ReplayPartition> =>
    (async function* () {
      for (const [p, list] of records.entries()) {
        yield {
          partition: p,
          batches: recordCursors(
            (function* () {
              for (let i = 0; i < list.length; i += batchSize) yield list.slice(i, i + batchSize);
            })(),
          ),
        };
      }
    })();
  const plain: Bar[] = [];
  const withOpen: Bar[] = [];
  const other: Bar[] = [];
  const a = await replay(config, source(1000), (b) => void plain.push(...b));
  const b = await replay(config, source(1000), (x) => void withOpen.push(...x), { includeOpen: true });
  await replay(config, source(77), (x) => void other.push(...x), { includeOpen: true });
  t.equal(JSON.stringify(other), JSON.stringify(withOpen), 'another batching: the same bars in the same order');
  t.notOk(
    plain.some((x) => !x.final),
    'without includeOpen: final bars only',
  );
  t.equal(a.openBars, 0);
  t.equal(b.openBars, withOpen.length - plain.length, 'the open bars are counted apart from the final ones');
  t.same({ ...b, openBars: 0 }, a, 'the other stats unchanged');
  t.equal(JSON.stringify(withOpen.slice(0, plain.length)), JSON.stringify(plain), 'the final bars come first, exactly as without includeOpen');
  const open = withOpen.slice(plain.length);
  t.ok(
    open.every((x) => !x.final),
    `then ${open.length} open bars, all final: false`,
  );
  const oracle = offlineBars(
    records.flatMap((list, p) => list.map((r) => ({ ...r.tick, partition: p, offset: r.offset }))),
    { intervals: config.intervals, maxOutOfOrder: 300_000, allowedLateness: 700_000, includeOpen: true },
  );
  const expectedOpen = oracle.finalBars.filter((x) => !x.final);
  t.same(diffBars(open, expectedOpen), [], 'open bars = the offline open bars, every field');
  for (const iv of config.intervals)
    t.ok(
      open.some((x) => x.interval === iv.name),
      `open ${iv.name} bars`,
    );
  const open1s = open.filter((x) => x.interval === '1s');
  t.ok(
    open1s.some((x) => open1s.some((y) => y.symbol === x.symbol && y.bucketStart !== x.bucketStart)),
    'a symbol with two open 1s bars',
  );
  t.ok(
    open.some((x) => x.symbol === quiet && x.interval === '1m') && !open1s.some((x) => x.symbol === quiet),
    'a symbol with an open 1m bar and no open 1s bar',
  );
  const partitions = open.map((x) => partitionOf(x.symbol));
  t.same(partitions, [...partitions].sort(), 'partition 0’s open bars, then partition 1’s');
  t.same([...new Set(partitions)], [0, 1], 'both partitions have open bars');
  const latest = new Map<string, Bar>();
  for (const x of withOpen) if (x.final) latest.set(barKey(x), x);
  t.same(
    diffBars(
      [...latest.values()],
      oracle.finalBars.filter((x) => x.final),
    ),
    [],
    'final bars = the offline final bars',
  );
});
