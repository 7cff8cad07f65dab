// MetaTrader 5 ticks → trades and quotes: the tick flags (values from the MQL5 reference), sides, ids and times.
import t from 'tap';
import { isQuote, isTrade, mt5Field, mt5Id, mt5Records, mt5Side, TICK_FLAG, type Mt5Tick } from '../../src/push/mt5.js';

const base: Mt5Tick = {
  venue: 'MT5-DEMO',
  symbol: 'EURUSD',
  time_msc: 1_704_067_200_123,
  bid: 1.1,
  ask: 1.1002,
  last: 0,
  volume: 0,
  flags: 0,
  seq: 0,
  utc_offset_s: 0,
};
const INGEST = 1_704_067_201_000_000;

t.test('flag values are MQL5’s', async (t) => {
  t.same(TICK_FLAG, { BID: 2, ASK: 4, LAST: 8, VOLUME: 16, BUY: 32, SELL: 64 });
});

t.test('which flags make a trade, which a quote', async (t) => {
  const cases: [number, boolean, boolean][] = [
    [2, false, true], // bid changed
    [4, false, true], // ask changed
    [6, false, true], // both
    [8, true, false], // last deal price
    [16, true, false], // volume only: another deal at the same price
    [24, true, false], // last and volume
    [8 + 16 + 32, true, false], // a buy deal
    [2 + 8 + 16 + 64, true, true], // a sell deal that moved the bid
    [32, false, false], // BUY alone is no trade
    [2 + 32 + 64, false, true], // brokers that flag every quote BUY|SELL (98)
    [0, false, false],
  ];
  for (const [flags, trade, quote] of cases) {
    t.equal(isTrade(flags), trade, `flags ${flags} ${trade ? 'is' : 'is not'} a trade`);
    t.equal(isQuote(flags), quote, `flags ${flags} ${quote ? 'is' : 'is not'} a quote`);
  }
});

t.test('side: BUY alone buy, SELL alone sell, both or neither unknown', async (t) => {
  t.equal(mt5Side(24 + 32), 'BUY');
  t.equal(mt5Side(24 + 64), 'SELL');
  t.equal(mt5Side(24 + 32 + 64), 'UNKNOWN');
  t.equal(mt5Side(24), 'UNKNOWN');
});

t.test('ids: time_msc then seq as three digits, a number ordered as time and position', async (t) => {
  t.equal(mt5Id(1_704_067_200_123, 0), '1704067200123000');
  t.equal(mt5Id(1_704_067_200_123, 7), '1704067200123007');
  t.equal(mt5Id(1_704_067_200_123, 999), '1704067200123999');
  t.ok(BigInt(mt5Id(1_704_067_200_123, 999)) < BigInt(mt5Id(1_704_067_200_124, 0)));
});

t.test('a quote tick becomes a quote only', async (t) => {
  const r = mt5Records({ ...base, flags: 6, seq: 2 }, INGEST);
  t.equal(r.trade, undefined);
  t.same(r.quote, {
    venue: 'MT5-DEMO',
    symbol: 'EURUSD',
    eventTime: 1_704_067_200_123_000,
    bid: 1.1,
    ask: 1.1002,
    bidSize: null,
    askSize: null,
    quoteId: '1704067200123002',
    ingestTime: INGEST,
  });
});

t.test('a deal that moved the book becomes a trade and a quote with the same id', async (t) => {
  const r = mt5Records({ ...base, flags: 2 + 8 + 16 + 32, last: 1.1001, volume: 3, seq: 1 }, INGEST);
  t.same(r.trade, {
    venue: 'MT5-DEMO',
    symbol: 'EURUSD',
    eventTime: 1_704_067_200_123_000,
    price: 1.1001,
    size: 3,
    side: 'BUY',
    tradeId: '1704067200123001',
    ingestTime: INGEST,
  });
  t.equal(r.quote?.quoteId, '1704067200123001');
});

t.test('volume_real wins over volume when given and positive', async (t) => {
  t.equal(mt5Records({ ...base, flags: 24, last: 100, volume: 1, volume_real: 1.25 }, INGEST).trade?.size, 1.25);
  t.equal(mt5Records({ ...base, flags: 24, last: 100, volume: 2, volume_real: 0 }, INGEST).trade?.size, 2);
  t.equal(mt5Field('size', { ...base, volume_real: 1.25 }), 'volume_real');
  t.equal(mt5Field('size', base), 'volume');
  t.equal(mt5Field('eventTime', base), 'time_msc');
  t.equal(mt5Field('price', base), 'last');
});

t.test('the server zone is taken out of the event time, never out of the id', async (t) => {
  const r = mt5Records({ ...base, flags: 2, utc_offset_s: 7200 }, INGEST);
  t.equal(r.quote?.eventTime, (1_704_067_200_123 - 7_200_000) * 1000, 'UTC+2 server time → UTC');
  t.equal(r.quote?.quoteId, '1704067200123000', 'the id keeps the raw time_msc');
});
