// Reading a venue message's fields: each failure a DecodeError naming the venue, the message and the field.
import type { Side } from '../../contracts/tick.js';
import { DecodeError, describe } from '../../errors.js';
import { isoToMicros, msToMicros, parseDecimal, secondsToMicros } from './decimal.js';

export type JsonObject = Readonly<Record<string, unknown>>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON text → its value; DecodeError '<what> is not JSON: …' otherwise. */
export function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new DecodeError(`${what} is not JSON: ${describe(text)}`);
  }
}

/** A frame as JSON; DecodeError when it is not JSON at all. */
export function parseFrame(frame: string, venue: string): unknown {
  return parseJsonText(frame, `${venue} frame`);
}

/** The fields of one message (or one trade inside it); `where` names it in errors, e.g. 'OKX trades data[2]'. */
export class MessageFields {
  constructor(
    private readonly o: JsonObject,
    readonly where: string,
  ) {}

  /** How errors name a field: `OKX trades data[2] "px" (price)`. */
  label(key: string, what: string): string {
    return `${this.where} "${key}" (${what})`;
  }

  /** The value, present and not null. */
  raw(key: string, what: string): unknown {
    const v = this.o[key];
    if (v === undefined || v === null) throw new DecodeError(`${this.label(key, what)} is missing`);
    return v;
  }

  /** A non-empty string. */
  text(key: string, what: string): string {
    const v = this.raw(key, what);
    if (typeof v !== 'string' || v.length === 0) throw new DecodeError(`${this.label(key, what)} ${describe(v)} is not a non-empty string`);
    return v;
  }

  /**
   * A trade id: a non-empty string as is, or a JSON integer written in decimal. An integer past 2^53 has already
   * been rounded by JSON.parse (a different trade's id), so it is refused rather than passed on.
   */
  id(key: string, what: string): string {
    const v = this.raw(key, what);
    if (typeof v === 'string' && v.length > 0) return v;
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
    throw new DecodeError(`${this.label(key, what)} ${describe(v)} is not a trade id (a non-empty string or an integer below 2^53)`);
  }

  /** Whether the field is there (not missing, not null): for the optional ones. */
  has(key: string): boolean {
    return this.o[key] !== undefined && this.o[key] !== null;
  }

  /** A count of at least 1: decimal digits in a string ("3") or a JSON integer. */
  count(key: string, what: string): number {
    const v = this.raw(key, what);
    const n = typeof v === 'string' && /^[1-9]\d{0,14}$/.test(v) ? Number(v) : typeof v === 'number' && Number.isSafeInteger(v) ? v : 0;
    if (n < 1) throw new DecodeError(`${this.label(key, what)} ${describe(v)} is not a whole number of at least 1`);
    return n;
  }

  bool(key: string, what: string): boolean {
    const v = this.raw(key, what);
    if (typeof v !== 'boolean') throw new DecodeError(`${this.label(key, what)} ${describe(v)} is not true or false`);
    return v;
  }

  array(key: string, what: string): readonly unknown[] {
    const v = this.raw(key, what);
    if (!Array.isArray(v)) throw new DecodeError(`${this.label(key, what)} is ${describe(v)}, not an array`);
    return v;
  }

  decimal(key: string, what: string): number {
    return parseDecimal(this.raw(key, what), this.label(key, what));
  }

  ms(key: string, what: string): number {
    return msToMicros(this.raw(key, what), this.label(key, what));
  }

  iso(key: string, what: string): number {
    return isoToMicros(this.raw(key, what), this.label(key, what));
  }

  seconds(key: string, what: string): number {
    return secondsToMicros(this.raw(key, what), this.label(key, what));
  }

  /** A side as the venue spells it, through `sides` (the venue's rule: taker's side as is, or the maker's flipped). */
  side(key: string, what: string, sides: Readonly<Record<string, Side>>): Side {
    const v = this.raw(key, what);
    const side = typeof v === 'string' && Object.hasOwn(sides, v) ? sides[v] : undefined;
    if (side === undefined) throw new DecodeError(`${this.label(key, what)} ${describe(v)} is not one of ${Object.keys(sides).join(', ')}`);
    return side;
  }

  /** The object at `index` of an array field, read with its own fields ('data[2]'). */
  static item(items: readonly unknown[], index: number, where: string): MessageFields {
    const v = items[index];
    if (!isObject(v)) throw new DecodeError(`${where}[${index}] is ${describe(v)}, not an object`);
    return new MessageFields(v, `${where}[${index}]`);
  }
}
