// A batch of Kafka record values packed into one buffer (values back to back, their lengths and offsets): what an
// aggregator hands a worker (transferred, not copied) and what replay's own fetch path yields where the values
// lie in a fetch response. PackedCursor reads its ticks in place for the fold.
import type { Tick } from '../contracts/tick.js';
import type { TickCursor } from '../contracts/tick-cursor.js';
import { TickDecoder } from './tick-decoder.js';

export interface PackedBatch {
  /** Record values back to back. */
  data: Uint8Array;
  /** Byte length of each value; -1 for a null value. */
  lengths: Int32Array;
  /** Source offset of each record. */
  offsets: Float64Array;
  /** Where each value starts in `data`; absent: back to back from 0. */
  starts?: Int32Array;
}

export function packBatch(values: (Buffer | null)[], offsets: number[]): PackedBatch {
  let total = 0;
  for (const v of values) total += v ? v.length : 0;
  const data = new Uint8Array(total);
  const lengths = new Int32Array(values.length);
  let pos = 0;
  values.forEach((v, i) => {
    if (!v) {
      lengths[i] = -1;
      return;
    }
    data.set(v, pos);
    pos += v.length;
    lengths[i] = v.length;
  });
  return { data, lengths, offsets: Float64Array.from(offsets) };
}

/**
 * Values that lie in a larger buffer (a fetch response) copied out with their positions, so they can be transferred
 * to a worker without detaching the buffer they came from: one copy of the span from the first value to the end of
 * the last (the records' few header bytes in between ride along), not one per record.
 */
export function detachValues(run: PackedBatch & { starts: Int32Array }): PackedBatch & { starts: Int32Array } {
  const n = run.lengths.length;
  if (n === 0) return { data: new Uint8Array(0), lengths: new Int32Array(0), offsets: new Float64Array(0), starts: new Int32Array(0) };
  const lo = run.starts[0]!;
  const hi = run.starts[n - 1]! + Math.max(0, run.lengths[n - 1]!);
  const starts = new Int32Array(n);
  for (let i = 0; i < n; i++) starts[i] = run.starts[i]! - lo;
  // A buffer of its own (never a pooled or shared one): transferring it detaches nothing else.
  const data = new Uint8Array(hi - lo);
  data.set(run.data.subarray(lo, hi));
  return { data, lengths: run.lengths.slice(), offsets: run.offsets.slice(), starts };
}

/**
 * The ticks of packed batches, decoded in place with the tick decoder, trade ids left as bytes. One cursor serves
 * batch after batch (`of`), so the decoder's interned venues and symbols carry over.
 */
export class PackedCursor implements TickCursor {
  private readonly decoder = new TickDecoder({ lazyTradeId: true });
  private batch: PackedBatch = { data: new Uint8Array(0), lengths: new Int32Array(0), offsets: new Float64Array(0) };
  private buf: Buffer = Buffer.alloc(0);
  /** Where the next value starts when the batch has no `starts`. */
  private pos = 0;
  count = 0;
  idLazy = false;
  idPos = 0;
  idLen = 0;
  idBuf: Buffer | undefined;

  /** Point the cursor at `batch`, from its first record. */
  of(batch: PackedBatch): this {
    this.batch = batch;
    this.buf = Buffer.from(batch.data.buffer, batch.data.byteOffset, batch.data.byteLength);
    this.idBuf = this.buf;
    this.pos = 0;
    this.count = batch.lengths.length;
    return this;
  }

  offset(i: number): number {
    return this.batch.offsets[i]!;
  }

  read(i: number, out: Tick): string | null {
    const d = this.decoder;
    const len = this.batch.lengths[i]!;
    let problem: string | null;
    if (len < 0) problem = d.decodeInto(null, 0, 0, out);
    else {
      const starts = this.batch.starts;
      if (starts) this.pos = starts[i]!;
      problem = d.decodeInto(this.buf, this.pos, this.pos + len, out);
      this.pos += len;
    }
    this.idLazy = problem === null && d.idLazy;
    this.idPos = d.idPos;
    this.idLen = d.idLen;
    return problem;
  }
}

/** Packed batches as cursors for the fold (one cursor, re-pointed at each batch once the previous one was read). */
export async function* packedCursors(batches: AsyncIterable<PackedBatch>): AsyncGenerator<PackedCursor> {
  const cursor = new PackedCursor();
  for await (const b of batches) yield cursor.of(b);
}
