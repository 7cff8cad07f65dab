// `tick-engine export` as a user runs it (the built CLI, a child process) against each real store of the stack: bars
// written with the engine's own sinks are exported as CSV, JSON lines and Parquet, read back with readers that share no
// code with the writers (a small RFC 4180 parser here, JSON.parse, and hyparquet for Parquet), and compared field by
// field with what was written and with the store's own query. Also: symbol patterns, intervals and the time range
// select exactly the bars an independent filter selects, in the documented order; a pattern matching nothing gives a
// header-only CSV, an empty JSON lines file and a valid empty Parquet file; standard output works for CSV and JSONL;
// bad flags exit 2 naming the flag; SIGTERM stops the export and leaves neither the file nor its .partial behind, and
// a reader closing standard output stops it quietly (exit 141). Archived ticks (--what ticks), written with the tick
// archive's own writer into QuestDB, are exported and read back the same way.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import t, { type Test } from 'tap';
import type { Config } from '../../src/config.js';
import { BAR_FIELDS, type Bar } from '../../src/contracts/bar.js';
import { logger } from '../../src/log.js';
import { createSinks } from '../../src/stores/create-sinks.js';
import { questdbExec } from '../../src/stores/questdb/questdb-sink.js';
import { TickArchive } from '../../src/stores/questdb/tick-archive.js';
import type { ArchivedTrade } from '../../src/stores/trade-history.js';
import { cliEnv, runCli } from '../helpers/cli.js';
import { testConfig, testEnv } from '../helpers/env.js';
import { diffBars } from '../helpers/oracle.js';
import { questDbCount, readPgBars, readQuestDbBars, waitFor, withPg } from '../helpers/stores.js';

