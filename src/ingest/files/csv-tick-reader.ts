// Reads a CSV tick file (csv-ticks.ts's format) in large chunks and parses each line straight from its bytes:
// file replay's input. readline plus split(',') plus Number() cost ~4 µs a line, four times the aggregation
// itself; this does one pass over the bytes per line and builds only the strings a tick keeps.
//
// Contract: the same ticks and errors as parsing each line with csvToTick (the reference, also used here for
// every line the fast path does not take): a line is split at '\n', a trailing '\r' is dropped, blank lines are
// skipped, the first line must be the header. A number takes the fast path only when it is plain digits with at
// most one '.', and exact (at most 2^53, at most 22 decimals): then mantissa / 10^decimals is correctly rounded,
// so it equals Number() (Clinger's fast path); anything else (signs, exponents, spaces, long digit runs) goes to
// Number(). tests/ingest/csv-tick-reader.test.ts compares the two on random and odd input.
import { createReadStream } from 'node:fs';
import { InvalidTickError } from '../../errors.js';
import { emptyTick, LAZY_TRADE_ID, type LazyTradeIds, type TickCursor } from '../../contracts/tick-cursor.js';
import { idCanStayBytes, StringInterner, utf8String, viewOf } from '../../wire-strings.js';
import { CSV_HEADER, csvToTick } from './csv-ticks.js';
import type { Side, Tick } from '../../contracts/tick.js';

/** One line's result; shaped as replay's records, so file replay hands them on as they are. */
export interface CsvRecord {
  /** 1-based line number in the file (the header is line 1): the record's offset. */
  offset: number;
  tick?: Tick;
  error?: string;
}

const NL = 10;
const CR = 13;
const COMMA = 44;
const DOT = 46;
/** A mantissa below this stays exact after one more decimal digit (2^53 = 9007199254740992). */
const MANTISSA_LIMIT = 900719925474099;
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** Where the next comma in [s, e) of `b` is, or -1. */
function commaAt(b: Buffer, s: number, e: number): number {
  for (let i = s; i < e; i++) if (b[i] === COMMA) return i;
  return -1;
}

export class CsvTickParser implements LazyTradeIds {
  private readonly interner = new StringInterner();
  /** The last number `number` read. */
  private value = 0;
  /** After parseInto with lazyTradeId: see LazyTradeIds. */
  idLazy = false;
  idPos = 0;
  idLen = 0;

  private readonly lazyTradeId: boolean;

  /** `lazyTradeId`: leave plain trade ids as bytes (LazyTradeIds), as TickDecoder does for replay. */
  constructor(opts: { lazyTradeId?: boolean } = {}) {
    this.lazyTradeId = opts.lazyTradeId ?? false;
  }

  /** The record of the non-blank line `lineNo`, bytes [s, e) without the line break. */
  parseLine(b: Buffer, s: number, e: number, lineNo: number): CsvRecord {
    const tick = emptyTick();
    const error = this.parseInto(b, s, e, lineNo, tick);
    return error === null ? { offset: lineNo, tick } : { offset: lineNo, error };
  }

