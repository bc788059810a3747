import type { CustomMetric, MonitoringBatch } from '../../db/tables.js';
import { type DomainError, type FieldError, isError, ValidationError } from '../../errors.js';
import {
  acceptedAndDone,
  errorResponse,
  objectBody,
  offsetLimit,
  offsetPageAnswer,
  type RestRequest,
  type RestResponse,
  type Route,
} from '../../rest/kit.js';
import { UNSTORABLE_NUL } from '../../validation.js';
import { batchesByIds } from '../batches/service.js';
import { getDeployment } from '../deployments/service.js';
import { MAX_SELECTED_BATCHES, resolveSelection, type Selection } from '../metrics/sums.js';
import { type MetricSums, mergeSums, readMetric } from './compute.js';
import { reportCustomMetricValues } from './report.js';
import {
  type CustomMetricInput,
  createCustomMetric,
  deleteCustomMetric,
  getCustomMetric,
  listCustomMetrics,
  updateCustomMetric,
} from './service.js';
import { metricSumsByBatch } from './values.js';

// DataRobot's custom metric routes (C8, C13), camelCase as its Python client sends and reads them:
// …/deployments/{id}/customMetrics/ (POST, GET), …/{metricId}/ (GET, PATCH, DELETE),
// …/{metricId}/fromJSON/ (values), …/{metricId}/batchSummary/ and …/{metricId}/valuesOverBatch/.

const BASE = '/api/v2/deployments/:deploymentId/customMetrics';

const METRIC_FIELDS = new Set(['name', 'units', 'baselineValues', 'isModelSpecific', 'type', 'directionality', 'timeStep', 'description']);
/**
 * DataRobot's column mappings ({columnName, timeFormat}) for values read from a dataset: batchlens
 * takes values as JSON only, so they are accepted (an object or null) and not kept.
 */
const COLUMN_MAPPINGS = new Set(['value', 'sampleCount', 'timestamp', 'batch', 'associationId', 'metadata']);
/** Kinds of metrics batchlens does not have: accepted only when they say "not this kind". */
const NOT_SUPPORTED: Record<string, { accepts: (value: unknown) => boolean; message: string }> = {
  isGeospatial: { accepts: (v) => v === false || v === null, message: 'must be false: geospatial metrics are not supported' },
  geospatialSegmentAttribute: { accepts: (v) => v === null || v === '', message: 'must be null: geospatial metrics are not supported' },
  categories: { accepts: (v) => v === null, message: 'must be null: categorical metrics are not supported' },
};
const REPORT_FIELDS = new Set(['buckets', 'modelId', 'modelPackageId', 'dryRun', 'segments']);

/** Our field names → the wire's, in refusals. */
const fail = (error: DomainError) => errorResponse(error, { baselineValue: 'baselineValues.0.value' });

export function metricJson(metric: CustomMetric) {
  return {
    id: metric.id,
    deploymentId: metric.deploymentId,
    name: metric.name,
    units: metric.units,
    baselineValues: metric.baselineValue === null ? [] : [{ value: metric.baselineValue }],
    isModelSpecific: metric.isModelSpecific,
    type: metric.type,
    directionality: metric.directionality,
    timeStep: metric.timeStep,
    description: metric.description,
    isGeospatial: false,
    createdAt: metric.createdAt.toISOString(),
    createdBy: { id: metric.createdById },
  };
}

/** DataRobot's metric body → the service's input; only the keys present are passed, so PATCH stays partial. */
function metricInput(body: Record<string, unknown>): CustomMetricInput | ValidationError {
  const errors: FieldError[] = [];
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (COLUMN_MAPPINGS.has(key)) {
      if (value !== null && (typeof value !== 'object' || Array.isArray(value)))
        errors.push({ field: key, message: 'must be a column mapping object ({"columnName": …}) or null' });
    } else if (key in NOT_SUPPORTED) {
      const rule = NOT_SUPPORTED[key]!;
      if (!rule.accepts(value)) errors.push({ field: key, message: rule.message });
    } else if (!METRIC_FIELDS.has(key)) errors.push({ field: key, message: 'is not a field of a custom metric' });
    else if (key !== 'baselineValues') input[key] = value;
  }
  const baselines = body.baselineValues;
  if (baselines === null || (Array.isArray(baselines) && baselines.length === 0)) input.baselineValue = null;
  else if (Array.isArray(baselines) && baselines.length === 1) {
    const [first] = baselines as unknown[];
    if (first === null || typeof first !== 'object' || Array.isArray(first) || !('value' in first)) {
      errors.push({ field: 'baselineValues.0', message: 'must be an object {"value": number}' });
    } else input.baselineValue = (first as { value: unknown }).value;
  } else if (baselines !== undefined) {
    errors.push({ field: 'baselineValues', message: 'must be a list of at most one {"value": number} (none: no baseline)' });
  }
  return errors.length ? new ValidationError(errors) : input;
}

