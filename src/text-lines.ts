// A text file's lines with where each ends (line number, byte offset after its line break): what lets file backfill
// resume after the last line it committed, by seeking a plain file or skipping the first bytes of an inflated one.
import { createReadStream } from 'node:fs';

/** One line: bytes [start, end) of `buf` without its '\n' (nor a '\r' before it). */
export interface TextLine {
  buf: Buffer;
  start: number;
  end: number;
  /** 1-based line number in the whole file. */
  line: number;
  /** Byte offset in the whole file just after this line's '\n' (or after its last byte, for a last line without one). */
  byteEnd: number;
}

const NL = 10;
const CR = 13;

/**
 * The lines of `chunks`, which are the file's bytes from byte `skip.byte` on (or from 0, when `fromStart`: then
 * the first `skip.byte` bytes are read and dropped, as an inflated stream cannot seek); `skip.line` is the number
 * of lines before that byte. Lines are yielded as runs sharing a buffer (one array per chunk read).
 */
export async function* textLines(chunks: AsyncIterable<Buffer>, skip: { line: number; byte: number }, fromStart: boolean): AsyncGenerator<TextLine[]> {
  let toDrop = fromStart ? skip.byte : 0;
  let line = skip.line;
  /** File offset of the first byte of `carry` (or of the next chunk when there is no carry). */
  let offset = skip.byte;
  let carry: Buffer | undefined;
  for await (let chunk of chunks) {
    if (toDrop > 0) {
      if (chunk.length <= toDrop) {
        toDrop -= chunk.length;
        continue;
      }
      chunk = chunk.subarray(toDrop);
      toDrop = 0;
    }
    const b = carry ? Buffer.concat([carry, chunk]) : chunk;
    const out: TextLine[] = [];
    let s = 0;
    for (let nl = b.indexOf(NL, s); nl >= 0; nl = b.indexOf(NL, s)) {
      line++;
      out.push({ buf: b, start: s, end: nl > s && b[nl - 1] === CR ? nl - 1 : nl, line, byteEnd: offset + nl + 1 });
      s = nl + 1;
    }
    offset += s;
    carry = s < b.length ? b.subarray(s) : undefined;
    if (out.length) yield out;
  }
  if (toDrop > 0) return; // the file is shorter than the position: nothing after it
  if (carry) {
    line++;
    const end = carry[carry.length - 1] === CR ? carry.length - 1 : carry.length;
    yield [{ buf: carry, start: 0, end, line, byteEnd: offset + carry.length }];
  }
}

/** A plain file's bytes from `start` on, in large chunks. */
export function fileBytes(path: string, start = 0): AsyncIterable<Buffer> {
  return createReadStream(path, { start, highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>;
}
