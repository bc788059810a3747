import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Viewer } from '../../context.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { type BatchPredictionJob, batchPredictionJobChunks, batchPredictionJobs, type JobSpec } from '../../db/tables.js';
import { transactionResult } from '../../db/transactions.js';
import { isError, JobStateError, NotFoundError, type Result, ValidationError } from '../../errors.js';
import { announce } from '../../events/hub.js';
import { newId } from '../../ids.js';
import { type KeysetOrder, keysetPage, type Page, type PageArgs } from '../../pagination.js';
import { getBatchDeployment, getDeployment } from '../deployments/service.js';
import { backendOf } from '../scoring/backend.js';
import { storeInput } from './input.js';
import { parseJobSpec } from './spec.js';

// Batch prediction jobs (C10): create, read, list, upload the input, abort. Scoring itself is in
// runner.ts; schedules in definitions.ts.

export type JobStatus = BatchPredictionJob['status'];
export const FINAL_STATUSES: readonly JobStatus[] = ['COMPLETED', 'ABORTED', 'FAILED'];
export const isFinal = (status: JobStatus) => FINAL_STATUSES.includes(status);

/** Who a job acts as when it runs in the background: the user who created it (or its definition). */
export function jobViewer(job: { createdById: string; organizationId: string }): Viewer {
  return {
    userId: job.createdById,
    organizationId: job.organizationId,
    role: 'MEMBER',
    isServerAdmin: false,
    tokenId: 'batch-prediction-job',
  };
}

/** A new job from a spec (DataRobot's POST /batchPredictions/ body). */
export async function createJob(
  db: Db,
  viewer: Viewer,
  body: unknown,
  origin: { definitionId?: string | null } = {},
): Promise<Result<BatchPredictionJob>> {
  const spec = parseJobSpec(body);
  if (isError(spec)) return spec;
  return insertJob(db, viewer, spec, origin.definitionId ?? null);
}

export async function insertJob(
  db: DbOrTx,
  viewer: Viewer,
  spec: JobSpec,
  definitionId: string | null,
): Promise<Result<BatchPredictionJob>> {
  const deployment = await getBatchDeployment(db, viewer, spec.deploymentId);
  if (isError(deployment)) return deployment instanceof NotFoundError ? deploymentNotFound() : deployment;
  const backend = backendOf(deployment);
  if (isError(backend)) return backend;
  const [job] = await db
    .insert(batchPredictionJobs)
    .values({
      id: newId('BatchPredictionJob'),
      organizationId: viewer.organizationId,
      deploymentId: deployment.id,
      createdById: viewer.userId,
      definitionId,
      spec,
      statusDetails:
        spec.intakeSettings.type === 'localFile' ? 'Job created; waiting for the CSV upload' : 'Job created; waiting for a worker',
    })
    .returning();
  return job!;
}

/** A deployment id in a job spec is a field of the input: named like one. */
const deploymentNotFound = () => ValidationError.of('deploymentId', 'Deployment not found');

export async function jobsByIds(db: DbOrTx, organizationId: string, ids: readonly string[]): Promise<BatchPredictionJob[]> {
  if (!ids.length) return [];
  return db
    .select()
    .from(batchPredictionJobs)
    .where(and(eq(batchPredictionJobs.organizationId, organizationId), inArray(batchPredictionJobs.id, [...ids])));
}

export async function getJob(db: DbOrTx, viewer: Viewer, id: string): Promise<Result<BatchPredictionJob>> {
  const [job] = await jobsByIds(db, viewer.organizationId, [id]);
  return job ?? new NotFoundError('BatchPredictionJob', 'Batch prediction job not found');
}

export interface JobListFilter {
  deploymentId?: string | null;
  status?: JobStatus[] | null;
  definitionId?: string | null;
}

export function jobFilter(viewer: Viewer, filter: JobListFilter): SQL {
  const conditions: SQL[] = [eq(batchPredictionJobs.organizationId, viewer.organizationId)];
  if (filter.deploymentId) conditions.push(eq(batchPredictionJobs.deploymentId, filter.deploymentId));
  if (filter.status?.length) conditions.push(inArray(batchPredictionJobs.status, filter.status));
  if (filter.definitionId) conditions.push(eq(batchPredictionJobs.definitionId, filter.definitionId));
  return and(...conditions)!;
}

