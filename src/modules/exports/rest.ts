import { createReadStream } from 'node:fs';
import type { DataExport } from '../../db/tables.js';
import { type FieldError, isError, ValidationError } from '../../errors.js';
import {
  COMPLETED_STATUS_PREFIX,
  errorResponse,
  objectBody,
  offsetLimit,
  offsetPageAnswer,
  type RestRequest,
  type RestResponse,
  type Route,
} from '../../rest/kit.js';
import { getBatch } from '../batches/service.js';
import { getDeployment } from '../deployments/service.js';
import {
  createDataExport,
  downloadPath,
  EXPORT_STATUSES,
  type ExportFormat,
  exportBytes,
  exportFile,
  exportPath,
  exportProgress,
  FORMAT_FILES,
  getDataExport,
  isExpired,
  listDataExports,
  streamingSlots,
  takeStreamingSlot,
} from './service.js';

// Data exports over REST: DataRobot's prediction data export routes (`predictionDataExports`,
// answered in its shape plus our fields), our download of the file, the status route its clients
// poll after a 202, and a direct streamed download of one batch's predictions.

const EXPORTS_PATH = '/api/v2/deployments/:deploymentId/predictionDataExports';

export function exportJson(exp: DataExport) {
  const ready = exp.status === 'SUCCEEDED' && !isExpired(exp);
  return {
    id: exp.id,
    deploymentId: exp.deploymentId,
    modelId: exp.modelId,
    createdAt: exp.createdAt.toISOString(),
    createdBy: { id: exp.createdById },
    period: { start: exp.periodStart?.toISOString() ?? null, end: exp.periodEnd?.toISOString() ?? null },
    status: exp.status,
    error: exp.error ? { message: exp.error } : null,
    batches: { batchIds: exp.batchIds },
    data: ready ? [{ id: exp.id, name: `${exp.id}.${FORMAT_FILES[exp.format].extension}` }] : [],
    format: exp.format.toLowerCase(),
    includeActuals: exp.includeActuals,
    rowCount: exp.rowCount,
    rowsWritten: exp.rowsWritten,
    progress: exportProgress(exp),
    sizeBytes: exp.sizeBytes,
    downloadUrl: ready ? downloadPath(exp) : null,
    expiresAt: exp.expiresAt?.toISOString() ?? null,
    expired: isExpired(exp),
    startedAt: exp.startedAt?.toISOString() ?? null,
    finishedAt: exp.finishedAt?.toISOString() ?? null,
  };
}

/** `csv` / `parquet` in any case; undefined → CSV. */
function formatOf(raw: unknown, field: string, errors: FieldError[]): ExportFormat {
  if (raw === undefined || raw === null) return 'CSV';
  const upper = typeof raw === 'string' ? raw.toUpperCase() : '';
  if (upper === 'CSV' || upper === 'PARQUET') return upper;
  errors.push({ field, message: 'must be csv or parquet' });
  return 'CSV';
}

function booleanOf(raw: unknown, field: string, errors: FieldError[]): boolean {
  if (raw === undefined || raw === null) return false;
  if (typeof raw === 'boolean') return raw;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  errors.push({ field, message: 'must be true or false' });
  return false;
}

const CREATE_FIELDS = new Set(['batchIds', 'lastN', 'modelId', 'modelPackageId', 'format', 'includeActuals', 'start', 'end']);

async function createExport(req: RestRequest): Promise<RestResponse> {
  const body = objectBody(await req.json());
  if (isError(body)) return errorResponse(body);
  const errors: FieldError[] = [];
  for (const key of Object.keys(body))
    if (!CREATE_FIELDS.has(key)) errors.push({ field: key, message: 'is not a field of a prediction data export' });
  const { batchIds, lastN, modelId } = body;
  if (batchIds != null && (!Array.isArray(batchIds) || !batchIds.every((id) => typeof id === 'string'))) {
    errors.push({ field: 'batchIds', message: 'must be a list of batch ids' });
  }
  if (lastN != null && (typeof lastN !== 'number' || !Number.isInteger(lastN)))
    errors.push({ field: 'lastN', message: 'must be an integer' });
  if ((batchIds == null) === (lastN == null))
    errors.push({ field: 'batchIds', message: 'give either batchIds or lastN (batchlens exports batches)' });
  if (modelId != null && typeof modelId !== 'string') errors.push({ field: 'modelId', message: 'must be a string' });
  for (const field of ['start', 'end', 'modelPackageId'] as const) {
    if (body[field] != null && typeof body[field] !== 'string') errors.push({ field, message: 'must be a string' });
  }
  const format = formatOf(body.format, 'format', errors);
  const includeActuals = booleanOf(body.includeActuals, 'includeActuals', errors);
  if (errors.length) return errorResponse(new ValidationError(errors));
  const created = await createDataExport(req.ctx.app, req.ctx.viewer, {
    deploymentId: req.params.deploymentId!,
    selection: {
      batchIds: batchIds as string[] | undefined,
      last: lastN as number | undefined,
      modelId: modelId as string | undefined,
    },
    format,
    includeActuals,
  });
  if (created instanceof ValidationError) {
    const wire: Record<string, string> = { 'selection.last': 'lastN', 'selection.batchIds': 'batchIds', selection: 'batchIds' };
    return errorResponse(new ValidationError(created.fieldErrors.map((e) => ({ ...e, field: wire[e.field] ?? e.field }))));
  }
  if (isError(created)) return errorResponse(created);
  return { status: 202, headers: { location: `/api/v2/status/${created.id}/` }, body: exportJson(created) };
}

