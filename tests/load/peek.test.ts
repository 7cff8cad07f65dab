// The load clients read type, seq, send time, series and source time straight off the bytes: checked against the
// gateway's own serializers (JSON) and the Avro frame encoding, for every delta type.
import t from 'tap';
import type { Bar } from '../../src/contracts/bar.js';
import type { Signal } from '../../src/contracts/signal.js';
import type { Tick } from '../../src/contracts/tick.js';
import { serializeBarMessage, serializeSignalMessage, serializeTradeMessage } from '../../src/gateway/ws/protocol.js';
import { peekAvro, peekJson } from '../../src/load/peek.js';
import { schema } from '../../src/stream/schemas.js';
import { encode } from '../../src/stream/serde.js';

const bar: Bar = {
  symbol: 'EUR/USD',
  interval: '1m',
  bucketStart: 1714521600000000,
  open: 1.5,
  high: 2,
  low: 1,
  close: 1.75,
  volume: 3,
  quoteVolume: 4.5,
  vwap: 1.5,
  tradeCount: 300,
  buyVolume: 1,
  firstEventTime: 1714521600000001,
  lastEventTime: 1714521659999999,
  revision: 0,
  final: false,
  complete: null,
};
const trade: Tick = {
  venue: 'SIM',
  symbol: 'BTC-USD',
  eventTime: 1714521601234567,
  price: 64019,
  size: 0.015,
  side: 'SELL',
  tradeId: 'x-99',
  ingestTime: 1714521601240012,
};
const signal: Signal = { symbol: 'ETH-USD', interval: '1s', barTime: 1714521600000000, name: 'rsi_zone', direction: 'DOWN', values: [71.5] };
const frame = (type: string, seq: number, ts: number, raw: Buffer) => encode(schema('frame'), { type, seq, ts, payload: raw });

t.test('JSON deltas', async (t) => {
  t.same(peekJson(serializeBarMessage({ type: 'update', seq: 7, ts: 1714521660123, bar })), {
    type: 'update',
    seq: 7,
    ts: 1714521660123,
    key: 'bars|1m|EUR/USD',
    sourceUs: bar.lastEventTime,
  });
  t.same(peekJson(serializeBarMessage({ type: 'bar', seq: 8, ts: 1.5, bar: { ...bar, final: true } })), {
    type: 'bar',
    seq: 8,
    ts: 1.5,
    key: 'bars|1m|EUR/USD',
    sourceUs: 0,
  });
  t.same(peekJson(serializeTradeMessage({ type: 'trade', seq: 123456789, ts: 2, trade })), {
    type: 'trade',
    seq: 123456789,
    ts: 2,
    key: 'trades||BTC-USD',
    sourceUs: trade.ingestTime,
  });
  t.same(peekJson(serializeSignalMessage({ type: 'signal', seq: 1, ts: 3, signal })), {
    type: 'signal',
    seq: 1,
    ts: 3,
    key: 'signals|1s|ETH-USD',
    sourceUs: 0,
  });
  t.equal(peekJson('{"type":"snapshot","channel":"bars","symbol":"A","seq":0}'), undefined, 'snapshots are parsed whole');
  t.equal(peekJson('{"type":"pong"}'), undefined);
});

t.test('Avro frames', async (t) => {
  t.same(peekAvro(frame('UPDATE', 300, 1714521660123.5, encode(schema('bar'), bar))), {
    type: 'update',
    seq: 300,
    ts: 1714521660123.5,
    key: 'bars|1m|EUR/USD',
    sourceUs: bar.lastEventTime,
  });
  t.same(peekAvro(frame('BAR', 2 ** 40, 1, encode(schema('bar'), { ...bar, final: true }))), {
    type: 'bar',
    seq: 2 ** 40,
    ts: 1,
    key: 'bars|1m|EUR/USD',
    sourceUs: 0,
  });
  t.same(peekAvro(frame('TRADE', 5, 2, encode(schema('tick'), trade))), { type: 'trade', seq: 5, ts: 2, key: 'trades||BTC-USD', sourceUs: trade.ingestTime });
  t.same(peekAvro(frame('SIGNAL', 6, 3, encode(schema('signal'), signal))), { type: 'signal', seq: 6, ts: 3, key: 'signals|1s|ETH-USD', sourceUs: 0 });
  t.equal(peekAvro(encode(schema('bar'), bar)), undefined, 'not a frame');
});
