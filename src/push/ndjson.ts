// A batch as NDJSON (application/x-ndjson): one JSON record per line, read line by line so one bad line is that
// record's error, not the batch's. Blank lines are skipped; a line may end in \r\n.
import { BadRequestError, ERROR_CODES } from '../errors.js';
import { parseUntrustedJson } from '../untrusted-json.js';
import { readJsonRecord, isRecordError, type BatchRecord, type ReadContext } from './records.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Whether bytes [from, to) hold only spaces, tabs and a carriage return. */
function blank(b: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

/** The records of an NDJSON body; throws BadRequestError when it holds none, or more than `maxRecords`. */
export function readNdjson(body: Buffer, maxRecords: number, c: ReadContext): BatchRecord[] {
  const out: BatchRecord[] = [];
  let line = 0;
  for (let start = 0; start < body.length;) {
    let end = body.indexOf(0x0a, start);
    if (end < 0) end = body.length;
    line++;
    if (!blank(body, start, end)) {
      if (out.length === maxRecords) throw new BadRequestError(`the batch holds more than ${maxRecords} records (TE_PUSH_MAX_RECORDS)`);
      const raw = body.subarray(start, end);
      const index = out.length;
      let text: string | undefined;
      try {
        text = utf8.decode(raw);
      } catch {
        out.push({ index, line, raw, error: { code: ERROR_CODES.decode, reason: 'the line is not valid UTF-8' } });
      }
      if (text !== undefined) {
        let value: unknown;
        let parsed = true;
        try {
          value = parseUntrustedJson(text, `line ${line}`);
        } catch (err) {
          parsed = false;
          out.push({ index, line, raw, error: { code: ERROR_CODES.decode, reason: (err as Error).message } });
        }
        if (parsed) {
          const r = readJsonRecord(value, c);
          out.push(isRecordError(r) ? { index, line, raw, error: r } : { index, line, raw, items: r });
        }
      }
    }
    start = end + 1;
  }
  if (out.length === 0) throw new BadRequestError('the batch holds no records');
  return out;
}
