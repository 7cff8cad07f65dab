// Ticks as records, for tests and benchmarks: parsed ticks (or wire values, or errors) in arrays, as cursors the
// fold reads; and the file readers' ticks as records, with every trade id built. The engine itself reads through
// the cursors only (contracts/tick-cursor.ts).
import { DecodeError } from '../../src/errors.js';
import type { Tick } from '../../src/contracts/tick.js';
import { emptyTick, type TickCursor } from '../../src/contracts/tick-cursor.js';
import { avroTickCursors } from '../../src/ingest/files/avro-file-reader.js';
import { csvTickCursors } from '../../src/ingest/files/csv-tick-reader.js';
import { TickDecoder } from '../../src/stream/tick-decoder.js';
import { utf8String } from '../../src/wire-strings.js';

/** One record of a source: a parsed tick, a raw wire-format value (Kafka), or why it could not be parsed. */
export interface TickRecord {
  offset: number;
  tick?: Tick;
  value?: Buffer | null;
  error?: string;
}

/** Records as a cursor: ticks copied into the fold's scratch tick, values decoded, errors returned as rejections. */
export class RecordsCursor implements TickCursor {
  private readonly decoder = new TickDecoder();
  count: number;
  idLazy = false;
  idPos = 0;
  idLen = 0;
  idBuf: Buffer | undefined = undefined;

  constructor(private readonly records: TickRecord[]) {
    this.count = records.length;
  }

  offset(i: number): number {
    return this.records[i]!.offset;
  }

  read(i: number, out: Tick): string | null {
    const r = this.records[i]!;
    if (r.error !== undefined) return r.error;
    if (r.tick) {
      Object.assign(out, r.tick);
      return null;
    }
    return this.decoder.decodeInto(r.value ?? null, 0, r.value ? r.value.length : 0, out);
  }
}

export async function* recordCursors(batches: AsyncIterable<TickRecord[]> | Iterable<TickRecord[]>): AsyncGenerator<RecordsCursor> {
  for await (const b of batches) yield new RecordsCursor(b);
}

/** Read every record of a cursor as a record: a tick with its id built, or its error. */
function records(c: TickCursor): TickRecord[] {
  const out: TickRecord[] = [];
  for (let i = 0; i < c.count; i++) {
    const tick = emptyTick();
    const error = c.read(i, tick);
    if (error !== null) out.push({ offset: c.offset(i), error });
    else {
      if (c.idLazy) tick.tradeId = utf8String(c.idBuf!, c.idPos, c.idLen);
      out.push({ offset: c.offset(i), tick });
    }
  }
  return out;
}

/** A CSV file's lines as records, a batch per block read. */
export async function* readCsvTickBatches(path: string, chunkBytes?: number): AsyncGenerator<TickRecord[]> {
  for await (const c of csvTickCursors(path, chunkBytes)) yield records(c);
}

/** A CSV file's lines one by one, with their line numbers. */
export async function* readCsvTicks(path: string): AsyncGenerator<{ tick?: Tick; error?: string; line: number }> {
  for await (const batch of readCsvTickBatches(path)) for (const r of batch) yield { tick: r.tick, error: r.error, line: r.offset };
}

/**
 * An Avro container file's ticks, a batch per block. Stricter than replay: a record that does not decode, or
 * bytes after a block's last record, are a DecodeError naming where.
 */
export async function* readAvroTickBatches(path: string, chunkBytes?: number): AsyncGenerator<TickRecord[]> {
  let block = 0;
  for await (const c of avroTickCursors(path, chunkBytes)) {
    const out = records(c);
    const bad = out.find((r) => r.error !== undefined);
    if (bad) throw new DecodeError(`${path}: record ${bad.offset - out[0]!.offset} of block ${block} (record ${bad.offset} of the file): ${bad.error}`);
    if (c.unread !== 0) throw new DecodeError(`${path}: block ${block} has ${c.unread} bytes after its ${c.count} records`);
    block++;
    yield out;
  }
}
