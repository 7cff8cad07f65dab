// One pushed record → the trades and quotes it stands for, or why it is rejected (the field, the reason, a code).
// A record is taken whole or not at all: an MT5 tick that is both a trade and a quote is rejected if either is bad.
//
// JSON forms (one per NDJSON line; fields not listed are an error, so a misspelt one never passes unnoticed):
//   {"type":"trade","venue","symbol","eventTime" (µs),"price","size","side" (BUY|SELL|UNKNOWN, default UNKNOWN),"tradeId"}
//   {"type":"quote","venue","symbol","eventTime" (µs),"bid","ask","bidSize"?,"askSize"?,"quoteId"? (default: eventTime)}
//   {"type":"mt5","venue","symbol","time_msc","bid","ask","last","volume","volume_real"?,"flags","seq"? (0),"utc_offset_s"? (0),"time"? (ignored)}
import { describe, ERROR_CODES, type RejectCode } from '../errors.js';
import type { Quote } from '../contracts/quote.js';
import type { Side, Tick } from '../contracts/tick.js';
import { quoteFieldProblem, tickFieldProblem } from '../contracts/validate.js';
import { isQuote, isTrade, MAX_SEQ, mt5Field, mt5Records, type Mt5Tick } from './mt5.js';

/** Why a record is rejected: the field as the client named it (absent when the record as a whole is wrong). */
export interface RecordError {
  code: RejectCode;
  field?: string;
  reason: string;
}

/** What a valid record stands for. */
export interface RecordItems {
  trades: Tick[];
  quotes: Quote[];
}

/** A record of a batch, read: what it stands for, or why it is rejected. */
export interface BatchRecord {
  /** Position in the batch, from 0. */
  index: number;
  /** NDJSON: the line it is on, from 1 (blank lines count). */
  line?: number;
  /** The record's bytes as sent: what the dead-letter topic gets when it is rejected. */
  raw: Buffer;
  items?: RecordItems;
  error?: RecordError;
}

/** What the checks need besides the record: the ingest time to stamp, how far event times may run ahead (µs). */
export interface ReadContext {
  ingestTime: number;
  maxAheadMicros: number;
}

class FieldError extends Error {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(reason);
  }
}

const TRADE_FIELDS = new Set(['type', 'venue', 'symbol', 'eventTime', 'price', 'size', 'side', 'tradeId']);
const QUOTE_FIELDS = new Set(['type', 'venue', 'symbol', 'eventTime', 'bid', 'ask', 'bidSize', 'askSize', 'quoteId']);
const MT5_FIELDS = new Set(['type', 'venue', 'symbol', 'time', 'time_msc', 'bid', 'ask', 'last', 'volume', 'volume_real', 'flags', 'seq', 'utc_offset_s']);
const SIDES: readonly Side[] = ['BUY', 'SELL', 'UNKNOWN'];
/** The largest trade server offset from UTC there is (UTC+14), seconds. */
const MAX_OFFSET_S = 14 * 3600;

/**
 * A venue or symbol: 1–64 characters, no whitespace or control characters (they hide in logs and URLs), no '*' or
 * '?' (a symbol could never be subscribed to by name: those make it a pattern). Returns the reason, or undefined.
 */
export function nameProblem(field: string, v: unknown): string | undefined {
  if (typeof v !== 'string') return `${field} must be a string (got ${describe(v)})`;
  if (v.length === 0 || v.length > 64) return `${field} must be 1..64 characters`;
  if (/[\s\p{Cc}*?]/u.test(v)) return `${field} ${describe(v)} must not contain whitespace, control characters, '*' or '?'`;
  return undefined;
}

function name(o: Record<string, unknown>, field: string): string {
  const p = nameProblem(field, o[field]);
  if (p) throw new FieldError(field, p);
  return o[field] as string;
}

function num(o: Record<string, unknown>, field: string, opts: { optional?: boolean; integer?: boolean } = {}): number | undefined {
  const v = o[field];
  if (v === undefined || v === null) {
    if (opts.optional) return undefined;
    throw new FieldError(field, `${field} is missing`);
  }
  if (typeof v !== 'number') throw new FieldError(field, `${field} must be a number (got ${describe(v)})`);
  if (opts.integer && !Number.isSafeInteger(v)) throw new FieldError(field, `${field} must be an integer (got ${v})`);
  return v;
}

/** An id: a string, or a non-negative integer (venues that number their trades send numbers). */
function id(o: Record<string, unknown>, field: string, fallback?: string): string {
  const v = o[field];
  if ((v === undefined || v === null) && fallback !== undefined) return fallback;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  throw new FieldError(field, `${field} must be a string or a non-negative integer (got ${describe(v)})`);
}

function onlyKnown(o: Record<string, unknown>, known: ReadonlySet<string>, type: string): void {
  for (const k of Object.keys(o)) if (!known.has(k)) throw new FieldError(k, `unknown field ${describe(k)} in a ${type} record`);
}

/** The first problem of a record's names, then of its contract fields (`problem`), under `code`. */
function checkRecord<R extends { venue: string; symbol: string }>(
  r: R,
  code: RejectCode,
  problem: (r: R) => { field: string; reason: string } | null,
  field: (f: string) => string,
): RecordError | undefined {
  for (const name of ['venue', 'symbol'] as const) {
    const reason = nameProblem(name, r[name]);
    if (reason) return { code, field: name, reason };
  }
  const p = problem(r);
  return p ? { code, field: field(p.field), reason: p.reason } : undefined;
}

