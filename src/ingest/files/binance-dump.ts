// Binance's public bulk trade dumps (data.binance.vision; format: github.com/binance/binance-public-data): daily or
// monthly CSV files of one symbol's `trades` or `aggTrades`, zipped one per archive, named
// `<SYMBOL>-trades-<YYYY-MM-DD>.zip` / `<SYMBOL>-aggTrades-<YYYY-MM>.zip`.
//
//   trades:    id, price, qty, quoteQty, time, isBuyerMaker, isBestMatch           (USD-M futures: no isBestMatch)
//   aggTrades: aggTradeId, price, quantity, firstTradeId, lastTradeId, transactTime, isBuyerMaker, isBestMatch
//                                                                                   (futures: no isBestMatch)
//
// Quirks:
// - Spot files have no header row; futures files have one (`id,price,qty,quote_qty,time,is_buyer_maker`). Both are
//   read: a first line whose first field is not a number is a header, and its names place the columns.
// - Times: milliseconds since the epoch until 2024-12-31; spot files from 2025-01-01 on are in MICROseconds. Told
//   apart by magnitude, value by value: every instant from 2000 to 2200 is 9.5e11..7.3e12 in ms and 9.5e14..7.3e15
//   in µs, so a value below 1e14 is ms, anything else µs. (A file never needs a flag for it, and a file that mixes
//   the two, as a month straddling the change would, is still read right.)
// - isBuyerMaker true: the buyer's order was resting, so the taker (the aggressor) SOLD — the live adapter's rule
//   for `m` (venues/binance.ts). Booleans are written True/False (spot) or true/false (futures).
// - Prices and sizes are plain decimals ("42283.58000000"), read strictly as the live adapter reads them.
import { basename } from 'node:path';
import { DecodeError } from '../../errors.js';
import type { Tick } from '../../contracts/tick.js';
import { parseDecimal } from '../venues/decimal.js';

export type BinanceDumpKind = 'trades' | 'aggTrades';

/** What a dump's file name says: `BTCUSDT-trades-2024-01-01.zip` → BTCUSDT, trades, 2024-01-01. */
export interface DumpName {
  venueSymbol: string;
  kind: BinanceDumpKind;
  period: string;
}

const NAME = /^([A-Za-z0-9]+)-(trades|aggTrades)-(\d{4}-\d{2}(?:-\d{2})?)(?:\.csv)?(?:\.zip)?$/;

export function parseDumpName(path: string): DumpName | undefined {
  const m = NAME.exec(basename(path));
  return m ? { venueSymbol: m[1]!.toUpperCase(), kind: m[2] as BinanceDumpKind, period: m[3]! } : undefined;
}

/** Where a dump's fields are, and how many a row has. */
export interface DumpLayout {
  kind: BinanceDumpKind;
  /** Whether the file's first line is a header (then skipped). */
  header: boolean;
  columns: number;
  id: number;
  price: number;
  qty: number;
  time: number;
  buyerMaker: number;
  /** The field names, for error messages. */
  names: readonly string[];
}

const POSITIONAL: Record<BinanceDumpKind, { names: readonly string[]; time: number; buyerMaker: number; columns: readonly number[] }> = {
  trades: { names: ['id', 'price', 'qty', 'quoteQty', 'time', 'isBuyerMaker', 'isBestMatch'], time: 4, buyerMaker: 5, columns: [7, 6] },
  aggTrades: {
    names: ['aggTradeId', 'price', 'quantity', 'firstTradeId', 'lastTradeId', 'transactTime', 'isBuyerMaker', 'isBestMatch'],
    time: 5,
    buyerMaker: 6,
    columns: [8, 7],
  },
};

/** Header names (lower case, letters and digits only) of each field we read, as Binance has written them. */
const HEADER_NAMES = {
  id: ['id', 'tradeid', 'aggtradeid', 'aggregatetradeid'],
  price: ['price'],
  qty: ['qty', 'quantity'],
  time: ['time', 'timestamp', 'transacttime'],
  buyerMaker: ['isbuyermaker', 'wasthebuyerthemaker'],
} as const;

const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
const DIGITS = /^\d+$/;

/**
 * The layout of a dump from its first non-blank line: a header's names, or a data row's column count. `kind`
 * is what the file name (or --format) says, if anything; without it a headerless row of 6 or 7 fields is trades
 * and one of 8 is aggTrades. Throws DecodeError for a line that fits neither.
 */
