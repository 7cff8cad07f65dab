// Bars as CSV (RFC 4180, a header of the contract's field names) or JSON lines (the shape replay and the gateway
// write), to a file or standard output. Times are µs since the epoch, numbers in their shortest exact form.
import { createWriteStream } from 'node:fs';
import fastJson from 'fast-json-stringify';
import { BAR_FIELDS, type Bar } from '../../contracts/bar.js';
import { BAR_JSON_SCHEMA } from '../../gateway/ws/protocol.js';
import type { BarWriter } from './bar-writer.js';

const serializeBar = fastJson(BAR_JSON_SCHEMA) as (b: Bar) => string;

export const BAR_CSV_HEADER = BAR_FIELDS.join(',');

/** A field quoted when it holds a comma, quote or line break (RFC 4180); symbols may hold any of the first two. */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV row; `complete` unknown (null) is an empty field. */
export function barToCsv(b: Bar): string {
  return [
    csvField(b.symbol),
    csvField(b.interval),
    b.bucketStart,
    b.open,
    b.high,
    b.low,
    b.close,
    b.volume,
    b.quoteVolume,
    b.vwap,
    b.tradeCount,
    b.buyVolume,
    b.firstEventTime,
    b.lastEventTime,
    b.revision,
    b.final,
    b.complete ?? '',
  ].join(',');
}

export class TextBarWriter implements BarWriter {
  private failure: Error | undefined;

  private constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly row: (b: Bar) => string,
    private readonly ownsStream: boolean,
  ) {
    // A closed pipe (`| head`) or a full disk fails the next write, not the process.
    out.on('error', (err: Error) => (this.failure ??= err));
  }

  static async open(format: 'csv' | 'jsonl', path: string | undefined): Promise<TextBarWriter> {
    const out = path === undefined ? process.stdout : createWriteStream(path);
    if (path !== undefined)
      await new Promise<void>((resolve, reject) => (out as ReturnType<typeof createWriteStream>).once('open', () => resolve()).once('error', reject));
    const w = new TextBarWriter(out, format === 'csv' ? barToCsv : serializeBar, path !== undefined);
    if (format === 'csv') await w.put(BAR_CSV_HEADER + '\n');
    return w;
  }

  private put(text: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.out.write(text)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onDrain = () => {
        this.out.off('error', onError);
        resolve();
      };
      const onError = (err: Error) => {
        this.out.off('drain', onDrain);
        reject(err);
      };
      this.out.once('drain', onDrain).once('error', onError);
    });
  }

  write(bars: readonly Bar[]): Promise<void> {
    let text = '';
    for (const b of bars) text += this.row(b) + '\n';
    return this.put(text);
  }

  async finish(): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.ownsStream) return;
    await new Promise<void>((resolve, reject) => {
      this.out.once('error', reject);
      this.out.end(() => resolve());
    });
    if (this.failure) throw this.failure;
  }

  async abort(): Promise<void> {
    if (!this.ownsStream) return;
    await new Promise<void>((resolve) => {
      const s = this.out as ReturnType<typeof createWriteStream>;
      s.once('close', () => resolve());
      s.destroy();
    });
  }
}