/** Newest first: a page by offset and limit (DataRobot's list routes), with the total. */
export async function listJobs(
  db: Db,
  viewer: Viewer,
  filter: JobListFilter,
  page: { offset: number; limit: number },
): Promise<{ jobs: BatchPredictionJob[]; totalCount: number }> {
  const where = jobFilter(viewer, filter);
  const jobs = await db
    .select()
    .from(batchPredictionJobs)
    .where(where)
    .orderBy(desc(batchPredictionJobs.createdAt), desc(batchPredictionJobs.id))
    .offset(page.offset)
    .limit(page.limit);
  const [{ n }] = (await db.select({ n: sql<number>`count(*)::int` }).from(batchPredictionJobs).where(where)) as [{ n: number }];
  return { jobs, totalCount: n };
}

/** Newest first, ties by id: the order of every job list, and the keys of its cursors. */
const JOB_ORDER: KeysetOrder<BatchPredictionJob> = {
  expr: sql`${batchPredictionJobs.createdAt}`,
  id: sql`${batchPredictionJobs.id}`,
  cast: 'timestamptz',
  direction: 'DESC',
  key: (job) => [job.createdAt.toISOString(), job.id],
};

/** The same list as a cursor page (GraphQL connections); the total is counted only when asked for. */
export async function listJobPage(
  db: Db,
  viewer: Viewer,
  filter: JobListFilter,
  args: PageArgs,
): Promise<Result<Page<BatchPredictionJob> & { totalCount: () => Promise<number> }>> {
  const where = jobFilter(viewer, filter);
  const page = await keysetPage(args, JOB_ORDER, (condition, orderBy, limit) =>
    db
      .select()
      .from(batchPredictionJobs)
      .where(and(where, condition))
      .orderBy(...orderBy)
      .limit(limit),
  );
  if (isError(page)) return page;
  const totalCount = async () => (await db.select({ n: sql<number>`count(*)::int` }).from(batchPredictionJobs).where(where))[0]!.n;
  return { ...page, totalCount };
}

/** Ends a job: the status is final at once; its next chunk commit sees it and stores nothing more. */
export async function finishJob(
  db: DbOrTx,
  jobId: string,
  status: 'COMPLETED' | 'ABORTED' | 'FAILED',
  details: string,
  log?: string,
): Promise<BatchPredictionJob | null> {
  const [job] = await db
    .update(batchPredictionJobs)
    .set({
      status,
      statusDetails: details,
      finishedAt: sql`now()`,
      logs: log ? sql`${batchPredictionJobs.logs} || ${JSON.stringify([`${new Date().toISOString()} ${log}`])}::jsonb` : undefined,
    })
    .where(and(eq(batchPredictionJobs.id, jobId), inArray(batchPredictionJobs.status, ['INITIALIZING', 'RUNNING'])))
    .returning();
  if (job) await announce(db, { k: 'job', d: job.deploymentId, j: job.id });
  return job ?? null;
}

/**
 * DataRobot's DELETE: a running (or waiting) job is aborted; a finished one has its input and
 * output deleted (resultsDeleted). Either way the job stays readable.
 */
export async function abortJob(db: Db, viewer: Viewer, id: string): Promise<Result<BatchPredictionJob>> {
  return transactionResult(db, async (tx) => {
    const job = await getJob(tx, viewer, id);
    if (isError(job)) return job;
    if (!isFinal(job.status)) {
      const aborted = await finishJob(tx, job.id, 'ABORTED', 'Aborted by the user', `aborted by user ${viewer.userId}`);
      if (aborted) return aborted;
    }
    await tx.delete(batchPredictionJobChunks).where(eq(batchPredictionJobChunks.jobId, job.id));
    const [deleted] = await tx
      .update(batchPredictionJobs)
      .set({ resultsDeleted: true })
      .where(eq(batchPredictionJobs.id, job.id))
      .returning();
    await announce(tx, { k: 'job', d: job.deploymentId, j: job.id });
    return deleted!;
  });
}

