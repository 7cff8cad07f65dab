// Kraken spot: WebSocket v2 `trade` channel (the default endpoint) and v1 array-form trade frames.
//
// Quirks:
// - v2 sends price and qty as JSON numbers, not strings. JSON.parse rounds the digits to the nearest double, exactly
//   as Number() does for the same digits in a string, so no precision is lost against the string form; only the
//   venue's own spelling (trailing zeros) is gone, which a double never keeps anyway.
// - v2 names Bitcoin BTC ('BTC/USD'); v1 names it XBT ('XBT/USD') and Dogecoin XDG: both map to the engine's names.
// - `side` (v2) and the side letter (v1, 'b'/'s') are the taker's side.
// - v1 frames are arrays [channelID, [[price, volume, time, side, orderType, misc], …], "trade", pair], times in
//   seconds with 6 decimals as a string ("1618678142.557535"), converted to µs exactly.
// - v1 trades carry no trade id. The id made here is the event time in µs followed by a 3-digit ordinal among
//   the trades of the same frame with exactly that time ("1618678142557535000"): all digits, so trades order by
//   (time, ordinal) under contracts/trade-order.ts, and the same trade gets the same id on a replay of the same
//   frames. Limits: it is not Kraken's id (a v2 trade_id cannot be matched to it); two trades at the same µs that
//   arrive in different frames both get ordinal 000 and collide; and a snapshot that batches same-µs trades
//   differently from the live frames would number them differently.
// - The v2 snapshot (the last 50 trades, sent on subscribe when asked for) is marked snapshot: true; subscribe
//   does not ask for it.
// - Heartbeats, status, subscribe acks and v1 events (systemStatus, subscriptionStatus) carry no trade: [].
import type { Side } from '../../contracts/tick.js';
import { DecodeError, describe } from '../../errors.js';
import { isObject, MessageFields, parseFrame, type JsonObject } from './message-fields.js';
import { fromSlashed, toSlashed } from './symbols.js';
import type { VenueAdapter, VenueTrade } from './venue-adapter.js';

const VENUE = 'KRAKEN';
const V2_SIDES: Readonly<Record<string, Side>> = { buy: 'BUY', sell: 'SELL' };
const V1_SIDES: Readonly<Record<string, Side>> = { b: 'BUY', s: 'SELL' };

export const kraken: VenueAdapter = {
  venue: VENUE,
  defaultUrl: 'wss://ws.kraken.com/v2',
  venueSymbol: toSlashed,
  subscribe: (venueSymbols) => [JSON.stringify({ method: 'subscribe', params: { channel: 'trade', symbol: venueSymbols, snapshot: false } })],
  parse(frame, ingestTimeMicros) {
    const msg = parseFrame(frame, VENUE);
    if (Array.isArray(msg)) return msg.length >= 4 && msg[msg.length - 2] === 'trade' ? v1Trades(msg, ingestTimeMicros) : [];
    if (isObject(msg) && msg.channel === 'trade') return v2Trades(msg, ingestTimeMicros);
    return [];
  },
};

function v2Trades(msg: JsonObject, ingestTime: number): VenueTrade[] {
  const where = `${VENUE} trade`;
  const m = new MessageFields(msg, where);
  const snapshot = m.text('type', 'message type') === 'snapshot';
  const data = m.array('data', 'trades');
  return data.map((_, i) => {
    const f = MessageFields.item(data, i, `${where} data`);
    const venueSymbol = f.text('symbol', 'symbol');
    return {
      venueSymbol,
      snapshot,
      tick: {
        venue: VENUE,
        symbol: fromSlashed(venueSymbol, f.label('symbol', 'symbol'), { kraken: true }),
        eventTime: f.iso('timestamp', 'trade time'),
        price: f.decimal('price', 'price'),
        size: f.decimal('qty', 'quantity'),
        side: f.side('side', 'taker side', V2_SIDES),
        tradeId: f.id('trade_id', 'trade id'),
        ingestTime,
      },
    };
  });
}

function v1Trades(msg: readonly unknown[], ingestTime: number): VenueTrade[] {
  const where = `${VENUE} v1 trade`;
  const venueSymbol = msg[msg.length - 1];
  if (typeof venueSymbol !== 'string') throw new DecodeError(`${where} pair (last element) is ${describe(venueSymbol)}, not a string`);
  const symbol = fromSlashed(venueSymbol, `${where} pair`, { kraken: true });
  const trades = msg[1];
  if (!Array.isArray(trades)) throw new DecodeError(`${where} trades (element 1) is ${describe(trades)}, not an array`);
  const sameTime = new Map<number, number>();
  return trades.map((entry: unknown, i) => {
    if (!Array.isArray(entry)) throw new DecodeError(`${where}[${i}] is ${describe(entry)}, not an array`);
    const f = new MessageFields({ price: entry[0], volume: entry[1], time: entry[2], side: entry[3] }, `${where}[${i}]`);
    const eventTime = f.seconds('time', 'trade time');
    const ordinal = sameTime.get(eventTime) ?? 0;
    sameTime.set(eventTime, ordinal + 1);
    return {
      venueSymbol,
      snapshot: false,
      tick: {
        venue: VENUE,
        symbol,
        eventTime,
        price: f.decimal('price', 'price'),
        size: f.decimal('volume', 'volume'),
        side: f.side('side', 'taker side', V1_SIDES),
        tradeId: `${eventTime}${String(ordinal).padStart(3, '0')}`,
        ingestTime,
      },
    };
  });
}
