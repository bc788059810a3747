import type { BatchPredictionJob } from '../../db/tables.js';
import { isError, ValidationError } from '../../errors.js';
import { limitedBody } from '../../rest/body.js';
import {
  errorResponse,
  HttpError,
  objectBody,
  offsetLimit,
  offsetPageAnswer,
  type RestRequest,
  type RestResponse,
  type Route,
} from '../../rest/kit.js';
import { getDeployment } from '../deployments/service.js';
import { OutputFormat } from './output.js';
import { abortJob, createJob, getJob, insertJob, type JobStatus, listJobs, outputStream, uploadJobInput } from './service.js';
import { JOBS_PATH, jobPaths, jobProgress, wireSpec } from './view.js';

// DataRobot's Batch Prediction API (C10, C13): POST/GET/DELETE /api/v2/batchPredictions/…, the
// CSV upload and the streamed download, on the same service as GraphQL.

const BASE = JOBS_PATH;
const STATUSES: JobStatus[] = ['INITIALIZING', 'RUNNING', 'COMPLETED', 'ABORTED', 'FAILED'];

function link(req: RestRequest, path: string): string {
  return new URL(path, req.url).toString();
}

/** A job as DataRobot answers it. */
export function jobJson(req: RestRequest, job: BatchPredictionJob) {
  const { percentageCompleted, elapsedTimeSec } = jobProgress(job);
  const paths = jobPaths(job);
  return {
    id: job.id,
    status: job.status,
    percentageCompleted,
    elapsedTimeSec,
    scoredRows: job.scoredRows,
    failedRows: job.failedRows,
    skippedRows: 0,
    jobIntakeSize: job.inputRows,
    // Waiting for a worker, DataRobot-style: no queue positions here (any worker takes any job).
    queued: job.status === 'INITIALIZING' && job.inputRows !== null,
    queuePosition: null,
    intakeDatasetDisplayName: null,
    statusDetails: job.statusDetails,
    logs: job.logs,
    jobSpec: wireSpec(job.spec),
    links: {
      self: link(req, paths.self),
      ...(paths.csvUpload ? { csvUpload: link(req, paths.csvUpload) } : {}),
      ...(paths.download ? { download: link(req, paths.download) } : {}),
    },
    created: job.createdAt.toISOString(),
    createdBy: { userId: job.createdById, username: null, fullName: null },
    monitoringBatchId: job.batchId,
    batchPredictionJobDefinition: job.definitionId ? { id: job.definitionId } : null,
    source: job.definitionId ? 'job_definition' : 'api',
    resultsDeleted: job.resultsDeleted,
  };
}

async function created(req: RestRequest, job: BatchPredictionJob): Promise<RestResponse> {
  if (job.spec.intakeSettings.type === 'url') await req.ctx.app.wakeJob(job.id);
  return { status: 202, body: jobJson(req, job), headers: { location: link(req, `${BASE}/${job.id}/`) } };
}

function listQuery(query: URLSearchParams) {
  const errors: { field: string; message: string }[] = [];
  const { offset, limit } = offsetLimit(query, errors);
  const status = query.getAll('status').flatMap((s) => s.split(','));
  const unknown = status.filter((s) => !STATUSES.includes(s as JobStatus));
  if (unknown.length) errors.push({ field: 'status', message: `must be one of ${STATUSES.join(', ')}` });
  const deploymentId = query.get('deploymentId');
  if (deploymentId?.includes('\u0000')) errors.push({ field: 'deploymentId', message: 'must not contain NUL' });
  if (errors.length) return new ValidationError(errors);
  return { offset, limit, status: status as JobStatus[], deploymentId };
}

export const jobRoutes: Route[] = [
  {
    method: 'POST',
    path: `${BASE}/`,
    handler: async (req) => {
      const body = objectBody(await req.json());
      if (isError(body)) return errorResponse(body);
      const job = await createJob(req.ctx.app.db, req.ctx.viewer, body);
      return isError(job) ? errorResponse(job) : created(req, job);
    },
  },
  {
    method: 'GET',
    path: `${BASE}/`,
    handler: async (req) => {
      const query = listQuery(req.query);
      if (isError(query)) return errorResponse(query);
      const { jobs, totalCount } = await listJobs(
        req.ctx.app.db,
        req.ctx.viewer,
        { deploymentId: query.deploymentId, status: query.status },
        { offset: query.offset, limit: query.limit },
      );
      return offsetPageAnswer(
        req,
        query,
        totalCount,
        jobs.map((job) => jobJson(req, job)),
      );
    },
  },
  {
    method: 'POST',
    path: `${BASE}/fromExisting/`,
    handler: async (req) => {
      const body = objectBody(await req.json());
      if (isError(body)) return errorResponse(body);
      if (typeof body.predictionJobId !== 'string') return errorResponse(ValidationError.of('predictionJobId', 'is required'));
      const existing = await getJob(req.ctx.app.db, req.ctx.viewer, body.predictionJobId);
      if (isError(existing)) return errorResponse(existing);
      const job = await insertJob(req.ctx.app.db, req.ctx.viewer, existing.spec, existing.definitionId);
      return isError(job) ? errorResponse(job) : created(req, job);
    },
  },
  {
    method: 'GET',
    path: `${BASE}/:id/`,
    handler: async (req) => {
      const job = await getJob(req.ctx.app.db, req.ctx.viewer, req.params.id!);
      return isError(job) ? errorResponse(job) : { status: 200, body: jobJson(req, job) };
    },
  },
  {
    method: 'DELETE',
    path: `${BASE}/:id/`,
    handler: async (req) => {
      const job = await abortJob(req.ctx.app.db, req.ctx.viewer, req.params.id!);
      return isError(job) ? errorResponse(job) : { status: 202, body: jobJson(req, job) };
    },
  },
  {
    method: 'PUT',
    path: `${BASE}/:id/csvUpload/`,
    handler: async (req) => {
      const type = (req.raw.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'text/csv' && type !== 'text/plain') {
        throw new HttpError(406, `Content-Type must be text/csv (or text/plain), got ${type || 'none'}`);
      }
      const job = await uploadJobInput(
        req.ctx.app.db,
        req.ctx.viewer,
        req.params.id!,
        limitedBody(req.raw, req.ctx.app.config.maxUploadBytes),
      );
      if (isError(job)) return errorResponse(job);
      await req.ctx.app.wakeJob(job.id);
      return { status: 202, body: jobJson(req, job) };
    },
  },
  {
    method: 'GET',
    path: `${BASE}/:id/download/`,
    handler: async (req) => {
      const job = await getJob(req.ctx.app.db, req.ctx.viewer, req.params.id!);
      if (isError(job)) return errorResponse(job);
      if (job.resultsDeleted) return { status: 404, body: { message: 'The input and output of this job were deleted' } };
      if (job.inputRows === null || job.status === 'INITIALIZING' || job.startedAt === null) {
        const why = job.status === 'INITIALIZING' ? 'has not started scoring yet' : 'ended before scoring started';
        return { status: 404, body: { message: `No output: the job is ${job.status} and ${why}` } };
      }
      const deployment = await getDeployment(req.ctx.app.db, req.ctx.viewer, job.deploymentId);
      if (isError(deployment)) return errorResponse(deployment);
      const header = new OutputFormat(deployment, job.spec, job.inputColumns ?? []).header();
      return {
        status: 200,
        headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${job.id}.csv"` },
        stream: outputStream(req.ctx.app.db, job, header),
      };
    },
  },
];
