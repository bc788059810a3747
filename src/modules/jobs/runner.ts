import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { AppServices } from '../../context.js';
import { type BatchPredictionJob, batchPredictionJobChunks, batchPredictionJobs } from '../../db/tables.js';
import { pgTransactionResult, transactionResult } from '../../db/transactions.js';
import {
  BatchLockedError,
  BatchQuotaExceededError,
  type DomainError,
  isError,
  JobStateError,
  ModelBackendError,
  NotFoundError,
  type Result,
} from '../../errors.js';
import { announce } from '../../events/hub.js';
import type { Logger } from '../../observability/log.js';
import { createBatchInTransaction } from '../batches/service.js';
import { getBatchDeployment } from '../deployments/service.js';
import { prefixedBatchName } from '../predictions/batch-target.js';
import { ingestInTransaction } from '../predictions/service.js';
import { backendOf } from '../scoring/backend.js';
import { predictionRow, type ScoredRow, scoreColumns } from '../scoring/score.js';
import { type StoredChunk, storeInput } from './input.js';
import { OutputFormat } from './output.js';
import { finishJob, isFinal, jobViewer } from './service.js';

// Works on one batch prediction job for a while (a "slice", at most one lease long): starts it
// (creates its monitoring batch under the quota), then claims chunks — numConcurrent at a time —
// scores each through the model backend and stores its predictions, its request statistics and its
// output in ONE transaction that also marks the chunk done. A chunk is thus in the batch exactly
// once whatever dies when: a claim that expires (its worker died) is taken over, and a chunk found
// already done at commit is dropped. The queue (queue.ts) calls this again until it says "done".

export type SliceOutcome = { next: 'done' } | { next: 'again' } | { next: 'later'; seconds: number };

export interface RunnerSettings {
  leaseSeconds: number;
  backendAttempts: number;
  retryBaseMs: number;
  log: Logger;
}

/** The default prefix of a job's batch when its spec names none. */
export const DEFAULT_BATCH_PREFIX = 'Batch prediction job';

const loadJob = async (app: AppServices, id: string) =>
  (await app.db.select().from(batchPredictionJobs).where(eq(batchPredictionJobs.id, id)))[0] ?? null;

async function appendLog(app: AppServices, jobId: string, line: string): Promise<void> {
  await app.db
    .update(batchPredictionJobs)
    .set({ logs: sql`${batchPredictionJobs.logs} || ${JSON.stringify([`${new Date().toISOString()} ${line}`])}::jsonb` })
    .where(eq(batchPredictionJobs.id, jobId));
}

export async function workOnJob(app: AppServices, jobId: string, settings: RunnerSettings): Promise<SliceOutcome> {
  let job = await loadJob(app, jobId);
  if (!job || isFinal(job.status)) return { next: 'done' };
  if (job.status === 'INITIALIZING') {
    if (job.inputRows === null && job.spec.intakeSettings.type === 'url') {
      const fetched = await fetchInput(app, job);
      if (fetched) return { next: 'done' };
      job = await loadJob(app, jobId);
      if (!job || isFinal(job.status)) return { next: 'done' };
    }
    if (job.inputRows === null) return { next: 'done' }; // waiting for the upload, which wakes it again
    const started = await startJob(app, job);
    if (!started) return { next: 'done' };
    job = started;
  }
  return scoreSlice(app, job, settings);
}

/** Reads a url intake into chunks; true when the job ended (failed) doing so. */
async function fetchInput(app: AppServices, job: BatchPredictionJob): Promise<boolean> {
  const url = (job.spec.intakeSettings as { url: string }).url;
  const viewer = jobViewer(job);
  const result = await transactionResult(app.db, async (tx) => {
    // Another worker reading it holds the lock: leave it to them.
    const [locked] = await tx
      .select()
      .from(batchPredictionJobs)
      .where(eq(batchPredictionJobs.id, job.id))
      .for('update', { skipLocked: true });
    if (locked?.status !== 'INITIALIZING' || locked.inputRows !== null) return false;
    const deployment = await getBatchDeployment(tx, viewer, job.deploymentId);
    if (isError(deployment)) return deployment;
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
    } catch (error) {
      return new JobStateError(job.id, job.status, `Could not read the input from ${url}: ${(error as Error).message}`);
    }
    if (!response.ok || !response.body)
      return new JobStateError(job.id, job.status, `Reading the input from ${url} answered ${response.status}`);
    await tx.delete(batchPredictionJobChunks).where(eq(batchPredictionJobChunks.jobId, job.id));
    const stored = await storeInput(tx, job, deployment, response.body as unknown as AsyncIterable<Uint8Array>);
    if (isError(stored)) return stored;
    await tx
      .update(batchPredictionJobs)
      .set({ inputColumns: stored.columns, inputRows: stored.rows, chunkCount: stored.chunks, statusDetails: `Input read from ${url}` })
      .where(eq(batchPredictionJobs.id, job.id));
    return false;
  });
  if (!isError(result)) return result;
  await finishJob(app.db, job.id, 'FAILED', `Input refused: ${result.message}`, `input refused: ${result.message}`);
  return true;
}

