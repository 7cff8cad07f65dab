// Strings out of Avro wire bytes without a call into C++ per string: the tick decoder's hot path.
//
// Why: Buffer#toString (utf8Slice, latin1Slice) crosses into C++ for every call (~130 ns each here), which alone would
// cost a third of the 1M ticks/s budget for a tick's three strings. Short ASCII strings built with a
// fixed-arity String.fromCharCode stay in JIT-compiled code (~45 ns); repeated ones (venue, symbol) are
// looked up by their bytes instead of being built at all. Anything else falls back to Buffer#toString('utf8'), so the
// result is always exactly what Buffer#toString('utf8') (and avsc) gives, invalid UTF-8 included.

const F = String.fromCharCode;

/** Longest string the fixed-arity fast path builds; longer ones go through Buffer#toString. */
export const ASCII_FAST_MAX = 16;

/** The string of bytes [s, s + n) of `b`, decoded as UTF-8 exactly like Buffer#toString('utf8'). */
export function utf8String(b: Buffer, s: number, n: number): string {
  if (n <= ASCII_FAST_MAX && isAscii(b, s, n)) return asciiString(b, s, n);
  return b.toString('utf8', s, s + n);
}

/** Whether a trade id of bytes [pos, pos + n) of `b` may be left as bytes (see LazyTradeIds in contracts/tick-cursor.ts). */
export function idCanStayBytes(b: Buffer, pos: number, n: number): boolean {
  return n >= 1 && n <= 128 && isAscii(b, pos, n);
}

/** Whether bytes [s, s + n) of `b` are all ASCII. */
export function isAscii(b: Buffer, s: number, n: number): boolean {
  let or = 0;
  for (let i = s; i < s + n; i++) or |= b[i]!;
  return or < 0x80;
}

/** Bytes [s, s + n) as a string; every byte must be < 0x80 and n <= ASCII_FAST_MAX. */
function asciiString(b: Buffer, s: number, n: number): string {
  // One call per length so that V8 sees a fixed argument count and inlines String.fromCharCode.
  switch (n) {
    case 0:
      return '';
    case 1:
      return F(b[s]!);
    case 2:
      return F(b[s]!, b[s + 1]!);
    case 3:
      return F(b[s]!, b[s + 1]!, b[s + 2]!);
    case 4:
      return F(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!);
    case 5:
      return F(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!);
    case 6:
      return F(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!);
    case 7:
      return F(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!);
    case 8:
      return F(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!);
    case 9:
      return F(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!);
    case 10:
      return F(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!);
    case 11:
      return F(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!);
    case 12:
      return F(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!);
    case 13:
      return F(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!);
    case 14:
      return F(
        b[s]!,
        b[s + 1]!,
        b[s + 2]!,
        b[s + 3]!,
        b[s + 4]!,
        b[s + 5]!,
        b[s + 6]!,
        b[s + 7]!,
        b[s + 8]!,
        b[s + 9]!,
        b[s + 10]!,
        b[s + 11]!,
        b[s + 12]!,
        b[s + 13]!,
      );
    case 15:
      return F(
        b[s]!,
        b[s + 1]!,
        b[s + 2]!,
        b[s + 3]!,
        b[s + 4]!,
        b[s + 5]!,
        b[s + 6]!,
        b[s + 7]!,
        b[s + 8]!,
        b[s + 9]!,
        b[s + 10]!,
        b[s + 11]!,
        b[s + 12]!,
        b[s + 13]!,
        b[s + 14]!,
      );
    case 16:
      return F(
        b[s]!,
        b[s + 1]!,
        b[s + 2]!,
        b[s + 3]!,
        b[s + 4]!,
        b[s + 5]!,
        b[s + 6]!,
        b[s + 7]!,
        b[s + 8]!,
        b[s + 9]!,
        b[s + 10]!,
        b[s + 11]!,
        b[s + 12]!,
        b[s + 13]!,
        b[s + 14]!,
        b[s + 15]!,
      );
    default:
      return b.toString('latin1', s, s + n);
  }
}

const SLOTS = 4096;
/** Strings longer than this are not interned (venues and symbols are far shorter). */
const MAX_KEY = 32;
/** Strings up to this long are keyed by two 32-bit words instead of their bytes. */
const WORD_KEY = 8;

/**
 * A direct-mapped cache from a string's UTF-8 bytes to the string: venues and symbols repeat on every tick,
 * so each is built once and then found by a hash of its bytes and a byte compare. A collision just
 * replaces the slot (the cost is a rebuilt string, never a wrong one). Reusing one string object per
 * symbol also makes the aggregation's Map lookups cheap: V8 caches a string's hash in the string.
 */
export class StringInterner {
  private readonly keys = new Uint8Array(SLOTS * MAX_KEY);
  private readonly lengths = new Int32Array(SLOTS).fill(-1);
  private readonly strings: string[] = new Array<string>(SLOTS).fill('');
  private readonly words = new Int32Array(SLOTS * 2);

  /** The string of bytes [s, s + n) of `b`, as utf8String gives it. */
  get(b: Buffer, s: number, n: number): string {
    if (n <= WORD_KEY) return this.getShort(b, s, n);
    if (n > MAX_KEY) return utf8String(b, s, n);
    // FNV-1a over the bytes.
    let h = 0x811c9dc5;
    for (let i = s; i < s + n; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    const slot = (h ^ (h >>> 15)) & (SLOTS - 1);
    const keys = this.keys;
    const at = slot * MAX_KEY;
    if (this.lengths[slot] === n) {
      let i = 0;
      while (i < n && keys[at + i] === b[s + i]) i++;
      if (i === n) return this.strings[slot]!;
    }
    const str = utf8String(b, s, n);
    for (let i = 0; i < n; i++) keys[at + i] = b[s + i]!;
    this.lengths[slot] = n;
    this.strings[slot] = str;
    return str;
  }

  /**
   * Up to 8 bytes (most venues and symbols): the key is two little-endian 32-bit words that together cover
   * every byte (the last four bytes overlap the first four below 8), read and compared whole instead of
   * byte by byte. Such slots keep no bytes in `keys`; their length (≤ 8) tells them apart from the others.
   */
  private getShort(b: Buffer, s: number, n: number): string {
    let w0: number;
    let w1: number;
    if (n >= 4) {
      const v = viewOf(b);
      w0 = v.getInt32(s, true);
      w1 = v.getInt32(s + n - 4, true);
    } else {
      w0 = n === 0 ? 0 : n === 1 ? b[s]! : n === 2 ? b[s]! | (b[s + 1]! << 8) : b[s]! | (b[s + 1]! << 8) | (b[s + 2]! << 16);
      w1 = 0;
    }
    let h = Math.imul(w0 ^ Math.imul(w1 ^ n, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 15;
    const slot = h & (SLOTS - 1);
    const words = this.words;
    if (this.lengths[slot] === n && words[2 * slot] === w0 && words[2 * slot + 1] === w1) return this.strings[slot]!;
    const str = utf8String(b, s, n);
    words[2 * slot] = w0;
    words[2 * slot + 1] = w1;
    this.lengths[slot] = n;
    this.strings[slot] = str;
    return str;
  }
}

let viewed: Buffer | undefined;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/**
 * A DataView of `b` with the same indices (made once per buffer: the decoder reads every record of a
 * batch from one). TurboFan compiles its get methods inline, so a double or a 32-bit word is one read.
 */
export function viewOf(b: Buffer): DataView<ArrayBufferLike> {
  if (b !== viewed) {
    view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    viewed = b;
  }
  return view;
}
