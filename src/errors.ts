// Every error the engine reports: one base class, a subclass per failure with a stable code that callers and
// tests match on, and — where it answers an HTTP request or a WebSocket message — its status. Codes are named
// here only (ERROR_CODES); everything else refers to them through the classes or this table.

export const ERROR_CODES = {
  config: 'TE_CONFIG',
  invalidArg: 'TE_INVALID_ARG',
  invalidTick: 'TE_INVALID_TICK',
  invalidQuote: 'TE_INVALID_QUOTE',
  decode: 'TE_DECODE',
  lateTick: 'TE_LATE_TICK',
  sink: 'TE_SINK',
  schema: 'TE_SCHEMA',
  timeout: 'TE_TIMEOUT',
  stateRestore: 'TE_STATE_RESTORE',
  kafkaRead: 'TE_KAFKA_READ',
  nativeLoad: 'TE_NATIVE_LOAD',
  abandoned: 'TE_ABANDONED',
  listen: 'TE_LISTEN',
  venueRequest: 'TE_VENUE_REQUEST',
  badRequest: 'TE_BAD_REQUEST',
  unauthorized: 'TE_UNAUTHORIZED',
  forbidden: 'TE_FORBIDDEN',
  rateLimited: 'TE_RATE_LIMITED',
  limit: 'TE_LIMIT',
  notFound: 'TE_NOT_FOUND',
  unknownSymbol: 'TE_UNKNOWN_SYMBOL',
  misdirected: 'TE_MISDIRECTED',
  storeUnavailable: 'TE_STORE_UNAVAILABLE',
  fenced: 'TE_FENCED',
  unsupportedMediaType: 'TE_UNSUPPORTED_MEDIA_TYPE',
  idempotencyConflict: 'TE_IDEMPOTENCY_CONFLICT',
  brokerUnavailable: 'TE_BROKER_UNAVAILABLE',
  overloaded: 'TE_OVERLOADED',
  schemaRegistry: 'TE_SCHEMA_REGISTRY',
  schemaIncompatible: 'TE_SCHEMA_INCOMPATIBLE',
  internal: 'TE_INTERNAL',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

export class TickEngineError extends Error {
  readonly code: ErrorCode;
  /** The HTTP status when it answers a client (REST, or a WebSocket request's error message); 500 when none is set. */
  readonly status: number = 500;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A configuration value is missing or malformed; `key` names it as the user wrote it (env or flag). */
export class ConfigError extends TickEngineError {
  readonly key: string;
  constructor(key: string, message: string) {
    super(ERROR_CODES.config, `invalid configuration ${key}: ${message}`);
    this.key = key;
  }
}

/** An argument is out of its domain (an indicator period, an interval name, a non-finite input); the message names it. */
export class InvalidArgumentError extends TickEngineError {
  constructor(message: string) {
    super(ERROR_CODES.invalidArg, message);
  }
}

/** A tick failed validation (implausible or malformed field). */
export class InvalidTickError extends TickEngineError {
  constructor(message: string) {
    super(ERROR_CODES.invalidTick, message);
  }
}

/** A Kafka record or a file is not in its format, or does not decode with its schema. */
export class DecodeError extends TickEngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ERROR_CODES.decode, message, options);
  }
}

/** A tick arrived after the watermark passed the end of its bar. */
export class LateTickError extends TickEngineError {
  constructor(message: string) {
    super(ERROR_CODES.lateTick, message);
  }
}

/** A store (PostgreSQL, TimescaleDB, QuestDB) rejected a write or a schema change. */
export class SinkError extends TickEngineError {
  readonly sink: string;
  constructor(sink: string, message: string, options?: { cause?: unknown }) {
    super(ERROR_CODES.sink, `${sink}: ${message}`, options);
    this.sink = sink;
  }
}

/**
 * A store's tables are not in a layout the engine's migrations know: a table without the columns of the first
 * version, or an applied migration whose recorded checksum differs from the engine's step of the same version.
 */
export class SchemaError extends TickEngineError {
  readonly store: string;
  constructor(store: string, message: string) {
    super(ERROR_CODES.schema, `${store}: ${message}`);
    this.store = store;
  }
}

