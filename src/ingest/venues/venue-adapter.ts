// What every venue adapter offers: the venue's endpoint and subscribe messages, and one received frame → its trades.
import type { Tick } from '../../contracts/tick.js';

export const VENUES = ['BINANCE', 'COINBASE', 'KRAKEN', 'BYBIT', 'OKX'] as const;
export type VenueName = (typeof VENUES)[number];

/** One trade as the engine's tick, with the venue's own name of the instrument. */
export interface VenueTrade {
  tick: Tick;
  /** The symbol as the venue wrote it ('BTCUSDT', 'XBT/USD', 'BTC-USD-SWAP'); tick.symbol is the engine's form. */
  venueSymbol: string;
  /**
   * True for trades the venue re-sends when a subscription starts (Kraken's and Coinbase Advanced Trade's
   * snapshots, Coinbase Exchange's last_match): they may have been received before, on an earlier connection.
   */
  snapshot: boolean;
  /**
   * How many of the venue's consecutive trade ids this one trade stands for, ending at tick.tradeId: OKX pushes the
   * fills of one taker order at one price as one trade, `count` of them, with the last fill's id. Absent: 1.
   */
  idSpan?: number;
}

export interface VenueAdapter {
  readonly venue: VenueName;
  /** The venue's real public WebSocket endpoint for the messages this adapter reads. */
  readonly defaultUrl: string;
  /** Engine symbol ('BTC-USDT') → the venue's ('BTCUSDT', 'BTC/USDT', 'BTC-USDT'); InvalidArgumentError when not BASE-QUOTE. */
  venueSymbol(engineSymbol: string): string;
  /** The subscribe message(s) for the trades of these venue symbols, as the venue documents them. */
  subscribe(venueSymbols: readonly string[]): string[];
  /**
   * One received text frame → the trades it carries: [] for heartbeats, acks, other channels and anything else
   * that is not a trade message. A frame that is not JSON, or a trade message with a missing or malformed field,
   * throws DecodeError (TE_DECODE) with a message naming the venue, the message and the field.
   */
  parse(frame: string, ingestTimeMicros: number): VenueTrade[];
}
