// `tick-engine replay --file … --include-open` as a user runs it (the built CLI, a child process, no servers): the
// bars still open at the end of the file follow the final bars, marked final: false, equal to the offline open bars.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { Bar } from '../../src/contracts/bar.js';
import type { Tick } from '../../src/contracts/tick.js';
import { CSV_HEADER, tickToCsv } from '../../src/ingest/files/csv-ticks.js';
import { FeedSimulator } from '../../src/ingest/simulator.js';
import { cliEnv, runCli } from '../helpers/cli.js';
import { diffBars, offlineBars } from '../helpers/oracle.js';

const intervals = [
  { name: '1s', micros: 1e6 },
  { name: '5s', micros: 5e6 },
  { name: '1m', micros: 60e6 },
  { name: '1h', micros: 3600e6 },
];
// Only what the command reads: no broker or store is needed for a file.
const env = cliEnv({ TE_INTERVALS: intervals.map((i) => i.name).join(','), TE_MAX_OUT_OF_ORDER_MS: 300, TE_ALLOWED_LATENESS_MS: 700, TE_LOG_LEVEL: 'warn' });

async function run(t: Test, args: string[]): Promise<string> {
  const proc = runCli(['replay', ...args], env);
  t.equal(await proc.exited, 0, `replay ${args.join(' ')} exits 0`);
  return proc.output();
}

const lines = (text: string): Bar[] =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Bar);

t.test('replay --file --include-open: open bars at the end, after the unchanged final bars', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'replay-open-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Six symbols for 97.15 s from 00:00:00, with out-of-order ticks: the file ends mid-bucket at every interval, with
  // two 1s bars open per symbol (the watermark is 0.3 s behind the last tick). One symbol stops 3 s earlier: its
  // open 1m and 1h bars hold closed 1s bars only.
  const sim = new FeedSimulator({ symbols: 6, rate: 300, seed: 31, start: Date.parse('2024-03-01T00:00:00Z') * 1000, jitter: 800_000, venue: 'X' });
  const end = Date.parse('2024-03-01T00:01:37.150Z') * 1000;
  const all: Tick[] = [];
  for (let x = sim.next(); x.eventTime < end; x = sim.next()) all.push(x);
  const quiet = all[0]!.symbol;
  const ticks = all.filter((x) => x.symbol !== quiet || x.eventTime < end - 3_000_000);
  const csv = join(dir, 'ticks.csv');
  writeFileSync(csv, [CSV_HEADER, ...ticks.map(tickToCsv)].join('\n') + '\n');

  const plainOut = join(dir, 'plain.jsonl');
  const openOut = join(dir, 'open.jsonl');
  await run(t, ['--file', csv, '--out', plainOut]);
  const log = await run(t, ['--file', csv, '--include-open', '--out', openOut]);
  const plainText = readFileSync(plainOut, 'utf8');
  const openText = readFileSync(openOut, 'utf8');
  const plain = lines(plainText);
  t.ok(plain.length > 500, `${plain.length} bar versions without the flag`);
  t.notOk(
    plain.some((b) => !b.final),
    'without --include-open: no final: false bar',
  );
  t.ok(openText.startsWith(plainText), 'with it: the output starts with exactly the bytes written without it');
  const open = lines(openText.slice(plainText.length));
  t.ok(open.length > 0, `then ${open.length} more bars`);
  t.ok(
    open.every((b) => !b.final),
    'all of them final: false',
  );
  t.match(log, new RegExp(`${plain.length} bar versions and ${open.length} open bars \\(final: false\\) written`), 'the summary counts them');

  // Offsets are line numbers: line 2 holds the first tick.
  const oracle = offlineBars(
    ticks.map((x, k) => ({ ...x, partition: 0, offset: k + 2 })),
    { intervals, maxOutOfOrder: 300_000, allowedLateness: 700_000, includeOpen: true },
  );
  const expectedOpen = oracle.finalBars.filter((b) => !b.final);
  t.same(diffBars(open, expectedOpen), [], 'the open bars = the offline open bars, every field');
  for (const iv of intervals) {
    const n = open.filter((b) => b.interval === iv.name).length;
    t.ok(n > 0, `${n} open ${iv.name} bars`);
  }
  const open1s = open.filter((b) => b.interval === '1s');
  t.ok(
    open1s.some((x) => open1s.some((y) => y.symbol === x.symbol && y.bucketStart !== x.bucketStart)),
    'a symbol with two open 1s bars',
  );
  t.ok(
    open.some((b) => b.symbol === quiet && b.interval === '1m') && !open1s.some((b) => b.symbol === quiet),
    'a symbol with an open 1m bar and no open 1s bar',
  );
  // The 1m bucket 00:01 and the 1h bucket 00:00 hold closed and open 1s bars: roll-ups and open bars together.
  const hour = open.filter((b) => b.interval === '1h');
  t.ok(
    hour.every((b) => b.firstEventTime < Date.parse('2024-03-01T00:00:01Z') * 1000 && b.tradeCount > 1000),
    'each 1h open bar starts at the first trade and holds far more than the open 1s bars',
  );
  const latest = new Map<string, Bar>();
  for (const b of lines(openText)) if (b.final) latest.set(`${b.symbol}|${b.interval}|${b.bucketStart}`, b);
  t.same(
    diffBars(
      [...latest.values()],
      oracle.finalBars.filter((b) => b.final),
    ),
    [],
    'and the final bars = the offline final bars',
  );
});

t.test('replay --help lists --include-open', async (t) => {
  const proc = runCli(['replay', '--help'], env);
  t.equal(await proc.exited, 0);
  t.match(proc.output(), /--include-open +at the end of the input, also write the bars still open/);
});
