import type { Db } from '../../db/client.js';
import { batchPredictionJobChunks, type Deployment, type JobSpec } from '../../db/tables.js';
import { type FieldError, MAX_ROW_ERRORS, type Result, ValidationError } from '../../errors.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../formats/bytes.js';
import { csvRecords } from '../../formats/csv.js';
import { unstorableText } from '../../validation.js';
import { MAX_ASSOCIATION_ID_LENGTH, normalizeFeatures, type RowContext } from '../rows/normalize.js';
import { targetShape } from '../rows/shape.js';
import { passthroughIndexes } from './output.js';
import { chunkBytes, MAX_CHUNK_ROWS } from './spec.js';

// A job's input file into PostgreSQL: read as it streams, checked row by row (cell counts, the
// deployment's features, their values), and stored in row-aligned chunks of about chunkSize bytes
// of input, each its own row in batch_prediction_job_chunks — so any instance can score any chunk.
// A chunk keeps what scoring and the output need (validated features, passthrough cells), not the
// CSV text. The caller's transaction makes it all or nothing.

/**
 * Association ids of one file remembered to name a repeated one by both lines; past this (memory
 * stays bounded) the predictions' unique index refuses a repeat when its chunk is stored.
 */
const MAX_TRACKED_ASSOCIATION_IDS = 100_000;

export interface StoredInput {
  columns: string[];
  rows: number;
  chunks: number;
}

/**
 * A chunk as stored (JSON): its rows' features already validated and converted (numbers for
 * numeric features), as columns in the deployment's feature order — what the backend request is
 * built from, with no parsing or checking left to do — and the cells of the passthrough columns.
 */
export interface StoredChunk {
  /** features[i][r]: feature i of row r. */
  features: (number | string | null)[][];
  /** passthrough[r]: row r's cells of the passthrough columns (passthroughIndexes order). */
  passthrough: (string | null)[][];
  /**
   * associationIds[r]: row r's association id, from the deployment's association id column (null
   * for an empty cell). Absent when the deployment names no such column or the input lacks it.
   */
  associationIds?: (string | null)[];
}

/** Collects a chunk's rows as StoredChunk columns. */
class ChunkBuilder {
  features: (number | string | null)[][];
  passthrough: (string | null)[][] = [];
  associationIds: (string | null)[] | undefined;
  rows = 0;
  bytes = 0;
  firstLine = 0;

  constructor(
    private readonly names: string[],
    withAssociationIds: boolean,
  ) {
    this.features = names.map(() => []);
    if (withAssociationIds) this.associationIds = [];
  }

  add(
    line: number,
    features: Record<string, number | string | null>,
    passthrough: (string | null)[],
    associationId: string | null,
    bytes: number,
  ): void {
    if (this.rows === 0) this.firstLine = line;
    for (let i = 0; i < this.names.length; i++) this.features[i]!.push(features[this.names[i]!] ?? null);
    this.passthrough.push(passthrough);
    this.associationIds?.push(associationId);
    this.rows++;
    this.bytes += bytes;
  }

  text(): string {
    const chunk: StoredChunk = { features: this.features, passthrough: this.passthrough };
    if (this.associationIds) chunk.associationIds = this.associationIds;
    return JSON.stringify(chunk);
  }
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
  let passthrough: number[] = [];
  /** The deployment's association id column among the columns; -1 when it names none or the input lacks it. */
  let associationIndex = -1;
  const seenAssociationIds = new Map<string, number>();
  const names = deployment.features.map((f) => f.name);
  let pending = new ChunkBuilder(names, false);
  let rows = 0;
  let chunks = 0;
  // A chunk's insert runs while the next chunk is read (at most one in flight): parsing and
  // PostgreSQL's work overlap. Statements on the transaction's connection run in order.
  let inFlight: Promise<unknown> = Promise.resolve();
  const flush = async () => {
    if (!pending.rows) return;
    await inFlight;
    inFlight = db
      .insert(batchPredictionJobChunks)
      .values({
        jobId: job.id,
        chunk: chunks,
        deploymentId: job.deploymentId,
        firstLine: pending.firstLine,
        rowCount: pending.rows,
        input: pending.text(),
      })
      .then();
    // A failed insert must not go unhandled while it waits for the next flush.
    inFlight.catch(() => {});
    chunks++;
    pending = new ChunkBuilder(names, associationIndex !== -1);
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
      passthrough = passthroughIndexes(job.spec, columns);
      associationIndex = deployment.associationIdColumn ? columns.indexOf(deployment.associationIdColumn) : -1;
      pending = new ChunkBuilder(names, associationIndex !== -1);
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
    const valid = normalizeFeatures(shape, features, `line ${record.line}`, context, refusal);
    if (!valid) {
      const error = refusal.error!;
      errors.push({ field: error.field.replace('.features.', '.'), message: error.message });
      if (errors.length >= MAX_ROW_ERRORS) break;
      continue;
    }
    let associationId: string | null = null;
    if (associationIndex !== -1) {
      const checked = checkAssociationId(cells[associationIndex] ?? null, record.line, seenAssociationIds);
      if (typeof checked === 'object' && checked !== null) {
        errors.push({ field: `line ${record.line}.${deployment.associationIdColumn}`, message: checked.error });
        if (errors.length >= MAX_ROW_ERRORS) break;
        continue;
      }
      associationId = checked;
    }
    if (errors.length) continue; // keep checking to name more rows; store nothing more
    let bytes = cells.length;
    for (const cell of cells) bytes += cell?.length ?? 0;
    pending.add(
      record.line,
      valid,
      passthrough.map((i) => cells[i] ?? null),
      associationId,
      bytes,
    );
    rows++;
    if (pending.bytes >= target || pending.rows >= MAX_CHUNK_ROWS) await flush();
  }
  if (errors.length) return new ValidationError(errors);
  if (columns === null) return ValidationError.of('file', 'is empty: a CSV file with a header row and at least one row is needed');
  if (rows === 0) return ValidationError.of('file', 'has a header but no rows to score');
  await flush();
  await inFlight;
  return { columns, rows, chunks };
}

/** A cell of the association id column as the id to record (null when empty), or what is wrong with it. */
function checkAssociationId(cell: string | null, line: number, seen: Map<string, number>): string | null | { error: string } {
  if (cell === null || cell === '') return null;
  if (cell.length > MAX_ASSOCIATION_ID_LENGTH) return { error: `must be at most ${MAX_ASSOCIATION_ID_LENGTH} characters` };
  const unstorable = unstorableText(cell);
  if (unstorable) return { error: unstorable };
  const earlier = seen.get(cell);
  if (earlier !== undefined) return { error: `repeats the association id of line ${earlier}` };
  if (seen.size < MAX_TRACKED_ASSOCIATION_IDS) seen.set(cell, line);
  return cell;
}