type Handler = (req: RestRequest) => Promise<RestResponse>;

/** Answers 404 for a deployment that is not the viewer's organization's (a foreign one like a missing one) before `handle`. */
const onDeployment =
  (handle: (req: RestRequest, deploymentId: string) => Promise<RestResponse>): Handler =>
  async (req) => {
    const deployment = await getDeployment(req.ctx.app.db, req.ctx.viewer, req.params.deploymentId!);
    return isError(deployment) ? fail(deployment) : handle(req, deployment.id);
  };

async function jsonBody(req: RestRequest): Promise<Record<string, unknown> | ValidationError> {
  return objectBody(await req.json());
}

/** `batchId` (repeated, or comma-separated), or `lastN`; neither: every live batch (the newest 10,000). */
function selectionQuery(query: URLSearchParams): { batchIds?: string[]; last?: number; modelId: string | null } | ValidationError {
  const errors: FieldError[] = [];
  const batchIds = query
    .getAll('batchId')
    .flatMap((value) => value.split(','))
    .map((id) => id.trim())
    .filter(Boolean);
  if (batchIds.some((id) => id.includes('\u0000'))) errors.push({ field: 'batchId', message: UNSTORABLE_NUL });
  if (batchIds.length > MAX_SELECTED_BATCHES)
    errors.push({ field: 'batchId', message: `must name at most ${MAX_SELECTED_BATCHES} batches` });
  const rawLast = query.get('lastN');
  let last: number | undefined;
  if (rawLast !== null && rawLast !== '') {
    last = Number(rawLast);
    if (!/^\d+$/.test(rawLast) || last < 1 || last > MAX_SELECTED_BATCHES) {
      errors.push({ field: 'lastN', message: `must be an integer from 1 to ${MAX_SELECTED_BATCHES}` });
    } else if (batchIds.length) errors.push({ field: 'lastN', message: 'give either batchId or lastN, not both' });
  }
  const modelId = query.get('modelId') || null;
  if (modelId?.includes('\u0000')) errors.push({ field: 'modelId', message: UNSTORABLE_NUL });
  for (const name of ['segmentAttribute', 'segmentValue']) {
    if (query.get(name)) errors.push({ field: name, message: 'is not supported: batchlens keeps no segmented custom metric values' });
  }
  if (errors.length) return new ValidationError(errors);
  if (batchIds.length) return { batchIds, modelId };
  return { last: last ?? MAX_SELECTED_BATCHES, modelId };
}

/** The metric (of this deployment) and the batches the query selects, with the metric's sums per batch. */
async function metricOverSelection(
  req: RestRequest,
  deploymentId: string,
): Promise<{ metric: CustomMetric; selection: Selection; perBatch: Map<string, MetricSums> } | DomainError> {
  const { db } = req.ctx.app;
  const metric = await getCustomMetric(db, req.ctx.viewer, req.params.metricId!, deploymentId);
  if (isError(metric)) return metric;
  const query = selectionQuery(req.query);
  if (isError(query)) return query;
  const selection = await resolveSelection(db, req.ctx.viewer, deploymentId, query);
  if (isError(selection)) return selection;
  return { metric, selection, perBatch: await metricSumsByBatch(db, metric, selection) };
}

function batchJson(batch: MonitoringBatch) {
  // DataRobot's client parses lastPredictionTimestamp when present: absent, not null, for a batch without predictions.
  return {
    id: batch.id,
    name: batch.name,
    createdAt: batch.createdAt.toISOString(),
    ...(batch.latestPredictionAt ? { lastPredictionTimestamp: batch.latestPredictionAt.toISOString() } : {}),
  };
}

