import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { ExportColumnType, ExportPlan } from './columns.js';
import type { ExportSnapshot } from './snapshot.js';

// Parquet for an export (C12), written by hyparquet-writer one row group at a time: a row group's
// columns are gathered from the snapshot, encoded (Snappy), and their bytes handed on before the
// next group is read, so memory holds one row group whatever the size of the selection.

type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]['schema'][number];

const PARQUET_TYPES: Record<ExportColumnType, Omit<SchemaElement, 'name'>> = {
  STRING: { type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  DOUBLE: { type: 'DOUBLE', repetition_type: 'OPTIONAL' },
  TIMESTAMP: { type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type: 'OPTIONAL' },
  BOOLEAN: { type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
};

export function parquetSchema(plan: ExportPlan): SchemaElement[] {
  return [
    { name: 'root', num_children: plan.columns.length },
    ...plan.columns.map((c) => ({ name: c.name, ...PARQUET_TYPES[c.type] }) as SchemaElement),
  ];
}

/** Rows fetched from PostgreSQL per round trip while a row group fills. */
const FETCH_ROWS = 5000;

/** The file's bytes, a row group (and at the end the footer) at a time. */
export async function* parquetChunks(snapshot: ExportSnapshot, plan: ExportPlan, rowGroupRows: number): AsyncGenerator<Buffer> {
  const bytes = new ByteWriter();
  const writer = new ParquetWriter({ writer: bytes, schema: parquetSchema(plan), createdBy: 'batchlens' });
  const take = (): Buffer => {
    const chunk = Buffer.from(bytes.buffer.slice(0, bytes.index));
    bytes.index = 0;
    return chunk;
  };
  const width = plan.columns.length;
  // Preallocated per row group, refilled in place: no growing arrays, no new ones per group.
  const columns: unknown[][] = plan.columns.map(() => new Array<unknown>(rowGroupRows));
  let filled = 0;
  const flushGroup = (): Buffer => {
    writer.write({
      columnData: plan.columns.map((c, i) => ({
        name: c.name,
        data: (filled === rowGroupRows ? columns[i]! : columns[i]!.slice(0, filled)) as never,
      })),
      rowGroupSize: filled,
    });
    filled = 0;
    return take();
  };
  for await (const page of snapshot.values(plan, FETCH_ROWS)) {
    for (const row of page.rows) {
      let s = 0;
      for (let c = 0; c < width; c++) {
        const field = plan.columns[c]!.batchField;
        columns[c]![filled] = field === 'id' ? page.batch.id : field === 'name' ? page.batch.name : row[s++];
      }
      if (++filled >= rowGroupRows) yield flushGroup();
    }
  }
  if (filled > 0) yield flushGroup();
  writer.finish();
  yield take();
}
