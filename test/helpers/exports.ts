import http from 'node:http';
import { tableFromIPC } from 'apache-arrow';
import { parse } from 'csv-parse/sync';
import { ParquetFile, readParquet } from 'parquet-wasm';
import type { Endpoint } from './graphql.js';
import type { FeatureValue, Row } from './ingest-data.js';

// Reading export files back with libraries independent of the writers: csv-parse for CSV (the
// server's CSV comes from PostgreSQL's COPY) and parquet-wasm (Rust's arrow-rs / parquet crates)
// with apache-arrow for Parquet (the server writes it with hyparquet-writer).

export const exportsPath = (deploymentId: string) => `/api/v2/deployments/${deploymentId}/predictionDataExports/`;
export const batchDownloadPath = (deploymentId: string, batchId: string, query = '') =>
  `/api/v2/deployments/${deploymentId}/monitoringBatches/${batchId}/predictions/${query}`;

export interface Download {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A GET whose body is kept as bytes. */
export function download(target: Endpoint, path: string, token: string | null = target.adminToken): Promise<Download> {
  return new Promise((resolve, reject) => {
    const req = http.get(new URL(path, target.url), { headers: token ? { authorization: `Bearer ${token}` } : {}, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** CSV → header and records of strings; an empty unquoted cell is null (PostgreSQL's NULL), `""` is ''. */
export function readCsv(bytes: Buffer): { header: string[]; rows: (string | null)[][] } {
  const records = parse(bytes, {
    relax_column_count: false,
    cast: (value, context) => (value === '' && !context.quoting ? null : value),
  }) as (string | null)[][];
  const [header, ...rows] = records;
  return { header: header as string[], rows };
}

/** Parquet → column names, their Arrow types and rows of plain JS values (Dates as epoch ms). */
export async function readParquetFile(bytes: Buffer): Promise<{ header: string[]; types: string[]; rows: unknown[][]; rowGroups: number }> {
  const wasmTable = readParquet(new Uint8Array(bytes));
  const table = tableFromIPC(wasmTable.intoIPCStream());
  const fields = table.schema.fields;
  const columns = fields.map((f) => table.getChild(f.name)!.toArray() as ArrayLike<unknown>);
  const rows = Array.from({ length: table.numRows }, (_, r) =>
    fields.map((f, c) => {
      const vector = table.getChild(f.name)!;
      const value = vector.isValid(r) ? (columns[c]![r] ?? vector.get(r)) : null;
      return typeof value === 'bigint' ? Number(value) : value;
    }),
  );
  return { header: fields.map((f) => f.name), types: fields.map((f) => String(f.type)), rows, rowGroups: await rowGroupCount(bytes) };
}

/** Row groups in the file's footer, as parquet-wasm reads it. */
async function rowGroupCount(bytes: Buffer): Promise<number> {
  const file = await ParquetFile.fromFile(new Blob([new Uint8Array(bytes)]));
  return file.metadata().numRowGroups();
}

/** What a regression row (features age, city) must look like in an export, in column order. */
export interface ExpectedRow {
  batchId: string;
  batchName: string;
  modelId: string;
  row: Row;
  actual?: { value: number | string; timestamp: string; wasActedOn: boolean } | undefined;
}

export const featureCell = (value: FeatureValue | undefined): string | null =>
  value === null || value === undefined || value === '' ? null : String(value);
