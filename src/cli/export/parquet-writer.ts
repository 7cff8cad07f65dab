// Rows as a Parquet file (hyparquet-writer): one typed column per field of the row table — times as TIMESTAMP (µs,
// UTC), prices and volumes as DOUBLE, counts as INT64/INT32, nullable fields as OPTIONAL columns. Rows are held until a
// row group is full, then written; the footer goes on at the end.
import { fileWriter, ParquetWriter } from 'hyparquet-writer';
import type { ColumnKind, RowTable, RowWriter } from './row-writer.js';

type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]['schema'][number];

function element(name: string, kind: ColumnKind): SchemaElement {
  switch (kind) {
    case 'string':
    case 'optional-string':
      return {
        name,
        type: 'BYTE_ARRAY',
        converted_type: 'UTF8',
        logical_type: { type: 'STRING' },
        repetition_type: kind === 'string' ? 'REQUIRED' : 'OPTIONAL',
      };
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

/** The file's schema: a root, then one column per field. */
export function parquetSchema<T>(table: RowTable<T>): SchemaElement[] {
  return [{ name: 'root', num_children: table.fields.length }, ...table.fields.map((f) => element(f, table.kinds[f]))];
}

export class ParquetRowWriter<T> implements RowWriter<T> {
  private readonly writer: ParquetWriter;
  private columns: unknown[][];
  private held = 0;
  /** Per field: INT64 columns take bigints, an absent optional value is null. */
  private readonly cells: ((row: T) => unknown)[];

  constructor(
    path: string,
    private readonly rowGroupRows: number,
    private readonly table: RowTable<T>,
  ) {
    this.writer = new ParquetWriter({ writer: fileWriter(path), schema: parquetSchema(table), createdBy: 'tick-engine export (hyparquet-writer)' });
    this.columns = table.fields.map(() => []);
    this.cells = table.fields.map((f) => {
      const kind = table.kinds[f];
      if (kind === 'timestamp' || kind === 'int64') return (r: T) => BigInt(r[f] as number);
      if (kind.startsWith('optional-')) return (r: T) => r[f] ?? null;
      return (r: T) => r[f];
    });
  }

  async write(rows: readonly T[]): Promise<void> {
    for (const r of rows) {
      for (let i = 0; i < this.cells.length; i++) this.columns[i]!.push(this.cells[i]!(r));
      if (++this.held === this.rowGroupRows) await this.flush();
    }
  }

  private async flush(): Promise<void> {
    if (this.held === 0) return;
    const columnData = this.table.fields.map((name, i) => ({ name, data: this.columns[i]! as never }));
    this.columns = this.table.fields.map(() => []);
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
