// Bybit: v5 public `publicTrade.{symbol}` (the default, spot endpoint) and the legacy (pre-v5) `trade.{symbol}` frames.
//
// Quirks:
// - v5 marks every trade push "type":"snapshot", live ones included: it is not a replay, so snapshot: false.
// - v5 `S` and legacy `side` ("Buy"/"Sell") are the taker's side.
// - v5 trade ids (`i`) are numeric strings on spot and UUIDs on derivatives; legacy ids are UUIDs. UUIDs do not
//   order trades: ties in event time between them fall back to string order (contracts/trade-order.ts).
// - Spot and linear perpetuals share names ('BTCUSDT'): the endpoint (…/v5/public/spot or …/linear) decides which
//   one a frame is about, and a feed must not read both into one engine symbol.
// - Legacy frames send `size` as a JSON number (contracts on inverse `trade.BTCUSD`, base units on linear) and
//   `trade_time_ms` as a string on linear, a number on inverse; `timestamp` there has whole seconds only and is
//   not used. Block trades (v5 `BT`: true) are trades and are kept.
// - A subscribe request takes at most 10 topics on spot: subscribe sends them 10 at a time.
// - Subscribe acks ({"success":true,"op":"subscribe",…}), pongs and other topics carry no trade: [].
import type { Side } from '../../contracts/tick.js';
import { isObject, MessageFields, parseFrame, type JsonObject } from './message-fields.js';
import { fromConcatenated, toConcatenated } from './symbols.js';
import type { VenueAdapter, VenueTrade } from './venue-adapter.js';

const VENUE = 'BYBIT';
const SIDES: Readonly<Record<string, Side>> = { Buy: 'BUY', Sell: 'SELL' };
const TOPICS_PER_REQUEST = 10;

export const bybit: VenueAdapter = {
  venue: VENUE,
  defaultUrl: 'wss://stream.bybit.com/v5/public/spot',
  venueSymbol: toConcatenated,
  subscribe(venueSymbols) {
    const out: string[] = [];
    for (let i = 0; i < venueSymbols.length; i += TOPICS_PER_REQUEST)
      out.push(JSON.stringify({ op: 'subscribe', args: venueSymbols.slice(i, i + TOPICS_PER_REQUEST).map((s) => `publicTrade.${s.toUpperCase()}`) }));
    return out;
  },
  parse(frame, ingestTimeMicros) {
    const msg = parseFrame(frame, VENUE);
    if (!isObject(msg) || typeof msg.topic !== 'string') return [];
    if (msg.topic.startsWith('publicTrade.')) return v5Trades(msg, ingestTimeMicros);
    if (msg.topic.startsWith('trade.')) return legacyTrades(msg, ingestTimeMicros);
    return [];
  },
};

function v5Trades(msg: JsonObject, ingestTime: number): VenueTrade[] {
  const where = `${VENUE} publicTrade`;
  const data = new MessageFields(msg, where).array('data', 'trades');
  return data.map((_, i) => {
    const f = MessageFields.item(data, i, `${where} data`);
    const venueSymbol = f.text('s', 'symbol');
    return {
      venueSymbol,
      snapshot: false,
      tick: {
        venue: VENUE,
        symbol: fromConcatenated(venueSymbol, f.label('s', 'symbol')),
        eventTime: f.ms('T', 'trade time'),
        price: f.decimal('p', 'price'),
        size: f.decimal('v', 'size'),
        side: f.side('S', 'taker side', SIDES),
        tradeId: f.id('i', 'trade id'),
        ingestTime,
      },
    };
  });
}

function legacyTrades(msg: JsonObject, ingestTime: number): VenueTrade[] {
  const where = `${VENUE} trade`;
  const data = new MessageFields(msg, where).array('data', 'trades');
  return data.map((_, i) => {
    const f = MessageFields.item(data, i, `${where} data`);
    const venueSymbol = f.text('symbol', 'symbol');
    return {
      venueSymbol,
      snapshot: false,
      tick: {
        venue: VENUE,
        symbol: fromConcatenated(venueSymbol, f.label('symbol', 'symbol')),
        eventTime: f.ms('trade_time_ms', 'trade time'),
        price: f.decimal('price', 'price'),
        size: f.decimal('size', 'size'),
        side: f.side('side', 'taker side', SIDES),
        tradeId: f.id('trade_id', 'trade id'),
        ingestTime,
      },
    };
  });
}
