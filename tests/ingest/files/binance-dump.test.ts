// Binance bulk trade dumps (tests/fixtures/binance/, in the format of github.com/binance/binance-public-data): trades
// and aggTrades, zipped and plain, with and without a header, ms and µs times. Expected ticks are written out below by
// hand from the fixture rows, not computed by the code under test.
import { join } from 'node:path';
import t from 'tap';
import { ConfigError, DecodeError } from '../../../src/errors.js';
import type { Tick } from '../../../src/contracts/tick.js';
import { dumpLayout, dumpTimeMicros, parseDumpName } from '../../../src/ingest/files/binance-dump.js';
import { openTickFile, type FileRecord, type TickFileOptions } from '../../../src/ingest/files/tick-file.js';
import { START } from '../../../src/stream/ingest-progress.js';
import { projectRoot } from '../../../src/paths.js';

const fixture = (name: string) => join(projectRoot(), 'tests/fixtures/binance', name);

async function readAll(path: string, opts: TickFileOptions = {}): Promise<FileRecord[]> {
  const file = await openTickFile(path, opts);
  const out: FileRecord[] = [];
  for await (const b of file.batches(START, 1000)) out.push(...b.records);
  return out;
}

const ticks = (records: FileRecord[]): Tick[] => records.map((r) => r.tick!);

// BTCUSDT-trades-2024-01-01: spot trades, no header, times in ms (before 2025). isBuyerMaker True → the taker sold.
const BTC_2024_01_01: Tick[] = [
  { venue: 'BINANCE', symbol: 'BTC-USDT', eventTime: 1704067200000000, price: 42283.58, size: 0.001, side: 'SELL', tradeId: '3343340000', ingestTime: 0 },
  { venue: 'BINANCE', symbol: 'BTC-USDT', eventTime: 1704067200001000, price: 42283.59, size: 0.04233, side: 'BUY', tradeId: '3343340001', ingestTime: 0 },
  { venue: 'BINANCE', symbol: 'BTC-USDT', eventTime: 1704067200137000, price: 42283.58, size: 0.00023, side: 'SELL', tradeId: '3343340002', ingestTime: 0 },
  { venue: 'BINANCE', symbol: 'BTC-USDT', eventTime: 1704067201002000, price: 42284, size: 1.25, side: 'BUY', tradeId: '3343340003', ingestTime: 0 },
];

// ETHUSDT-trades-2025-01-01: a header row, CRLF line ends, times already in µs (Binance spot from 2025-01-01).
const ETH_2025_01_01: Tick[] = [
  { venue: 'BINANCE', symbol: 'ETH-USDT', eventTime: 1735689600012345, price: 3337.78, size: 0.015, side: 'BUY', tradeId: '1808950000', ingestTime: 0 },
  { venue: 'BINANCE', symbol: 'ETH-USDT', eventTime: 1735689600012999, price: 3337.77, size: 0.3, side: 'SELL', tradeId: '1808950001', ingestTime: 0 },
  { venue: 'BINANCE', symbol: 'ETH-USDT', eventTime: 1735689601500000, price: 3338.01, size: 2, side: 'BUY', tradeId: '1808950002', ingestTime: 0 },
];

t.test('the file name gives the symbol, the kind and the period', async (t) => {
  t.same(parseDumpName('/data/BTCUSDT-trades-2024-01-01.zip'), { venueSymbol: 'BTCUSDT', kind: 'trades', period: '2024-01-01' });
  t.same(parseDumpName('SOLUSDT-aggTrades-2025-01.csv'), { venueSymbol: 'SOLUSDT', kind: 'aggTrades', period: '2025-01' });
  t.equal(parseDumpName('ticks.csv'), undefined);
  t.equal(parseDumpName('BTCUSDT-1m-2024-01-01.zip'), undefined, 'klines are not trades');
});

t.test('times: ms before 2025, µs after, told apart by magnitude', async (t) => {
  t.equal(dumpTimeMicros('1704067200000', 'time'), 1704067200000000, '2024-01-01T00:00:00.000Z in ms');
  t.equal(dumpTimeMicros('1735689600012345', 'time'), 1735689600012345, '2025-01-01T00:00:00.012345Z in µs');
  t.equal(dumpTimeMicros('946684800000', 'time'), 946684800000000, '2000-01-01 in ms');
  t.equal(dumpTimeMicros('7258118400000', 'time'), 7258118400000000, '2200-01-01 in ms');
  t.equal(dumpTimeMicros('946684800000000', 'time'), 946684800000000, '2000-01-01 in µs');
  t.throws(() => dumpTimeMicros('1.7e12', 'time'), DecodeError);
  t.throws(() => dumpTimeMicros('', 'time'), DecodeError);
});

t.test('layouts: header names or column counts', async (t) => {
  const trades = dumpLayout('3343340000,42283.58000000,0.00100000,42.28358000,1704067200000,True,True', undefined, 'f');
  t.match(trades, { kind: 'trades', header: false, columns: 7, id: 0, price: 1, qty: 2, time: 4, buyerMaker: 5 });
  const agg = dumpLayout('2052470000,71800.1,0.005,4781360000,4781360001,1710460800123,True,True', undefined, 'f');
  t.match(agg, { kind: 'aggTrades', header: false, columns: 8, time: 5, buyerMaker: 6 });
  const futuresAgg = dumpLayout('agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker', undefined, 'f');
  t.match(futuresAgg, { kind: 'aggTrades', header: true, columns: 7, id: 0, price: 1, qty: 2, time: 5, buyerMaker: 6 });
  const futuresTrades = dumpLayout('id,price,qty,quote_qty,time,is_buyer_maker', undefined, 'f');
  t.match(futuresTrades, { kind: 'trades', header: true, columns: 6, time: 4, buyerMaker: 5 });
  t.match(dumpLayout('2052470000,71800.1,0.005,4781360000,4781360001,1710460800123,true', 'aggTrades', 'f'), { kind: 'aggTrades', columns: 7, time: 5 });
  t.throws(() => dumpLayout('1,2,3', undefined, 'f'), DecodeError, 'three fields are no dump');
  t.throws(() => dumpLayout('id,price,qty,quote_qty,time,is_buyer_maker', 'aggTrades', 'f'), DecodeError, 'a trades header in a file named aggTrades');
  t.throws(() => dumpLayout('open_time,open,high,low,close', undefined, 'f'), DecodeError, 'a kline header');
});

