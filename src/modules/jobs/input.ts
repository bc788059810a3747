import type { Db } from '../../db/client.js';
import { batchPredictionJobChunks, type Deployment, type JobSpec } from '../../db/tables.js';
import { type FieldError, MAX_ROW_ERRORS, type Result, ValidationError } from '../../errors.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../formats/bytes.js';
import { CsvReader, csvCell, csvRecords } from '../../formats/csv.js';
import { normalizeFeatures, type RowContext } from '../rows/normalize.js';
import { targetShape } from '../rows/shape.js';
import { chunkBytes, MAX_CHUNK_ROWS } from './spec.js';

// A job's input file into PostgreSQL: read as it streams, checked row by row (cell counts, the
// deployment's features, their values), and stored in row-aligned chunks of about chunkSize bytes,
// each its own row in batch_prediction_job_chunks — so any instance can score any chunk. The
// caller's transaction makes it all or nothing.

export interface StoredInput {
  columns: string[];
  rows: number;
  chunks: number;
}

/** A chunk's rows as stored: CSV lines without the header. */
function chunkText(rows: (string | null)[][]): string {
  let text = '';
  for (const cells of rows) text += `${cells.map(csvCell).join(',')}\n`;
  return text;
}

/** The input's records, as CSV cells, of a stored chunk. */
export function chunkRows(text: string): (string | null)[][] {
  const rows: (string | null)[][] = [];
  const reader = new CsvReader(Number.MAX_SAFE_INTEGER);
  reader.feed(Buffer.from(text, 'utf8'));
  for (let record = reader.next(); record; record = reader.next()) if ('cells' in record) rows.push(record.cells);
  const last = reader.finish();
  if (last && 'cells' in last) rows.push(last.cells);
  return rows;
}

/** What is wrong with a header for this deployment and spec, or null. */
function headerProblems(deployment: Deployment, spec: JobSpec, columns: string[]): FieldError[] {
  const problems: FieldError[] = [];
  const present = new Set(columns);
  const missing = deployment.features.filter((f) => !present.has(f.name)).map((f) => f.name);
  if (missing.length)
    problems.push({ field: 'line 1', message: `misses the feature columns ${missing.map((m) => JSON.stringify(m)).join(', ')}` });
  const repeated = columns.filter((c, i) => columns.indexOf(c) !== i);
  if (repeated.length)
    problems.push({ field: 'line 1', message: `repeats the columns ${[...new Set(repeated)].map((m) => JSON.stringify(m)).join(', ')}` });
  const absent = (spec.passthroughColumns ?? []).filter((c) => !present.has(c));
  if (absent.length)
    problems.push({
      field: 'passthroughColumns',
      message: `names columns the input does not have: ${absent.map((m) => JSON.stringify(m)).join(', ')}`,
    });
  return problems;
}

/**
 * Reads `body` (CSV bytes) and stores it as the job's chunks with `db` (the caller's transaction).
 * A refusal names the line (and feature) at fault; the caller rolls back.
 */
export async function storeInput(
  db: Db,
  job: { id: string; deploymentId: string; spec: JobSpec },
  deployment: Deployment,
  body: AsyncIterable<Buffer | Uint8Array | string>,
): Promise<Result<StoredInput>> {
  const shape = targetShape(deployment);
  const context: RowContext = { unknownFeatures: new Set() };
  const refusal: { error: FieldError | null } = { error: null };
  const target = chunkBytes(job.spec);
  const errors: FieldError[] = [];
  let columns: string[] | null = null;
  /** Where each of the deployment's features is among the columns (found once, from the header). */
  let featureIndexes: number[] = [];
  let pending: (string | null)[][] = [];
  let pendingBytes = 0;
  let firstLine = 0;
  let rows = 0;
  let chunks = 0;
  const flush = async () => {
    if (!pending.length) return;
    await db.insert(batchPredictionJobChunks).values({
      jobId: job.id,
      chunk: chunks,
      deploymentId: job.deploymentId,
      firstLine,
      rowCount: pending.length,
      input: chunkText(pending),
    });
    chunks++;
    pending = [];
    pendingBytes = 0;
  };
  for await (const record of csvRecords(body, DEFAULT_MAX_LINE_BYTES)) {
    if ('error' in record) {
      errors.push({ field: `line ${record.line}`, message: record.error });
      if (errors.length >= MAX_ROW_ERRORS || columns === null) break;
      continue;
    }
    if (columns === null) {
      columns = record.cells.map((c) => c ?? '');
      const problems = headerProblems(deployment, job.spec, columns);
      if (problems.length) return new ValidationError(problems);
      featureIndexes = deployment.features.map((f) => columns!.indexOf(f.name));
      continue;
    }
    const cells = record.cells;
    if (cells.length !== columns.length) {
      errors.push({ field: `line ${record.line}`, message: `has ${cells.length} cells, but the header has ${columns.length} columns` });
      if (errors.length >= MAX_ROW_ERRORS) break;
      continue;
    }
    const features: Record<string, string | null> = {};
    for (let i = 0; i < featureIndexes.length; i++) features[deployment.features[i]!.name] = cells[featureIndexes[i]!] ?? null;
    if (!normalizeFeatures(shape, features, `line ${record.line}`, context, refusal)) {
      const error = refusal.error!;
      errors.push({ field: error.field.replace('.features.', '.'), message: error.message });
      if (errors.length >= MAX_ROW_ERRORS) break;
      continue;
    }
    if (errors.length) continue; // keep checking to name more rows; store nothing more
    if (!pending.length) firstLine = record.line;
    pending.push(cells);
    rows++;
    for (const cell of cells) pendingBytes += (cell?.length ?? 0) + 1;
    if (pendingBytes >= target || pending.length >= MAX_CHUNK_ROWS) await flush();
  }
  if (errors.length) return new ValidationError(errors);
  if (columns === null) return ValidationError.of('file', 'is empty: a CSV file with a header row and at least one row is needed');
  if (rows === 0 && !pending.length) return ValidationError.of('file', 'has a header but no rows to score');
  await flush();
  return { columns, rows, chunks };
}