const dir = mkdtempSync(join(tmpdir(), 'export-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const S = 1_000_000;
const t0 = Date.parse('2024-03-10T00:00:00Z') * 1000;
// Awkward names on purpose: a slash, and a comma and a quote (quoted in CSV).
const SYMBOLS = ['BTC-USD', 'BTC-EUR', 'ETH-USD', 'EUR/USD', 'A,"B'];
const INTERVALS: [string, number, number][] = [
  ['1s', S, 120],
  ['1m', 60 * S, 90],
  ['1h', 3600 * S, 30],
];

/** Bars with values that test exactness: thirds, 0.1 + 0.2, tiny and large numbers, µs times, every `complete`. */
function sample(): Bar[] {
  const out: Bar[] = [];
  SYMBOLS.forEach((symbol, si) => {
    for (const [interval, width, n] of INTERVALS) {
      for (let i = 0; i < n; i++) {
        const open = 100 * (si + 1) + Math.sin(i) + 1 / 3;
        const volume = (i + 1) / 7 + 1e-9;
        const start = t0 + i * width;
        out.push({
          symbol,
          interval,
          bucketStart: start,
          open,
          high: open + 0.1 + 0.2,
          low: open - 123456789.123456 / 1e9,
          close: open + i / 1000,
          volume,
          quoteVolume: volume * open,
          vwap: open + 1 / 7,
          tradeCount: 1 + i * 1_000_003,
          buyVolume: volume / 3,
          firstEventTime: start + 1 + si,
          lastEventTime: start + width - 7,
          revision: i % 4,
          final: i % 5 !== 0,
          complete: [null, true, false][(i + si) % 3]!,
        });
      }
    }
  });
  return out;
}

const ALL = sample();

/** The test's own glob: '*' any run, '?' one character; everything else literal (no code shared with the engine). */
function globRegExp(p: string): RegExp {
  return new RegExp(`^${[...p].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('')}$`, 'u');
}

function select(bars: Bar[], q: { patterns: string[]; intervals?: string[]; from?: number; to?: number }): Bar[] {
  const res = q.patterns.map(globRegExp);
  const width = new Map(INTERVALS.map(([name, w]) => [name, w]));
  return bars
    .filter(
      (b) =>
        res.some((r) => r.test(b.symbol)) &&
        (!q.intervals || q.intervals.includes(b.interval)) &&
        b.bucketStart >= (q.from ?? -Infinity) &&
        b.bucketStart < (q.to ?? Infinity),
    )
    .sort(
      (a, b) => width.get(a.interval)! - width.get(b.interval)! || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0) || a.bucketStart - b.bucketStart,
    );
}

/** RFC 4180: fields separated by commas, a quoted field may hold commas and doubled quotes. Rows end with \n. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) throw new Error('CSV does not end with a newline');
  return rows;
}

/** The fields a CSV row carries as text and not as a number. */
const NOT_NUMBERS = new Set<string>(['symbol', 'interval', 'final', 'complete']);

function csvBars(text: string): { header: string[]; bars: Bar[] } {
  const [header, ...rows] = parseCsv(text);
  const bars = rows.map((r) => {
    const o = Object.fromEntries(header!.map((h, i) => [h, r[i]!]));
    const bool = (s: string) =>
      s === 'true'
        ? true
        : s === 'false'
          ? false
          : (() => {
              throw new Error(`not a boolean: ${s}`);
            })();
    return {
      symbol: o.symbol!,
      interval: o.interval!,
      ...Object.fromEntries(BAR_FIELDS.filter((k) => !NOT_NUMBERS.has(k)).map((k) => [k, Number(o[k])])),
      final: bool(o.final!),
      complete: o.complete === '' ? null : bool(o.complete!),
    } as Bar;
  });
  return { header: header!, bars };
}

function jsonlBars(text: string): Bar[] {
  if (text === '') return [];
  if (!text.endsWith('\n')) throw new Error('JSON lines do not end with a newline');
  return text
    .slice(0, -1)
    .split('\n')
    .map((l) => JSON.parse(l) as Bar);
}

async function parquetBars(path: string): Promise<{ bars: Bar[]; schema: Record<string, unknown>[]; rows: bigint }> {
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  // Times as exact µs (the default parser makes Dates of milliseconds).
  const rows = await parquetReadObjects({ file, metadata, parsers: { timestampFromMicroseconds: (us: bigint) => us } });
  const bars = rows.map((r) => {
    const b: Record<string, unknown> = {};
    for (const f of BAR_FIELDS) b[f] = typeof r[f] === 'bigint' ? Number(r[f]) : r[f];
    b.complete ??= null;
    return b as unknown as Bar;
  });
  return { bars, schema: metadata.schema as unknown as Record<string, unknown>[], rows: metadata.num_rows };
}

/** What a Parquet file's schema must say of each column. */
const PARQUET_TYPES: Record<string, [type: string, repetition: string, logical?: string]> = {
  symbol: ['BYTE_ARRAY', 'REQUIRED', 'STRING'],
  interval: ['BYTE_ARRAY', 'REQUIRED', 'STRING'],
  bucketStart: ['INT64', 'REQUIRED', 'TIMESTAMP'],
  open: ['DOUBLE', 'REQUIRED'],
  high: ['DOUBLE', 'REQUIRED'],
  low: ['DOUBLE', 'REQUIRED'],
  close: ['DOUBLE', 'REQUIRED'],
  volume: ['DOUBLE', 'REQUIRED'],
  quoteVolume: ['DOUBLE', 'REQUIRED'],
  vwap: ['DOUBLE', 'REQUIRED'],
  tradeCount: ['INT64', 'REQUIRED'],
  buyVolume: ['DOUBLE', 'REQUIRED'],
  firstEventTime: ['INT64', 'REQUIRED', 'TIMESTAMP'],
  lastEventTime: ['INT64', 'REQUIRED', 'TIMESTAMP'],
  revision: ['INT32', 'REQUIRED'],
  final: ['BOOLEAN', 'REQUIRED'],
  complete: ['BOOLEAN', 'OPTIONAL'],
};

/** Bars written into a store's table of the test's own with the engine's sink; the table is dropped when the test ends. */
async function load(t: Test, config: Config, store: 'postgres' | 'timescaledb' | 'questdb'): Promise<void> {
  const [sink] = createSinks(config, logger('test'));
  await sink!.init();
  await sink!.write(ALL);
  await sink!.close();
  t.teardown(async () => {
    for (const table of [config.barsTable, `${config.barsTable}_signals`]) {
      if (store === 'questdb') await questdbExec(config.questdbHttp, `DROP TABLE IF EXISTS ${table}`);
      else await withPg(store === 'postgres' ? config.pgUrl : config.tsdbUrl, (c) => c.query(`DROP TABLE IF EXISTS ${table}`));
    }
  });
  if (store === 'questdb')
    await waitFor(
      () => questDbCount(config.questdbHttp, config.barsTable),
      (n) => n === ALL.length,
      30_000,
    );
}

async function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; stdout: string }> {
  const p = runCli(['export', ...args], cliEnv(env));
  const stdout: string[] = [];
  p.child.stdout!.on('data', (d: Buffer) => stdout.push(d.toString()));
  const code = await p.exited;
  return { code, out: p.output(), stdout: stdout.join('') };
}

