// A decoder for exactly the tick schema's versions, schemas/tick.avsc (id 1) and schemas/tick-v2.avsc (id 7), in the
// schema-registry wire format (magic byte 0, 4-byte big-endian schema id, Avro body), into the latest version (a
// version 1 record gets null for the fields version 2 added). It replaces avsc on the aggregation hot path.
//
// Contract: for every byte string it accepts exactly the records `decode(schema('tick'), buf)` (serde.ts)
// accepts, with the same field values, and rejects the others (tests/stream/tick-decoder.test.ts checks
// this against avsc on random, edge-case, truncated and corrupted records). In particular:
//   - longs are read with avsc's own varint arithmetic (exact up to 2^28 in int32 math, then in doubles),
//     so over-long and non-canonical encodings give avsc's value; a timestamp outside ±(2^53 − 2), which a
//     double cannot hold exactly, is rejected as avsc's long type rejects it ("potential precision loss");
//   - string lengths and the enum index use the same varint without that check (as avsc); a negative or
//     too long string length, or an enum index other than 0, 1, 2, rejects the record;
//   - strings decode as Buffer#toString('utf8') does (invalid UTF-8 becomes U+FFFD, as with avsc);
//   - doubles are the little-endian IEEE bytes as they are: NaN, ±Infinity and -0 pass through (validation
//     rejects them later, not decoding);
//   - a union index other than 0 or 1 rejects the record; a boolean is any byte, non-zero for true (as avsc).
// Reasons are worded like serde.ts's where the failure is the same; a record that is broken in several
// ways reports the first problem met reading it in field order.
import { DecodeError } from '../errors.js';
import type { Side, Tick } from '../contracts/tick.js';
import { schemaByWireId, wireIdEpoch, wireIdsOf } from './schema-ids.js';
import { schema } from './schemas.js';
import { emptyTick, LAZY_TRADE_ID, type LazyTradeIds } from '../contracts/tick-cursor.js';
import { idCanStayBytes, StringInterner, utf8String, viewOf } from '../wire-strings.js';

const HEADER = 5;
/** avsc's bound for a long it returns as a number (isSafeLong in avsc/lib/types.js). */
const MAX_SAFE_LONG = 9007199254740990;
const SIDES: readonly Side[] = ['BUY', 'SELL', 'UNKNOWN'];

export interface TickDecoderOptions {
  /**
   * Leave the trade id unbuilt where possible (see idLazy): aggregation needs it only to break event-time ties
   * and for a bar's first and last trade, so the fold builds it when it does.
   */
  lazyTradeId?: boolean;
}

export class TickDecoder implements LazyTradeIds {
  /** Read position in the current record. */
  private pos = 0;
  /** End (exclusive) of the current record. */
  private end = 0;
  /** Why the current record failed; set by the field readers when they return their failure value. */
  private problem = '';
  /** The last number readLong or double read. */
  private value = 0;
  private readonly interner = new StringInterner();

  /**
   * After a decode with `lazyTradeId`: whether the trade id was left unbuilt, and where its bytes are.
   * Only ids of 1–128 ASCII bytes are (their string has as many characters, so validation is unchanged).
   */
  idLazy = false;
  idPos = 0;
  idLen = 0;

  /**
   * The ids of the tick schema's versions 1 and 2 on the wire (schemas/index.json, or the registry's: schema-ids.ts),
   * checked first on every record; another id is looked up, and remembered here when it is a tick version's.
   */
  v1Id = -1;
  v2Id = -1;
  /** The wireIdEpoch the two ids above belong to. */
  private idEpoch = -1;
  private readonly lazyTradeId: boolean;

  constructor(opts: TickDecoderOptions = {}) {
    this.cacheIds();
    this.lazyTradeId = opts.lazyTradeId ?? false;
  }