/** INITIALIZING → RUNNING: the run's monitoring batch is created (quota counted) and linked. Null when the job ended instead. */
async function startJob(app: AppServices, job: BatchPredictionJob): Promise<BatchPredictionJob | null> {
  const viewer = jobViewer(job);
  const started = await transactionResult(app.db, async (tx) => {
    const [locked] = await tx.select().from(batchPredictionJobs).where(eq(batchPredictionJobs.id, job.id)).for('update');
    if (locked?.status !== 'INITIALIZING') return locked ?? null;
    const deployment = await getBatchDeployment(tx, viewer, job.deploymentId);
    if (isError(deployment)) return deployment;
    const batch = await createBatchInTransaction(tx, viewer, deployment, {
      name: prefixedBatchName(job.spec.monitoringBatchPrefix ?? DEFAULT_BATCH_PREFIX),
      description: `Predictions of batch prediction job ${job.id}`,
    });
    if (isError(batch)) return batch;
    const [running] = await tx
      .update(batchPredictionJobs)
      .set({ status: 'RUNNING', batchId: batch.id, startedAt: sql`now()`, statusDetails: `Scoring into monitoring batch "${batch.name}"` })
      .where(eq(batchPredictionJobs.id, job.id))
      .returning();
    await announce(tx, { k: 'job', d: job.deploymentId, j: job.id });
    return running!;
  });
  if (!isError(started)) return started && started.status === 'RUNNING' ? started : null;
  const details =
    started instanceof BatchQuotaExceededError
      ? `Monitoring batch quota exceeded: ${started.message}`
      : `Could not start: ${started.message}`;
  await finishJob(app.db, job.id, 'FAILED', details, details);
  return null;
}

interface Chunk {
  chunk: number;
  firstLine: number;
  rowCount: number;
  input: string;
}

async function claimChunk(app: AppServices, jobId: string, leaseSeconds: number): Promise<Chunk | null> {
  const [claimed] = await app.db.execute<{ chunk: number; first_line: string; row_count: number; input: string }>(sql`
    update batch_prediction_job_chunks c
       set claimed_until = now() + make_interval(secs => ${leaseSeconds}), attempts = c.attempts + 1
     where (c.job_id, c.chunk) = (
       select job_id, chunk from batch_prediction_job_chunks
        where job_id = ${jobId} and output is null and (claimed_until is null or claimed_until < now())
        order by chunk limit 1 for update skip locked)
    returning c.chunk, c.first_line, c.row_count, c.input`);
  return claimed
    ? { chunk: claimed.chunk, firstLine: Number(claimed.first_line), rowCount: claimed.row_count, input: claimed.input }
    : null;
}

async function renewClaims(app: AppServices, jobId: string, chunks: number[], leaseSeconds: number): Promise<void> {
  await app.db
    .update(batchPredictionJobChunks)
    .set({ claimedUntil: sql`now() + make_interval(secs => ${leaseSeconds})` })
    .where(
      and(
        eq(batchPredictionJobChunks.jobId, jobId),
        inArray(batchPredictionJobChunks.chunk, chunks),
        isNull(batchPredictionJobChunks.output),
      ),
    );
}

const RETRYABLE = (error: ModelBackendError) =>
  error.failure === 'UNREACHABLE' ||
  error.failure === 'TIMEOUT' ||
  (error.failure === 'HTTP_ERROR' && (error.status === null || error.status >= 500 || error.status === 429));

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

const BATCH_PURGED = 'The monitoring batch of this run was deleted during the run';

/** Why a chunk's commit stopped the job, as the job's final status and details. */
function stopReason(error: DomainError, job: BatchPredictionJob): { status: 'ABORTED' | 'FAILED'; details: string } | null {
  if (error instanceof JobStateError) return null; // aborted meanwhile: nothing to add
  if (error instanceof BatchLockedError) return { status: 'ABORTED', details: `Monitoring batch ${job.batchId} was locked during the run` };
  if (error instanceof NotFoundError) return { status: 'ABORTED', details: `Monitoring batch ${job.batchId} was deleted during the run` };
  return { status: 'FAILED', details: error.message };
}