  /**
   * Parse the non-blank line `lineNo`, bytes [s, e) without the line break, into `out` (strings interned,
   * nothing else allocated). Returns null, or the error csvToTick would throw (`out` then as it was).
   */
  parseInto(b: Buffer, s: number, e: number, lineNo: number, out: Tick): string | null {
    if (e > s && b[e - 1] === CR) e--;
    // One pass over the line: each field read up to its comma (numbers parsed on the way); a line that does
    // not have exactly seven fields goes to the reference parser for its error.
    const c0 = commaAt(b, s, e);
    const c1 = c0 < 0 ? -1 : commaAt(b, c0 + 1, e);
    if (c1 < 0) return this.slow(b, s, e, lineNo, out);
    const c2 = this.number(b, c1 + 1, e);
    if (c2 < 0) return this.slow(b, s, e, lineNo, out);
    const eventTime = this.value;
    const c3 = this.number(b, c2 + 1, e);
    if (c3 < 0) return this.slow(b, s, e, lineNo, out);
    const price = this.value;
    const c4 = this.number(b, c3 + 1, e);
    if (c4 < 0) return this.slow(b, s, e, lineNo, out);
    const size = this.value;
    const c5 = commaAt(b, c4 + 1, e);
    if (c5 < 0 || commaAt(b, c5 + 1, e) >= 0) return this.slow(b, s, e, lineNo, out);
    const idAt = c5 + 1;
    const idLen = e - idAt;
    this.idLazy = this.lazyTradeId && idCanStayBytes(b, idAt, idLen);
    if (this.idLazy) {
      this.idPos = idAt;
      this.idLen = idLen;
    }
    out.venue = this.interner.get(b, s, c0 - s);
    out.symbol = this.interner.get(b, c0 + 1, c1 - c0 - 1);
    out.eventTime = eventTime;
    out.price = price;
    out.size = size;
    out.side = this.interner.get(b, c4 + 1, c5 - c4 - 1) as Side;
    out.tradeId = this.idLazy ? LAZY_TRADE_ID : utf8String(b, idAt, idLen);
    out.ingestTime = 0;
    return null;
  }

  /**
   * The number field starting at `s` into `value`, as Number() reads it; returns the comma that ends it, or -1
   * when none does before `e`. Plain digits with at most one '.', exactly representable, are computed on the
   * way (see the header); anything else is handed to Number() once its comma is found.
   */
  private number(b: Buffer, s: number, e: number): number {
    let m = 0;
    let digits = 0;
    let decimals = -1;
    let i = s;
    for (; i < e; i++) {
      const c = b[i]!;
      if (c >= 48 && c <= 57) {
        if (m >= MANTISSA_LIMIT) break;
        m = m * 10 + (c - 48);
        digits++;
        if (decimals >= 0) decimals++;
      } else if (c === DOT && decimals < 0) decimals = 0;
      else if (c === COMMA) {
        if (digits === 0 || decimals > 22) break;
        this.value = decimals > 0 ? m / POW10[decimals]! : m;
        return i;
      } else break;
    }
    const end = commaAt(b, i, e);
    if (end >= 0) this.value = Number(utf8String(b, s, end - s));
    return end;
  }

  /** Anything but seven fields: an error, exactly as csvToTick words it (or its tick, for what it reads). */
  private slow(b: Buffer, s: number, e: number, lineNo: number, out: Tick): string | null {
    this.idLazy = false;
    try {
      Object.assign(out, csvToTick(b.toString('utf8', s, e), lineNo));
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }
}

/** Whether line [s, e) is blank as csvToTick's callers see it (`line.trim() === ''`: skipped, not a record). */
export function isBlankLine(b: Buffer, s: number, e: number): boolean {
  // A first byte that is printable ASCII is a character trim() keeps; anything else is decided by trim().
  if (e > s && b[s]! > 0x20 && b[s]! < 0x80) return false;
  return b.toString('utf8', s, e).trim() === '';
}

/**
 * A run of a CSV file's non-blank data lines as they lie in the bytes read: line k is bytes
 * [starts[k], ends[k]) of `text` (line break excluded), line number lineNos[k]. File replay parses them where
 * they lie (TickFolder.addLine), without an object per line.
 */
export interface CsvLineBlock {
  text: Buffer;
  starts: Int32Array;
  ends: Int32Array;
  lineNos: Float64Array;
  count: number;
}

/**
 * The file's non-blank data lines, a block per chunk of about `chunkBytes` read. Throws InvalidTickError when
 * the first line is not the header.
 */
export async function* readCsvLineBlocks(path: string, chunkBytes = 256 * 1024): AsyncGenerator<CsvLineBlock> {
  const lines = new CsvLines(path);
  let carry: Buffer | undefined;
  for await (const chunk of createReadStream(path, { highWaterMark: chunkBytes }) as AsyncIterable<Buffer>) {
    const b: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    const rest = lines.feed(b);
    carry = rest < b.length ? b.subarray(rest) : undefined;
    if (lines.count) yield lines.take(b);
  }
  if (carry) {
    lines.line(carry, 0, carry.length);
    if (lines.count) yield lines.take(carry);
  }
}

/** The file's ticks for the fold: a cursor per block of lines (one cursor object, re-pointed at each block). */
export async function* csvTickCursors(path: string, chunkBytes?: number): AsyncGenerator<CsvLineCursor> {
  const cursor = new CsvLineCursor();
  for await (const block of readCsvLineBlocks(path, chunkBytes)) yield cursor.of(block);
}

/** The lines of a block, each parsed where it lies in the chunk read, trade ids left as bytes. */
export class CsvLineCursor implements TickCursor {
  private readonly parser = new CsvTickParser({ lazyTradeId: true });
  private block: CsvLineBlock = { text: Buffer.alloc(0), starts: new Int32Array(0), ends: new Int32Array(0), lineNos: new Float64Array(0), count: 0 };
  count = 0;
  idLazy = false;
  idPos = 0;
  idLen = 0;
  idBuf: Buffer | undefined;

