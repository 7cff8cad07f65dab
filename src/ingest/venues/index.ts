// The venue adapters by name (TE_FEED): the one place that knows them all.
import { ConfigError, describe } from '../../errors.js';
import { binance } from './binance.js';
import { bybit } from './bybit.js';
import { coinbase } from './coinbase.js';
import { kraken } from './kraken.js';
import { okx } from './okx.js';
import { VENUES, type VenueAdapter, type VenueName } from './venue-adapter.js';

export { VENUES, type VenueAdapter, type VenueName, type VenueTrade } from './venue-adapter.js';

export const VENUE_ADAPTERS: Readonly<Record<VenueName, VenueAdapter>> = { BINANCE: binance, COINBASE: coinbase, KRAKEN: kraken, BYBIT: bybit, OKX: okx };

/** The adapter of a venue named in any case ('binance', 'OKX'); ConfigError naming TE_FEED for any other name. */
export function adapterFor(name: string): VenueAdapter {
  const key = name.trim().toUpperCase();
  if (!(VENUES as readonly string[]).includes(key)) throw new ConfigError('TE_FEED', `unknown venue ${describe(name)} (one of ${VENUES.join(', ')})`);
  return VENUE_ADAPTERS[key as VenueName];
}
