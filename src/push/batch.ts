// A pushed batch, read: each record with what it stands for or why it is rejected. The body's format is named by
// its Content-Type (HTTP) or its frame type (WebSocket: text is NDJSON, binary is framed Avro).
import { UnsupportedMediaTypeError, describe } from '../errors.js';
import { FRAMED_AVRO, readFramed } from './framed.js';
import { readNdjson } from './ndjson.js';
import type { BatchRecord, ReadContext } from './records.js';

export type BatchFormat = 'ndjson' | 'avro';

export const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson'];

/** The batch format a Content-Type names (parameters such as charset ignored); 415 for any other. */
export function formatOf(contentType: string): BatchFormat {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (NDJSON_TYPES.includes(type)) return 'ndjson';
  if (type === FRAMED_AVRO) return 'avro';
  throw new UnsupportedMediaTypeError(
    `Content-Type ${type ? describe(type) : '(none)'} is not taken: send application/x-ndjson or ${FRAMED_AVRO} (docs/push-ingestion.md)`,
  );
}

export function readBatch(format: BatchFormat, body: Buffer, maxRecords: number, c: ReadContext): BatchRecord[] {
  return format === 'ndjson' ? readNdjson(body, maxRecords, c) : readFramed(body, maxRecords, c);
}