  of(block: CsvLineBlock): this {
    this.block = block;
    this.idBuf = block.text;
    this.count = block.count;
    return this;
  }

  offset(i: number): number {
    return this.block.lineNos[i]!;
  }

  read(i: number, out: Tick): string | null {
    const p = this.parser;
    const b = this.block;
    const problem = p.parseInto(b.text, b.starts[i]!, b.ends[i]!, b.lineNos[i]!, out);
    this.idLazy = problem === null && p.idLazy;
    this.idPos = p.idPos;
    this.idLen = p.idLen;
    return problem;
  }
}

/** Splits chunks into lines, skipping the header (checked) and blank lines; collects where the others are. */
class CsvLines {
  private lineNo = 0;
  private starts = new Int32Array(4096);
  private ends = new Int32Array(4096);
  private lineNos = new Float64Array(4096);
  count = 0;

  constructor(private readonly path: string) {}

  /** Find every complete line of `b`; returns where the incomplete last one starts. */
  feed(b: Buffer): number {
    let s = 0;
    // Four bytes at a time (Buffer#indexOf per line is a call into C++ each time): a word with no '\n' byte
    // is skipped whole (the has-a-zero-byte test on the word xor '\n\n\n\n' is exact); one with one is
    // looked at byte by byte.
    const v = viewOf(b);
    const words = b.length - 3;
    let i = 0;
    for (; i < words; i += 4) {
      const w = v.getInt32(i, true) ^ 0x0a0a0a0a;
      if (((w - 0x01010101) & ~w & 0x80808080) === 0) continue;
      for (let j = i; j < i + 4; j++) {
        if (b[j] !== NL) continue;
        this.line(b, s, j);
        s = j + 1;
      }
    }
    for (; i < b.length; i++) {
      if (b[i] !== NL) continue;
      this.line(b, s, i);
      s = i + 1;
    }
    return s;
  }

  line(b: Buffer, s: number, e: number): void {
    this.lineNo++;
    if (this.lineNo === 1) {
      if (b.toString('utf8', s, e).trim() !== CSV_HEADER) throw new InvalidTickError(`${this.path}: the first line must be the header ${CSV_HEADER}`);
      return;
    }
    if (isBlankLine(b, s, e)) return;
    if (this.count === this.starts.length) this.grow();
    this.starts[this.count] = s;
    this.ends[this.count] = e;
    this.lineNos[this.count++] = this.lineNo;
  }

  private grow(): void {
    const n = this.starts.length * 2;
    const starts = new Int32Array(n);
    const ends = new Int32Array(n);
    const lineNos = new Float64Array(n);
    starts.set(this.starts);
    ends.set(this.ends);
    lineNos.set(this.lineNos);
    this.starts = starts;
    this.ends = ends;
    this.lineNos = lineNos;
  }

  /** The lines found since the last take, in `text` (the buffer they were found in). */
  take(text: Buffer): CsvLineBlock {
    const block = {
      text,
      starts: this.starts.slice(0, this.count),
      ends: this.ends.slice(0, this.count),
      lineNos: this.lineNos.slice(0, this.count),
      count: this.count,
    };
    this.count = 0;
    return block;
  }
}
