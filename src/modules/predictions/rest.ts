import { type DomainError, isError, ValidationError } from '../../errors.js';
import type { ParsedItem } from '../../formats/bytes.js';
import { errorResponse, objectBody, type RestRequest, type RestResponse, type Route } from '../../rest/kit.js';
import { getDeployment } from '../deployments/service.js';
import { uploadItems } from '../rows/rest.js';
import { type IngestSummary, ingestPredictions, reportDeploymentStats } from './service.js';

// The agent's routes (DataRobot MLOps wire format) and the bulk upload, on the ingest service.

export const BATCH_ID_HEADER = 'x-datarobot-model-monitoring-batch-id';

const fail = (error: DomainError) => errorResponse(error, { batchPrefix: 'monitoringBatchPrefix' });

/**
 * The batch named by the body, the header or `?monitoringBatchPrefix=` (in that order). A batch id
 * that is not a string is refused (String() would turn `{}` into "[object Object]", a 404 that hides
 * the client's mistake).
 */
function batchTarget(
  req: RestRequest,
  body: Record<string, unknown>,
): { batchId: string | null; batchPrefix: string | null } | ValidationError {
  const header = req.raw.headers[BATCH_ID_HEADER];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  const batchId = body.batchId ?? fromHeader ?? null;
  if (batchId !== null && typeof batchId !== 'string') return ValidationError.of('batchId', 'must be a string');
  return { batchId, batchPrefix: req.query.get('monitoringBatchPrefix') };
}

function summaryJson(summary: IngestSummary) {
  return {
    batchId: summary.batch.id,
    batchName: summary.batch.name,
    rowCount: summary.rowCount,
    predictionsCount: summary.batch.predictionCount,
    unknownFeatures: summary.unknownFeatures,
    actualsJoined: summary.actualsJoined,
  };
}

/** Largest execution time accepted, as on the stats route (reportDeploymentStats). */
const MAX_EXECUTION_TIME_MS = 1e10;

/** A decimal number ≥ 0 from the query (Number() alone would also take "0x10", " ", "1e400" → Infinity). */
function numberParam(req: RestRequest, name: string, max: number): number | null | ValidationError {
  const raw = req.query.get(name);
  if (raw === null || raw === '') return null;
  const value = /^\+?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(value)) return ValidationError.of(name, 'must be a decimal number ≥ 0');
  return value <= max ? value : ValidationError.of(name, `must be at most ${max}`);
}

/**
 * The parsed upload, plus an error item when it holds no row at all (empty, blank lines only, or a
 * CSV header alone): the service accepts zero rows when it records a request, but an upload of
 * nothing is a client mistake, and storing "a request of 0 predictions" for it would be wrong.
 */
/**
 * An upload's rows, each added to the request's row budget as it is read (a budget running out
 * throws, and the ingest rolls back); an upload without rows is one refusal.
 */
async function* uploadRows(items: AsyncIterable<ParsedItem>, rows: RestRequest['rows']): AsyncGenerator<ParsedItem> {
  let any = false;
  for await (const item of items) {
    any = true;
    const charging = rows.add();
    if (charging) await charging;
    yield item;
  }
  await rows.settle();
  if (!any) yield { line: 1, error: 'the upload has no prediction rows' };
}

async function bulkUpload(req: RestRequest): Promise<RestResponse> {
  const executionTimeMs = numberParam(req, 'executionTimeMs', MAX_EXECUTION_TIME_MS);
  if (isError(executionTimeMs)) return fail(executionTimeMs);
  const { db, pg } = req.ctx.app;
  const deployment = await getDeployment(db, req.ctx.viewer, req.params.deploymentId!);
  if (isError(deployment)) return fail(deployment);
  const items = uploadRows(uploadItems(req, deployment), req.rows);
  const summary = await ingestPredictions(pg, req.ctx.viewer, {
    deploymentId: deployment.id,
    batchId: req.params.batchId,
    modelId: req.query.get('modelId'),
    items,
    itemPath: 'data',
    request: { executionTimeMs },
  });
  return isError(summary) ? fail(summary) : { status: 200, body: summaryJson(summary) };
}

export const predictionRoutes: Route[] = [
  {
    // The agent's prediction data: rows only (its request statistics come through predictionRequests).
    method: 'POST',
    path: '/api/v2/deployments/:deploymentId/predictionInputs/fromJSON/',
    ingest: true,
    handler: async (req) => {
      const body = objectBody(await req.json());
      if (isError(body)) return fail(body);
      if (!Array.isArray(body.data)) return fail(ValidationError.of('data', 'must be a list of prediction rows'));
      const target = batchTarget(req, body);
      if (isError(target)) return fail(target);
      await req.rows.charge(body.data.length);
      const summary = await ingestPredictions(req.ctx.app.pg, req.ctx.viewer, {
        deploymentId: req.params.deploymentId!,
        ...target,
        modelId: body.modelId as string | null | undefined,
        items: body.data,
        itemPath: 'data',
        request: null,
      });
      return isError(summary) ? fail(summary) : { status: 202, body: summaryJson(summary) };
    },
  },
  {
    // The agent's request statistics (report_deployment_stats).
    method: 'POST',
    path: '/api/v2/deployments/:deploymentId/predictionRequests/fromJSON/',
    ingest: true, // statistics of requests, no rows
    handler: async (req) => {
      const body = objectBody(await req.json());
      if (isError(body)) return fail(body);
      const target = batchTarget(req, body);
      if (isError(target)) return fail(target);
      const result = await reportDeploymentStats(req.ctx.app.db, req.ctx.viewer, {
        deploymentId: req.params.deploymentId!,
        ...target,
        numPredictions: body.numPredictions,
        executionTimeMs: body.executionTimeMs,
        userError: body.userError,
        systemError: body.systemError,
        modelId: body.modelId,
      });
      return isError(result) ? fail(result) : { status: 202, body: { batchId: result.batch.id, batchName: result.batch.name } };
    },
  },
  {
    // Bulk, streamed: NDJSON or CSV of any size, written with COPY, memory bounded.
    method: 'POST',
    path: '/api/v2/deployments/:deploymentId/monitoringBatches/:batchId/predictions/',
    handler: bulkUpload,
    ingest: true,
  },
];
