// Ticks from an Avro object container file (`.avro`, the format Avro tools and Kafka Connect's storage sinks
// write): file replay's binary input. The file must carry the tick schema (schemas/tick.avsc, compared by
// canonical form) and use the `null` or `deflate` codec. Blocks are read one at a time and handed to replay as
// they are: it decodes the records in place with the tick decoder.
//
// Container file layout (Avro specification, "Object Container Files"): magic `Obj\x01`, a metadata map
// (`avro.schema`, `avro.codec`, …), a 16-byte sync marker — read with avsc, as a record of the spec's header
// schema; then blocks of: record count (long), byte size (long), the (compressed) records back to back, the
// sync marker again — framed here, so the records themselves go to the tick decoder without avsc.
import { createReadStream } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import avro from 'avsc';
import { DecodeError } from '../../errors.js';
import { schemaVersions } from '../../stream/schemas.js';
import type { Tick } from '../../contracts/tick.js';
import type { TickCursor } from '../../contracts/tick-cursor.js';
import { TickDecoder } from '../../stream/tick-decoder.js';

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);
const SYNC = 16;
/** The header's own schema, as the specification gives it: decoding it with avsc reads the metadata map. */
const HEADER = avro.Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: SYNC } },
  ],
});
const LONG = avro.Type.forSchema('long');

/** A long at `pos`, or undefined when `b` ends first (avsc reports that as offset -1). */
function readLong(b: Buffer, pos: number): { value: number; next: number } | undefined {
  let r: { value: unknown; offset: number };
  try {
    r = LONG.decode(b, pos);
  } catch (err) {
    // avsc refuses longs beyond 2^53 ("potential precision loss"): no count or size of a real file is one.
    throw new DecodeError(`a count or size at byte ${pos} is not a usable number: ${(err as Error).message}`, { cause: err });
  }
  return r.offset < 0 ? undefined : { value: r.value as number, next: r.offset };
}

interface Header {
  codec: string;
  /** The tick schema version the file was written with. */
  version: 1 | 2;
  sync: Buffer;
  /** Where the first block starts. */
  end: number;
}

/** Far above any real header (a schema and a codec name), far below what would exhaust memory. */
const MAX_META_ENTRIES = 10_000;
const MAX_META_BYTES = 16 * 1024 * 1024;

/**
 * Whether the metadata map starting at `pos` is complete in `b` (then avsc may decode the header), checking every
 * count and length first. avsc trusts a block count: a damaged one (2^52 entries) made it loop for ever reading
 * past the end of the buffer (found by fuzzing). Throws DecodeError for counts or lengths no real header has.
 */
function metaComplete(b: Buffer, start: number, path: string): boolean {
  let pos = start;
  let entries = 0;
  for (;;) {
    const c = readLong(b, pos);
    if (!c) return false;
    pos = c.next;
    if (c.value === 0) return true;
    let count = c.value;
    if (count < 0) {
      // A negative count is followed by the block's byte size (Avro specification): read past it.
      const size = readLong(b, pos);
      if (!size) return false;
      pos = size.next;
      count = -count;
    }
    entries += count;
    if (!(entries <= MAX_META_ENTRIES)) throw new DecodeError(`${path}: the file's header claims ${entries} metadata entries`);
    for (let i = 0; i < count * 2; i++) {
      const len = readLong(b, pos);
      if (!len) return false;
      if (len.value < 0 || len.value > MAX_META_BYTES) throw new DecodeError(`${path}: the file's header has a metadata item of ${len.value} bytes`);
      pos = len.next + len.value;
      if (pos > b.length) return false;
    }
    if (pos - start > MAX_META_BYTES) throw new DecodeError(`${path}: the file's header is larger than ${MAX_META_BYTES} bytes`);
  }
}

/** The header if `b` holds all of it, else undefined. Throws DecodeError for what is not a tick file. */
function readHeader(b: Buffer, path: string): Header | undefined {
  if (b.length < MAGIC.length) return undefined;
  if (!b.subarray(0, 4).equals(MAGIC)) throw new DecodeError(`${path} is not an Avro object container file (no 'Obj\\x01' magic)`);
  if (!metaComplete(b, MAGIC.length, path)) return undefined;
  let decoded: { value: { meta: Record<string, Buffer>; sync: Buffer }; offset: number };
  try {
    decoded = HEADER.decode(b, 0) as typeof decoded;
  } catch (err) {
    throw new DecodeError(`${path}: the file's header does not decode: ${(err as Error).message}`, { cause: err });
  }
  const { value, offset } = decoded;
  if (offset < 0) return undefined;
  const codec = value.meta['avro.codec']?.toString() || 'null';
  if (codec !== 'null' && codec !== 'deflate') throw new DecodeError(`${path}: codec '${codec}' is not supported (null, deflate)`);
  let writer: avro.Type;
  try {
    writer = avro.Type.forSchema(JSON.parse(value.meta['avro.schema']?.toString() ?? 'null') as avro.Schema);
  } catch (err) {
    throw new DecodeError(`${path}: the file's schema does not parse: ${(err as Error).message}`, { cause: err });
  }
  const version = schemaVersions('tick').find((v) => writer.equals(v.type))?.version;
  if (version !== 1 && version !== 2)
    throw new DecodeError(`${path}: the file's schema is not a version of the tick schema (schemas/tick.avsc, schemas/tick-v2.avsc)`);
  return { codec, version, sync: Buffer.from(value.sync), end: offset };
}

