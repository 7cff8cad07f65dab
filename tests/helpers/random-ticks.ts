// Random tick values with the edge cases a tick decoder gets wrong: varint boundaries, values around 2^52 (where the
// hand-written decoder leaves its fast path for avsc's double arithmetic), -0, NaN, infinities, subnormals, non-ASCII
// and NUL characters, over-long strings. Shared by the decoder and native-kernel tests, which compare two decoders.
import type { Tick } from '../../src/contracts/tick.js';
import type { Prng } from '../../src/ingest/prng.js';

const UNICODE = ['é', 'ß', 'Ω', '日本', '€', '😀', '\u0000', '\u007f', '\u0080', '\uffff', 'a'];

export function randomString(rng: Prng, maxLen: number): string {
  const len = rng.int(maxLen + 1);
  let out = '';
  const unicode = rng.next() < 0.2;
  for (let i = 0; i < len; i++) out += unicode && rng.next() < 0.3 ? UNICODE[rng.int(UNICODE.length)]! : String.fromCharCode(32 + rng.int(95));
  return out;
}

export const EDGE_LONGS = [
  0,
  1,
  -1,
  63,
  64,
  -64,
  -65,
  2 ** 27,
  2 ** 28,
  -(2 ** 28),
  2 ** 52 - 1,
  2 ** 52,
  2 ** 52 + 1,
  -(2 ** 52) + 1,
  -(2 ** 52),
  -(2 ** 52) - 1,
  2 ** 31,
  -(2 ** 31),
  2 ** 40 + 3,
  9007199254740990,
  -9007199254740990,
  1_704_067_200_123_456,
];
export const EDGE_DOUBLES = [0, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, 1e-300, 64000.01, 0.1 + 0.2, 1];

export function randomLong(rng: Prng): number {
  if (rng.next() < 0.3) return EDGE_LONGS[rng.int(EDGE_LONGS.length)]!;
  const mag = 2 ** rng.int(53);
  return Math.floor(rng.next() * mag) * (rng.next() < 0.5 ? -1 : 1) || 0;
}

export function randomDouble(rng: Prng): number {
  if (rng.next() < 0.2) return EDGE_DOUBLES[rng.int(EDGE_DOUBLES.length)]!;
  return (rng.next() - 0.3) * 10 ** (rng.int(20) - 8);
}

/** A tick: mostly one of `symbols` and venue SIM, sometimes random strings up to `maxSymbol` characters. */
export function randomTick(rng: Prng, symbols: string[], opts: { maxSymbol?: number; overlongTradeIds?: boolean } = {}): Tick {
  return {
    venue: rng.next() < 0.9 ? 'SIM' : randomString(rng, 40),
    symbol: rng.next() < 0.8 ? symbols[rng.int(symbols.length)]! : randomString(rng, opts.maxSymbol ?? 70),
    eventTime: randomLong(rng),
    price: randomDouble(rng),
    size: randomDouble(rng),
    side: (['BUY', 'SELL', 'UNKNOWN'] as const)[rng.int(3)]!,
    tradeId:
      rng.next() < 0.7
        ? String(rng.int(1e9)).padStart(12, '0')
        : opts.overlongTradeIds && rng.next() < 0.1
          ? 'x'.repeat(129)
          : randomString(rng, 40),
    ingestTime: randomLong(rng),
    venueSymbol: rng.next() < 0.5 ? null : randomString(rng, 20),
    sequence: rng.next() < 0.5 ? null : { first: rng.next() < 0.5, lostIds: randomLong(rng), lostSince: randomLong(rng) },
  };
}
