// Client requests are validated; server messages serialize to the declared schema.
import t from 'tap';
import { parseRequest, serializeBarMessage, serializeError } from '../../../src/gateway/ws/protocol.js';
import type { Bar } from '../../../src/contracts/bar.js';

const intervals = new Set(['1s', '1m']);

t.same(parseRequest('{"op":"subscribe","channel":"bars","interval":"1s","symbols":["A","B"]}', intervals), {
  op: 'subscribe',
  channel: 'bars',
  interval: '1s',
  symbols: ['A', 'B'],
});
t.same(parseRequest('{"op":"subscribe","interval":"1m","symbols":"*"}', intervals), { op: 'subscribe', channel: 'bars', interval: '1m', symbols: ['*'] });
t.same(parseRequest('{"op":"ping"}', intervals), { op: 'ping' });
t.same(parseRequest('{"op":"ping","id":7}', intervals), { op: 'ping', id: '7' });
t.same(parseRequest('{"op":"subscribe","id":"a1","channel":"trades","symbols":["BTC-*","ETH-USD","ETH-USD"]}', intervals), {
  op: 'subscribe',
  id: 'a1',
  channel: 'trades',
  symbols: ['BTC-*', 'ETH-USD'],
});
t.same(parseRequest('{"op":"unsubscribe","channel":"signals","interval":"1m","symbols":["?TC-USD"]}', intervals), {
  op: 'unsubscribe',
  channel: 'signals',
  interval: '1m',
  symbols: ['?TC-USD'],
});

for (const [text, re] of [
  ['nope', /not valid JSON/],
  ['[1]', /JSON object/],
  ['{"op":"dance"}', /op must be/],
  ['{"op":"subscribe","interval":"2h","symbols":["A"]}', /interval must be one of 1s, 1m/],
  ['{"op":"subscribe","interval":"1s","symbols":[]}', /symbols/],
  ['{"op":"subscribe","interval":"1s","symbols":[""]}', /empty/],
  ['{"op":"subscribe","interval":"1s","symbols":[7]}', /not a string/],
  ['{"op":"subscribe","interval":"1s","symbols":["a b"]}', /whitespace/],
  ['{"op":"subscribe","channel":"trades","interval":"1s","symbols":["A"]}', /takes no interval/],
  ['{"op":"subscribe","channel":"quotes","interval":"1s","symbols":["A"]}', /channel must be one of bars, trades, signals/],
  ['{"op":"subscribe","channel":"signals","symbols":["A"]}', /interval must be one of/],
] as const) {
  t.throws(() => parseRequest(text, intervals), { code: 'TE_BAD_REQUEST', message: re }, text);
}

const bar: Bar = {
  symbol: 'A',
  interval: '1s',
  bucketStart: 1_704_067_200_000_000,
  open: 0.1,
  high: 0.30000000000000004,
  low: 0.1,
  close: 0.2,
  volume: 1e-7,
  quoteVolume: 123456789.123,
  vwap: 1 / 3,
  tradeCount: 2,
  buyVolume: 0,
  firstEventTime: 1_704_067_200_000_001,
  lastEventTime: 1_704_067_200_999_999,
  revision: 0,
  final: true,
  complete: null,
};
t.same(JSON.parse(serializeBarMessage({ type: 'bar', seq: 7, ts: 1.5, bar })), { type: 'bar', seq: 7, ts: 1.5, bar }, 'doubles survive JSON exactly');
t.same(JSON.parse(serializeError({ type: 'error', code: 'TE_BAD_REQUEST', message: 'x "quoted"' })), {
  type: 'error',
  code: 'TE_BAD_REQUEST',
  message: 'x "quoted"',
});