  /**
   * Our fixed ids where they are in force. Registry ids may be learned after this decoder is made (and the process
   * may switch to them): each is looked up when first met (versionOf).
   */
  private cacheIds(): void {
    this.idEpoch = wireIdEpoch;
    this.v1Id = this.v2Id = -1;
    for (const v of [1, 2] as const) {
      const s = schema('tick', { version: v });
      if (schemaByWireId(s.id) === s) this.remember(s.id, v);
    }
  }

  /** The tick schema version of wire id `id`, or 0 when it is not one (remembered for the fast path). */
  private versionOf(id: number): 0 | 1 | 2 {
    const s = schemaByWireId(id);
    if (s?.name !== 'tick' || (s.version !== 1 && s.version !== 2)) return 0;
    this.remember(id, s.version);
    return s.version;
  }

  private remember(id: number, version: 1 | 2): void {
    if (version === 1) this.v1Id = id;
    else this.v2Id = id;
  }

  /** Decode and return a new Tick; throws DecodeError with the reason when `decode()` would. */
  decode(buf: Buffer | null): Tick {
    const out = emptyTick();
    const problem = this.decodeInto(buf, 0, buf ? buf.length : 0, out);
    if (problem !== null) throw new DecodeError(problem);
    return out;
  }

  /**
   * Decode the record in bytes [start, end) of `buf` (null: a null Kafka value) into `out`, allocation-free
   * apart from the tradeId string. Returns null on success, else the reason (`out` is then left as it was).
   */
  decodeInto(buf: Buffer | null, start: number, end: number, out: Tick): string | null {
    if (!buf || end - start < HEADER) return headerProblem(buf ? end - start : 0);
    if (buf[start] !== 0) return `unknown magic byte ${buf[start]} (expected 0)`;
    if (this.idEpoch !== wireIdEpoch) this.cacheIds();
    const id = buf[start + 1]! * 0x1000000 + ((buf[start + 2]! << 16) | (buf[start + 3]! << 8) | buf[start + 4]!);
    const version = id === this.v2Id ? 2 : id === this.v1Id ? 1 : this.versionOf(id);
    if (version === 0) return `schema id ${id} is not the tick schema (id ${wireIdsOf('tick').join(' or ')})`;
    const problem = this.decodeBody(buf, start + HEADER, end, out, version);
    if (problem !== null) return problem;
    if (this.next !== end) return `${end - this.next} trailing bytes after the tick body`;
    return null;
  }

  /** After a successful decodeBody: the offset just past the body. */
  next = 0;

  /**
   * Decode one bare Avro body (no wire-format header) starting at `start`, within [start, limit): records in an
   * Avro container file's block follow each other, so the body ends where it ends (`next`). Returns null on
   * success, else the reason (`out` is then left as it was). `version`: the tick schema version the body was written
   * with. A sequence is written into `out.sequence` in place when it holds one (the fold's scratch tick), else into a
   * new object.
   */
  decodeBody(buf: Buffer, start: number, limit: number, out: Tick, version: 1 | 2): string | null {
    this.pos = start;
    this.end = limit;
    const venue = this.string(buf, true);
    if (venue === undefined) return this.problem;
    const symbol = this.string(buf, true);
    if (symbol === undefined) return this.problem;
    if (!this.timestamp(buf)) return this.problem;
    const eventTime = this.value;
    if (!this.double(buf)) return this.problem;
    const price = this.value;
    if (!this.double(buf)) return this.problem;
    const size = this.value;
    const sideIndex = this.long(buf);
    if (sideIndex === undefined) return this.problem;
    const side = sideIndex === 0 || sideIndex === 1 || sideIndex === 2 ? SIDES[sideIndex]! : undefined;
    if (side === undefined) return `Avro body does not decode as tick: invalid dev.tickengine.v1.Side enum index: ${sideIndex}`;
    const tradeId = this.lazyTradeId ? this.tradeId(buf) : this.string(buf, false);
    if (tradeId === undefined) return this.problem;
    if (!this.timestamp(buf)) return this.problem;
    const ingestTime = this.value;
    let venueSymbol: string | null = null;
    let seqFirst = false;
    let lostIds = 0;
    let lostSince = 0;
    let hasSequence = false;
    if (version === 2) {
      const vs = this.unionIndex(buf);
      if (vs < 0) return this.problem;
      if (vs === 1) {
        const v = this.string(buf, true);
        if (v === undefined) return this.problem;
        venueSymbol = v;
      }
      const sq = this.unionIndex(buf);
      if (sq < 0) return this.problem;
      if (sq === 1) {
        if (this.pos >= this.end) {
          this.truncated();
          return this.problem;
        }
        seqFirst = buf[this.pos++] !== 0;
        if (!this.timestamp(buf)) return this.problem;
        lostIds = this.value;
        if (!this.timestamp(buf)) return this.problem;
        lostSince = this.value;
        hasSequence = true;
      }
    }
    this.next = this.pos;
    out.venue = venue;
    out.symbol = symbol;
    out.eventTime = eventTime;
    out.price = price;
    out.size = size;
    out.side = side;
    out.tradeId = tradeId;
    out.ingestTime = ingestTime;
    out.venueSymbol = venueSymbol;
    if (!hasSequence) out.sequence = null;
    else {
      const seq = (out.sequence ??= { first: false, lostIds: 0, lostSince: 0 });
      seq.first = seqFirst;
      seq.lostIds = lostIds;
      seq.lostSince = lostSince;
    }
    return null;
  }