/**
 * Aborts a job that is waiting or running (GraphQL's abortBatchPredictionJob). Unlike DataRobot's
 * DELETE (abortJob), a finished job is refused and keeps its results.
 */
export async function abortRunningJob(db: Db, viewer: Viewer, id: string): Promise<Result<BatchPredictionJob>> {
  return transactionResult(db, async (tx) => {
    const job = await getJob(tx, viewer, id);
    if (isError(job)) return job;
    const aborted = isFinal(job.status)
      ? null
      : await finishJob(tx, job.id, 'ABORTED', 'Aborted by the user', `aborted by user ${viewer.userId}`);
    if (aborted) return aborted;
    // Finished already, or just now (finishJob changes only a waiting or running job).
    const [current] = await jobsByIds(tx, viewer.organizationId, [job.id]);
    const status = current?.status ?? job.status;
    return new JobStateError(job.id, status, `The job is ${status} already; only a waiting or running job can be aborted`);
  });
}

/**
 * The job's input (PUT …/csvUpload/), stored in chunks in one transaction with the job's row
 * locked: a second upload, or an upload to a job that is not waiting for one, is refused.
 */
export async function uploadJobInput(db: Db, viewer: Viewer, id: string, body: AsyncIterable<Buffer>): Promise<Result<BatchPredictionJob>> {
  return transactionResult(db, async (tx) => {
    const [job] = await tx
      .select()
      .from(batchPredictionJobs)
      .where(and(eq(batchPredictionJobs.id, id), eq(batchPredictionJobs.organizationId, viewer.organizationId)))
      .for('update');
    if (!job) return new NotFoundError('BatchPredictionJob', 'Batch prediction job not found');
    if (job.spec.intakeSettings.type !== 'localFile') {
      return new JobStateError(job.id, job.status, 'This job reads its input from a URL (intakeSettings.type url); it takes no upload');
    }
    if (job.inputRows !== null) return new JobStateError(job.id, job.status, 'The input of this job was already uploaded');
    if (job.status !== 'INITIALIZING') return new JobStateError(job.id, job.status, `The job is ${job.status}; it takes no upload`);
    const deployment = await getDeployment(tx, viewer, job.deploymentId);
    if (isError(deployment)) return deployment;
    const stored = await storeInput(tx, job, deployment, body);
    if (isError(stored)) return stored;
    const [updated] = await tx
      .update(batchPredictionJobs)
      .set({
        inputColumns: stored.columns,
        inputRows: stored.rows,
        chunkCount: stored.chunks,
        statusDetails: `Input received (${stored.rows} rows in ${stored.chunks} chunks); waiting for a worker`,
      })
      .where(eq(batchPredictionJobs.id, job.id))
      .returning();
    await announce(tx, { k: 'job', d: job.deploymentId, j: job.id });
    return updated!;
  });
}

/**
 * Jobs nobody seems to work on: waiting ones whose input is in (or is a URL to read), and running
 * ones with no live chunk claim (their worker died, or a message was lost). Waking one that is in
 * fact being worked on costs a look, no more: chunk claims keep two workers apart.
 */
export async function jobsNeedingWork(db: Db, limit = 100): Promise<string[]> {
  const rows = await db.execute<{ id: string }>(sql`
    select j.id from batch_prediction_jobs j
     where (j.status = 'INITIALIZING' and (j.input_rows is not null or j.spec->'intakeSettings'->>'type' = 'url'))
        or (j.status = 'RUNNING' and not exists (
              select 1 from batch_prediction_job_chunks c
               where c.job_id = j.id and c.output is null and c.claimed_until > now()))
     limit ${limit}`);
  return rows.map((r) => r.id);
}

/**
 * Jobs of every organization by state, for /metrics: queued (INITIALIZING), running, failed. One
 * scan of the jobs table (a row per job, not per prediction) per scrape.
 */
