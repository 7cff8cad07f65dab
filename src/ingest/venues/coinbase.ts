// Coinbase: Advanced Trade `market_trades` (the current feed) and the Exchange feed's `match`/`last_match` messages.
//
// Quirks:
// - Exchange feed (ws-feed.exchange.coinbase.com, formerly Coinbase Pro): `side` is the MAKER's order side, so the
//   taker (aggressor) is the opposite: "sell" ⇒ BUY. Checked on the recorded feed: every match's flipped side
//   equals the side of the `ticker` message for the same trade_id (tests/ingest/venues/coinbase.test.ts).
// - Advanced Trade `market_trades`: `side` is read as the TAKER's side, as the REST Trade schema documents it
//   ("Taker side of the trade"). The older Advanced Trade channel page said it "refers to the makers side"; the
//   two documents disagree and no recording of this feed was available to settle it (docs/venues.md).
// - `market_trades` batches 250 ms of trades in one message; its first message per product is a `snapshot` of
//   recent trades (snapshot: true). `last_match` likewise re-sends the product's last trade on subscribe.
// - Advanced Trade trade ids are strings, Exchange trade ids JSON integers; times are ISO-8601 with up to 9
//   fractional digits, converted to µs exactly.
// - `heartbeats`, `subscriptions`, `l2_data`, `ticker` and the Exchange feed's other messages carry no trade: [].
import type { Side } from '../../contracts/tick.js';
import { isObject, MessageFields, parseFrame, type JsonObject } from './message-fields.js';
import { fromDashed, toDashed } from './symbols.js';
import type { VenueAdapter, VenueTrade } from './venue-adapter.js';

const VENUE = 'COINBASE';
const TAKER_SIDE: Readonly<Record<string, Side>> = { BUY: 'BUY', SELL: 'SELL' };
const MAKER_SIDE_TO_TAKER: Readonly<Record<string, Side>> = { buy: 'SELL', sell: 'BUY' };

export const coinbase: VenueAdapter = {
  venue: VENUE,
  defaultUrl: 'wss://advanced-trade-ws.coinbase.com',
  venueSymbol: toDashed,
  // Heartbeats too: Advanced Trade closes a channel that has had no update for 60-90 s.
  subscribe: (venueSymbols) => [
    JSON.stringify({ type: 'subscribe', product_ids: venueSymbols, channel: 'market_trades' }),
    JSON.stringify({ type: 'subscribe', product_ids: venueSymbols, channel: 'heartbeats' }),
  ],
  parse(frame, ingestTimeMicros) {
    const msg = parseFrame(frame, VENUE);
    if (!isObject(msg)) return [];
    if (msg.channel === 'market_trades') return marketTrades(msg, ingestTimeMicros);
    if (msg.type === 'match' || msg.type === 'last_match') return [exchangeMatch(msg, msg.type, ingestTimeMicros)];
    return [];
  },
};

function marketTrades(msg: JsonObject, ingestTime: number): VenueTrade[] {
  const events = new MessageFields(msg, `${VENUE} market_trades`).array('events', 'events');
  const out: VenueTrade[] = [];
  events.forEach((_, e) => {
    const event = MessageFields.item(events, e, `${VENUE} market_trades events`);
    const type = event.text('type', 'event type');
    const trades = event.array('trades', 'trades');
    trades.forEach((_, i) => {
      const f = MessageFields.item(trades, i, `${event.where} trades`);
      out.push(trade(f, ingestTime, type === 'snapshot', f.side('side', 'taker side', TAKER_SIDE)));
    });
  });
  return out;
}

function exchangeMatch(msg: JsonObject, type: 'match' | 'last_match', ingestTime: number): VenueTrade {
  const f = new MessageFields(msg, `${VENUE} ${type}`);
  return trade(f, ingestTime, type === 'last_match', f.side('side', 'maker side', MAKER_SIDE_TO_TAKER));
}

/** Both feeds name a trade's fields alike; only the meaning of `side` differs, so the caller reads it. */
function trade(f: MessageFields, ingestTime: number, snapshot: boolean, side: Side): VenueTrade {
  const venueSymbol = f.text('product_id', 'product');
  return {
    venueSymbol,
    snapshot,
    tick: {
      venue: VENUE,
      symbol: fromDashed(venueSymbol, f.label('product_id', 'product')),
      eventTime: f.iso('time', 'trade time'),
      price: f.decimal('price', 'price'),
      size: f.decimal('size', 'size'),
      side,
      tradeId: f.id('trade_id', 'trade id'),
      ingestTime,
    },
  };
}
