// The WebSocket protocol: client requests (validated) and server messages (compiled serializers).
import fastJson, { type ObjectSchema } from 'fast-json-stringify';
import { BadRequestError, describe } from '../../errors.js';
import { BAR_FIELDS, type Bar } from '../../contracts/bar.js';
import type { Signal } from '../../contracts/signal.js';
import type { Tick } from '../../contracts/tick.js';
import { validatePattern } from '../../contracts/symbol-pattern.js';
import { parseUntrustedJson } from '../../untrusted-json.js';

export const CHANNELS = ['bars', 'trades', 'signals'] as const;
export type Channel = (typeof CHANNELS)[number];

export const BAR_JSON_SCHEMA: ObjectSchema = {
  type: 'object',
  properties: {
    symbol: { type: 'string' },
    interval: { type: 'string' },
    bucketStart: { type: 'integer' },
    open: { type: 'number' },
    high: { type: 'number' },
    low: { type: 'number' },
    close: { type: 'number' },
    volume: { type: 'number' },
    quoteVolume: { type: 'number' },
    vwap: { type: 'number' },
    tradeCount: { type: 'integer' },
    buyVolume: { type: 'number' },
    firstEventTime: { type: 'integer' },
    lastEventTime: { type: 'integer' },
    revision: { type: 'integer' },
    final: { type: 'boolean' },
    // Bar schema version 2: null = unknown (no contiguous trade ids), false = built across an unfilled feed gap.
    complete: {
      type: 'boolean',
      nullable: true,
      description: 'true: no unfilled gap in the venue trade ids touches the bucket; false: one does; null: unknown (venue without contiguous trade ids)',
    },
  },
  required: [...BAR_FIELDS],
  additionalProperties: false,
};

export const TRADE_JSON_SCHEMA: ObjectSchema = {
  type: 'object',
  properties: {
    venue: { type: 'string' },
    symbol: { type: 'string' },
    eventTime: { type: 'integer' },
    price: { type: 'number' },
    size: { type: 'number' },
    side: { type: 'string' },
    tradeId: { type: 'string' },
    ingestTime: { type: 'integer' },
  },
  required: ['venue', 'symbol', 'eventTime', 'price', 'size', 'side', 'tradeId', 'ingestTime'],
  additionalProperties: false,
};

export const SIGNAL_JSON_SCHEMA: ObjectSchema = {
  type: 'object',
  properties: {
    symbol: { type: 'string' },
    interval: { type: 'string' },
    barTime: { type: 'integer' },
    name: { type: 'string' },
    direction: { type: 'string' },
    values: { type: 'array', items: { type: 'number' } },
  },
  required: ['symbol', 'interval', 'barTime', 'name', 'direction', 'values'],
  additionalProperties: false,
};

/**
 * An object or null. Not `anyOf`: fast-json-stringify validates anyOf branches with Ajv, and the records avsc
 * decodes carry enumerable prototype methods that fail `additionalProperties: false`.
 */
const nullable = (s: ObjectSchema): ObjectSchema => ({ ...s, type: ['object', 'null'] }) as unknown as ObjectSchema;

const delta = (key: string, item: ObjectSchema) =>
  fastJson({
    type: 'object',
    properties: { type: { type: 'string' }, seq: { type: 'integer' }, ts: { type: 'number' }, [key]: item },
    required: ['type', 'seq', 'ts', key],
  });

/**
 * Deltas, one per series event. `seq` numbers a series' final bar versions (bars), trades or signals;
 * an `update` (in-progress bar, may be conflated) carries the seq of the last final bar before it.
 * `ts`: gateway wall clock at publication, ms.
 */
export const serializeBarMessage = delta('bar', BAR_JSON_SCHEMA) as (m: { type: 'bar' | 'update'; seq: number; ts: number; bar: Bar }) => string;
export const serializeTradeMessage = delta('trade', TRADE_JSON_SCHEMA) as (m: { type: 'trade'; seq: number; ts: number; trade: Tick }) => string;
export const serializeSignalMessage = delta('signal', SIGNAL_JSON_SCHEMA) as (m: { type: 'signal'; seq: number; ts: number; signal: Signal }) => string;

export interface Snapshot {
  type: 'snapshot';
  channel: Channel;
  symbol: string;
  /** Absent on trades. */
  interval?: string;
  /** The seq of the last delta before the snapshot: the next delta has seq + 1. */
  seq: number;
  /** bars: the last N final bars, oldest first. */
  bars?: Bar[];
  /** bars: the bar in progress, if any. */
  open?: Bar | null;
  /** signals: the last N signals, oldest first. */
  signals?: Signal[];
  /** trades: the last trade, if any. */
  trades?: Tick[];
}

/** Sent after each subscribe, per series. */
export const serializeSnapshot = fastJson({
  type: 'object',
  properties: {
    type: { type: 'string' },
    channel: { type: 'string' },
    symbol: { type: 'string' },
    interval: { type: 'string' },
    seq: { type: 'integer' },
    bars: { type: 'array', items: BAR_JSON_SCHEMA },
    open: nullable(BAR_JSON_SCHEMA),
    signals: { type: 'array', items: SIGNAL_JSON_SCHEMA },
    trades: { type: 'array', items: TRADE_JSON_SCHEMA },
  },
  required: ['type', 'channel', 'symbol', 'seq'],
}) as (m: Snapshot) => string;

