// What a load client needs of a delta — its type, seq, gateway send time, series and newest event time — read
// straight off the JSON text (fast-json-stringify writes fields in schema order) or the Avro frame's bytes,
// without decoding the whole message: tens of thousands of clients in one process must cost less than the
// gateway that serves them.

export type DeltaType = 'bar' | 'update' | 'trade' | 'signal';

export interface Peeked {
  type: DeltaType;
  seq: number;
  /** Gateway wall clock at publication, ms. */
  ts: number;
  /** channel|interval|symbol, as a snapshot's series. */
  key: string;
  /** µs: updates' lastEventTime, trades' ingestTime; 0 otherwise (a final bar's last event is as old as its bucket). */
  sourceUs: number;
}

const DELTAS = new Set(['bar', 'update', 'trade', 'signal']);

export const seriesKeyOf = (channel: string, interval: string | undefined, symbol: string): string => `${channel}|${interval ?? ''}|${symbol}`;

function numberAfter(text: string, marker: string, from: number): number {
  const i = text.indexOf(marker, from);
  if (i < 0) return NaN;
  const start = i + marker.length;
  let end = start;
  while (end < text.length) {
    const c = text.charCodeAt(end);
    if (c === 44 || c === 125) break; // , }
    end++;
  }
  return Number(text.slice(start, end));
}

function stringAfter(text: string, marker: string, from: number): string {
  const i = text.indexOf(marker, from);
  if (i < 0) return '';
  const start = i + marker.length;
  return text.slice(start, text.indexOf('"', start));
}

/** A JSON delta's figures; undefined for anything else (acks, snapshots, errors, pongs). */
export function peekJson(text: string): Peeked | undefined {
  if (!text.startsWith('{"type":"')) return undefined;
  const q = text.indexOf('"', 9);
  const type = text.slice(9, q);
  if (!DELTAS.has(type)) return undefined;
  const seq = numberAfter(text, '"seq":', q);
  const ts = numberAfter(text, '"ts":', q);
  const symbol = stringAfter(text, '"symbol":"', q);
  if (type === 'trade') return { type, seq, ts, key: seriesKeyOf('trades', undefined, symbol), sourceUs: numberAfter(text, '"ingestTime":', q) };
  const interval = stringAfter(text, '"interval":"', q);
  if (type === 'signal') return { type, seq, ts, key: seriesKeyOf('signals', interval, symbol), sourceUs: 0 };
  return {
    type: type as DeltaType,
    seq,
    ts,
    key: seriesKeyOf('bars', interval, symbol),
    sourceUs: type === 'update' ? numberAfter(text, '"lastEventTime":', q) : 0,
  };
}

/** A cursor over Avro binary encoding (zig-zag varints, little-endian doubles). */
class AvroBytes {
  constructor(
    readonly buf: Buffer,
    public pos: number,
  ) {}
  long(): number {
    let n = 0;
    let mul = 1;
    let b: number;
    do {
      b = this.buf[this.pos++]!;
      n += (b & 0x7f) * mul;
      mul *= 128;
    } while (b & 0x80);
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }
  double(): number {
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
  string(): string {
    const len = this.long();
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
  skip(n: number): void {
    this.pos += n;
  }
}

const FRAME_TYPES: DeltaType[] = ['bar', 'update', 'trade', 'signal'];

/** An Avro frame's figures (schemas/ws-frame.avsc around a Bar, Tick or Signal in wire format); undefined if it is none. */
export function peekAvro(buf: Buffer): Peeked | undefined {
  if (buf.length < 16 || buf[0] !== 0 || buf.readUInt32BE(1) !== 4) return undefined;
  const r = new AvroBytes(buf, 5);
  const type = FRAME_TYPES[r.long()];
  if (!type) return undefined;
  const seq = r.long();
  const ts = r.double();
  r.long(); // payload length
  r.skip(5); // the payload's own wire-format header
  if (type === 'trade') {
    r.string(); // venue
    const symbol = r.string();
    r.long(); // eventTime
    r.skip(16); // price, size
    r.long(); // side
    r.string(); // tradeId
    return { type, seq, ts, key: seriesKeyOf('trades', undefined, symbol), sourceUs: r.long() };
  }
  const symbol = r.string();
  const interval = r.string();
  if (type === 'signal') return { type, seq, ts, key: seriesKeyOf('signals', interval, symbol), sourceUs: 0 };
  if (type === 'bar') return { type, seq, ts, key: seriesKeyOf('bars', interval, symbol), sourceUs: 0 };
  r.long(); // bucketStart
  r.skip(56); // open, high, low, close, volume, quoteVolume, vwap
  r.long(); // tradeCount
  r.skip(8); // buyVolume
  r.long(); // firstEventTime
  return { type, seq, ts, key: seriesKeyOf('bars', interval, symbol), sourceUs: r.long() };
}