export const customMetricRoutes: Route[] = [
  {
    method: 'POST',
    path: `${BASE}/`,
    handler: onDeployment(async (req, deploymentId) => {
      const body = await jsonBody(req);
      if (isError(body)) return fail(body);
      const input = metricInput(body);
      if (isError(input)) return fail(input);
      const created = await createCustomMetric(req.ctx.app.db, req.ctx.viewer, deploymentId, input);
      return isError(created) ? fail(created) : { status: 201, body: metricJson(created) };
    }),
  },
  {
    method: 'GET',
    path: `${BASE}/`,
    handler: onDeployment(async (req, deploymentId) => {
      const errors: FieldError[] = [];
      const page = offsetLimit(req.query, errors);
      if (errors.length) return fail(new ValidationError(errors));
      const list = await listCustomMetrics(req.ctx.app.db, req.ctx.viewer, deploymentId, page);
      if (isError(list)) return fail(list);
      return offsetPageAnswer(req, page, list.totalCount, list.rows.map(metricJson));
    }),
  },
  {
    method: 'GET',
    path: `${BASE}/:metricId/`,
    handler: onDeployment(async (req, deploymentId) => {
      const metric = await getCustomMetric(req.ctx.app.db, req.ctx.viewer, req.params.metricId!, deploymentId);
      return isError(metric) ? fail(metric) : { status: 200, body: metricJson(metric) };
    }),
  },
  {
    method: 'PATCH',
    path: `${BASE}/:metricId/`,
    handler: onDeployment(async (req, deploymentId) => {
      const body = await jsonBody(req);
      if (isError(body)) return fail(body);
      const input = metricInput(body);
      // A foreign or missing metric answers 404 whatever the body.
      if (isError(input)) {
        const metric = await getCustomMetric(req.ctx.app.db, req.ctx.viewer, req.params.metricId!, deploymentId);
        return fail(isError(metric) ? metric : input);
      }
      const updated = await updateCustomMetric(req.ctx.app.db, req.ctx.viewer, req.params.metricId!, input, deploymentId);
      return isError(updated) ? fail(updated) : { status: 200, body: metricJson(updated) };
    }),
  },
  {
    method: 'DELETE',
    path: `${BASE}/:metricId/`,
    handler: onDeployment(async (req, deploymentId) => {
      const deleted = await deleteCustomMetric(req.ctx.app.db, req.ctx.viewer, req.params.metricId!, deploymentId);
      return isError(deleted) ? fail(deleted) : { status: 204 };
    }),
  },
  {
    method: 'POST',
    path: `${BASE}/:metricId/fromJSON/`,
    ingest: true,
    handler: onDeployment(async (req, deploymentId) => {
      const body = await jsonBody(req);
      if (isError(body)) return fail(body);
      if (Array.isArray(body.buckets)) await req.rows.charge(body.buckets.length);
      const unknown = Object.keys(body).filter((key) => !REPORT_FIELDS.has(key));
      if (unknown.length) {
        // A foreign or missing metric answers 404 whatever the body.
        const metric = await getCustomMetric(req.ctx.app.db, req.ctx.viewer, req.params.metricId!, deploymentId);
        if (isError(metric)) return fail(metric);
        return fail(new ValidationError(unknown.map((field) => ({ field, message: 'is not a field of a custom metric report' }))));
      }
      const report = await reportCustomMetricValues(req.ctx.app.db, req.ctx.viewer, req.params.metricId!, body, {
        batchField: 'batch',
        deploymentId,
      });
      if (isError(report)) return fail(report);
      return acceptedAndDone({
        customMetricId: report.metric.id,
        dryRun: report.dryRun,
        modelId: report.modelId,
        bucketCount: report.bucketCount,
        sampleCount: report.sampleCount,
        batchIds: report.batchIds,
      });
    }),
  },
  {
    method: 'GET',
    path: `${BASE}/:metricId/batchSummary/`,
    handler: onDeployment(async (req, deploymentId) => {
      const found = await metricOverSelection(req, deploymentId);
      if (isError(found)) return fail(found);
      const { metric, selection, perBatch } = found;
      const reading = readMetric(metric, mergeSums(selection.batchIds.map((id) => perBatch.get(id))));
      return {
        status: 200,
        body: {
          metric: {
            id: metric.id,
            name: metric.name,
            value: reading.value,
            sampleCount: reading.sampleCount,
            baselineValue: reading.baselineValue,
            percentChange: reading.percentChange,
          },
          batchCount: selection.batchIds.length,
        },
      };
    }),
  },
  {
    method: 'GET',
    path: `${BASE}/:metricId/valuesOverBatch/`,
    handler: onDeployment(async (req, deploymentId) => {
      const found = await metricOverSelection(req, deploymentId);
      if (isError(found)) return fail(found);
      const { metric, selection, perBatch } = found;
      const batches = new Map(
        (await batchesByIds(req.ctx.app.db, req.ctx.viewer.organizationId, selection.batchIds)).map((b) => [b.id, b]),
      );
      const buckets = selection.batchIds.flatMap((id) => {
        const batch = batches.get(id);
        if (!batch) return []; // deleted meanwhile
        const reading = readMetric(metric, perBatch.get(id) ?? null);
        return [{ batch: batchJson(batch), value: reading.value, sampleSize: reading.sampleCount }];
      });
      return { status: 200, body: { buckets, metric: metricJson(metric) } };
    }),
  },
];
