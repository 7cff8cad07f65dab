// Which venues number each symbol's trades with consecutive integers (so a hole in the ids is a lost trade), and
// which give ids that say nothing about order (so only a repeated id can be recognized).
//
// The evidence, venue by venue (docs/venues.md, "Sequencing: gaps and duplicates"):
// - BINANCE: `trade` ids (`t`) and `aggTrade` ids (`a`) are two sequences, each +1 per trade of a symbol. The REST
//   ticker documents it: firstId 3220151555, lastId 3220849281, count 697727 = lastId − firstId + 1. A feed reads one
//   of the two kinds per symbol (the adapter subscribes to `@trade`); its gap filler must ask for the same kind.
// - COINBASE: `trade_id` is +1 per match of a product: the 107 recorded trades of 10 products (last_match, then the
//   matches) run without a hole. Advanced Trade's `market_trades` carries the same ids as strings.
// - KRAKEN: WebSocket v2 `trade_id` ("Trade ID: sequential int", the v2/v1 comparison of the Spot WebSocket page; the
//   snapshot example has 4665846, 4665847). The v1 frames carry no id: the adapter makes one from the time (µs) and
//   an ordinal, which is not consecutive, so a feed reading v1 frames sequences them as 'unordered'.
// - OKX: `tradeId` is +1 per fill of an instrument (the 2022 recording: 69 BTC-USDT trades 338476307…338476375,
//   4 of a future 7849…7852, each without a hole); a push aggregating `count` fills carries the last fill's id (VenueTrade.idSpan).
// - BYBIT: v5 ids are UUIDs on derivatives and large numeric strings on spot, with no documented step; the legacy
//   feed's are UUIDs. No REST call returns trades from an id either. Duplicates only.
import type { VenueName } from '../venues/venue-adapter.js';

export type TradeIdOrder = 'contiguous' | 'unordered';

export const TRADE_ID_ORDER: Readonly<Record<VenueName, TradeIdOrder>> = {
  BINANCE: 'contiguous',
  COINBASE: 'contiguous',
  KRAKEN: 'contiguous',
  OKX: 'contiguous',
  BYBIT: 'unordered',
};
