import { type DomainError, isError, ValidationError } from '../../errors.js';
import {
  errorResponse,
  objectBody,
  offsetLimit,
  offsetPageAnswer,
  type RestRequest,
  type RestResponse,
  type Route,
} from '../../rest/kit.js';
import {
  createDefinition,
  type Definition,
  type DefinitionInput,
  type DefinitionRuns,
  deleteDefinition,
  describeDefinitions,
  getDefinition,
  listDefinitions,
  NO_RUNS,
  runDefinition,
  updateDefinition,
} from './definitions.js';
import { jobJson } from './rest.js';
import { wireSpec } from './view.js';

// DataRobot's Batch Prediction Job Definitions (C10, C13): POST/GET /api/v2/batchPredictionJobDefinitions/,
// GET/PATCH/DELETE …/{id}/, and "run now" as POST /api/v2/batchPredictions/fromJobDefinition/.

const BASE = '/api/v2/batchPredictionJobDefinitions';
const DEFINITION_FIELDS = new Set(['name', 'enabled', 'schedule', 'batchPredictionJob']);

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** A definition as DataRobot answers it: the job settings under `batchPredictionJob`. */
function definitionJson(
  req: RestRequest,
  definition: Definition,
  runs: DefinitionRuns,
  userNames: Map<string, string>,
): Record<string, unknown> {
  const user = (userId: string) => {
    const name = userNames.get(userId) ?? null;
    return { userId, username: name, fullName: name };
  };
  return {
    id: definition.id,
    name: definition.name,
    enabled: definition.enabled,
    schedule: definition.schedule,
    batchPredictionJob: wireSpec(definition.spec),
    deploymentId: definition.deploymentId,
    created: definition.createdAt.toISOString(),
    updated: definition.updatedAt.toISOString(),
    createdBy: user(definition.createdById),
    updatedBy: user(definition.updatedById ?? definition.createdById),
    nextScheduledRunTime: iso(definition.nextScheduledRunAt),
    lastScheduledRunTime: iso(definition.lastScheduledRunAt),
    lastStartedJobStatus: runs.lastStartedJobStatus,
    lastStartedJobTime: iso(runs.lastStartedJobTime),
    lastSuccessfulRunTime: iso(runs.lastSuccessfulRunTime),
    lastFailedRunTime: iso(runs.lastFailedRunTime),
    links: { self: new URL(`${BASE}/${definition.id}/`, req.url).toString() },
  };
}

async function answer(req: RestRequest, status: number, definition: Definition): Promise<RestResponse> {
  const { runs, userNames } = await describeDefinitions(req.ctx.app.db, req.ctx.viewer.organizationId, [definition]);
  return { status, body: definitionJson(req, definition, runs.get(definition.id) ?? NO_RUNS, userNames) };
}

/**
 * DataRobot takes the job settings at the top level of the body, beside name, enabled and
 * schedule; its answers (and the Python client's objects) nest them under `batchPredictionJob`.
 * Both are accepted, not mixed. `flat` says how to name fields in errors.
 */
function definitionInput(body: Record<string, unknown>, update: boolean): { input: DefinitionInput; flat: boolean } | ValidationError {
  const jobSettings = Object.fromEntries(Object.entries(body).filter(([key]) => !DEFINITION_FIELDS.has(key)));
  const { name, enabled, schedule, batchPredictionJob } = body;
  if (batchPredictionJob === undefined) {
    const given = Object.keys(jobSettings).length > 0;
    return { input: { name, enabled, schedule, batchPredictionJob: given || !update ? jobSettings : undefined }, flat: true };
  }
  const mixed = Object.keys(jobSettings);
  if (mixed.length) {
    return new ValidationError(
      mixed.map((field) => ({
        field,
        message: 'give the job settings either at the top level (as DataRobot does) or under batchPredictionJob, not both',
      })),
    );
  }
  return { input: { name, enabled, schedule, batchPredictionJob }, flat: false };
}

