// Binance spot trade streams: `trade` and `aggTrade` events, raw or wrapped as a combined stream's {"stream","data"}.
//
// Quirks:
// - `m` is "is the buyer the market maker?". true ⇒ the buyer was resting ⇒ the taker (aggressor) SOLD. The event
//   has no side field of its own.
// - `T` is the trade time in ms; `E` is when the event was sent, and is not used.
// - `trade` ids (`t`) and `aggTrade` ids (`a`) are separate sequences: a feed reads one kind per symbol (subscribe
//   asks for `@trade`), otherwise two different trades could share an id.
// - Depth, bookTicker, kline events and the {"result":null,"id":1} acks carry no trade: [].
import type { Tick } from '../../contracts/tick.js';
import { isObject, MessageFields, parseFrame } from './message-fields.js';
import { fromConcatenated, toConcatenated } from './symbols.js';
import type { VenueAdapter, VenueTrade } from './venue-adapter.js';

const VENUE = 'BINANCE';

export const binance: VenueAdapter = {
  venue: VENUE,
  defaultUrl: 'wss://stream.binance.com:9443/stream',
  venueSymbol: toConcatenated,
  subscribe: (venueSymbols) => [JSON.stringify({ method: 'SUBSCRIBE', params: venueSymbols.map((s) => `${s.toLowerCase()}@trade`), id: 1 })],
  parse(frame, ingestTimeMicros) {
    const msg = parseFrame(frame, VENUE);
    if (!isObject(msg)) return [];
    const event = typeof msg.stream === 'string' && isObject(msg.data) ? msg.data : msg;
    if (event.e !== 'trade' && event.e !== 'aggTrade') return [];
    const f = new MessageFields(event, `${VENUE} ${event.e}`);
    const venueSymbol = f.text('s', 'symbol');
    const tick: Tick = {
      venue: VENUE,
      symbol: fromConcatenated(venueSymbol, f.label('s', 'symbol')),
      eventTime: f.ms('T', 'trade time'),
      price: f.decimal('p', 'price'),
      size: f.decimal('q', 'quantity'),
      side: f.bool('m', 'buyer is maker') ? 'SELL' : 'BUY',
      tradeId: event.e === 'trade' ? f.id('t', 'trade id') : f.id('a', 'aggregate trade id'),
      ingestTime: ingestTimeMicros,
    };
    return [{ tick, venueSymbol, snapshot: false } satisfies VenueTrade];
  },
};