/** A deflate block's records; damaged compressed data is the file's fault (DecodeError), not an internal error. */
function inflate(data: Buffer, path: string, block: number): Buffer {
  try {
    return inflateRawSync(data);
  } catch (err) {
    throw new DecodeError(`${path}: block ${block} does not inflate: ${(err as Error).message}`, { cause: err });
  }
}

/** `count` bare Avro tick bodies back to back (a container file's block), offsets from `firstOffset`. */
export interface BodyBlock {
  bodies: Buffer;
  count: number;
  firstOffset: number;
  /** The tick schema version of the bodies. */
  version: 1 | 2;
}

/**
 * The file's blocks, decompressed: each `count` bare tick bodies back to back, record offsets counted from 1.
 * Replay decodes them in place (no object per record). A bad sync marker or a truncated file is a DecodeError
 * naming the block.
 */
export async function* readAvroTickBlocks(path: string, chunkBytes = 256 * 1024): AsyncGenerator<BodyBlock> {
  let header: Header | undefined;
  let buf: Buffer = Buffer.alloc(0);
  let pos = 0;
  let index = 0;
  let block = 0;
  const take = function* (): Generator<BodyBlock> {
    for (;;) {
      if (!header) {
        header = readHeader(buf, path);
        if (!header) return;
        pos = header.end;
      }
      const count = readLong(buf, pos);
      const size = count && readLong(buf, count.next);
      if (count && (count.value < 0 || !Number.isSafeInteger(count.value)))
        throw new DecodeError(`${path}: block ${block} has a record count of ${count.value}`);
      if (size && (size.value < 0 || !Number.isSafeInteger(size.value))) throw new DecodeError(`${path}: block ${block} has a byte size of ${size.value}`);
      if (!count || !size || size.next + size.value + SYNC > buf.length) return;
      const dataEnd = size.next + size.value;
      if (!buf.subarray(dataEnd, dataEnd + SYNC).equals(header.sync)) throw new DecodeError(`${path}: block ${block} does not end with the file's sync marker`);
      const bodies = header.codec === 'deflate' ? inflate(buf.subarray(size.next, dataEnd), path, block) : buf.subarray(size.next, dataEnd);
      const out: BodyBlock = { bodies, count: count.value, firstOffset: index + 1, version: header.version };
      index += count.value;
      block++;
      pos = dataEnd + SYNC;
      yield out;
    }
  };
  for await (const chunk of createReadStream(path, { highWaterMark: chunkBytes }) as AsyncIterable<Buffer>) {
    buf = pos < buf.length ? Buffer.concat([buf.subarray(pos), chunk]) : chunk;
    pos = 0;
    yield* take();
  }
  if (!header) throw new DecodeError(`${path}: the file ends inside its header`);
  if (pos < buf.length) throw new DecodeError(`${path}: the file ends inside block ${block}`);
}

/**
 * The file's ticks for the fold: a cursor per block, decoded in place (one cursor object, re-pointed at each block
 * once the previous one has been read).
 */
export async function* avroTickCursors(path: string, chunkBytes?: number): AsyncGenerator<AvroBlockCursor> {
  const cursor = new AvroBlockCursor();
  for await (const block of readAvroTickBlocks(path, chunkBytes)) yield cursor.of(block);
}

/**
 * The records of a container block: bare Avro tick bodies back to back, read in order (a record's start is known
 * only once the one before it is read). When one does not decode, the ones after it cannot be found: each is
 * rejected saying so.
 */
export class AvroBlockCursor implements TickCursor {
  private readonly decoder = new TickDecoder({ lazyTradeId: true });
  private block: BodyBlock = { bodies: Buffer.alloc(0), count: 0, firstOffset: 1, version: 2 };
  private pos = 0;
  /** The record that did not decode (its offset), or -1. */
  private broken = -1;
  count = 0;
  idLazy = false;
  idPos = 0;
  idLen = 0;
  idBuf: Buffer | undefined;

  of(block: BodyBlock): this {
    this.block = block;
    this.idBuf = block.bodies;
    this.count = block.count;
    this.pos = 0;
    this.broken = -1;
    return this;
  }

  offset(i: number): number {
    return this.block.firstOffset + i;
  }

  /** Bytes of the block after the records read so far (after its last record: bytes that belong to none). */
  get unread(): number {
    return this.block.bodies.length - this.pos;
  }

  read(i: number, out: Tick): string | null {
    if (this.broken >= 0) return `follows record ${this.broken} of its container block, which does not decode`;
    const d = this.decoder;
    const problem = d.decodeBody(this.block.bodies, this.pos, this.block.bodies.length, out, this.block.version);
    if (problem !== null) {
      this.broken = this.block.firstOffset + i;
      this.idLazy = false;
      return problem;
    }
    this.pos = d.next;
    this.idLazy = d.idLazy;
    this.idPos = d.idPos;
    this.idLen = d.idLen;
    return null;
  }
}