async function scoreSlice(app: AppServices, job: BatchPredictionJob, settings: RunnerSettings): Promise<SliceOutcome> {
  if (job.batchId === null) {
    // Its batch was deleted and purged (batch_id set null) while nobody worked on the run: ingest
    // with no batch id would put the rows in the deployment's batch of unassigned predictions.
    await finishJob(app.db, job.id, 'ABORTED', BATCH_PURGED, BATCH_PURGED);
    return { next: 'done' };
  }
  const viewer = jobViewer(job);
  const deployment = await getBatchDeployment(app.db, viewer, job.deploymentId);
  const backend = isError(deployment) ? deployment : backendOf(deployment);
  if (isError(deployment) || isError(backend)) {
    const reason = isError(deployment) ? deployment.message : (backend as ModelBackendError).message;
    await finishJob(app.db, job.id, 'FAILED', reason, reason);
    return { next: 'done' };
  }
  const output = new OutputFormat(deployment, job.spec, job.inputColumns ?? []);
  const noFeatures: Record<string, null> = Object.fromEntries(deployment.features.map((f) => [f.name, null]));
  const deadline = Date.now() + settings.leaseSeconds * 1000;
  const stop = new AbortController();
  let stopped: { status: 'ABORTED' | 'FAILED'; details: string } | null = null;
  const end = (reason: { status: 'ABORTED' | 'FAILED'; details: string } | null) => {
    stopped ??= reason;
    stop.abort();
  };
  // Chunks this slice is scoring: their claims are renewed while it lives, so that a backend slower
  // than a lease does not hand a chunk still in hand to another worker (a dead worker's run out).
  const inHand = new Set<number>();
  let renewedAt = Date.now();
  // Someone aborts the job (any process): in-flight backend calls are cancelled within ~0.5 s.
  const watcher = setInterval(() => {
    loadJob(app, job.id)
      .then((current) => {
        if (current?.status !== 'RUNNING') end(null);
      })
      .catch(() => {});
    if (inHand.size && Date.now() - renewedAt >= (settings.leaseSeconds * 1000) / 3) {
      renewedAt = Date.now();
      renewClaims(app, job.id, [...inHand], settings.leaseSeconds).catch(() => {});
    }
  }, 500);

  const scoreChunk = async (chunk: Chunk): Promise<void> => {
    // Validated and converted when the input was stored (input.ts).
    const stored = JSON.parse(chunk.input) as StoredChunk;
    let scored: Result<{ rows: ScoredRow[]; backendMs: number }> | null = null;
    const started = performance.now();
    let tries = 0;
    for (let attempt = 1; attempt <= settings.backendAttempts && !stop.signal.aborted; attempt++) {
      tries = attempt;
      try {
        scored = await scoreColumns(deployment, backend, stored.features, chunk.rowCount, stop.signal);
      } catch (error) {
        if (stop.signal.aborted) return;
        throw error;
      }
      if (!(scored instanceof ModelBackendError) || !RETRYABLE(scored) || attempt === settings.backendAttempts) break;
      const wait = settings.retryBaseMs * 2 ** (attempt - 1);
      await appendLog(
        app,
        job.id,
        `chunk ${chunk.chunk}: ${scored.message}; try ${attempt + 1} of ${settings.backendAttempts} in ${wait} ms`,
      );
      await sleep(wait, stop.signal);
    }
    if (stop.signal.aborted || scored === null) return;
    const failed = isError(scored) ? scored : null;
    if (failed && job.spec.abortOnError) {
      await recordFailure(app, job, performance.now() - started);
      const details = `Model backend failed on chunk ${chunk.chunk} (lines ${chunk.firstLine}–${chunk.firstLine + chunk.rowCount - 1}) after ${tries === 1 ? '1 try' : `${tries} tries`}: ${failed.message}`;
      await finishJob(app.db, job.id, 'FAILED', details, details);
      return end(null);
    }
    const rows = failed ? null : (scored as { rows: ScoredRow[] }).rows;
    const text = output.lines(stored.passthrough, rows, failed ? failed.message : null);
    // skipDriftTracking: the rows are stored without their features (no feature statistics of their own).
    const items = rows
      ? rows.map((row, r) => ({
          ...predictionRow(job.spec.skipDriftTracking ? { ...row, features: { ...noFeatures } } : row),
          associationId: stored.associationIds?.[r] ?? null,
        }))
      : [];
    const committed = await pgTransactionResult(app.pg, async (tx) => {
      const [mine] = await tx.db
        .select({ output: batchPredictionJobChunks.output })
        .from(batchPredictionJobChunks)
        .where(and(eq(batchPredictionJobChunks.jobId, job.id), eq(batchPredictionJobChunks.chunk, chunk.chunk)))
        .for('update');
      if (!mine || mine.output !== null) return 'already done';
      const [running] = await tx.db
        .select({ id: batchPredictionJobs.id })
        .from(batchPredictionJobs)
        .where(and(eq(batchPredictionJobs.id, job.id), eq(batchPredictionJobs.status, 'RUNNING')))
        .for('no key update');
      if (!running) return new JobStateError(job.id, 'ABORTED', 'The job is no longer running');
      const ingested = await ingestInTransaction(tx, app.pg, viewer, {
        deploymentId: job.deploymentId,
        batchId: job.batchId,
        items,
        normalized: true,
        itemPath: 'rows',
        request: {
          executionTimeMs: failed ? performance.now() - started : (scored as { backendMs: number }).backendMs,
          serverError: !!failed,
        },
      });
      if (isError(ingested)) return ingested;
      // The chunk's output (which marks it done), the job's counters, the announcement: sent together.
      await Promise.all([
        tx.db
          .update(batchPredictionJobChunks)
          .set({ output: text, claimedUntil: null })
          .where(and(eq(batchPredictionJobChunks.jobId, job.id), eq(batchPredictionJobChunks.chunk, chunk.chunk)))
          .then(),
        tx.db
          .update(batchPredictionJobs)
          .set(
            failed
              ? { failedRows: sql`${batchPredictionJobs.failedRows} + ${chunk.rowCount}` }
              : { scoredRows: sql`${batchPredictionJobs.scoredRows} + ${chunk.rowCount}` },
          )
          .where(eq(batchPredictionJobs.id, job.id))
          .then(),
        announce(tx.db, { k: 'job', d: job.deploymentId, j: job.id }),
      ]);
      return 'stored';
    });
    if (isError(committed)) {
      const reason = stopReason(committed, job);
      if (reason) await finishJob(app.db, job.id, reason.status, reason.details, reason.details);
      end(null);
    }
  };

  const lane = async (): Promise<void> => {
    while (!stop.signal.aborted && Date.now() < deadline) {
      const chunk = await claimChunk(app, job.id, settings.leaseSeconds);
      if (!chunk) return;
      inHand.add(chunk.chunk);
      try {
        await scoreChunk(chunk);
      } finally {
        inHand.delete(chunk.chunk);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: job.spec.numConcurrent }, lane));
  } finally {
    clearInterval(watcher);
  }
  if (stopped) {
    const reason: { status: 'ABORTED' | 'FAILED'; details: string } = stopped;
    await finishJob(app.db, job.id, reason.status, reason.details, reason.details);
  }
  if (stop.signal.aborted) return { next: 'done' };
  return finishIfDone(app, job, settings);
}

