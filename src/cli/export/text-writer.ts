// Rows as CSV (RFC 4180, a header of the table's field names) or JSON lines (for bars, the shape replay and the gateway
// write), to a file or standard output.
import { createWriteStream } from 'node:fs';
import type { RowTable, RowWriter } from './row-writer.js';

export class TextRowWriter<T> implements RowWriter<T> {
  private failure: Error | undefined;

  private constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly row: (r: T) => string,
    private readonly ownsStream: boolean,
  ) {
    // A closed pipe (`| head`) or a full disk fails the next write, not the process.
    out.on('error', (err: Error) => (this.failure ??= err));
  }

  static async open<T>(format: 'csv' | 'jsonl', path: string | undefined, table: RowTable<T>): Promise<TextRowWriter<T>> {
    const out = path === undefined ? process.stdout : createWriteStream(path);
    if (path !== undefined)
      await new Promise<void>((resolve, reject) => (out as ReturnType<typeof createWriteStream>).once('open', () => resolve()).once('error', reject));
    const w = new TextRowWriter<T>(out, format === 'csv' ? table.csvRow : table.jsonRow, path !== undefined);
    if (format === 'csv') await w.put(table.fields.join(',') + '\n');
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

  write(rows: readonly T[]): Promise<void> {
    let text = '';
    for (const r of rows) text += this.row(r) + '\n';
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
