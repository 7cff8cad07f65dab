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
import { InvalidTickError } from '../errors.js';
import { StringInterner, utf8String } from '../stream/wire-strings.js';
import { CSV_HEADER, csvToTick } from './csv-ticks.js';
import type { Side, Tick } from './tick.js';

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

/** Plain digits with at most one '.', exactly representable: its value; otherwise undefined (use Number()). */
function plainNumber(b: Buffer, s: number, e: number): number | undefined {
  let m = 0;
  let digits = 0;
  let decimals = -1;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c >= 48 && c <= 57) {
      if (m >= MANTISSA_LIMIT) return undefined;
      m = m * 10 + (c - 48);
      digits++;
      if (decimals >= 0) decimals++;
    } else if (c === DOT && decimals < 0) decimals = 0;
    else return undefined;
  }
  if (digits === 0 || decimals > 22) return undefined;
  return decimals > 0 ? m / POW10[decimals]! : m;
}

/** A number field as Number() reads it. */
function num(b: Buffer, s: number, e: number): number {
  return plainNumber(b, s, e) ?? Number(utf8String(b, s, e - s));
}

export class CsvTickParser {
  private readonly interner = new StringInterner();
  private readonly commas = new Int32Array(6);

  /** The record of line `lineNo`, bytes [s, e) without the line break; undefined for a blank line. */
  parseLine(b: Buffer, s: number, e: number, lineNo: number): CsvRecord | undefined {
    if (e > s && b[e - 1] === CR) e--;
    const commas = this.commas;
    let n = 0;
    for (let i = s; i < e; i++) {
      if (b[i] !== COMMA) continue;
      if (n === 6) return this.slow(b, s, e, lineNo);
      commas[n++] = i;
    }
    if (n !== 6) return this.slow(b, s, e, lineNo);
    const tick: Tick = {
      venue: this.interner.get(b, s, commas[0]! - s),
      symbol: this.interner.get(b, commas[0]! + 1, commas[1]! - commas[0]! - 1),
      eventTime: num(b, commas[1]! + 1, commas[2]!),
      price: num(b, commas[2]! + 1, commas[3]!),
      size: num(b, commas[3]! + 1, commas[4]!),
      side: this.interner.get(b, commas[4]! + 1, commas[5]! - commas[4]! - 1) as Side,
      tradeId: utf8String(b, commas[5]! + 1, e - commas[5]! - 1),
      ingestTime: 0,
    };
    return { offset: lineNo, tick };
  }

  /** Anything but seven fields: blank (skipped) or an error, exactly as csvToTick words it. */
  private slow(b: Buffer, s: number, e: number, lineNo: number): CsvRecord | undefined {
    const line = b.toString('utf8', s, e);
    if (line.trim() === '') return undefined;
    try {
      return { offset: lineNo, tick: csvToTick(line, lineNo) };
    } catch (err) {
      return { offset: lineNo, error: (err as Error).message };
    }
  }
}

/**
 * The file's records in batches of about `batchSize` (blank lines skipped), read `chunkBytes` at a time.
 * Throws InvalidTickError when the first line is not the header.
 */
export async function* readCsvTickBatches(path: string, batchSize = 2048, chunkBytes = 128 * 1024): AsyncGenerator<CsvRecord[]> {
  const lines = new CsvLines(path);
  let carry: Buffer | undefined;
  for await (const chunk of createReadStream(path, { highWaterMark: chunkBytes }) as AsyncIterable<Buffer>) {
    const b: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    const rest = lines.feed(b);
    carry = rest < b.length ? b.subarray(rest) : undefined;
    if (lines.batch.length >= batchSize) yield lines.take();
  }
  if (carry) lines.line(carry, 0, carry.length);
  if (lines.batch.length) yield lines.take();
}

/** Splits chunks into lines and parses them (synchronous, so the byte loops are optimized as plain code). */
class CsvLines {
  private readonly parser = new CsvTickParser();
  private lineNo = 0;
  batch: CsvRecord[] = [];

  constructor(private readonly path: string) {}

  /** Parse every complete line of `b`; returns where the incomplete last one starts. */
  feed(b: Buffer): number {
    let s = 0;
    // A plain loop: Buffer#indexOf per line is a call into C++ each time.
    for (let i = 0; i < b.length; i++) {
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
    const r = this.parser.parseLine(b, s, e, this.lineNo);
    if (r) this.batch.push(r);
  }

  take(): CsvRecord[] {
    const out = this.batch;
    this.batch = [];
    return out;
  }
}

/** The file's records one at a time (tests, small files); line numbers as `line`. */
export async function* readCsvTicks(path: string): AsyncGenerator<{ tick?: Tick; error?: string; line: number }> {
  for await (const batch of readCsvTickBatches(path)) for (const r of batch) yield { tick: r.tick, error: r.error, line: r.offset };
}
