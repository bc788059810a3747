import { isUtf8 } from 'node:buffer';
import type { Deployment } from '../../db/tables.js';
import { type DomainError, isError, MAX_ROW_ERRORS, type Result, ValidationError } from '../../errors.js';
import { DEFAULT_MAX_LINE_BYTES, type ParsedItem } from '../../formats/bytes.js';
import { csvRecords } from '../../formats/csv.js';
import { BodyTooLargeError, readBody } from '../../rest/body.js';
import { errorResponse, HttpError, type RestRequest, type RestResponse, type Route } from '../../rest/kit.js';
import { getBatchDeployment } from '../deployments/service.js';
import { type BatchTarget, checkIngestBatch } from '../predictions/batch-target.js';
import { BATCH_ID_HEADER } from '../predictions/rest.js';
import { ingestPredictions, reportDeploymentStats } from '../predictions/service.js';
import { MAX_ROWS_PER_REPORT } from '../rows/normalize.js';
import { targetShape } from '../rows/shape.js';
import { backendOf } from './backend.js';
import { ingestItem, predictionValues, type ScoredRow, scoreFeatures, validateFeatures } from './score.js';

// DataRobot's real-time prediction route: rows in (CSV or JSON records), scored by the deployment's
// model backend, answered in DataRobot's shape, and stored with the request's statistics in one
// ingest transaction. Whatever would refuse the rows' batch is found before the backend is called.

/** Largest request body, as DataRobot's real-time prediction API (50 MB); larger sets go to batch prediction jobs. */
export const MAX_REALTIME_BODY_BYTES = 50 * 1024 * 1024;
/** Most columns `passthroughColumns` may name, as DataRobot. */
const MAX_PASSTHROUGH_COLUMNS = 100;

/** Our field names → the request's: the batch is named by a header or a query parameter. */
const fail = (error: DomainError) =>
  errorResponse(error, { batchId: 'X-DataRobot-Model-Monitoring-Batch-Id', batchPrefix: 'monitoringBatchPrefix' });

interface ScoringInput {
  /** One per row, column name → value as sent (CSV cells are strings, empty → null). */
  records: Record<string, unknown>[];
  /** How errors name row i: `rows.3` (JSON) or `line 4` (CSV). */
  where: (index: number) => string;
  /** Columns of the input: the CSV header, or every key of any JSON record. */
  columns: Set<string>;
}

/** The batch named by the header or `?monitoringBatchPrefix=`; neither: the deployment's unassigned batch of the day. */
function batchTargetOf(req: RestRequest): BatchTarget {
  const header = req.raw.headers[BATCH_ID_HEADER];
  return { batchId: (Array.isArray(header) ? header[0] : header) ?? null, batchPrefix: req.query.get('monitoringBatchPrefix') };
}

