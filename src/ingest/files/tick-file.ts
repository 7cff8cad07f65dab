// The files `ingest --file` publishes, behind one face: the project's CSV and Avro container tick files and Binance's
// bulk trade dumps (plain or zipped), read in batches from any committed position (FilePosition) on. A record is a
// tick, or why its row is not one, with the row's bytes for the dead-letter topic.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { ConfigError, DecodeError } from '../../errors.js';
import { emptyTick } from '../../contracts/tick-cursor.js';
import type { Tick } from '../../contracts/tick.js';
import type { FilePosition } from '../../stream/ingest-progress.js';
import { utf8String } from '../../wire-strings.js';
import { binance } from '../venues/binance.js';
import { fromConcatenated, toDashed } from '../venues/symbols.js';
import { AvroBlockCursor, readAvroTickBlocks } from './avro-file-reader.js';
import { BinanceDumpRows, dumpLayout, parseDumpName, type BinanceDumpKind } from './binance-dump.js';
import { CSV_HEADER } from './csv-ticks.js';
import { CsvTickParser, isBlankLine } from './csv-tick-reader.js';
import { fileBytes, textLines, type TextLine } from '../../text-lines.js';
import { openZipEntry } from './zip-entry.js';

export const FILE_FORMATS = ['auto', 'ticks-csv', 'ticks-avro', 'binance-trades', 'binance-aggtrades'] as const;
export type FileFormat = Exclude<(typeof FILE_FORMATS)[number], 'auto'>;

export interface TickFileOptions {
  /** Default 'auto': .avro is ticks-avro; otherwise the first line decides (the tick CSV header, or a Binance dump). */
  format?: (typeof FILE_FORMATS)[number];
  /** Binance dumps only: the venue written on every tick (default BINANCE, as the live adapter). */
  venue?: string;
  /** Binance dumps only: the symbol, BTCUSDT or BTC-USDT (default: the file name's). */
  symbol?: string;
}

/** One record of a file: its tick (not yet validated, ingestTime 0 unless the file has one), or why it is none. */
export interface FileRecord {
  tick?: Tick;
  error?: string;
  /** The row's bytes (text files; a view of the chunk read, valid while the batch is), for a dead letter; null for an Avro record. */
  raw: Buffer | null;
  /** 'line 17' or 'record 17'. */
  where: string;
}

/** Records, and the position just after the last of them: what one transaction publishes and commits. */
export interface FileBatch {
  records: FileRecord[];
  end: FilePosition;
}

export interface TickFile {
  path: string;
  format: FileFormat;
  /** Binance dumps: the venue and symbol written on every tick. */
  venue?: string;
  symbol?: string;
  /** Progress is counted in bytes of (uncompressed) text for text files, in records for Avro files. */
  unit: 'bytes' | 'records';
  /** Bytes of (uncompressed) text, when known. */
  size: number | undefined;
  /** The records after `from`, in batches of at most `max`. */
  batches(from: FilePosition, max: number): AsyncGenerator<FileBatch>;
}

/** Where a text file's bytes come from: a plain file (seekable) or the entry of a zip archive (read from its start). */
interface TextSource {
  size: number;
  bytes(from: number): AsyncIterable<Buffer>;
  seekable: boolean;
}

async function textSource(path: string): Promise<TextSource> {
  if (path.toLowerCase().endsWith('.zip')) {
    const entry = await openZipEntry(path);
    return { size: entry.size, bytes: () => entry.bytes(), seekable: false };
  }
  return { size: (await stat(path)).size, bytes: (from) => fileBytes(path, from), seekable: true };
}

/** The first non-blank line of a text source and its line number (read from the start; at most 1 MiB). */
async function firstLine(src: TextSource, path: string): Promise<{ text: string; line: number } | undefined> {
  let read = 0;
  for await (const lines of textLines(src.bytes(0), { line: 0, byte: 0 }, !src.seekable)) {
    for (const l of lines) if (!isBlankLine(l.buf, l.start, l.end)) return { text: l.buf.toString('utf8', l.start, l.end), line: l.line };
    read = lines[lines.length - 1]!.byteEnd;
    if (read > 1024 * 1024) throw new DecodeError(`${path}: no line in its first MiB is a header or a trade`);
  }
  return undefined;
}

/** The engine's symbol for a dump: --symbol (BTCUSDT or BTC-USDT) or the file name's, as the Binance adapter names it. */
function dumpSymbol(path: string, given: string | undefined, fromName: string | undefined): string {
  if (given !== undefined) {
    try {
      return given.includes('-') ? toDashed(given) : fromConcatenated(given, '--symbol');
    } catch (err) {
      throw new ConfigError('--symbol', (err as Error).message);
    }
  }
  if (fromName === undefined) throw new ConfigError('--symbol', `${path} is not named SYMBOL-trades-DATE or SYMBOL-aggTrades-DATE: give the symbol`);
  try {
    return fromConcatenated(fromName, 'the file name symbol');
  } catch (err) {
    throw new ConfigError('--symbol', `${(err as Error).message}: give the symbol`);
  }
}