export async function jobCountsByState(db: Db): Promise<{ queued: number; running: number; failed: number }> {
  const [row] = await db.execute<{ queued: number; running: number; failed: number }>(sql`
    select count(*) filter (where status = 'INITIALIZING')::int as queued,
           count(*) filter (where status = 'RUNNING')::int as running,
           count(*) filter (where status = 'FAILED')::int as failed
      from batch_prediction_jobs`);
  return row ?? { queued: 0, running: 0, failed: 0 };
}

/** Removes input and output of jobs finished more than `hours` ago (resultsDeleted). */
export async function purgeJobResults(db: Db, hours: number): Promise<number> {
  const old = await db
    .update(batchPredictionJobs)
    .set({ resultsDeleted: true })
    .where(
      and(
        inArray(batchPredictionJobs.status, ['COMPLETED', 'ABORTED', 'FAILED']),
        eq(batchPredictionJobs.resultsDeleted, false),
        sql`${batchPredictionJobs.finishedAt} < now() - make_interval(hours => ${hours})`,
      ),
    )
    .returning({ id: batchPredictionJobs.id });
  if (old.length) {
    await db.delete(batchPredictionJobChunks).where(
      inArray(
        batchPredictionJobChunks.jobId,
        old.map((j) => j.id),
      ),
    );
  }
  return old.length;
}

/** Jobs of a monitoring batch (the batch a run made): MonitoringBatch.predictionJob. */
export async function jobsOfBatches(db: DbOrTx, organizationId: string, batchIds: readonly string[]): Promise<BatchPredictionJob[]> {
  if (!batchIds.length) return [];
  return db
    .select()
    .from(batchPredictionJobs)
    .where(and(eq(batchPredictionJobs.organizationId, organizationId), inArray(batchPredictionJobs.batchId, [...batchIds])));
}

const OUTPUT_POLL_MS = 200;
const CHUNKS_PER_READ = 4;

/**
 * The output file as it is written: the header, then each chunk's lines in input order as soon as
 * it is scored (waiting for the next one while the job runs). Ends when every chunk is sent, or
 * when the job has ended without it (aborted, failed, results deleted): a job that had already
 * ended gives its partial output as a whole; one that ends while we wait for it throws, so the
 * download is cut off rather than ended as if the file were complete.
 */
export async function* outputStream(db: Db, job: BatchPredictionJob, header: string): AsyncGenerator<string> {
  const endedBefore = isFinal(job.status);
  yield header;
  const total = job.chunkCount ?? 0;
  let next = 0;
  while (next < total) {
    const found = await db
      .select({ chunk: batchPredictionJobChunks.chunk, output: batchPredictionJobChunks.output })
      .from(batchPredictionJobChunks)
      .where(
        and(
          eq(batchPredictionJobChunks.jobId, job.id),
          sql`${batchPredictionJobChunks.chunk} >= ${next} and ${batchPredictionJobChunks.chunk} < ${next + CHUNKS_PER_READ}`,
          sql`${batchPredictionJobChunks.output} is not null`,
        ),
      )
      .orderBy(batchPredictionJobChunks.chunk);
    let sent = false;
    for (const chunk of found) {
      if (chunk.chunk !== next) break;
      yield chunk.output!;
      next++;
      sent = true;
    }
    if (sent) continue;
    const [current] = await db
      .select({ status: batchPredictionJobs.status, resultsDeleted: batchPredictionJobs.resultsDeleted })
      .from(batchPredictionJobs)
      .where(eq(batchPredictionJobs.id, job.id));
    if (!current || current.resultsDeleted || (isFinal(current.status) && current.status !== 'COMPLETED')) {
      if (endedBefore) return;
      throw new Error(`batch prediction job ${job.id} ended (${current?.status ?? 'deleted'}) before its output was complete`);
    }
    if (current.status === 'COMPLETED') {
      // Completed means every chunk is stored; read once more in case it completed between our reads.
      const [left] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(batchPredictionJobChunks)
        .where(and(eq(batchPredictionJobChunks.jobId, job.id), sql`${batchPredictionJobChunks.chunk} = ${next}`, sql`output is not null`));
      if (!left?.n) return;
      continue;
    }
    await new Promise((resolve) => setTimeout(resolve, OUTPUT_POLL_MS));
  }
}
