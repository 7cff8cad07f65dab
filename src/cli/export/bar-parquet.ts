// Bars as a Parquet file (hyparquet-writer): one column per field of the bar contract, typed — times as TIMESTAMP
// (µs, UTC), prices and volumes as DOUBLE, counts as INT64, `complete` an optional BOOLEAN (null = unknown). Bars are
// held until a row group is full, then written; the footer goes on at the end.
import { fileWriter, ParquetWriter } from 'hyparquet-writer';
import { BAR_FIELDS, type Bar } from '../../contracts/bar.js';
import type { BarWriter } from './bar-writer.js';

type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]['schema'][number];
type ColumnKind = 'string' | 'timestamp' | 'double' | 'int64' | 'int32' | 'boolean' | 'optional-boolean';

/** Every field of the bar, in the contract's order (a test checks it against BAR_FIELDS). */
const COLUMN_KINDS = {
  symbol: 'string',
  interval: 'string',
  bucketStart: 'timestamp',
  open: 'double',
  high: 'double',
  low: 'double',
  close: 'double',
  volume: 'double',
  quoteVolume: 'double',
  vwap: 'double',
  tradeCount: 'int64',
  buyVolume: 'double',
  firstEventTime: 'timestamp',
  lastEventTime: 'timestamp',
  revision: 'int32',
  final: 'boolean',
  complete: 'optional-boolean',
} as const satisfies Record<keyof Bar, ColumnKind>;

function element(name: string, kind: ColumnKind): SchemaElement {
  switch (kind) {
    case 'string':
      return { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type: 'REQUIRED' };
    case 'timestamp':
      return {
        name,
        type: 'INT64',
        converted_type: 'TIMESTAMP_MICROS',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
        repetition_type: 'REQUIRED',
      };
    case 'double':
      return { name, type: 'DOUBLE', repetition_type: 'REQUIRED' };
    case 'int64':
      return { name, type: 'INT64', repetition_type: 'REQUIRED' };
    case 'int32':
      return { name, type: 'INT32', repetition_type: 'REQUIRED' };
    case 'boolean':
      return { name, type: 'BOOLEAN', repetition_type: 'REQUIRED' };
    case 'optional-boolean':
      return { name, type: 'BOOLEAN', repetition_type: 'OPTIONAL' };
  }
}

/** The file's schema: a root, then one column per bar field. */
export const BAR_PARQUET_SCHEMA: SchemaElement[] = [{ name: 'root', num_children: BAR_FIELDS.length }, ...BAR_FIELDS.map((f) => element(f, COLUMN_KINDS[f]))];

/** INT64 columns take bigints. */
function cell(b: Bar, field: keyof Bar): unknown {
  const kind: ColumnKind = COLUMN_KINDS[field];
  const v = b[field];
  return kind === 'timestamp' || kind === 'int64' ? BigInt(v as number) : v;
}

export class ParquetBarWriter implements BarWriter {
  private readonly writer: ParquetWriter;
  private columns: unknown[][] = BAR_FIELDS.map(() => []);
  private held = 0;

  constructor(
    path: string,
    private readonly rowGroupRows: number,
  ) {
    this.writer = new ParquetWriter({ writer: fileWriter(path), schema: BAR_PARQUET_SCHEMA, createdBy: 'tick-engine export (hyparquet-writer)' });
  }

  async write(bars: readonly Bar[]): Promise<void> {
    for (const b of bars) {
      for (let i = 0; i < BAR_FIELDS.length; i++) this.columns[i]!.push(cell(b, BAR_FIELDS[i]!));
      if (++this.held === this.rowGroupRows) await this.flush();
    }
  }

  private async flush(): Promise<void> {
    if (this.held === 0) return;
    const columnData = BAR_FIELDS.map((name, i) => ({ name, data: this.columns[i]! as never }));
    this.columns = BAR_FIELDS.map(() => []);
    const rows = this.held;
    this.held = 0;
    await this.writer.write({ columnData, rowGroupSize: rows });
  }

  async finish(): Promise<void> {
    await this.flush();
    await this.writer.finish();
  }

  async abort(): Promise<void> {
    // fileWriter writes synchronously as it goes: nothing is open between calls.
    this.columns = [];
  }
}
