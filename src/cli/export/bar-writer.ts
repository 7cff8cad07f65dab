// Where an export's bars go: a writer per format (bar-text.ts, bar-parquet.ts), fed a page at a time, finished once
// (or dropped on a stop).
import type { Bar } from '../../contracts/bar.js';

export interface BarWriter {
  /** Resolves once the page is handed on (a stream's backpressure respected). */
  write(bars: readonly Bar[]): Promise<void>;
  /** Writes what is held (a Parquet row group and footer) and closes the output. */
  finish(): Promise<void>;
  /** Stops without finishing: the output is left incomplete (the caller removes a file). */
  abort(): Promise<void>;
}