/** A server (a store, the broker) did not answer within its timeout. */
export class DependencyTimeoutError extends TickEngineError {
  readonly dependency: string;
  constructor(dependency: string, ms: number) {
    super(ERROR_CODES.timeout, `${dependency} did not answer within ${ms} ms`);
    this.dependency = dependency;
  }
}

/** A state snapshot a checkpoint refers to cannot be read back (incomplete, or not in a known format). */
export class StateRestoreError extends TickEngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ERROR_CODES.stateRestore, message, options);
  }
}

/** Reading a topic over replay's own fetch path failed: a broker error code, a lost connection, a record batch it cannot read. */
export class KafkaReadError extends TickEngineError {
  /** The broker's error code, when the broker answered with one (1: OFFSET_OUT_OF_RANGE). */
  readonly brokerError: number | undefined;
  /** Reading again cannot help (a codec or message format the reader lacks, no authorization): stop, loudly. */
  readonly fatal: boolean;
  constructor(message: string, options?: { cause?: unknown; brokerError?: number; fatal?: boolean }) {
    super(ERROR_CODES.kafkaRead, message, options);
    this.brokerError = options?.brokerError;
    this.fatal = options?.fatal ?? false;
  }
}

/** The uWebSockets.js native binary could not be loaded (we never run on its `ws` fallback). */
export class NativeLoadError extends TickEngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ERROR_CODES.nativeLoad, message, options);
  }
}

/** A batch's work was given up because its partition moved to another member, or the consumer is stopping: not a failure. */
export class BatchAbandonedError extends TickEngineError {
  constructor(message: string) {
    super(ERROR_CODES.abandoned, message);
  }
}

/** A server socket could not be opened (the port is taken, or the address is not this host's). */
export class ListenError extends TickEngineError {
  constructor(message: string) {
    super(ERROR_CODES.listen, message);
  }
}

/**
 * A request to a venue's REST API (its history of trades, for a gap) failed: the network, a timeout, or an answer
 * other than 2xx. `rateLimited` when the venue refused it for the request rate (HTTP 429 or 418, or the venue's own
 * rate-limit error in the body); `retryAfterMs` what it asked to wait, when it said.
 */
export class VenueRequestError extends TickEngineError {
  readonly httpStatus: number | undefined;
  readonly rateLimited: boolean;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, details: { httpStatus?: number | undefined; rateLimited?: boolean; retryAfterMs?: number | undefined; cause?: unknown } = {}) {
    super(ERROR_CODES.venueRequest, message, { cause: details.cause });
    this.httpStatus = details.httpStatus;
    this.rateLimited = details.rateLimited ?? false;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/**
 * A transactional producer was fenced: another process started with the same transactional id (the same file
 * being ingested twice at once) and took over. Not retried — retrying would fence the other run in turn.
 */
export class FencedError extends TickEngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ERROR_CODES.fenced, message, options);
  }
}

/** The schema registry (TE_SCHEMA_REGISTRY_URL) did not answer, or answered something other than the Confluent API. */
export class SchemaRegistryError extends TickEngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ERROR_CODES.schemaRegistry, message, options);
  }
}

/** The schema registry refused one of our schemas under `subject` (409: incompatible with the versions it holds). */
export class SchemaIncompatibleError extends TickEngineError {
  readonly subject: string;
  constructor(subject: string, message: string) {
    super(ERROR_CODES.schemaIncompatible, `schema registry refused the schema of subject ${subject} as incompatible: ${message}`);
    this.subject = subject;
  }
}

/** An invariant of the engine's own code does not hold: a bug, never a user's doing. */
export class InternalError extends TickEngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ERROR_CODES.internal, message, options);
  }
}

/** A gateway request was malformed; sent back to the client with this code. */
export class BadRequestError extends TickEngineError {
  override readonly status: number = 400;
  constructor(message: string) {
    super(ERROR_CODES.badRequest, message);
  }
}

/** A request body past the size limit: still a bad request, answered 413. */
export class PayloadTooLargeError extends BadRequestError {
  override readonly status: number = 413;
}

/** Why auth or admission refused a request (the reason label of tick_engine_auth_failures_total). */
export type AuthFailure =
  | 'missing'
  | 'malformed'
  | 'expired'
  | 'too_long_lived'
  | 'bad_signature'
  | 'bad_audience'
  | 'bad_issuer'
  | 'unknown_key'
  | 'not_entitled'
  | 'over_limit'
  | 'unsupported_alg'
  | 'origin';

