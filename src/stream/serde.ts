// Schema-registry wire format: magic byte 0, 4-byte big-endian schema id (ours, or the registry's: schema-ids.ts), Avro binary body.
import { DecodeError } from '../errors.js';
import { schemaByWireId, wireId, wireIdsOf } from './schema-ids.js';
import { resolverFor, type RegisteredSchema } from './schemas.js';

const HEADER = 5;

/** Where records are written before being copied out at their size; grows to the largest record seen. */
let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * The record in the wire format. avsc writes the body into `scratch` after the header's room (`Type#toBuffer` would
 * write it to a buffer of its own, then copy it to a zero-filled one: two allocations and two copies per record, which
 * the aggregator pays for every bar and in-progress update it produces).
 */
export function encode(s: RegisteredSchema, value: unknown): Buffer {
  let end = s.type.encode(value, scratch, HEADER);
  // avsc returns minus the missing byte count when the body does not fit (having checked the whole value)
  while (end < 0) {
    scratch = Buffer.allocUnsafe(Math.max(2 * scratch.length, scratch.length - end));
    end = s.type.encode(value, scratch, HEADER);
  }
  const out = Buffer.allocUnsafe(end);
  scratch.copy(out, HEADER, HEADER, end);
  out[0] = 0;
  out.writeUInt32BE(wireId(s), 1);
  return out;
}

/**
 * Decode a record written with schema `s` or another registered version of it (resolved into `s`: a field `s` has and
 * the writer's version lacks gets its default); throws DecodeError with the reason otherwise.
 */
export function decode<T>(s: RegisteredSchema, buf: Buffer | null): T {
  if (!buf || buf.length < HEADER) throw new DecodeError(`record of ${buf?.length ?? 0} bytes is shorter than the 5-byte wire-format header`);
  if (buf[0] !== 0) throw new DecodeError(`unknown magic byte ${buf[0]} (expected 0)`);
  const id = buf.readUInt32BE(1);
  const writer = schemaByWireId(id);
  if (writer === undefined || writer.name !== s.name) throw new DecodeError(`schema id ${id} is not the ${s.name} schema (id ${idsOf(s)})`);
  let res: { value: unknown; offset: number };
  try {
    res = s.type.decode(buf, HEADER, resolverFor(s, writer));
  } catch (err) {
    throw new DecodeError(`Avro body does not decode as ${s.name}: ${(err as Error).message}`, { cause: err });
  }
  if (res.offset !== buf.length) {
    throw new DecodeError(res.offset < 0 ? `Avro body is truncated for ${s.name}` : `${buf.length - res.offset} trailing bytes after the ${s.name} body`);
  }
  return res.value as T;
}

/** The ids of every version of `s`'s name, for messages: "1 or 7". */
function idsOf(s: RegisteredSchema): string {
  return wireIdsOf(s.name).join(' or ');
}
