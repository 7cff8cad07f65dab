// Ticks as CSV (header venue,symbol,eventTime,price,size,side,tradeId; eventTime in µs): file replay and fixtures.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { InvalidTickError } from '../errors.js';
import type { Side, Tick } from './tick.js';

export const CSV_HEADER = 'venue,symbol,eventTime,price,size,side,tradeId';

export function tickToCsv(t: Tick): string {
  return `${t.venue},${t.symbol},${t.eventTime},${t.price},${t.size},${t.side},${t.tradeId}`;
}

/** Parse one CSV line; throws InvalidTickError naming the line. Numbers round-trip exactly (shortest form). */
export function csvToTick(line: string, lineNo: number): Tick {
  const f = line.split(',');
  if (f.length !== 7) throw new InvalidTickError(`line ${lineNo}: expected 7 fields (${CSV_HEADER}), got ${f.length}`);
  const eventTime = Number(f[2]);
  return { venue: f[0]!, symbol: f[1]!, eventTime, price: Number(f[3]), size: Number(f[4]), side: f[5] as Side, tradeId: f[6]!, ingestTime: 0 };
}

/** Lines of a CSV tick file after its header, as (tick | parse error, line number). */
export async function* readCsvTicks(path: string): AsyncGenerator<{ tick?: Tick; error?: string; line: number }> {
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) {
    n++;
    if (n === 1) {
      if (line.trim() !== CSV_HEADER) throw new InvalidTickError(`${path}: the first line must be the header ${CSV_HEADER}`);
      continue;
    }
    if (line.trim() === '') continue;
    try {
      yield { tick: csvToTick(line, n), line: n };
    } catch (err) {
      yield { error: (err as Error).message, line: n };
    }
  }
}
