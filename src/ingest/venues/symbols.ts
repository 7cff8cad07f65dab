// Venue symbols ↔ the engine's BASE-QUOTE form: 'BTCUSDT' → 'BTC-USDT', 'XBT/USD' → 'BTC-USD', 'BTC-USDT' as is.
import { DecodeError, InvalidArgumentError, describe } from '../../errors.js';

/**
 * Quote assets that end a concatenated symbol (Binance, Bybit: 'BTCUSDT'), tried longest first so that 'BTCUSDT'
 * splits as BTC-USDT, not BTCU-SDT or BTCUS-DT, and 'BTCTUSD' as BTC-TUSD. A symbol ending in none of them is
 * refused (DecodeError) rather than guessed; add its quote here.
 */
export const QUOTE_ASSETS: readonly string[] = [
  'USDT',
  'USDC',
  'FDUSD',
  'BUSD',
  'TUSD',
  'USDP',
  'USDE',
  'USDS',
  'DAI',
  'USD',
  'EUR',
  'EURI',
  'AEUR',
  'GBP',
  'JPY',
  'TRY',
  'BRL',
  'AUD',
  'CAD',
  'CHF',
  'RUB',
  'UAH',
  'ZAR',
  'PLN',
  'RON',
  'CZK',
  'ARS',
  'MXN',
  'COP',
  'NGN',
  'IDR',
  'IDRT',
  'BIDR',
  'BTC',
  'ETH',
  'BNB',
  'XRP',
  'TRX',
  'DOGE',
  'DOT',
  'SOL',
].sort((a, b) => b.length - a.length || a.localeCompare(b));

/** Kraken's v1 names for assets everyone else calls otherwise (v2 already sends BTC/USD). */
const KRAKEN_ALIASES: Readonly<Record<string, string>> = { XBT: 'BTC', XDG: 'DOGE' };

const CONCATENATED = /^[A-Z0-9]+$/;
const SLASHED = /^([A-Z0-9.]+)\/([A-Z0-9.]+)$/;
/** BASE-QUOTE, or an instrument with more parts (OKX 'BTC-USD-SWAP', 'BTC-USD-220527'), kept whole. */
const DASHED = /^[A-Z0-9]+(?:-[A-Z0-9]+)+$/;
const ENGINE = /^([A-Z0-9.]+)-([A-Z0-9.]+)$/;

/** 'BTCUSDT' (Binance, Bybit) → 'BTC-USDT'. */
export function fromConcatenated(venueSymbol: string, label: string): string {
  const s = venueSymbol.toUpperCase();
  if (CONCATENATED.test(s)) {
    for (const quote of QUOTE_ASSETS) if (s.length > quote.length && s.endsWith(quote)) return `${s.slice(0, -quote.length)}-${quote}`;
  }
  throw new DecodeError(`${label} ${describe(venueSymbol)} does not end in a known quote asset (symbols.ts QUOTE_ASSETS)`);
}

/** 'BTC/USD' → 'BTC-USD'; Kraken's 'XBT/USD' → 'BTC-USD' with `kraken`. */
export function fromSlashed(venueSymbol: string, label: string, { kraken }: { kraken: boolean }): string {
  const m = SLASHED.exec(venueSymbol.toUpperCase());
  if (!m) throw new DecodeError(`${label} ${describe(venueSymbol)} is not BASE/QUOTE`);
  const name = (a: string) => (kraken && Object.hasOwn(KRAKEN_ALIASES, a) ? KRAKEN_ALIASES[a]! : a);
  return `${name(m[1]!)}-${name(m[2]!)}`;
}

/** 'BTC-USDT' (Coinbase, OKX) as is; derivatives keep their suffix ('BTC-USD-SWAP'), so they never merge with spot. */
export function fromDashed(venueSymbol: string, label: string): string {
  const s = venueSymbol.toUpperCase();
  if (!DASHED.test(s)) throw new DecodeError(`${label} ${describe(venueSymbol)} is not BASE-QUOTE`);
  return s;
}

function baseQuote(engineSymbol: string): [string, string] {
  const m = ENGINE.exec(engineSymbol.toUpperCase());
  if (!m) throw new InvalidArgumentError(`symbol ${describe(engineSymbol)} is not BASE-QUOTE (e.g. BTC-USDT)`);
  return [m[1]!, m[2]!];
}

/** 'BTC-USDT' → 'BTCUSDT'. */
export function toConcatenated(engineSymbol: string): string {
  return baseQuote(engineSymbol).join('');
}

/** 'BTC-USD' → 'BTC/USD' (Kraken v2 takes BTC, not XBT). */
export function toSlashed(engineSymbol: string): string {
  return baseQuote(engineSymbol).join('/');
}

/** 'btc-usdt' → 'BTC-USDT'; an instrument with more parts ('BTC-USD-SWAP') as is. */
export function toDashed(engineSymbol: string): string {
  const s = engineSymbol.toUpperCase();
  if (!DASHED.test(s)) throw new InvalidArgumentError(`symbol ${describe(engineSymbol)} is not BASE-QUOTE (e.g. BTC-USDT)`);
  return s;
}