async function downloadExport(req: RestRequest): Promise<RestResponse> {
  const exp = await getDataExport(req.ctx.app.db, req.ctx.viewer, req.params.exportId!, req.params.deploymentId!);
  if (isError(exp)) return errorResponse(exp);
  const file = exportFile(req.ctx.app, exp);
  if (file.state === 'NOT_READY') {
    return {
      status: 409,
      body: { message: `Data export is ${file.status}; its file can be downloaded once it has SUCCEEDED`, status: file.status },
    };
  }
  if (file.state === 'EXPIRED') {
    return { status: 410, body: { message: `Data export expired at ${file.expiredAt?.toISOString()}; its file was removed` } };
  }
  return {
    status: 200,
    headers: {
      'content-type': file.contentType,
      'content-length': String(file.sizeBytes),
      'content-disposition': `attachment; filename="${file.fileName}"`,
    },
    stream: createReadStream(file.path),
  };
}

/** DataRobot's async status: 303 to the finished resource, else its state (RUNNING / ERROR / COMPLETED). */
async function status(req: RestRequest): Promise<RestResponse> {
  const id = req.params.statusId!;
  if (id.startsWith(COMPLETED_STATUS_PREFIX) && /^[0-9a-f]{32}$/.test(id.slice(COMPLETED_STATUS_PREFIX.length))) {
    return { status: 200, body: { statusId: id, status: 'COMPLETED', message: 'Done when it was accepted' } };
  }
  const exp = await getDataExport(req.ctx.app.db, req.ctx.viewer, id);
  if (isError(exp)) return { status: 404, body: { message: 'Status not found' } };
  if (exp.status === 'SUCCEEDED')
    return { status: 303, headers: { location: exportPath(exp) }, body: { statusId: id, status: 'COMPLETED' } };
  if (exp.status === 'FAILED') return { status: 200, body: { statusId: id, status: 'ERROR', message: exp.error } };
  return { status: 200, body: { statusId: id, status: 'RUNNING', message: `${exp.rowsWritten} of ${exp.rowCount ?? '?'} rows written` } };
}

/** One batch's predictions, streamed from a snapshot as the response is written. */
async function batchPredictions(req: RestRequest): Promise<RestResponse> {
  const { app, viewer } = req.ctx;
  const errors: FieldError[] = [];
  const format = formatOf(req.query.get('format') ?? undefined, 'format', errors);
  const includeActuals = booleanOf(req.query.get('includeActuals') ?? undefined, 'includeActuals', errors);
  if (errors.length) return errorResponse(new ValidationError(errors));
  const deployment = await getDeployment(app.db, viewer, req.params.deploymentId!);
  if (isError(deployment)) return errorResponse(deployment);
  const batch = await getBatch(app.db, viewer, req.params.batchId!, deployment.id);
  if (isError(batch)) return errorResponse(batch);
  const release = takeStreamingSlot(app);
  if (!release) {
    return {
      status: 503,
      headers: { 'retry-after': '5' },
      body: { message: `${streamingSlots(app)} downloads are streaming already; try again in a few seconds` },
    };
  }
  const bytes = exportBytes(
    app.pg,
    deployment,
    {
      organizationId: viewer.organizationId,
      deploymentId: deployment.id,
      batchIds: [batch.id],
      modelId: req.query.get('modelId') || null,
      format,
      includeActuals,
    },
    app.config.exportRowGroupRows,
  );
  // The slot is freed when the stream ends, however it ends (sendStream always starts it).
  const stream = (async function* () {
    try {
      yield* bytes;
    } finally {
      release();
    }
  })();
  const { extension, contentType } = FORMAT_FILES[format];
  return {
    status: 200,
    headers: { 'content-type': contentType, 'content-disposition': `attachment; filename="${batch.id}.${extension}"` },
    stream,
  };
}

export const exportRoutes: Route[] = [
  { method: 'POST', path: `${EXPORTS_PATH}/`, handler: createExport },
  {
    method: 'GET',
    path: `${EXPORTS_PATH}/`,
    handler: async (req) => {
      const errors: FieldError[] = [];
      const page = offsetLimit(req.query, errors);
      const statusFilter = req.query.get('status');
      if (statusFilter && !(EXPORT_STATUSES as readonly string[]).includes(statusFilter)) {
        errors.push({ field: 'status', message: `must be one of ${EXPORT_STATUSES.join(', ')}` });
      }
      if (errors.length) return errorResponse(new ValidationError(errors));
      const list = await listDataExports(req.ctx.app.db, req.ctx.viewer, req.params.deploymentId!, {
        ...page,
        status: (statusFilter || undefined) as DataExport['status'] | undefined,
      });
      if (isError(list)) return errorResponse(list);
      return offsetPageAnswer(req, page, list.totalCount, list.exports.map(exportJson));
    },
  },
  {
    method: 'GET',
    path: `${EXPORTS_PATH}/:exportId/`,
    handler: async (req) => {
      const exp = await getDataExport(req.ctx.app.db, req.ctx.viewer, req.params.exportId!, req.params.deploymentId!);
      return isError(exp) ? errorResponse(exp) : { status: 200, body: exportJson(exp) };
    },
  },
  { method: 'GET', path: `${EXPORTS_PATH}/:exportId/download/`, handler: downloadExport },
  { method: 'GET', path: '/api/v2/status/:statusId/', handler: status },
  { method: 'GET', path: '/api/v2/deployments/:deploymentId/monitoringBatches/:batchId/predictions/', handler: batchPredictions },
];