  /** A union's branch index, 0 or 1 (null first, as every union of the tick schema); -1 with the problem set. */
  private unionIndex(b: Buffer): number {
    const i = this.long(b);
    if (i === undefined) return -1;
    if (i === 0 || i === 1) return i;
    this.problem = `Avro body does not decode as tick: invalid union index: ${i}`;
    return -1;
  }

  private truncated(): undefined {
    this.problem = 'Avro body is truncated for tick';
    return undefined;
  }

  /** A varint long (string lengths, the enum index: small numbers), or undefined when truncated. */
  private long(b: Buffer): number | undefined {
    return this.readLong(b) ? this.value : undefined;
  }

  /**
   * A zigzag varint long into `value`, computed exactly as avsc's Tap#readLong does (see the header comment);
   * false when truncated. Through a field, not a return value: a timestamp is no small integer, and
   * returning it from a call V8 does not inline would allocate a number per call.
   */
  private readLong(b: Buffer): boolean {
    const end = this.end;
    let pos = this.pos;
    let n = 0;
    let k = 0;
    let byte: number;
    let more: number;
    do {
      if (pos >= end) {
        this.truncated();
        return false;
      }
      byte = b[pos++]!;
      more = byte & 0x80;
      n |= (byte & 0x7f) << k;
      k += 7;
    } while (more && k < 28);
    if (!more) {
      this.pos = pos;
      this.value = (n >> 1) ^ -(n & 1);
      return true;
    }
    // Past 28 bits. Fast path for up to 25 more bits (µs timestamps need 52 in all): the rest fits an int,
    // n + rest·2^28 < 2^53 is exact, and so is every partial sum in avsc's byte-by-byte double arithmetic
    // below, so both give the same number.
    let rest = 0;
    let shift = 0;
    let p = pos;
    do {
      if (p >= end) {
        this.truncated();
        return false;
      }
      byte = b[p++]!;
      rest |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80 && shift < 28);
    if (!(byte & 0x80) && rest < 0x2000000) {
      this.pos = p;
      const f = n + rest * 268435456;
      this.value = (f % 2 ? -(f + 1) : f) / 2;
      return true;
    }
    // Otherwise continue in double arithmetic exactly as avsc does (beyond 2^53 it rounds as avsc's does).
    let f = n;
    let fk = 268435456;
    do {
      if (pos >= end) {
        this.truncated();
        return false;
      }
      byte = b[pos++]!;
      f += (byte & 0x7f) * fk;
      fk *= 128;
    } while (byte & 0x80);
    this.pos = pos;
    this.value = (f % 2 ? -(f + 1) : f) / 2;
    return true;
  }

