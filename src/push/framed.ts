// A batch as schema-registry framed Avro (application/vnd.tick-engine.avro-framed): records back to back, each
// exactly what a Kafka record value of the ticks or quotes topic is — magic byte 0, the 4-byte schema id
// (schemas/index.json: a version of tick, or quote), the Avro body. An Avro body carries no length, so a record that does not
// decode leaves the rest of the batch unframeable: that is the whole batch's error (400), naming the record. A
// record that decodes but is implausible is that record's error. A tick's ingestTime is the engine's, not the
// client's: it is replaced.
import { BadRequestError } from '../errors.js';
import type { Quote } from '../contracts/quote.js';
import type { Tick } from '../contracts/tick.js';
import { resolverFor, schema, schemaById, schemaVersions } from '../stream/schemas.js';
import { checkQuote, checkTrade, type BatchRecord, type ReadContext } from './records.js';

export const FRAMED_AVRO = 'application/vnd.tick-engine.avro-framed';
const HEADER = 5;

/** The records of a framed Avro body; throws BadRequestError for a batch that cannot be framed, is empty or too long. */
export function readFramed(body: Buffer, maxRecords: number, c: ReadContext): BatchRecord[] {
  const tick = schema('tick');
  const quote = schema('quote');
  const tickIds = schemaVersions('tick')
    .map((v) => v.id)
    .join(', ');
  const out: BatchRecord[] = [];
  for (let pos = 0; pos < body.length;) {
    const index = out.length;
    if (index === maxRecords) throw new BadRequestError(`the batch holds more than ${maxRecords} records (TE_PUSH_MAX_RECORDS)`);
    const where = `record ${index} (byte ${pos})`;
    if (body.length - pos < HEADER) throw new BadRequestError(`${where}: ${body.length - pos} bytes left, fewer than the 5-byte wire-format header`);
    if (body[pos] !== 0) throw new BadRequestError(`${where}: magic byte ${body[pos]} (expected 0)`);
    const id = body.readUInt32BE(pos + 1);
    const writer = schemaById(id);
    const s = writer?.name === 'tick' ? tick : id === quote.id ? quote : undefined;
    if (!s || !writer) throw new BadRequestError(`${where}: schema id ${id} is neither a tick schema (${tickIds}) nor the quote schema (${quote.id})`);
    let decoded: { value: unknown; offset: number };
    try {
      decoded = s.type.decode(body, pos + HEADER, resolverFor(s, writer));
    } catch (err) {
      throw new BadRequestError(`${where}: the Avro body does not decode as ${s.name}: ${(err as Error).message}`);
    }
    if (decoded.offset < 0) throw new BadRequestError(`${where}: the Avro body is truncated for ${s.name}`);
    const raw = body.subarray(pos, decoded.offset);
    pos = decoded.offset;
    if (s === tick) {
      const t = { ...(decoded.value as Tick), ingestTime: c.ingestTime };
      const error = checkTrade(t, c.maxAheadMicros);
      out.push(error ? { index, raw, error } : { index, raw, items: { trades: [t], quotes: [] } });
    } else {
      const q = { ...(decoded.value as Quote), ingestTime: c.ingestTime };
      const error = checkQuote(q, c.maxAheadMicros);
      out.push(error ? { index, raw, error } : { index, raw, items: { trades: [], quotes: [q] } });
    }
  }
  if (out.length === 0) throw new BadRequestError('the batch holds no records');
  return out;
}