/** Opens `path`: its format decided (and checked against the first line), its venue and symbol known. */
export async function openTickFile(path: string, opts: TickFileOptions = {}): Promise<TickFile> {
  const wanted = opts.format ?? 'auto';
  if (wanted === 'ticks-avro' || (wanted === 'auto' && path.toLowerCase().endsWith('.avro'))) {
    noOverrides(opts, 'ticks-avro');
    return avroTickFile(path);
  }
  const src = await textSource(path);
  const first = await firstLine(src, path);
  if (wanted === 'ticks-csv' || (wanted === 'auto' && first?.text.trim() === CSV_HEADER)) {
    noOverrides(opts, 'ticks-csv');
    if (first?.text.trim() !== CSV_HEADER || first.line !== 1) throw new DecodeError(`${path}: the first line must be the header ${CSV_HEADER}`);
    return csvTickFile(path, src);
  }
  const name = parseDumpName(path);
  const kind: BinanceDumpKind | undefined = wanted === 'binance-trades' ? 'trades' : wanted === 'binance-aggtrades' ? 'aggTrades' : name?.kind;
  const venue = opts.venue?.trim() || binance.venue;
  const symbol = dumpSymbol(path, opts.symbol, name?.venueSymbol);
  if (!first) return dumpFile(path, src, undefined, venue, symbol, kind ?? 'trades');
  const layout = dumpLayout(first.text, kind, path);
  return dumpFile(path, src, { rows: new BinanceDumpRows(layout, venue, symbol), headerLine: layout.header ? first.line : 0 }, venue, symbol, layout.kind);
}

function noOverrides(opts: TickFileOptions, format: FileFormat): void {
  if (opts.venue !== undefined) throw new ConfigError('--venue', `applies to exchange dumps only: a ${format} file names the venue of every tick`);
  if (opts.symbol !== undefined) throw new ConfigError('--symbol', `applies to exchange dumps only: a ${format} file names the symbol of every tick`);
}

/** Turns a text file's lines into records, from `from` on, in batches; `row` parses one non-blank data line. */
async function* textBatches(
  src: TextSource,
  from: FilePosition,
  max: number,
  skipLine: number,
  row: (l: TextLine) => { tick?: Tick; error?: string },
): AsyncGenerator<FileBatch> {
  let records: FileRecord[] = [];
  let end = from;
  let n = from.records;
  const chunks = src.bytes(src.seekable ? from.byte : 0);
  for await (const lines of textLines(chunks, from, !src.seekable)) {
    for (const l of lines) {
      if (l.line === skipLine || isBlankLine(l.buf, l.start, l.end)) continue;
      const r = row(l);
      records.push({ ...r, raw: l.buf.subarray(l.start, l.end), where: `line ${l.line}` });
      end = { records: ++n, line: l.line, byte: l.byteEnd };
      if (records.length === max) {
        yield { records, end };
        records = [];
      }
    }
  }
  if (records.length) yield { records, end };
}

function csvTickFile(path: string, src: TextSource): TickFile {
  return {
    path,
    format: 'ticks-csv',
    unit: 'bytes',
    size: src.size,
    batches(from, max) {
      const parser = new CsvTickParser();
      return textBatches(src, from, max, 1, (l) => {
        const tick = emptyTick();
        const error = parser.parseInto(l.buf, l.start, l.end, l.line, tick);
        return error === null ? { tick } : { error };
      });
    },
  };
}

function dumpFile(
  path: string,
  src: TextSource,
  parse: { rows: BinanceDumpRows; headerLine: number } | undefined,
  venue: string,
  symbol: string,
  kind: BinanceDumpKind,
): TickFile {
  return {
    path,
    format: kind === 'trades' ? 'binance-trades' : 'binance-aggtrades',
    venue,
    symbol,
    unit: 'bytes',
    size: src.size,
    batches(from, max) {
      if (!parse) return (async function* () {})(); // an empty file: no line to read
      return textBatches(src, from, max, parse.headerLine, (l) => {
        const r = parse.rows.parse(l.buf.toString('utf8', l.start, l.end), l.line);
        return typeof r === 'string' ? { error: r } : { tick: r };
      });
    },
  };
}

function avroTickFile(path: string): TickFile {
  return {
    path,
    format: 'ticks-avro',
    unit: 'records',
    size: undefined,
    async *batches(from, max) {
      // Record numbers run from 1 through the file; the ones up to from.records were committed already. A block is
      // decompressed even when skipped whole (its records cannot be found otherwise).
      const cursor = new AvroBlockCursor();
      let records: FileRecord[] = [];
      let last = from.records;
      for await (const block of readAvroTickBlocks(path)) {
        if (block.firstOffset + block.count - 1 <= from.records) continue;
        cursor.of(block);
        for (let i = 0; i < block.count; i++) {
          const offset = block.firstOffset + i;
          const tick = emptyTick();
          const error = cursor.read(i, tick);
          if (offset <= from.records) continue;
          if (error === null && cursor.idLazy) tick.tradeId = utf8String(cursor.idBuf!, cursor.idPos, cursor.idLen);
          records.push({ ...(error === null ? { tick } : { error }), raw: null, where: `record ${offset}` });
          last = offset;
          if (records.length === max) {
            yield { records, end: { records: last, line: 0, byte: 0 } };
            records = [];
          }
        }
      }
      if (records.length) yield { records, end: { records: last, line: 0, byte: 0 } };
    },
  };
}

/** The SHA-256 of a file's bytes (hex): with the target and options, its identity for exactly-once publishing. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}