/** All chunks done: COMPLETED. Chunks left that others hold: look again when their claims run out. */
async function finishIfDone(app: AppServices, job: BatchPredictionJob, settings: RunnerSettings): Promise<SliceOutcome> {
  const [left] = await app.db
    .select({
      open: sql<number>`count(*)::int`,
      claimable: sql<number>`count(*) filter (where claimed_until is null or claimed_until < now())::int`,
    })
    .from(batchPredictionJobChunks)
    .where(and(eq(batchPredictionJobChunks.jobId, job.id), isNull(batchPredictionJobChunks.output)));
  if (left!.open === 0) {
    const failed = (await loadJob(app, job.id))?.failedRows ?? 0;
    const details = failed ? `Scored ${job.inputRows! - failed} rows; ${failed} rows failed` : `Scored ${job.inputRows} rows`;
    await finishJob(app.db, job.id, 'COMPLETED', details, 'completed');
    return { next: 'done' };
  }
  if (left!.claimable > 0) return { next: 'again' };
  return { next: 'later', seconds: settings.leaseSeconds };
}

/** A chunk the backend could not score (abortOnError): one request, a server error, in the run's batch. */
async function recordFailure(app: AppServices, job: BatchPredictionJob, executionTimeMs: number): Promise<void> {
  const result = await pgTransactionResult(app.pg, (tx) =>
    ingestInTransaction(tx, app.pg, jobViewer(job), {
      deploymentId: job.deploymentId,
      batchId: job.batchId,
      items: [],
      itemPath: 'rows',
      request: { executionTimeMs, serverError: true },
    }),
  );
  if (isError(result)) await appendLog(app, job.id, `could not record the failure in the batch: ${result.message}`);
}
