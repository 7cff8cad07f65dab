// The chunked CSV reader against the line-by-line reference (split at newlines, csvToTick per line): same ticks,
// same errors, same line numbers, on simulator output and on odd input, whatever the chunk size.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { readCsvTickBatches, type TickRecord as CsvRecord } from '../../helpers/tick-records.js';
import { CSV_HEADER, csvToTick, tickToCsv } from '../../../src/ingest/files/csv-ticks.js';
import { FeedSimulator } from '../../../src/ingest/simulator.js';
import { Prng } from '../../../src/ingest/prng.js';

/** The reference: the file split into lines at '\n' (a trailing '\r' dropped), blank lines skipped, csvToTick per line. */
function reference(text: string): CsvRecord[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const out: CsvRecord[] = [];
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (i === 0 || line.trim() === '') return;
    try {
      out.push({ offset: i + 1, tick: csvToTick(line, i + 1) });
    } catch (err) {
      out.push({ offset: i + 1, error: (err as Error).message });
    }
  });
  return out;
}

async function read(path: string, chunkBytes: number): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const batch of readCsvTickBatches(path, chunkBytes)) out.push(...batch);
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'csv-reader-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('simulator output: the same ticks as the reference, for any chunk size', async (t) => {
  const sim = new FeedSimulator({ symbols: 30, rate: 1000, seed: 11, start: Date.parse('2024-01-01T00:00:00Z') * 1000, jitter: 100_000, venue: 'SIM' });
  const text = [CSV_HEADER, ...Array.from({ length: 20_000 }, () => tickToCsv(sim.next()))].join('\n') + '\n';
  const path = join(dir, 'sim.csv');
  writeFileSync(path, text);
  const want = reference(text);
  t.equal(want.length, 20_000);
  for (const chunk of [7, 1000, 65_536, 1 << 20]) t.same(await read(path, chunk), want, `chunks of ${chunk} bytes`);
});

t.test('odd input: numbers Number() reads differently from plain digits, bad lines, CRLF, UTF-8, no final newline', async (t) => {
  const rng = new Prng(5);
  const numbers = [
    '1',
    '0',
    '007',
    '.5',
    '.',
    '5.',
    '12.25',
    '-3',
    '+4',
    '1e3',
    '1E-2',
    ' 7',
    '7 ',
    '',
    'abc',
    '0x10',
    'Infinity',
    'NaN',
    '1.2.3',
    '9007199254740991',
    '9007199254740993',
    '123456789012345678',
    '0.1234567890123456789012',
    '1704067199822014',
    '99999999999999.99',
    '0.30000000000000004',
    '1.7976931348623157e308',
    '5e-324',
    '00000000000000000000001',
  ];
  const pick = <T>(xs: T[]) => xs[rng.int(xs.length)]!;
  const lines: string[] = [CSV_HEADER];
  for (let i = 0; i < 3000; i++) {
    const r = rng.next();
    if (r < 0.05) lines.push(pick(['', '   ', 'a,b', 'x,y,z,1,2,3,4,5', ',,,,,,', 'v,s,1,2,3,BUY', 'v,s,1,2,3,BUY,id,extra']));
    else
      lines.push(
        [
          pick(['SIM', 'NYSE', 'ü', '']),
          pick(['BTC-USD', 'ÄÖÜ-€', 'X', 'A/B']),
          pick(numbers),
          pick(numbers),
          pick(numbers),
          pick(['BUY', 'SELL', 'UNKNOWN', 'buy', '']),
          pick(['1', 't-é', '0000000000000000000000042', '']),
        ].join(',') + (rng.next() < 0.2 ? '\r' : ''),
      );
  }
  const text = lines.join('\n'); // no final newline
  const path = join(dir, 'odd.csv');
  writeFileSync(path, text);
  const want = reference(text);
  t.ok(want.some((r) => r.error) && want.some((r) => r.tick && Number.isNaN(r.tick.price)), 'the input has errors and NaN fields');
  for (const chunk of [5, 333, 1 << 20]) t.same(await read(path, chunk), want, `chunks of ${chunk} bytes`);
});

t.test('a file without the header fails naming the file', async (t) => {
  const path = join(dir, 'noheader.csv');
  writeFileSync(path, 'SIM,BTC-USD,1,2,3,BUY,1\n');
  await t.rejects(read(path, 1024), { code: 'TE_INVALID_TICK', message: /noheader\.csv: the first line must be the header/ });
});
