// OKX v5 public `trades` channel: {"arg":{"channel":"trades","instId"},"data":[{instId,tradeId,px,sz,side,ts,count}]}.
//
// Quirks:
// - `side` is the taker's side ("buy"/"sell").
// - `ts` is the trade time in ms, as a string.
// - One push may aggregate fills of one taker order at one price: `count` says how many, `tradeId` is the last
//   fill's id and `sz` their total ("tradeId = 123 and count = 3 … aggregates the trades of tradeId = 123, 122 and
//   121", says the channel's page). It becomes the trade's idSpan, so the feed's sequencing sees ids 121-123 taken
//   and no gap; frames recorded before `count` existed (2022) lack it: one fill each.
// - `sz` is in base currency for SPOT and in contracts for SWAP/FUTURES/OPTION; derivatives keep their full
//   instId as the engine symbol ('BTC-USD-SWAP', 'BTC-USD-220527'), so they never merge with the spot pair.
// - Event messages (subscribe acks, errors: "event" present) and other channels (tickers, books) carry no trade: [].
import type { Side } from '../../contracts/tick.js';
import { isObject, MessageFields, parseFrame } from './message-fields.js';
import { fromDashed, toDashed } from './symbols.js';
import type { VenueAdapter, VenueTrade } from './venue-adapter.js';

const VENUE = 'OKX';
const SIDES: Readonly<Record<string, Side>> = { buy: 'BUY', sell: 'SELL' };

/** One trade item of the `trades` channel or of the history-trades answer (the same fields) → the venue trade. */
export function okxTrade(f: MessageFields, ingestTimeMicros: number, snapshot: boolean): VenueTrade {
  const venueSymbol = f.text('instId', 'instrument');
  return {
    venueSymbol,
    snapshot,
    ...(f.has('count') ? { idSpan: f.count('count', 'fills aggregated') } : {}),
    tick: {
      venue: VENUE,
      symbol: fromDashed(venueSymbol, f.label('instId', 'instrument')),
      eventTime: f.ms('ts', 'trade time'),
      price: f.decimal('px', 'price'),
      size: f.decimal('sz', 'size'),
      side: f.side('side', 'taker side', SIDES),
      tradeId: f.id('tradeId', 'trade id'),
      ingestTime: ingestTimeMicros,
    },
  };
}

export const okx: VenueAdapter = {
  venue: VENUE,
  defaultUrl: 'wss://ws.okx.com:8443/ws/v5/public',
  venueSymbol: toDashed,
  subscribe: (venueSymbols) => [JSON.stringify({ op: 'subscribe', args: venueSymbols.map((instId) => ({ channel: 'trades', instId })) })],
  parse(frame, ingestTimeMicros) {
    const msg = parseFrame(frame, VENUE);
    if (!isObject(msg) || msg.event !== undefined || !isObject(msg.arg) || msg.arg.channel !== 'trades') return [];
    const where = `${VENUE} trades`;
    const data = new MessageFields(msg, where).array('data', 'trades');
    return data.map((_, i) => okxTrade(MessageFields.item(data, i, `${where} data`), ingestTimeMicros, false));
  },
};