export function dumpLayout(firstLine: string, kind: BinanceDumpKind | undefined, label: string): DumpLayout {
  const fields = firstLine.split(',');
  if (!DIGITS.test(fields[0] ?? '')) return headerLayout(fields, kind, label);
  const k = kind ?? (fields.length === 8 ? 'aggTrades' : fields.length === 7 || fields.length === 6 ? 'trades' : undefined);
  const p = k && POSITIONAL[k];
  if (!p || !p.columns.includes(fields.length))
    throw new DecodeError(
      `${label}: a row of ${fields.length} fields is no Binance ${kind ?? 'trades or aggTrades'} dump (${kind ? POSITIONAL[kind].columns.join(' or ') : '6, 7 or 8'} fields expected)`,
    );
  return {
    kind: k,
    header: false,
    columns: fields.length,
    id: 0,
    price: 1,
    qty: 2,
    time: p.time,
    buyerMaker: p.buyerMaker,
    names: p.names.slice(0, fields.length),
  };
}

function headerLayout(fields: string[], kind: BinanceDumpKind | undefined, label: string): DumpLayout {
  const names = fields.map(norm);
  const at = (field: keyof typeof HEADER_NAMES) => {
    const i = names.findIndex((n) => (HEADER_NAMES[field] as readonly string[]).includes(n));
    if (i < 0) throw new DecodeError(`${label}: the header ${JSON.stringify(fields.join(','))} has no ${field} column`);
    return i;
  };
  const headerKind: BinanceDumpKind = names.includes('firsttradeid') || names.some((n) => n.startsWith('agg')) ? 'aggTrades' : 'trades';
  if (kind && kind !== headerKind) throw new DecodeError(`${label}: the header ${JSON.stringify(fields.join(','))} is an ${headerKind} header, not ${kind}`);
  return {
    kind: headerKind,
    header: true,
    columns: fields.length,
    id: at('id'),
    price: at('price'),
    qty: at('qty'),
    time: at('time'),
    buyerMaker: at('buyerMaker'),
    names: fields,
  };
}

/** Every instant from 2000 to 2200 is below this in ms and above it in µs. */
const MICROS_FROM = 1e14;

/** A dump's time field → µs since the epoch: ms before Binance's 2025 switch, µs after it (told apart by magnitude). */
export function dumpTimeMicros(raw: string, label: string): number {
  if (!/^\d{1,17}$/.test(raw)) throw new DecodeError(`${label} ${JSON.stringify(raw)} is not a whole number of ms or µs`);
  const n = Number(raw);
  return n < MICROS_FROM ? n * 1000 : n;
}

function bool(raw: string, label: string): boolean {
  const s = raw.toLowerCase();
  if (s === 'true') return true;
  if (s === 'false') return false;
  throw new DecodeError(`${label} ${JSON.stringify(raw)} is not True or False`);
}

/** A trade id as the dump writes it: a decimal integer, kept as its digits (the live adapter's form for the same id). */
function tradeId(raw: string, label: string): string {
  if (!/^\d{1,20}$/.test(raw)) throw new DecodeError(`${label} ${JSON.stringify(raw)} is not a trade id (digits)`);
  return raw.length > 1 && raw.startsWith('0') ? raw.replace(/^0+(?=\d)/, '') : raw;
}

/** Parses a dump's data rows into ticks of `venue`/`symbol`. */
export class BinanceDumpRows {
  constructor(
    readonly layout: DumpLayout,
    private readonly venue: string,
    private readonly symbol: string,
  ) {}

  /** The tick of data row `text` (line `line` of the file), ingestTime 0; or why it is none (a DecodeError's message). */
  parse(text: string, line: number): Tick | string {
    const l = this.layout;
    const f = text.split(',');
    const label = `line ${line}`;
    if (f.length !== l.columns) return `${label}: expected ${l.columns} fields (${l.names.join(',')}), got ${f.length}`;
    try {
      return {
        venue: this.venue,
        symbol: this.symbol,
        eventTime: dumpTimeMicros(f[l.time]!, `${label} ${l.names[l.time]}`),
        price: parseDecimal(f[l.price]!, `${label} ${l.names[l.price]}`),
        size: parseDecimal(f[l.qty]!, `${label} ${l.names[l.qty]}`),
        side: bool(f[l.buyerMaker]!, `${label} ${l.names[l.buyerMaker]}`) ? 'SELL' : 'BUY',
        tradeId: tradeId(f[l.id]!, `${label} ${l.names[l.id]}`),
        ingestTime: 0,
      };
    } catch (err) {
      if (err instanceof DecodeError) return err.message;
      throw err;
    }
  }
}