const AUTH_CODES = { 401: ERROR_CODES.unauthorized, 403: ERROR_CODES.forbidden, 429: ERROR_CODES.rateLimited } as const;

/** A request was refused: 401 (who are you?), 403 (not yours), 429 (too much). Messages never contain credentials. */
export class AuthError extends TickEngineError {
  override readonly status: 401 | 403 | 429;
  readonly reason: AuthFailure;
  constructor(status: 401 | 403 | 429, reason: AuthFailure, message: string, options?: { cause?: unknown }) {
    super(AUTH_CODES[status], message, options);
    this.status = status;
    this.reason = reason;
  }
}

/** A client asked for more than a limit allows (subscriptions per connection or per instance, patterns): 429. */
export class LimitExceededError extends TickEngineError {
  override readonly status = 429;
  constructor(message: string) {
    super(ERROR_CODES.limit, message);
  }
}

/** No route for a request: 404. */
export class NotFoundError extends TickEngineError {
  override readonly status = 404;
  constructor(message: string) {
    super(ERROR_CODES.notFound, message);
  }
}

/** A symbol the gateway has no data for (since it started). */
export class UnknownSymbolError extends TickEngineError {
  override readonly status = 404;
  constructor(symbol: string) {
    super(ERROR_CODES.unknownSymbol, `no data for symbol ${symbol} since the gateway started`);
  }
}

/** A request for a host name this gateway does not answer to (TE_ALLOWED_HOSTS): 421. */
export class MisdirectedRequestError extends TickEngineError {
  override readonly status = 421;
  constructor(message: string) {
    super(ERROR_CODES.misdirected, message);
  }
}

/** The history store answered with an error or not at all: 503 for the client, never a status that blames them. */
export class StoreUnavailableError extends TickEngineError {
  override readonly status = 503;
  constructor(store: string, cause: unknown) {
    super(ERROR_CODES.storeUnavailable, `${store} could not answer the history query: ${(cause as Error).message}`, { cause });
  }
}

/** A request body in a format the endpoint does not take (its Content-Type): 415. */
export class UnsupportedMediaTypeError extends TickEngineError {
  override readonly status = 415;
  constructor(message: string) {
    super(ERROR_CODES.unsupportedMediaType, message);
  }
}

/** An Idempotency-Key used again with a different request body: 422 (the first body's answer stands). */
export class IdempotencyConflictError extends TickEngineError {
  override readonly status = 422;
  constructor(message: string) {
    super(ERROR_CODES.idempotencyConflict, message);
  }
}

/**
 * The broker did not acknowledge a write in time: 503, and the client sends the same batch again (what was
 * written is recognised and not written twice).
 */
export class BrokerUnavailableError extends TickEngineError {
  override readonly status = 503;
  constructor(message: string, options?: { cause?: unknown }) {
    super(ERROR_CODES.brokerUnavailable, message, options);
  }
}

/** Too much work is waiting already (a bounded queue is full): 503, try again shortly. */
export class OverloadedError extends TickEngineError {
  override readonly status = 503;
  constructor(message: string) {
    super(ERROR_CODES.overloaded, message);
  }
}

/** Reason codes carried on dead-letter records: a record is rejected with exactly one of these. */
export type RejectCode = typeof ERROR_CODES.decode | typeof ERROR_CODES.invalidTick | typeof ERROR_CODES.invalidQuote | typeof ERROR_CODES.lateTick;

/**
 * What a client is told about any error, REST or WebSocket alike: a TickEngineError keeps its code, message and
 * status; anything else is a bug, reported as TE_INTERNAL with no detail (the gateway logs the detail).
 */
export function clientError(err: unknown): { status: number; code: ErrorCode; message: string } {
  if (err instanceof TickEngineError) return { status: err.status, code: err.code, message: err.message };
  return { status: 500, code: ERROR_CODES.internal, message: 'internal error' };
}

/**
 * A short description of any client value for an error message: short strings and scalars quoted, the rest by
 * kind. Never serializes a structure (a value nested 100,000 deep overflows JSON.stringify's stack; a 1 MB string
 * would fill a log line).
 */
export function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}…` : v);
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v === undefined) return 'nothing';
  return `a${typeof v === 'object' ? 'n object' : ` ${typeof v}`}`;
}