for (const store of ['postgres', 'timescaledb', 'questdb'] as const) {
  t.test(`export from ${store}`, async (t) => {
    // Small pages and row groups: many queries, several row groups.
    const env = testEnv({ TE_SINKS: store, TE_EXPORT_STORE: store, TE_PG_IDLE_CLOSE_MS: '0', TE_EXPORT_PAGE_ROWS: '37', TE_EXPORT_ROW_GROUP_ROWS: '100' });
    const config = testConfig(env);
    await load(t, config, store);
    const stored =
      store === 'questdb'
        ? await readQuestDbBars(config.questdbPgUrl, config.barsTable)
        : await readPgBars(store === 'postgres' ? config.pgUrl : config.tsdbUrl, config.barsTable);
    t.same(diffBars(stored, ALL), [], `the store's own query gives every bar as written (${ALL.length})`);

    const from = t0 + 30 * S;
    const to = t0 + 10 * 3600 * S;
    const query = { patterns: ['BTC-*', 'EUR/USD'], intervals: ['1s', '1h'], from, to };
    const want = select(ALL, query);
    const fromStore = select(stored, query);
    t.ok(want.length > 200, `${want.length} bars selected`);
    const selection = ['--symbols', 'BTC-*,EUR/USD', '--interval', '1h,1s', '--from', new Date(from / 1000).toISOString(), '--to', String(to)];

    for (const format of ['csv', 'jsonl', 'parquet'] as const) {
      const out = join(dir, `${store}-sel.${format}`);
      const r = await run([...selection, '--out', out], env);
      t.equal(r.code, 0, `${format}: exit 0`);
      t.match(r.out, new RegExp(`exported ${want.length} bars of 6 series`), `${format}: the summary counts every bar`);
      t.notOk(existsSync(`${out}.partial`), `${format}: no partial file left`);
      let got: Bar[];
      if (format === 'csv') {
        const csv = csvBars(readFileSync(out, 'utf8'));
        t.same(csv.header, [...BAR_FIELDS], 'CSV header: the contract fields');
        got = csv.bars;
      } else if (format === 'jsonl') {
        got = jsonlBars(readFileSync(out, 'utf8'));
      } else {
        const pq = await parquetBars(out);
        got = pq.bars;
        t.equal(pq.rows, BigInt(want.length), 'Parquet row count');
        const cols = pq.schema.slice(1);
        t.same(
          cols.map((c) => c.name),
          [...BAR_FIELDS],
          'Parquet columns: every field of the bar, in order',
        );
        for (const c of cols) {
          const [type, repetition, logical] = PARQUET_TYPES[c.name as string]!;
          t.equal(c.type, type, `${String(c.name)} is ${type}`);
          t.equal(c.repetition_type, repetition, `${String(c.name)} is ${repetition}`);
          const lt = c.logical_type as { type: string; unit?: string; isAdjustedToUTC?: boolean } | undefined;
          if (logical) t.equal(lt?.type, logical, `${String(c.name)} is ${logical}`);
          if (logical === 'TIMESTAMP') t.same([lt?.unit, lt?.isAdjustedToUTC], ['MICROS', true], `${String(c.name)}: µs, UTC`);
        }
      }
      t.same(diffBars(got, want), [], `${format}: every selected bar, once, every field exact`);
      t.same(diffBars(got, fromStore), [], `${format}: equal to the store's own query`);
      t.same(
        got.map((b) => `${b.interval} ${b.symbol} ${b.bucketStart}`),
        want.map((b) => `${b.interval} ${b.symbol} ${b.bucketStart}`),
        `${format}: ordered by interval, symbol, bucket`,
      );
    }

    // Everything, to standard output.
    for (const format of ['csv', 'jsonl'] as const) {
      const r = await run(['--symbols', '*', '--format', format], env);
      t.equal(r.code, 0, `stdout ${format}: exit 0`);
      const got = format === 'csv' ? csvBars(r.stdout).bars : jsonlBars(r.stdout);
      t.same(diffBars(got, stored), [], `stdout ${format}: every bar of the store, exact`);
    }

    // A pattern that matches nothing: a valid, empty file in each format.
    for (const format of ['csv', 'jsonl', 'parquet'] as const) {
      const out = join(dir, `${store}-none.${format}`);
      const r = await run(['--symbols', 'NOPE-*', '--out', out], env);
      t.equal(r.code, 0, `empty ${format}: exit 0`);
      t.match(r.out, /exported 0 bars of 0 series/);
      if (format === 'csv') t.equal(readFileSync(out, 'utf8'), BAR_FIELDS.join(',') + '\n', 'empty CSV: the header alone');
      else if (format === 'jsonl') t.equal(readFileSync(out, 'utf8'), '', 'empty JSON lines: an empty file');
      else {
        const pq = await parquetBars(out);
        t.equal(pq.rows, 0n, 'empty Parquet: 0 rows');
        t.same(pq.bars, []);
        t.same(
          pq.schema.slice(1).map((c) => c.name),
          [...BAR_FIELDS],
          'empty Parquet: still the full schema',
        );
      }
    }
  });
}

