import type { MonitoringBatch } from '../../db/tables.js';
import { type DomainError, type FieldError, isError, ValidationError } from '../../errors.js';
import { errorResponse, objectBody, type RestRequest, type RestResponse, type Route } from '../../rest/kit.js';
import { parseTimestamp, UNSTORABLE_NUL } from '../../validation.js';
import { getDeployment } from '../deployments/service.js';
import { usersByIds } from '../organizations/service.js';
import {
  type BatchFilter,
  type BatchOrder,
  createBatch,
  deleteBatch,
  getBatch,
  getQuota,
  listBatchesByOffset,
  updateBatch,
  verifyBatch,
} from './service.js';

// DataRobot's batch-monitoring routes (C13), on the same service as GraphQL.

/** Our field names → DataRobot's, for error messages. */
const wireFields = { name: 'batchName', externalUrl: 'externalContextUrl' };
const fail = (error: DomainError) => errorResponse(error, wireFields);

export function batchJson(batch: MonitoringBatch, creatorName: string | null) {
  return {
    id: batch.id,
    deploymentId: batch.deploymentId,
    batchName: batch.name,
    description: batch.description,
    externalContextUrl: batch.externalUrl,
    createdAt: batch.createdAt.toISOString(),
    createdBy: { id: batch.createdById, name: creatorName },
    isLocked: batch.isLocked,
    earliestPredictionTimestamp: batch.earliestPredictionAt?.toISOString() ?? null,
    latestPredictionTimestamp: batch.latestPredictionAt?.toISOString() ?? null,
    predictionsCount: batch.predictionCount,
    // batchlens' own: the seal of a locked batch (DataRobot clients ignore fields they do not know).
    fingerprint: batch.fingerprint,
    sealedAt: batch.sealedAt?.toISOString() ?? null,
  };
}

async function batchesJson(req: RestRequest, batches: MonitoringBatch[]) {
  const creators = await usersByIds(req.ctx.app.db, req.ctx.viewer.organizationId, [...new Set(batches.map((b) => b.createdById))]);
  const byId = new Map(creators.map((user) => [user.id, user]));
  return batches.map((batch) => batchJson(batch, byId.get(batch.createdById)?.name ?? null));
}

async function oneBatch(req: RestRequest, batch: MonitoringBatch, status = 200): Promise<RestResponse> {
  const [json] = await batchesJson(req, [batch]);
  return { status, body: json };
}

/** A JSON object body, or a 422 naming the problem. */

/** Wire body → service input; only the keys present are passed, so PATCH stays partial. */
function batchFieldsFromWire(body: Record<string, unknown>) {
  const input: { name?: unknown; description?: unknown; externalUrl?: unknown; isLocked?: unknown } = {};
  if ('batchName' in body) input.name = body.batchName;
  if ('description' in body) input.description = body.description;
  if ('externalContextUrl' in body) input.externalUrl = body.externalContextUrl;
  if ('isLocked' in body) input.isLocked = body.isLocked;
  return input as { name?: string; description?: string | null; externalUrl?: string | null; isLocked?: boolean };
}

const wireOrder: Record<string, BatchOrder['field']> = {
  name: 'NAME',
  batchName: 'NAME',
  createdAt: 'CREATED_AT',
  earliestPredictionTimestamp: 'EARLIEST_PREDICTION',
  latestPredictionTimestamp: 'LATEST_PREDICTION',
  predictionsCount: 'PREDICTION_COUNT',
  createdBy: 'CREATED_BY',
  id: 'ID',
};

function parseListQuery(query: URLSearchParams) {
  const errors: FieldError[] = [];
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = query.get(name);
    if (raw === null || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      errors.push({ field: name, message: `must be an integer from ${min} to ${max}` });
      return fallback;
    }
    return value;
  };
  const date = (name: string) => {
    const raw = query.get(name);
    if (raw === null || raw === '') return undefined;
    const value = parseTimestamp(raw);
    if (!value) errors.push({ field: name, message: 'must be an ISO-8601 date-time' });
    return value ?? undefined;
  };
  // PostgreSQL text cannot hold U+0000; such a value would fail the query instead of matching nothing.
  const text = (name: string) => {
    const raw = query.get(name);
    if (raw === null || raw === '') return undefined;
    if (raw.includes('\u0000')) {
      errors.push({ field: name, message: UNSTORABLE_NUL });
      return undefined;
    }
    return raw;
  };
  const offset = int('offset', 0, 0, 1_000_000_000);
  const limit = int('limit', 100, 1, 1000);
  let orderBy: BatchOrder | undefined;
  const rawOrder = query.get('orderBy');
  if (rawOrder) {
    const descending = rawOrder.startsWith('-');
    const field = wireOrder[descending ? rawOrder.slice(1) : rawOrder];
    if (field) orderBy = { field, direction: descending ? 'DESC' : 'ASC' };
    else errors.push({ field: 'orderBy', message: `must be one of ${Object.keys(wireOrder).join(', ')}, optionally prefixed with -` });
  }
  const filter: BatchFilter = {
    createdBy: text('createdBy'),
    createdAfter: date('createdAfter'),
    createdBefore: date('createdBefore'),
    startAfter: date('startAfter'),
    endBefore: date('endBefore'),
  };
  const search = text('search');
  if (errors.length) return new ValidationError(errors);
  return { offset, limit, orderBy, filter, search };
}

