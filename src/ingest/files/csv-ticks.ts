// Ticks as CSV (header venue,symbol,eventTime,price,size,side,tradeId; eventTime in µs): file replay and fixtures.
import { InvalidTickError } from '../../errors.js';
import type { Side, Tick } from '../../contracts/tick.js';

export const CSV_HEADER = 'venue,symbol,eventTime,price,size,side,tradeId';

export function tickToCsv(t: Tick): string {
  return `${t.venue},${t.symbol},${t.eventTime},${t.price},${t.size},${t.side},${t.tradeId}`;
}

/** Parse one CSV line; throws InvalidTickError naming the line. Numbers round-trip exactly (shortest form). */
export function csvToTick(line: string, lineNo: number): Tick {
  const f = line.split(',');
  if (f.length !== 7) throw new InvalidTickError(`line ${lineNo}: expected 7 fields (${CSV_HEADER}), got ${f.length}`);
  const eventTime = Number(f[2]);
  return {
    venue: f[0]!,
    symbol: f[1]!,
    eventTime,
    price: Number(f[3]),
    size: Number(f[4]),
    side: f[5] as Side,
    tradeId: f[6]!,
    ingestTime: 0,
    venueSymbol: null,
    sequence: null,
  };
}