t.test('trades: plain and zipped, ms, no header', async (t) => {
  t.same(ticks(await readAll(fixture('BTCUSDT-trades-2024-01-01.csv'))), BTC_2024_01_01, 'plain CSV');
  t.same(ticks(await readAll(fixture('BTCUSDT-trades-2024-01-01.zip'))), BTC_2024_01_01, 'the same rows zipped');
  const file = await openTickFile(fixture('BTCUSDT-trades-2024-01-01.zip'));
  t.match(file, { format: 'binance-trades', venue: 'BINANCE', symbol: 'BTC-USDT', unit: 'bytes', size: 298 });
});

t.test('trades: header, CRLF, µs times; plain and zipped', async (t) => {
  t.same(ticks(await readAll(fixture('ETHUSDT-trades-2025-01-01.csv'))), ETH_2025_01_01);
  t.same(ticks(await readAll(fixture('ETHUSDT-trades-2025-01-01.zip'))), ETH_2025_01_01);
  const records = await readAll(fixture('ETHUSDT-trades-2025-01-01.zip'));
  t.same(
    records.map((r) => r.where),
    ['line 2', 'line 3', 'line 4'],
    'the header is line 1 and is no record',
  );
});

t.test('aggTrades: spot (no header, 8 fields) and futures-style (header, 7 fields)', async (t) => {
  t.same(ticks(await readAll(fixture('BTCUSDT-aggTrades-2024-03-15.csv'))), [
    { venue: 'BINANCE', symbol: 'BTC-USDT', eventTime: 1710460800123000, price: 71800.1, size: 0.005, side: 'SELL', tradeId: '2052470000', ingestTime: 0 },
    { venue: 'BINANCE', symbol: 'BTC-USDT', eventTime: 1710460800456000, price: 71800, size: 0.12, side: 'BUY', tradeId: '2052470001', ingestTime: 0 },
    { venue: 'BINANCE', symbol: 'BTC-USDT', eventTime: 1710460801999000, price: 71799.9, size: 0.03, side: 'SELL', tradeId: '2052470002', ingestTime: 0 },
  ]);
  t.same(ticks(await readAll(fixture('SOLUSDT-aggTrades-2025-01.csv'))), [
    { venue: 'BINANCE', symbol: 'SOL-USDT', eventTime: 1735689600250000, price: 145.21, size: 3.5, side: 'SELL', tradeId: '512340000', ingestTime: 0 },
    { venue: 'BINANCE', symbol: 'SOL-USDT', eventTime: 1735689600250000, price: 145.2, size: 0.75, side: 'BUY', tradeId: '512340001', ingestTime: 0 },
  ]);
  t.equal((await openTickFile(fixture('SOLUSDT-aggTrades-2025-01.csv'))).format, 'binance-aggtrades');
});

t.test('bad rows are records with a reason, not failures; blank lines are skipped', async (t) => {
  const records = await readAll(fixture('BTCUSDT-trades-2024-01-02.csv'));
  t.same(
    records.map((r) => [r.where, r.tick?.tradeId ?? null]),
    [
      ['line 1', '3343341000'],
      ['line 2', null],
      ['line 3', null],
      ['line 5', null],
      ['line 6', '3343341004'],
      ['line 7', '3343341005'],
    ],
  );
  t.match(records[1]!.error, /^line 2: expected 7 fields .* got 3$/);
  t.match(records[2]!.error, /line 3 price "-5.00000000" is negative/);
  t.match(records[3]!.error, /line 5 isBuyerMaker "maybe" is not True or False/);
  t.equal(records[1]!.raw!.toString(), '3343341001,42290.00000000,0.02000000', 'the row as it was, for the dead letter');
  t.equal(records[4]!.tick!.size, 0, 'a zero size parses; validation rejects it later');
});

t.test('venue and symbol: the file name, or the flags; never for tick files', async (t) => {
  const renamed = await openTickFile(fixture('BTCUSDT-trades-2024-01-01.csv'), { symbol: 'ETHBTC', venue: 'BINANCE-ARCHIVE' });
  t.match(renamed, { venue: 'BINANCE-ARCHIVE', symbol: 'ETH-BTC' });
  t.equal((await openTickFile(fixture('BTCUSDT-trades-2024-01-01.csv'), { symbol: 'btc-usdt' })).symbol, 'BTC-USDT');
  await t.rejects(openTickFile(fixture('BTCUSDT-trades-2024-01-01.csv'), { symbol: 'BTCXYZ' }), ConfigError, 'no known quote asset');
  await t.rejects(
    openTickFile(fixture('ETHUSDT-trades-2025-01-01.csv'), { format: 'binance-aggtrades' }),
    DecodeError,
    'a trades header is no aggTrades header',
  );
  await t.rejects(openTickFile(fixture('BTCUSDT-aggTrades-2024-03-15.csv'), { format: 'binance-trades' }), DecodeError, 'an 8-field row is no trades row');
});
