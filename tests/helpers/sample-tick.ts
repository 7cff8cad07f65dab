// One well-formed tick and one bar, the starting points of the serde and decoder tests.
import type { Bar } from '../../src/contracts/bar.js';
import type { Tick } from '../../src/contracts/tick.js';

export const SAMPLE_TICK: Readonly<Tick> = Object.freeze({
  venue: 'SIM',
  symbol: 'BTC-USD',
  eventTime: 1_704_067_200_123_456,
  price: 64000.01,
  size: 0.0123,
  side: 'SELL',
  tradeId: '000000000042',
  ingestTime: 1_704_067_200_200_000,
});

/** One well-formed final 1m bar with every field set, the starting point of the bar serde tests. */
export const SAMPLE_BAR: Readonly<Bar> = Object.freeze({
  symbol: 'BTC-USDT',
  interval: '1m',
  bucketStart: 1_704_067_200_000_000,
  open: 1,
  high: 2,
  low: 0.5,
  close: 1.5,
  volume: 3,
  quoteVolume: 4,
  vwap: 4 / 3,
  tradeCount: 7,
  buyVolume: 1,
  firstEventTime: 1_704_067_200_000_001,
  lastEventTime: 1_704_067_259_999_999,
  revision: 0,
  final: true,
  complete: null,
});
