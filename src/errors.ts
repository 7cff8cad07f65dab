// One base error class; a subclass per failure with a stable code that callers and tests match on.

export class TickEngineError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A configuration value is missing or malformed; `key` names it as the user wrote it (env or flag). */
export class ConfigError extends TickEngineError {
  readonly key: string;
  constructor(key: string, message: string) {
    super('TE_CONFIG', `invalid configuration ${key}: ${message}`);
    this.key = key;
  }
}

/** An argument is out of its domain (an indicator period, a non-finite input); the message names it. */
export class InvalidArgumentError extends TickEngineError {
  constructor(message: string) {
    super('TE_INVALID_ARG', message);
  }
}

/** A tick failed validation (implausible or malformed field). */
export class InvalidTickError extends TickEngineError {
  constructor(message: string) {
    super('TE_INVALID_TICK', message);
  }
}

/** A Kafka record is not in the schema-registry wire format or does not decode with its schema. */
export class DecodeError extends TickEngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TE_DECODE', message, options);
  }
}

/** A tick arrived after the watermark passed the end of its bar. */
export class LateTickError extends TickEngineError {
  constructor(message: string) {
    super('TE_LATE_TICK', message);
  }
}

/** A store (PostgreSQL, TimescaleDB, QuestDB) rejected a write or a schema change. */
export class SinkError extends TickEngineError {
  readonly sink: string;
  constructor(sink: string, message: string, options?: { cause?: unknown }) {
    super('TE_SINK', `${sink}: ${message}`, options);
    this.sink = sink;
  }
}

/** A state snapshot a checkpoint refers to cannot be read back (incomplete, or not in a known format). */
export class StateRestoreError extends TickEngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TE_STATE_RESTORE', message, options);
  }
}

/** A gateway request was malformed; sent back to the client with this code. */
export class BadRequestError extends TickEngineError {
  /** The HTTP status when it answers a request. */
  readonly status: number = 400;
  constructor(message: string) {
    super('TE_BAD_REQUEST', message);
  }
}

/** A request body past the size limit: still a bad request, answered 413. */
export class PayloadTooLargeError extends BadRequestError {
  override readonly status: number = 413;
}

/** A symbol the gateway has no data for (since it started). */
export class UnknownSymbolError extends TickEngineError {
  readonly status = 404;
  constructor(symbol: string) {
    super('TE_UNKNOWN_SYMBOL', `no data for symbol ${symbol} since the gateway started`);
  }
}

/** Reading a topic over replay's own fetch path failed: a broker error code, a lost connection, a record batch it cannot read. */
export class KafkaReadError extends TickEngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TE_KAFKA_READ', message, options);
  }
}

/** The uWebSockets.js native binary could not be loaded (we never run on its `ws` fallback). */
export class NativeLoadError extends TickEngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TE_NATIVE_LOAD', message, options);
  }
}

/** Reason codes carried on dead-letter records: a record is rejected with exactly one of these. */
export type RejectCode = 'TE_DECODE' | 'TE_INVALID_TICK' | 'TE_LATE_TICK';

/** A batch's work was given up because its partition moved to another member, or the consumer is stopping: not a failure. */
export class BatchAbandonedError extends TickEngineError {
  constructor(message: string) {
    super('TE_ABANDONED', message);
  }
}

/** A server (a store, the broker) did not answer within its timeout. */
export class DependencyTimeoutError extends TickEngineError {
  readonly dependency: string;
  constructor(dependency: string, ms: number) {
    super('TE_TIMEOUT', `${dependency} did not answer within ${ms} ms`);
    this.dependency = dependency;
  }
}

/** A client asked for more than a limit allows (subscriptions per connection or per instance, patterns): 429. */
export class LimitExceededError extends TickEngineError {
  readonly status = 429;
  constructor(message: string) {
    super('TE_LIMIT', message);
  }
}

/** No route for a request: 404. */
export class NotFoundError extends TickEngineError {
  readonly status = 404;
  constructor(message: string) {
    super('TE_NOT_FOUND', message);
  }
}

/** A request for a host name this gateway does not answer to (TE_ALLOWED_HOSTS): 421. */
export class MisdirectedRequestError extends TickEngineError {
  readonly status = 421;
  constructor(message: string) {
    super('TE_MISDIRECTED', message);
  }
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
