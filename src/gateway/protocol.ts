// The WebSocket protocol: client requests (validated) and server messages (compiled serializers).
import fastJson, { type ObjectSchema } from 'fast-json-stringify';
import { BadRequestError } from '../errors.js';
import { BAR_FIELDS, type Bar } from '../aggregate/bar.js';

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
  },
  required: [...BAR_FIELDS],
  additionalProperties: false,
};

/** Compiled once at start-up; one call per outgoing message. */
export const serializeBarMessage = fastJson({
  type: 'object',
  properties: { type: { type: 'string' }, seq: { type: 'integer' }, bar: BAR_JSON_SCHEMA },
  required: ['type', 'seq', 'bar'],
}) as (m: { type: 'bar'; seq: number; bar: Bar }) => string;

/** Sent after each subscribe, per stream: the last N bars and the sequence number the next delta follows. */
export const serializeSnapshot = fastJson({
  type: 'object',
  properties: {
    type: { type: 'string' },
    channel: { type: 'string' },
    symbol: { type: 'string' },
    interval: { type: 'string' },
    seq: { type: 'integer' },
    bars: { type: 'array', items: BAR_JSON_SCHEMA },
  },
  required: ['type', 'channel', 'symbol', 'interval', 'seq', 'bars'],
}) as (m: { type: 'snapshot'; channel: 'bars'; symbol: string; interval: string; seq: number; bars: Bar[] }) => string;

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

export const serializeAck = fastJson({
  type: 'object',
  properties: {
    type: { type: 'string' },
    channel: { type: 'string' },
    interval: { type: 'string' },
    symbols: { type: 'array', items: { type: 'string' } },
  },
  required: ['type', 'channel', 'interval', 'symbols'],
}) as (m: { type: 'subscribed' | 'unsubscribed'; channel: 'bars'; interval: string; symbols: string[] }) => string;

export const serializeError = fastJson({
  type: 'object',
  properties: { type: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } },
  required: ['type', 'code', 'message'],
}) as (m: { type: 'error'; code: string; message: string }) => string;

export interface SubscribeRequest {
  op: 'subscribe' | 'unsubscribe';
  channel: 'bars';
  interval: string;
  /** Symbols, or ['*'] for every symbol. */
  symbols: string[];
}

export type ClientRequest = SubscribeRequest | { op: 'ping' };

const MAX_SYMBOLS = 10_000;

/** Parse and validate one client text frame; throws BadRequestError with what is wrong. */
export function parseRequest(text: string, intervals: ReadonlySet<string>): ClientRequest {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    throw new BadRequestError('message is not valid JSON');
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) throw new BadRequestError('message must be a JSON object');
  const m = msg as Record<string, unknown>;
  if (m.op === 'ping') return { op: 'ping' };
  if (m.op !== 'subscribe' && m.op !== 'unsubscribe') throw new BadRequestError(`op must be subscribe, unsubscribe or ping (got ${JSON.stringify(m.op)})`);
  const channel = m.channel ?? 'bars';
  if (channel !== 'bars') throw new BadRequestError(`channel ${JSON.stringify(channel)} is not available (bars)`);
  if (typeof m.interval !== 'string' || !intervals.has(m.interval))
    throw new BadRequestError(`interval must be one of ${[...intervals].join(', ')} (got ${JSON.stringify(m.interval)})`);
  const symbols = typeof m.symbols === 'string' ? [m.symbols] : m.symbols;
  if (!Array.isArray(symbols) || symbols.length === 0 || symbols.length > MAX_SYMBOLS)
    throw new BadRequestError(`symbols must be a non-empty list of at most ${MAX_SYMBOLS} symbols, or "*"`);
  for (const s of symbols) {
    if (typeof s !== 'string' || s.length === 0 || s.length > 64 || s.includes('/'))
      throw new BadRequestError(`symbol ${JSON.stringify(s)} is not a valid symbol`);
  }
  return { op: m.op, channel: 'bars', interval: m.interval, symbols: symbols as string[] };
}

/** The pub/sub topic a bar is published on; '*' is the every-symbol topic. */
export function barTopic(interval: string, symbol: string): string {
  return `bars/${interval}/${symbol}`;
}