  /** A timestamp-micros (or any) long into `value`: avsc's long type refuses values a double cannot hold exactly. */
  private timestamp(b: Buffer): boolean {
    // The usual case, unrolled: 8 varint bytes (seven with the continuation bit) whose last is below 16, which
    // is readLong's fast path (n below 2^28, rest below 2^25) without its loops: every µs time from 1979 to
    // 2112 (zigzag 2^49 up to 2^53), never past avsc's bound.
    const pos = this.pos;
    if (pos + 8 <= this.end) {
      const b0 = b[pos]!;
      const b1 = b[pos + 1]!;
      const b2 = b[pos + 2]!;
      const b3 = b[pos + 3]!;
      const b4 = b[pos + 4]!;
      const b5 = b[pos + 5]!;
      const b6 = b[pos + 6]!;
      const b7 = b[pos + 7]!;
      if (b7 < 16 && b0 & b1 & b2 & b3 & b4 & b5 & b6 & 0x80) {
        const n = (b0 & 0x7f) | ((b1 & 0x7f) << 7) | ((b2 & 0x7f) << 14) | ((b3 & 0x7f) << 21);
        const rest = (b4 & 0x7f) | ((b5 & 0x7f) << 7) | ((b6 & 0x7f) << 14) | (b7 << 21);
        const f = n + rest * 268435456;
        this.value = (f % 2 ? -(f + 1) : f) / 2;
        this.pos = pos + 8;
        return true;
      }
    }
    if (!this.readLong(b)) return false;
    const v = this.value;
    if (!(v >= -MAX_SAFE_LONG && v <= MAX_SAFE_LONG)) {
      this.problem = 'Avro body does not decode as tick: potential precision loss';
      return false;
    }
    return true;
  }

  /** A little-endian double into `value` (through the field for the reason readLong gives); false when truncated. */
  private double(b: Buffer): boolean {
    const pos = this.pos;
    if (pos + 8 > this.end) {
      this.truncated();
      return false;
    }
    this.pos = pos + 8;
    this.value = viewOf(b).getFloat64(pos, true);
    return true;
  }

  /** The trade id: LAZY_TRADE_ID with idLazy set (its bytes in idPos/idLen), or, for what is not plain ASCII of 1–128 bytes, the string. */
  private tradeId(b: Buffer): string | undefined {
    const pos = this.span(b);
    if (pos < 0) return undefined;
    const n = this.pos - pos;
    this.idLazy = idCanStayBytes(b, pos, n);
    if (!this.idLazy) return utf8String(b, pos, n);
    this.idPos = pos;
    this.idLen = n;
    return LAZY_TRADE_ID;
  }

  private string(b: Buffer, intern: boolean): string | undefined {
    const pos = this.span(b);
    if (pos < 0) return undefined;
    return intern ? this.interner.get(b, pos, this.pos - pos) : utf8String(b, pos, this.pos - pos);
  }

  /** A string's length and bytes: returns where the bytes start (`pos` is then past them), or -1 (problem set). */
  private span(b: Buffer): number {
    const n = this.long(b);
    if (n === undefined) return -1;
    const pos = this.pos;
    // Written so that NaN (from an absurdly long varint) fails too.
    if (!(n >= 0)) {
      this.problem = `Avro body does not decode as tick: negative string length ${n}`;
      return -1;
    }
    if (n > this.end - pos) {
      this.truncated();
      return -1;
    }
    this.pos = pos + n;
    return pos;
  }
}

function headerProblem(length: number): string {
  return `record of ${length} bytes is shorter than the 5-byte wire-format header`;
}

let shared: TickDecoder | undefined;

/** decode(schema('tick'), buf) without avsc: the Tick, or a DecodeError with the reason. */
export function decodeTick(buf: Buffer | null): Tick {
  shared ??= new TickDecoder();
  return shared.decode(buf);
}
