// One well-formed tick, the starting point of the serde and decoder tests.
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