/** With flat job settings, their errors name them at the top level too (`intakeSettings.type`, not `batchPredictionJob.intakeSettings.type`). */
function failure(error: DomainError, flat: boolean): RestResponse {
  if (!flat || !(error instanceof ValidationError)) return errorResponse(error);
  return errorResponse(
    new ValidationError(error.fieldErrors.map((e) => ({ ...e, field: e.field.replace(/^batchPredictionJob\.?/, '') || 'body' }))),
  );
}

function listQuery(query: URLSearchParams) {
  const errors: { field: string; message: string }[] = [];
  const { offset, limit } = offsetLimit(query, errors);
  const deploymentId = query.get('deploymentId');
  const searchName = query.get('searchName');
  for (const [field, value] of [
    ['deploymentId', deploymentId],
    ['searchName', searchName],
  ] as const) {
    if (value?.includes('\u0000')) errors.push({ field, message: 'must not contain NUL' });
  }
  if (errors.length) return new ValidationError(errors);
  return { offset, limit, deploymentId, searchName };
}

export const definitionRoutes: Route[] = [
  {
    method: 'POST',
    path: `${BASE}/`,
    handler: async (req) => {
      const body = objectBody(await req.json());
      if (isError(body)) return errorResponse(body);
      const parsed = definitionInput(body, false);
      if (isError(parsed)) return errorResponse(parsed);
      const created = await createDefinition(req.ctx.app.db, req.ctx.viewer, parsed.input);
      return isError(created) ? failure(created, parsed.flat) : answer(req, 201, created);
    },
  },
  {
    method: 'GET',
    path: `${BASE}/`,
    handler: async (req) => {
      const query = listQuery(req.query);
      if (isError(query)) return errorResponse(query);
      const { db } = req.ctx.app;
      const { rows, totalCount } = await listDefinitions(
        db,
        req.ctx.viewer,
        { deploymentId: query.deploymentId, search: query.searchName },
        { offset: query.offset, limit: query.limit },
      );
      const { runs, userNames } = await describeDefinitions(db, req.ctx.viewer.organizationId, rows);
      return offsetPageAnswer(
        req,
        query,
        totalCount,
        rows.map((d) => definitionJson(req, d, runs.get(d.id) ?? NO_RUNS, userNames)),
      );
    },
  },
  {
    method: 'GET',
    path: `${BASE}/:id/`,
    handler: async (req) => {
      const definition = await getDefinition(req.ctx.app.db, req.ctx.viewer, req.params.id!);
      return isError(definition) ? errorResponse(definition) : answer(req, 200, definition);
    },
  },
  {
    method: 'PATCH',
    path: `${BASE}/:id/`,
    handler: async (req) => {
      const body = objectBody(await req.json());
      if (isError(body)) return errorResponse(body);
      const parsed = definitionInput(body, true);
      if (isError(parsed)) return errorResponse(parsed);
      const updated = await updateDefinition(req.ctx.app.db, req.ctx.viewer, req.params.id!, parsed.input);
      return isError(updated) ? failure(updated, parsed.flat) : answer(req, 200, updated);
    },
  },
  {
    method: 'DELETE',
    path: `${BASE}/:id/`,
    handler: async (req) => {
      const deleted = await deleteDefinition(req.ctx.app.db, req.ctx.viewer, req.params.id!);
      return isError(deleted) ? errorResponse(deleted) : { status: 204 };
    },
  },
  {
    method: 'POST',
    path: '/api/v2/batchPredictions/fromJobDefinition/',
    handler: async (req) => {
      const body = objectBody(await req.json());
      if (isError(body)) return errorResponse(body);
      if (typeof body.jobDefinitionId !== 'string') return errorResponse(ValidationError.of('jobDefinitionId', 'is required'));
      const job = await runDefinition(req.ctx.app, req.ctx.viewer, body.jobDefinitionId);
      if (isError(job)) return errorResponse(job);
      const location = new URL(`/api/v2/batchPredictions/${job.id}/`, req.url).toString();
      return { status: 202, body: jobJson(req, job), headers: { location } };
    },
  },
];