const TICK_COLUMNS = ['venue', 'symbol', 'tradeId', 'eventTime', 'price', 'size', 'side', 'ingestTime', 'venueSymbol'] as const;

/** Trades of every symbol over two hours, some sharing a microsecond (ordered by venue, then trade id), some with the venue's own symbol. */
function sampleTicks(): ArchivedTrade[] {
  const out: ArchivedTrade[] = [];
  SYMBOLS.forEach((symbol, si) => {
    for (let i = 0; i < 150; i++) {
      const eventTime = t0 + Math.floor(i / 3) * 47 * S + si * 13; // three trades per microsecond
      out.push({
        venue: i % 2 ? 'BINANCE' : 'COINBASE',
        symbol,
        tradeId: String(1000 + ((i * 7) % 150)),
        eventTime,
        price: 100 / 3 + i * 0.1 + 0.2,
        size: i % 5 === 0 ? 1e-8 : 0.1 + 0.2,
        side: i % 3 === 0 ? 'SELL' : i % 3 === 1 ? 'BUY' : 'UNKNOWN',
        ingestTime: eventTime + 1234,
        venueSymbol: i % 4 === 0 ? `${symbol.replace(/\W/g, '')}T` : null,
      });
    }
  });
  return out;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function tickRow(r: Record<string, unknown>): ArchivedTrade {
  const n = (v: unknown) => (typeof v === 'bigint' ? Number(v) : Number(v));
  return {
    venue: String(r.venue),
    symbol: String(r.symbol),
    tradeId: String(r.tradeId),
    eventTime: n(r.eventTime),
    price: n(r.price),
    size: n(r.size),
    side: String(r.side) as ArchivedTrade['side'],
    ingestTime: n(r.ingestTime),
    venueSymbol: r.venueSymbol === null || r.venueSymbol === undefined || r.venueSymbol === '' ? null : String(r.venueSymbol),
  };
}

t.test('export archived ticks (--what ticks) from the tick archive in QuestDB, in every format', async (t) => {
  const env = testEnv({ TE_EXPORT_PAGE_ROWS: '29', TE_EXPORT_ROW_GROUP_ROWS: '50' });
  const config = testConfig(env);
  const ticks = sampleTicks();
  const archive = new TickArchive({ httpUrl: config.questdbHttp, table: config.ticksTable, log: logger('test') });
  await archive.init();
  await archive.write(ticks);
  await archive.close();
  t.teardown(() => questdbExec(config.questdbHttp, `DROP TABLE IF EXISTS ${config.ticksTable}`));
  await waitFor(
    () => questDbCount(config.questdbHttp, config.ticksTable),
    (n) => n === ticks.length,
    30_000,
  );
  const from = t0 + 600 * S;
  const to = t0 + 3000 * S;
  const patterns = ['BTC-*', 'A?"B'].map(globRegExp); // a comma separates patterns: '?' stands for the one in A,"B
  const want = ticks
    .filter((x) => patterns.some((r) => r.test(x.symbol)) && x.eventTime >= from && x.eventTime < to)
    .sort((a, b) => cmp(a.symbol, b.symbol) || a.eventTime - b.eventTime || cmp(a.venue, b.venue) || cmp(a.tradeId, b.tradeId));
  t.ok(want.length > 100, `${want.length} trades selected`);
  for (const format of ['csv', 'jsonl', 'parquet'] as const) {
    const out = join(dir, `ticks.${format}`);
    const r = await run(['--what', 'ticks', '--symbols', 'BTC-*,A?"B', '--from', String(from), '--to', new Date(to / 1000).toISOString(), '--out', out], env);
    t.equal(r.code, 0, `${format}: exit 0`);
    t.match(r.out, new RegExp(`exported ${want.length} ticks of 3 symbols`), `${format}: the summary counts every trade`);
    let got: ArchivedTrade[];
    if (format === 'csv') {
      const [header, ...rows] = parseCsv(readFileSync(out, 'utf8'));
      t.same(header, TICK_COLUMNS, 'csv: the header names every field');
      got = rows.map((row) => tickRow(Object.fromEntries(header!.map((h, i) => [h, row[i]]))));
    } else if (format === 'jsonl') {
      got = readFileSync(out, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => tickRow(JSON.parse(l) as Record<string, unknown>));
    } else {
      const file = await asyncBufferFromFile(out);
      const metadata = await parquetMetadataAsync(file);
      const rows = await parquetReadObjects({ file, metadata, parsers: { timestampFromMicroseconds: (us: bigint) => us } });
      t.same(
        metadata.schema.slice(1).map((e) => [e.name, e.type, e.repetition_type]),
        TICK_COLUMNS.map((c) => [
          c,
          ['eventTime', 'ingestTime'].includes(c) ? 'INT64' : ['price', 'size'].includes(c) ? 'DOUBLE' : 'BYTE_ARRAY',
          c === 'venueSymbol' ? 'OPTIONAL' : 'REQUIRED',
        ]),
        'parquet: a typed column per field',
      );
      got = rows.map((r) => tickRow(r));
    }
    t.same(got, want, `${format}: every selected trade, every field exact, in archive order`);
  }
});

t.test('bad flags exit 2 naming the flag, before anything is written', async (t) => {
  const env = testEnv({ TE_EXPORT_STORE: 'postgres' });
  const out = join(dir, 'bad.csv');
  const cases: [string[], RegExp][] = [
    [[], /--symbols: is required/],
    [['--symbols', 'BTC *'], /--symbols: symbol pattern "BTC \*" must not contain whitespace/],
    [['--symbols', 'A,,B'], /--symbols: has an empty item/],
    [['--symbols', '*', '--interval', '2x'], /--interval: interval '2x' must be/],
    [['--symbols', '*', '--from', 'yesterday'], /--from: must be µs since the epoch or an ISO-8601 instant/],
    [['--symbols', '*', '--from', '2024-05-02', '--to', '2024-05-01'], /--from: must be before --to/],
    [['--symbols', '*', '--to', '2300-01-01'], /--to: must be between 1970-01-01 and 2200-01-01/],
    [['--symbols', '*', '--store', 'mysql'], /--export-store: must be one of postgres, timescaledb, questdb \(got 'mysql'\)/],
    [['--symbols', '*', '--format', 'xml'], /--format: must be one of csv, jsonl, parquet/],
    [['--symbols', '*', '--out', join(dir, 'bars.txt')], /--format: is required: the name .*bars\.txt does not say/],
    [['--symbols', '*', '--format', 'parquet'], /--out: Parquet is written to a file/],
    [['--symbols', '*', '--what', 'ticks', '--interval', '1m'], /--interval: applies to bars only/],
    [
      ['--symbols', '*', '--what', 'ticks', '--out', out, '--ticks-table', 'no_such_ticks_here'],
      /TE_TICKS_TABLE: QuestDB has no tick archive table 'no_such_ticks_here'/,
    ],
    [['--symbols', '*', '--what', 'quotes'], /--what: must be one of bars, ticks/],
    [['--symbols', '*', '--out', out, '--bars-table', 'no_such_table_here'], /TE_BARS_TABLE: postgres has no table 'no_such_table_here'/],
    [['--symbols', '*', '--sort', 'desc'], /Unknown option '--sort'/],
  ];
  for (const [args, message] of cases) {
    const r = await run(args, env);
    t.equal(r.code, 2, `${args.join(' ') || '(no flags)'}: exit 2`);
    t.match(r.out, message, r.out.trim().split('\n')[0]!);
  }
  t.notOk(existsSync(out) || existsSync(`${out}.partial`), 'nothing written');
});

t.test('SIGTERM stops the export: neither the file nor its .partial is left; a closed stdout stops it quietly', async (t) => {
  // One bar per query: the export takes long enough to be stopped in the middle.
  const env = testEnv({ TE_SINKS: 'postgres', TE_EXPORT_STORE: 'postgres', TE_PG_IDLE_CLOSE_MS: '0', TE_EXPORT_PAGE_ROWS: '1' });
  await load(t, testConfig(env), 'postgres');
  const out = join(dir, 'stopped.parquet');
  const p = runCli(['export', '--symbols', '*', '--out', out], cliEnv(env));
  const started = await waitFor(
    async () => existsSync(`${out}.partial`),
    (v) => v || p.child.exitCode !== null,
    30_000,
    20,
  );
  t.ok(started, 'the partial file appeared');
  p.child.kill('SIGTERM');
  const code = await p.exited;
  t.equal(code, 143, 'exit 143 (128 + SIGTERM)');
  t.match(p.output(), new RegExp(`export: stopped by SIGTERM after \\d+ of ${ALL.length} bars; .*stopped\\.parquet\\.partial removed`));
  t.notOk(existsSync(out), 'no file');
  t.notOk(existsSync(`${out}.partial`), 'no partial file');

  // Standard output closed by its reader (`| head`): a quiet stop with SIGPIPE's exit code, no stack trace.
  const piped = runCli(['export', '--symbols', '*'], cliEnv(env));
  piped.child.stdout!.once('data', () => piped.child.stdout!.destroy());
  t.equal(await piped.exited, 141, 'stdout closed: exit 141');
  t.notMatch(piped.output(), /EPIPE|Error/, 'no error printed');
});