/** GET /api/v1/bars/:symbol response. */
export const serializeBarsPage = fastJson({
  type: 'object',
  properties: {
    symbol: { type: 'string' },
    interval: { type: 'string' },
    bars: { type: 'array', items: BAR_JSON_SCHEMA },
    next: { type: 'string', nullable: true },
  },
  required: ['symbol', 'interval', 'bars', 'next'],
}) as (m: { symbol: string; interval: string; bars: Bar[]; next: string | null }) => string;

export interface Quote {
  symbol: string;
  lastTrade: Tick | null;
  /** Per interval: the bar in progress, else the last final bar, else null. */
  bars: Record<string, Bar | null>;
}

export const QUOTE_JSON_SCHEMA: ObjectSchema = {
  type: 'object',
  properties: {
    symbol: { type: 'string' },
    lastTrade: nullable(TRADE_JSON_SCHEMA),
    bars: { type: 'object', additionalProperties: nullable(BAR_JSON_SCHEMA) },
  },
  required: ['symbol', 'lastTrade', 'bars'],
};

export const serializeQuote = fastJson(QUOTE_JSON_SCHEMA) as (q: Quote) => string;
export const serializeQuotes = fastJson({
  type: 'object',
  properties: { quotes: { type: 'array', items: QUOTE_JSON_SCHEMA }, unknown: { type: 'array', items: { type: 'string' } } },
  required: ['quotes', 'unknown'],
}) as (m: { quotes: Quote[]; unknown: string[] }) => string;

export const serializeAck = fastJson({
  type: 'object',
  properties: {
    type: { type: 'string' },
    id: { type: 'string' },
    channel: { type: 'string' },
    interval: { type: 'string' },
    symbols: { type: 'array', items: { type: 'string' } },
  },
  required: ['type', 'channel', 'symbols'],
}) as (m: { type: 'subscribed' | 'unsubscribed'; id?: string; channel: Channel; interval?: string; symbols: string[] }) => string;

export const serializeError = fastJson({
  type: 'object',
  properties: { type: { type: 'string' }, id: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } },
  required: ['type', 'code', 'message'],
}) as (m: { type: 'error'; id?: string; code: string; message: string }) => string;

export interface SubscribeRequest {
  op: 'subscribe' | 'unsubscribe';
  /** Echoed in the ack or error, when the client gives one. */
  id?: string;
  channel: Channel;
  /** Bars and signals only. */
  interval?: string;
  /** Symbols and patterns ('*' any run of characters, '?' one character). */
  symbols: string[];
}

export type ClientRequest = SubscribeRequest | { op: 'ping'; id?: string };

const MAX_SYMBOLS = 10_000;

/** The request id, if the message carries a usable one (so even an error can be matched to its request). */
export function requestId(m: Record<string, unknown>): string | undefined {
  const id = m.id;
  if (typeof id === 'string' && id.length <= 64) return id;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return String(id);
  return undefined;
}

/** One client text frame as a JSON object; throws BadRequestError otherwise. */
export function parseMessage(text: string): Record<string, unknown> {
  const msg = parseUntrustedJson(text, 'message');
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) throw new BadRequestError('message must be a JSON object');
  return msg as Record<string, unknown>;
}

/** Parse and validate one client text frame; throws BadRequestError with what is wrong. */
export function parseRequest(text: string, intervals: ReadonlySet<string>): ClientRequest {
  return validateRequest(parseMessage(text), intervals);
}

/** Validate a parsed client message; throws BadRequestError with what is wrong. */
export function validateRequest(m: Record<string, unknown>, intervals: ReadonlySet<string>): ClientRequest {
  const id = requestId(m);
  if (m.op === 'ping') return id === undefined ? { op: 'ping' } : { op: 'ping', id };
  if (m.op !== 'subscribe' && m.op !== 'unsubscribe') throw new BadRequestError(`op must be subscribe, unsubscribe or ping (got ${describe(m.op)})`);
  const channel = m.channel ?? 'bars';
  if (!CHANNELS.includes(channel as Channel)) throw new BadRequestError(`channel must be one of ${CHANNELS.join(', ')} (got ${describe(channel)})`);
  let interval: string | undefined;
  if (channel === 'trades') {
    if (m.interval !== undefined) throw new BadRequestError('the trades channel takes no interval');
  } else {
    if (typeof m.interval !== 'string' || !intervals.has(m.interval))
      throw new BadRequestError(`interval must be one of ${[...intervals].join(', ')} (got ${describe(m.interval)})`);
    interval = m.interval;
  }
  const symbols = typeof m.symbols === 'string' ? [m.symbols] : m.symbols;
  if (!Array.isArray(symbols) || symbols.length === 0 || symbols.length > MAX_SYMBOLS)
    throw new BadRequestError(`symbols must be a non-empty list of at most ${MAX_SYMBOLS} symbols or patterns, or "*"`);
  for (const s of symbols) {
    if (typeof s !== 'string') throw new BadRequestError(`symbol ${describe(s)} is not a string`);
    validatePattern(s);
  }
  const req: SubscribeRequest = { op: m.op, channel: channel as Channel, symbols: [...new Set(symbols as string[])] };
  if (id !== undefined) req.id = id;
  if (interval !== undefined) req.interval = interval;
  return req;
}
