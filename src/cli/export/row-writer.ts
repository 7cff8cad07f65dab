// Where an export's rows go: a writer per format (text-writer.ts, parquet-writer.ts), fed a page at a time, finished
// once (or dropped on a stop). What a row is — its fields, their column types, its CSV and JSON forms — is a RowTable
// (row-tables.ts: bars, archived ticks).

/** How a field is stored in Parquet (and so which values it takes). */
export type ColumnKind = 'string' | 'optional-string' | 'timestamp' | 'double' | 'int64' | 'int32' | 'boolean' | 'optional-boolean';

export interface RowTable<T> {
  /** What an export names it (--what). */
  name: string;
  /** Every field, in the contract's order: the CSV header and the Parquet columns. */
  fields: readonly (keyof T & string)[];
  kinds: Record<keyof T & string, ColumnKind>;
  csvRow(row: T): string;
  jsonRow(row: T): string;
}

export interface RowWriter<T> {
  /** Resolves once the page is handed on (a stream's backpressure respected). */
  write(rows: readonly T[]): Promise<void>;
  /** Writes what is held (a Parquet row group and footer) and closes the output. */
  finish(): Promise<void>;
  /** Stops without finishing: the output is left incomplete (the caller removes a file). */
  abort(): Promise<void>;
}

/** A field quoted when it holds a comma, quote or line break (RFC 4180); symbols may hold any of the first two. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