/** Plausibility of a trade; `field` maps its contract field to the one the client sent. */
export function checkTrade(t: Tick, maxAhead: number, field: (f: string) => string = (f) => f): RecordError | undefined {
  return checkRecord(t, ERROR_CODES.invalidTick, (x) => tickFieldProblem(x, maxAhead), field);
}

/** Plausibility of a quote; `field` maps its contract field to the one the client sent. */
export function checkQuote(q: Quote, maxAhead: number, field: (f: string) => string = (f) => f): RecordError | undefined {
  return checkRecord(q, ERROR_CODES.invalidQuote, (x) => quoteFieldProblem(x, maxAhead), field);
}

function readTrade(o: Record<string, unknown>, c: ReadContext): RecordItems | RecordError {
  onlyKnown(o, TRADE_FIELDS, 'trade');
  const side = o.side ?? 'UNKNOWN';
  if (!SIDES.includes(side as Side)) throw new FieldError('side', `side must be BUY, SELL or UNKNOWN (got ${describe(side)})`);
  const tick: Tick = {
    venue: name(o, 'venue'),
    symbol: name(o, 'symbol'),
    eventTime: num(o, 'eventTime', { integer: true })!,
    price: num(o, 'price')!,
    size: num(o, 'size')!,
    side: side as Side,
    tradeId: id(o, 'tradeId'),
    ingestTime: c.ingestTime,
  };
  return checkTrade(tick, c.maxAheadMicros) ?? { trades: [tick], quotes: [] };
}

function readQuote(o: Record<string, unknown>, c: ReadContext): RecordItems | RecordError {
  onlyKnown(o, QUOTE_FIELDS, 'quote');
  const eventTime = num(o, 'eventTime', { integer: true })!;
  const quote: Quote = {
    venue: name(o, 'venue'),
    symbol: name(o, 'symbol'),
    eventTime,
    bid: num(o, 'bid')!,
    ask: num(o, 'ask')!,
    bidSize: num(o, 'bidSize', { optional: true }) ?? null,
    askSize: num(o, 'askSize', { optional: true }) ?? null,
    quoteId: id(o, 'quoteId', String(eventTime)),
    ingestTime: c.ingestTime,
  };
  return checkQuote(quote, c.maxAheadMicros) ?? { trades: [], quotes: [quote] };
}

function readMt5(o: Record<string, unknown>, c: ReadContext): RecordItems | RecordError {
  onlyKnown(o, MT5_FIELDS, 'mt5');
  const flags = num(o, 'flags', { integer: true })!;
  if (flags < 0 || flags > 0xffffffff) throw new FieldError('flags', `flags must be an unsigned 32-bit integer (got ${flags})`);
  const trade = isTrade(flags);
  const quote = isQuote(flags);
  if (!trade && !quote)
    throw new FieldError('flags', `flags ${flags} mark no change of bid, ask, last or volume (TICK_FLAG_BID 2, ASK 4, LAST 8, VOLUME 16): nothing to record`);
  const timeMsc = num(o, 'time_msc', { integer: true })!;
  if (timeMsc < 0) throw new FieldError('time_msc', `time_msc must not be negative (got ${timeMsc})`);
  const seq = num(o, 'seq', { optional: true, integer: true }) ?? 0;
  if (seq < 0 || seq > MAX_SEQ) throw new FieldError('seq', `seq must be 0..${MAX_SEQ} (got ${seq})`);
  const offset = num(o, 'utc_offset_s', { optional: true, integer: true }) ?? 0;
  if (Math.abs(offset) > MAX_OFFSET_S) throw new FieldError('utc_offset_s', `utc_offset_s must be within ±${MAX_OFFSET_S} (got ${offset})`);
  num(o, 'time', { optional: true });
  const t: Mt5Tick = {
    venue: name(o, 'venue'),
    symbol: name(o, 'symbol'),
    time_msc: timeMsc,
    // Prices a tick does not carry the change of may be left out: they are the previous tick's anyway.
    bid: num(o, 'bid', { optional: !quote }) ?? 0,
    ask: num(o, 'ask', { optional: !quote }) ?? 0,
    last: num(o, 'last', { optional: !trade }) ?? 0,
    volume: num(o, 'volume', { optional: !trade }) ?? 0,
    flags,
    seq,
    utc_offset_s: offset,
  };
  const real = num(o, 'volume_real', { optional: true });
  if (real !== undefined) t.volume_real = real;
  const { trade: tick, quote: q } = mt5Records(t, c.ingestTime);
  const field = (f: string) => mt5Field(f, t);
  const bad = (tick && checkTrade(tick, c.maxAheadMicros, field)) || (q && checkQuote(q, c.maxAheadMicros, field));
  return bad || { trades: tick ? [tick] : [], quotes: q ? [q] : [] };
}

/** A parsed JSON record → its trades and quotes, or the first problem found. */
export function readJsonRecord(value: unknown, c: ReadContext): RecordItems | RecordError {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { code: ERROR_CODES.decode, reason: `a record must be a JSON object (got ${describe(value)})` };
  const o = value as Record<string, unknown>;
  try {
    switch (o.type) {
      case 'trade':
        return readTrade(o, c);
      case 'quote':
        return readQuote(o, c);
      case 'mt5':
        return readMt5(o, c);
      default:
        return { code: ERROR_CODES.decode, field: 'type', reason: `type must be trade, quote or mt5 (got ${describe(o.type)})` };
    }
  } catch (err) {
    if (!(err instanceof FieldError)) throw err;
    const code = o.type === 'quote' ? ERROR_CODES.invalidQuote : ERROR_CODES.invalidTick;
    return { code, field: err.field, reason: err.message };
  }
}

export function isRecordError(r: RecordItems | RecordError): r is RecordError {
  return 'reason' in r;
}
