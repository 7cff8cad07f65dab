// MetaTrader 5 ticks (MqlTick, as CopyTicks returns them) → the engine's trades and quotes.
//
// An MqlTick carries every price each time (the ones that did not change are the previous tick's); its flags say
// what changed (MQL5 reference, "The Structure for Returning Current Prices (MqlTick)"; values from the MQL5
// book's table of tick flags):
//   TICK_FLAG_BID 2, TICK_FLAG_ASK 4: the bid or ask changed — a quote;
//   TICK_FLAG_LAST 8, TICK_FLAG_VOLUME 16: the last deal's price or volume changed — a trade;
//   TICK_FLAG_BUY 32, TICK_FLAG_SELL 64: the deal was a buy or a sell (the aggressor's side).
// One tick can be both (a deal that moved the book). BUY and SELL alone make neither: some brokers set both on
// every quote tick (flags 98, 100, 102 have been seen), so they give a trade its side and nothing more — and a
// trade with both (or neither) has side UNKNOWN.
//
// MetaTrader has no trade or quote ids. A tick's id is its time_msc and its position among the symbol's ticks of
// that same millisecond (`seq`, 0-based, as CopyTicks orders them): `${time_msc}${seq as 3 digits}`, a decimal
// number that orders ticks as time and position do. The same tick sent again has the same id, so retries and
// overlapping CopyTicks windows are recognised (examples/mt5/README.md).
//
// time_msc is the trade server's clock, which most brokers run on their own zone (often UTC+2/UTC+3): the client
// sends that zone's offset (`utc_offset_s`, TimeTradeServer() - TimeGMT()) and the event time is shifted to UTC.
// The id keeps the raw time_msc, so it does not change when the offset does (a DST switch).
import type { Quote } from '../contracts/quote.js';
import type { Side, Tick } from '../contracts/tick.js';

export const TICK_FLAG = { BID: 2, ASK: 4, LAST: 8, VOLUME: 16, BUY: 32, SELL: 64 } as const;

/** The most ticks one millisecond of one symbol may hold (seq is 0..MAX_SEQ). */
export const MAX_SEQ = 999;

/** An MqlTick as pushed: the structure's fields, and where it comes from and sits. */
export interface Mt5Tick {
  venue: string;
  symbol: string;
  time_msc: number;
  bid: number;
  ask: number;
  last: number;
  volume: number;
  /** MqlTick.volume_real: the volume with its fractional part, where the server gives one. */
  volume_real?: number;
  flags: number;
  /** Position among the symbol's ticks with the same time_msc (0-based). */
  seq: number;
  /** The trade server's offset from UTC, seconds (0: time_msc is UTC). */
  utc_offset_s: number;
}

/** A tick that changed the last deal's price or volume is a trade. */
export function isTrade(flags: number): boolean {
  return (flags & (TICK_FLAG.LAST | TICK_FLAG.VOLUME)) !== 0;
}

/** A tick that changed the bid or the ask is a quote. */
export function isQuote(flags: number): boolean {
  return (flags & (TICK_FLAG.BID | TICK_FLAG.ASK)) !== 0;
}

/** BUY alone: a buy; SELL alone: a sell; both or neither: unknown. */
export function mt5Side(flags: number): Side {
  const buy = (flags & TICK_FLAG.BUY) !== 0;
  const sell = (flags & TICK_FLAG.SELL) !== 0;
  return buy === sell ? 'UNKNOWN' : buy ? 'BUY' : 'SELL';
}

/** The tick's id: time_msc followed by seq as three digits. */
export function mt5Id(timeMsc: number, seq: number): string {
  return `${timeMsc}${String(seq).padStart(3, '0')}`;
}

/** The trade's size: volume_real where it is given and positive, else volume. */
export function mt5Size(t: Mt5Tick): number {
  return t.volume_real !== undefined && t.volume_real > 0 ? t.volume_real : t.volume;
}

/** The trade and the quote one MT5 tick stands for (either, both or none, by its flags), stamped `ingestTime`. */
export function mt5Records(t: Mt5Tick, ingestTime: number): { trade?: Tick; quote?: Quote } {
  const id = mt5Id(t.time_msc, t.seq);
  const eventTime = (t.time_msc - t.utc_offset_s * 1000) * 1000;
  const out: { trade?: Tick; quote?: Quote } = {};
  if (isTrade(t.flags))
    out.trade = { venue: t.venue, symbol: t.symbol, eventTime, price: t.last, size: mt5Size(t), side: mt5Side(t.flags), tradeId: id, ingestTime };
  if (isQuote(t.flags))
    out.quote = { venue: t.venue, symbol: t.symbol, eventTime, bid: t.bid, ask: t.ask, bidSize: null, askSize: null, quoteId: id, ingestTime };
  return out;
}

/** Which pushed field a problem of the trade's or quote's contract field comes from. */
export function mt5Field(field: string, t: Mt5Tick): string {
  switch (field) {
    case 'eventTime':
      return 'time_msc';
    case 'price':
      return 'last';
    case 'size':
      return t.volume_real !== undefined && t.volume_real > 0 ? 'volume_real' : 'volume';
    case 'side':
      return 'flags';
    case 'tradeId':
    case 'quoteId':
      return 'seq';
    default:
      return field;
  }
}