function pageUrl(req: RestRequest, offset: number): string {
  const url = new URL(req.url);
  url.searchParams.set('offset', String(offset));
  return url.toString();
}

const base = '/api/v2/deployments/:deploymentId/monitoringBatches';

export const batchRoutes: Route[] = [
  {
    method: 'POST',
    path: `${base}/`,
    handler: async (req) => {
      const body = objectBody(await req.json());
      if (isError(body)) return fail(body);
      const batch = await createBatch(req.ctx.app.db, req.ctx.viewer, req.params.deploymentId!, batchFieldsFromWire(body));
      return isError(batch) ? fail(batch) : oneBatch(req, batch, 201);
    },
  },
  {
    method: 'GET',
    path: `${base}/`,
    handler: async (req) => {
      const { db } = req.ctx.app;
      const deployment = await getDeployment(db, req.ctx.viewer, req.params.deploymentId!);
      if (isError(deployment)) return fail(deployment);
      const query = parseListQuery(req.query);
      if (isError(query)) return fail(query);
      const { rows, totalCount } = await listBatchesByOffset(db, req.ctx.viewer, deployment.id, query);
      const end = query.offset + rows.length;
      return {
        status: 200,
        body: {
          count: rows.length,
          totalCount,
          next: end < totalCount ? pageUrl(req, end) : null,
          previous: query.offset > 0 ? pageUrl(req, Math.max(0, query.offset - query.limit)) : null,
          // The list query joined each creator's name already.
          data: rows.map((batch) => batchJson(batch, batch.creatorName)),
        },
      };
    },
  },
  {
    method: 'GET',
    path: `${base}/:batchId/`,
    handler: async (req) => {
      const batch = await getBatch(req.ctx.app.db, req.ctx.viewer, req.params.batchId!, req.params.deploymentId!);
      return isError(batch) ? fail(batch) : oneBatch(req, batch);
    },
  },
  {
    // batchlens' own route: verifyBatch over REST.
    method: 'GET',
    path: `${base}/:batchId/verification/`,
    handler: async (req) => {
      const v = await verifyBatch(req.ctx.app.db, req.ctx.viewer, req.params.batchId!, req.params.deploymentId!);
      if (isError(v)) return fail(v);
      return {
        status: 200,
        body: {
          batchId: v.batch.id,
          sealedAt: v.sealedAt.toISOString(),
          sealedBy: v.sealedById,
          fingerprint: v.fingerprint,
          recomputedFingerprint: v.recomputedFingerprint,
          accuracyFingerprint: v.accuracyFingerprint,
          recomputedAccuracyFingerprint: v.recomputedAccuracyFingerprint,
          unchanged: v.unchanged,
        },
      };
    },
  },
  {
    method: 'PATCH',
    path: `${base}/:batchId/`,
    handler: async (req) => {
      const body = objectBody(await req.json());
      if (isError(body)) return fail(body);
      const batch = await updateBatch(
        req.ctx.app.db,
        req.ctx.viewer,
        req.params.batchId!,
        batchFieldsFromWire(body),
        req.params.deploymentId!,
      );
      return isError(batch) ? fail(batch) : oneBatch(req, batch);
    },
  },
  {
    method: 'DELETE',
    path: `${base}/:batchId/`,
    handler: async (req) => {
      const deleted = await deleteBatch(req.ctx.app.db, req.ctx.viewer, req.params.batchId!, req.params.deploymentId!);
      if (isError(deleted)) return fail(deleted);
      req.ctx.app.schedulePurge();
      return { status: 204 };
    },
  },
  {
    method: 'GET',
    path: '/api/v2/deployments/:deploymentId/monitoringBatchLimits/',
    handler: async (req) => {
      const quota = await getQuota(req.ctx.app.db, req.ctx.viewer, req.params.deploymentId!);
      if (isError(quota)) return fail(quota);
      return {
        status: 200,
        body: { limit: quota.limit, used: quota.used, remaining: quota.remaining, resetAt: quota.resetsAt.toISOString() },
      };
    },
  },
];