/** The body as rows: CSV (`text/csv`, `text/plain`) or a JSON list of records (`application/json`). */
async function readScoringInput(req: RestRequest): Promise<Result<ScoringInput>> {
  const type = (req.raw.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const csv = type === 'text/csv' || type === 'text/plain';
  if (!csv && type !== 'application/json') {
    throw new HttpError(
      415,
      `Content-Type must be text/csv, text/plain (CSV) or application/json (a list of records), got ${type || 'none'}`,
    );
  }
  const bytes = await readBody(req.raw, MAX_REALTIME_BODY_BYTES).catch((error: unknown) => {
    if (error instanceof BodyTooLargeError) {
      throw new HttpError(
        413,
        `Request body is larger than the real-time limit of ${MAX_REALTIME_BODY_BYTES} bytes (50 MB); use a batch prediction job`,
      );
    }
    throw error;
  });
  return csv ? csvInput(bytes) : jsonInput(bytes);
}

async function* oneChunk(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

async function csvInput(bytes: Buffer): Promise<Result<ScoringInput>> {
  let header: string[] | null = null;
  const records: Record<string, unknown>[] = [];
  const lines: number[] = [];
  const errors: { field: string; message: string }[] = [];
  for await (const record of csvRecords(oneChunk(bytes), DEFAULT_MAX_LINE_BYTES)) {
    const where = `line ${record.line}`;
    if ('error' in record) errors.push({ field: where, message: record.error });
    else if (header === null) {
      header = record.cells.map((cell) => cell?.trim() ?? '');
      const problem = headerProblem(header);
      if (problem) return ValidationError.of(where, problem);
    } else if (record.cells.length !== header.length) {
      errors.push({ field: where, message: `has ${record.cells.length} cells, but the header has ${header.length} columns` });
    } else {
      const cells = record.cells;
      records.push(Object.fromEntries(header.map((name, i) => [name, cells[i]])));
      lines.push(record.line);
    }
    if (errors.length >= MAX_ROW_ERRORS) break;
  }
  if (errors.length) return new ValidationError(errors);
  if (header === null) return ValidationError.of('body', 'must be CSV with a header row naming the columns');
  return { records, where: (i) => `line ${lines[i]}`, columns: new Set(header) };
}

function headerProblem(header: string[]): string | null {
  const seen = new Set<string>();
  for (let i = 0; i < header.length; i++) {
    const name = header[i]!;
    if (name === '') return `column ${i + 1} of the header is empty`;
    if (seen.has(name)) return `column ${JSON.stringify(name)} appears more than once in the header`;
    seen.add(name);
  }
  return null;
}

function jsonInput(bytes: Buffer): Result<ScoringInput> {
  if (!isUtf8(bytes)) throw new HttpError(400, 'Request body is not valid UTF-8');
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new HttpError(400, `Request body is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(body)) return ValidationError.of('body', 'must be a JSON list of rows, each an object of column values');
  const columns = new Set<string>();
  const errors: { field: string; message: string }[] = [];
  body.forEach((row: unknown, i) => {
    if (row === null || typeof row !== 'object' || Array.isArray(row))
      errors.push({ field: `rows.${i}`, message: 'must be an object of column values' });
    else for (const key of Object.keys(row)) columns.add(key);
  });
  if (errors.length) return new ValidationError(errors.slice(0, MAX_ROW_ERRORS));
  return { records: body as Record<string, unknown>[], where: (i) => `rows.${i}`, columns };
}

/**
 * `passthroughColumns` (repeated, or a comma list: a value that is itself a column name is taken
 * whole) or `passthroughColumnsSet=all`: the input columns answered back with each row; null: none.
 */
function passthroughColumns(req: RestRequest, input: ScoringInput): Result<string[] | null> {
  const set = req.query.get('passthroughColumnsSet');
  const named = req.query.getAll('passthroughColumns');
  if (set !== null) {
    if (named.length) return ValidationError.of('passthroughColumns', 'give either passthroughColumns or passthroughColumnsSet, not both');
    if (set !== 'all') return ValidationError.of('passthroughColumnsSet', 'must be "all"');
    return [...input.columns];
  }
  if (!named.length) return null;
  const columns = [
    ...new Set(named.flatMap((value) => (input.columns.has(value) ? [value] : value.split(',').map((c) => c.trim())))),
  ].filter((c) => c !== '');
  if (columns.length > MAX_PASSTHROUGH_COLUMNS) {
    return ValidationError.of('passthroughColumns', `must name at most ${MAX_PASSTHROUGH_COLUMNS} columns (got ${columns.length})`);
  }
  const missing = columns.filter((c) => !input.columns.has(c));
  if (missing.length)
    return ValidationError.of('passthroughColumns', `not in the data: ${missing.map((c) => JSON.stringify(c)).join(', ')}`);
  return columns;
}

/** The rows, validated, and the columns to pass through; or why the request's content is refused. */
async function readRequest(req: RestRequest, deployment: Deployment) {
  const input = await readScoringInput(req);
  if (isError(input)) return input;
  if (input.records.length === 0) return ValidationError.of('rows', 'the request holds no rows');
  const passthrough = passthroughColumns(req, input);
  if (isError(passthrough)) return passthrough;
  const valid = validateFeatures(targetShape(deployment), input.records, input.where);
  if (isError(valid)) return valid;
  return { records: input.records, features: valid.features, passthrough };
}

/**
 * A request refused for its content (userError) or failed by the backend (systemError) still counts
 * in the batch it named, so service health's error rates show it. A batch is not created for it from
 * a prefix; without a batch it counts in the day's unassigned batch. A batch that refuses it now
 * (locked since the check) leaves it uncounted: the client's answer is the failure either way.
 */
async function countFailedRequest(req: RestRequest, deploymentId: string, target: BatchTarget, kind: 'user' | 'system') {
  if (target.batchPrefix) return;
  await reportDeploymentStats(req.ctx.app.db, req.ctx.viewer, {
    deploymentId,
    batchId: target.batchId,
    numPredictions: 0,
    executionTimeMs: null,
    userError: kind === 'user',
    systemError: kind === 'system',
  });
}

/** The rows for ingest. They were validated before scoring, so ingest names none of them (it would say `line <n>`). */
async function* ingestItems(rows: ScoredRow[]): AsyncGenerator<ParsedItem> {
  for (let i = 0; i < rows.length; i++) yield { line: i + 1, item: ingestItem(rows[i]!) };
}

/** The row's values of `columns`; a JSON record without one answers null (an own key only: not `constructor` of Object). */
function passthroughValues(record: Record<string, unknown>, columns: string[]): Record<string, unknown> {
  return Object.fromEntries(columns.map((c) => [c, Object.hasOwn(record, c) ? record[c] : null]));
}

function predictionsJson(deployment: Deployment, rows: ScoredRow[], records: Record<string, unknown>[], passthrough: string[] | null) {
  const threshold = deployment.targetType === 'BINARY' ? { predictionThreshold: deployment.predictionThreshold } : {};
  return {
    data: rows.map((row, rowId) => ({
      rowId,
      prediction: row.prediction,
      predictionValues: predictionValues(deployment, row),
      ...threshold,
      ...(passthrough ? { passthroughValues: passthroughValues(records[rowId]!, passthrough) } : {}),
    })),
  };
}

async function realtimePredictions(req: RestRequest): Promise<RestResponse> {
  const { db, pg } = req.ctx.app;
  const viewer = req.ctx.viewer;
  const deployment = await getBatchDeployment(db, viewer, req.params.deploymentId!);
  if (isError(deployment)) return fail(deployment);
  const backend = backendOf(deployment);
  if (isError(backend)) return fail(backend);
  const target = batchTargetOf(req);
  const refused = await checkIngestBatch(db, viewer, deployment, target);
  if (isError(refused)) return fail(refused);

  const request = await readRequest(req, deployment);
  if (isError(request)) {
    await countFailedRequest(req, deployment.id, target, 'user');
    return fail(request);
  }
  const scored = await scoreFeatures(deployment, backend, request.features);
  if (isError(scored)) {
    await countFailedRequest(req, deployment.id, target, 'system');
    return fail(scored);
  }
  const stored = await ingestPredictions(pg, viewer, {
    deploymentId: deployment.id,
    ...target,
    // A list (up to the report cap) tells ingest no row carries an association id to join: fewer statements.
    items: scored.rows.length <= MAX_ROWS_PER_REPORT ? scored.rows.map((row) => ingestItem(row)) : ingestItems(scored.rows),
    itemPath: 'rows',
    request: { executionTimeMs: scored.backendMs },
  });
  if (isError(stored)) return fail(stored);
  return {
    status: 200,
    headers: { 'x-datarobot-execution-time': String(Math.round(scored.backendMs)) },
    body: predictionsJson(deployment, scored.rows, request.records, request.passthrough),
  };
}

export const scoringRoutes: Route[] = [
  { method: 'POST', path: '/predApi/v1.0/deployments/:deploymentId/predictions', handler: realtimePredictions },
  { method: 'POST', path: '/api/v2/deployments/:deploymentId/predictions', handler: realtimePredictions },
];
