import { and, desc, eq, ilike, inArray, isNull, lte, type SQL, sql } from 'drizzle-orm';
import type { AppServices, Viewer } from '../../context.js';
import type { Db, DbOrTx } from '../../db/client.js';
import {
  type BatchPredictionJob,
  type BatchPredictionJobDefinition,
  batchPredictionJobs,
  batchPredictionJobDefinitions as definitions,
  type JobSchedule,
  type JobSpec,
} from '../../db/tables.js';
import { transactionResult } from '../../db/transactions.js';
import { ConflictError, type DomainError, type FieldError, isError, NotFoundError, type Result, ValidationError } from '../../errors.js';
import { newId } from '../../ids.js';
import { type Logger, silentLogger } from '../../observability/log.js';
import { type KeysetOrder, keysetPage, type Page, type PageArgs } from '../../pagination.js';
import { booleanSchema, nameSchema } from '../../validation.js';
import { escapeLike, getBatchDeployment } from '../deployments/service.js';
import { usersByIds } from '../organizations/service.js';
import { backendOf } from '../scoring/backend.js';
import { nextRunAfter, parseSchedule } from './schedule.js';
import { insertJob, type JobStatus, jobViewer } from './service.js';
import { parseJobSpec } from './spec.js';

// Batch prediction job definitions (C10): a saved job spec that runs on request ("run now") or on
// a schedule (DataRobot's /batchPredictionJobDefinitions). Every process's scheduler tick starts
// the due ones (startDueDefinitions): each slot exactly once, whatever the number of processes.

export type Definition = BatchPredictionJobDefinition;

const notFound = () => new NotFoundError('BatchPredictionJobDefinition', 'Batch prediction job definition not found');

/**
 * What create and update take, as DataRobot names it; the job spec under `batchPredictionJob`.
 * On update every field is optional: an absent one stays, `schedule: null` removes the schedule,
 * and `batchPredictionJob` holds only the job settings that change.
 */
export interface DefinitionInput {
  name?: unknown;
  enabled?: unknown;
  schedule?: unknown;
  batchPredictionJob?: unknown;
}

const NAME_MAX = 100;
const nameInput = nameSchema(NAME_MAX);

/** The settings of a definition once read and checked, before the rules that tie them together. */
interface Settings {
  name: string | undefined;
  enabled: boolean | undefined;
  /** undefined: not given; null: no schedule. */
  schedule: JobSchedule | null | undefined;
  spec: JobSpec | undefined;
}

function readSettings(input: DefinitionInput, before: Definition | null): Settings | ValidationError {
  const errors: FieldError[] = [];
  const settings: Settings = { name: undefined, enabled: undefined, schedule: undefined, spec: undefined };
  if (input.name !== undefined && (input.name !== null || before)) {
    const name = nameInput.safeParse(input.name);
    if (name.success) settings.name = name.data;
    else errors.push({ field: 'name', message: name.error.issues[0]!.message });
  }
  if (input.enabled !== undefined) {
    const enabled = booleanSchema.safeParse(input.enabled);
    if (enabled.success) settings.enabled = enabled.data;
    else errors.push({ field: 'enabled', message: enabled.error.issues[0]!.message });
  }
  if (input.schedule === null) settings.schedule = null;
  else if (input.schedule !== undefined) {
    const schedule = parseSchedule(input.schedule);
    if (isError(schedule)) errors.push(...schedule.fieldErrors);
    else settings.schedule = schedule;
  }
  const job = input.batchPredictionJob;
  if (job === undefined || job === null) {
    if (!before) errors.push({ field: 'batchPredictionJob', message: 'is required: the job settings (deploymentId, intakeSettings …)' });
    else if (job === null) errors.push({ field: 'batchPredictionJob', message: 'must not be null' });
  } else if (typeof job !== 'object' || Array.isArray(job)) {
    errors.push({ field: 'batchPredictionJob', message: 'must be an object of job settings' });
  } else {
    // An update names only what changes: the stored spec (every setting filled in) underneath.
    const spec = parseJobSpec(before ? { ...before.spec, ...(job as Record<string, unknown>) } : job);
    if (isError(spec)) {
      const fieldErrors = spec instanceof ValidationError ? spec.fieldErrors : [{ field: '', message: spec.message }];
      errors.push(
        ...fieldErrors.map((e) => ({ field: e.field ? `batchPredictionJob.${e.field}` : 'batchPredictionJob', message: e.message })),
      );
    } else settings.spec = spec;
  }
  return errors.length ? new ValidationError(errors) : settings;
}

/** The rules of a scheduled definition: a schedule, and an input the server can read by itself. */
function scheduleRules(enabled: boolean, schedule: JobSchedule | null, spec: JobSpec): ValidationError | null {
  if (!enabled) return null;
  const errors: FieldError[] = [];
  if (!schedule)
    errors.push({ field: 'schedule', message: 'is required when enabled is true (without one, a definition runs only on request)' });
  if (spec.intakeSettings.type === 'localFile') {
    errors.push({
      field: 'batchPredictionJob.intakeSettings.type',
      message:
        'must be url when enabled is true: a scheduled run has nobody to upload a local file (a localFile definition can still be run on request, then takes the upload)',
    });
  }
  return errors.length ? new ValidationError(errors) : null;
}

/** What a run of the spec needs, checked now rather than at the first run: as POST /batchPredictions/ checks it. */
async function checkTarget(db: DbOrTx, viewer: Viewer, spec: JobSpec): Promise<DomainError | null> {
  const deployment = await getBatchDeployment(db, viewer, spec.deploymentId);
  if (deployment instanceof NotFoundError) return ValidationError.of('batchPredictionJob.deploymentId', 'Deployment not found');
  if (isError(deployment)) return deployment;
  const backend = backendOf(deployment);
  return isError(backend) ? backend : null;
}

const nameTaken = (name: string) =>
  new ConflictError('name', `A batch prediction job definition named ${JSON.stringify(name)} already exists in this organization`);

/** PostgreSQL's unique_violation of the name index (drizzle wraps the driver's error in `cause`). */
function isNameTaken(error: unknown): boolean {
  for (let e = error as { code?: string; constraint_name?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === '23505' && e.constraint_name === 'batch_prediction_job_definitions_name_idx') return true;
  }
  return false;
}

/** The next run from now, when the definition is scheduled (enabled with a schedule). */
function nextRun(enabled: boolean, schedule: JobSchedule | null, now = new Date()): Date | null {
  return enabled && schedule ? nextRunAfter(schedule, now) : null;
}

export async function createDefinition(db: Db, viewer: Viewer, input: DefinitionInput): Promise<Result<Definition>> {
  const settings = readSettings(input, null);
  if (isError(settings)) return settings;
  const spec = settings.spec!;
  const enabled = settings.enabled ?? false;
  const schedule = settings.schedule ?? null;
  const broken = scheduleRules(enabled, schedule, spec) ?? (await checkTarget(db, viewer, spec));
  if (broken) return broken;
  const id = newId('BatchPredictionJobDefinition');
  // DataRobot names a definition itself when the request does not; the id keeps ours unique.
  const name = settings.name ?? `Batch prediction job definition ${id}`;
  const [created] = await db
    .insert(definitions)
    .values({
      id,
      organizationId: viewer.organizationId,
      deploymentId: spec.deploymentId,
      createdById: viewer.userId,
      updatedById: viewer.userId,
      name,
      enabled,
      schedule,
      spec,
      nextScheduledRunAt: nextRun(enabled, schedule),
    })
    .onConflictDoNothing({ target: [definitions.organizationId, definitions.name], where: sql`deleted_at is null` })
    .returning();
  return created ?? nameTaken(name);
}

const visible = (organizationId: string) => and(eq(definitions.organizationId, organizationId), isNull(definitions.deletedAt));

export async function definitionsByIds(db: DbOrTx, organizationId: string, ids: readonly string[]): Promise<Definition[]> {
  if (!ids.length) return [];
  return db
    .select()
    .from(definitions)
    .where(and(visible(organizationId), inArray(definitions.id, [...ids])));
}

export async function getDefinition(db: DbOrTx, viewer: Viewer, id: string): Promise<Result<Definition>> {
  const [definition] = await definitionsByIds(db, viewer.organizationId, [id]);
  return definition ?? notFound();
}

export async function updateDefinition(db: Db, viewer: Viewer, id: string, input: DefinitionInput): Promise<Result<Definition>> {
  try {
    return await transactionResult(db, async (tx) => {
      const [before] = await tx
        .select()
        .from(definitions)
        .where(and(visible(viewer.organizationId), eq(definitions.id, id)))
        .for('update');
      if (!before) return notFound();
      const settings = readSettings(input, before);
      if (isError(settings)) return settings;
      const enabled = settings.enabled ?? before.enabled;
      const schedule = settings.schedule === undefined ? before.schedule : settings.schedule;
      const spec = settings.spec ?? before.spec;
      const broken = scheduleRules(enabled, schedule, spec);
      if (broken) return broken;
      if (settings.spec || (enabled && !before.enabled)) {
        const target = await checkTarget(tx, viewer, spec);
        if (target) return target;
      }
      // A new schedule, or one switched back on, counts from now: slots missed while off never run.
      const rescheduled = settings.schedule !== undefined || enabled !== before.enabled;
      const [updated] = await tx
        .update(definitions)
        .set({
          name: settings.name ?? before.name,
          enabled,
          schedule,
          spec,
          deploymentId: spec.deploymentId,
          nextScheduledRunAt: rescheduled || !before.nextScheduledRunAt ? nextRun(enabled, schedule) : before.nextScheduledRunAt,
          updatedById: viewer.userId,
          updatedAt: sql`now()`,
        })
        .where(eq(definitions.id, id))
        .returning();
      return updated!;
    });
  } catch (error) {
    if (isNameTaken(error)) return nameTaken(String(input.name).trim());
    throw error;
  }
}

/** Soft delete: the definition disappears and never runs again; its jobs stay (running ones go on). */
export async function deleteDefinition(db: Db, viewer: Viewer, id: string): Promise<Result<Definition>> {
  const [deleted] = await db
    .update(definitions)
    .set({ deletedAt: sql`now()`, enabled: false, nextScheduledRunAt: null, updatedById: viewer.userId, updatedAt: sql`now()` })
    .where(and(visible(viewer.organizationId), eq(definitions.id, id)))
    .returning();
  return deleted ?? notFound();
}

export interface DefinitionFilter {
  deploymentId?: string | null;
  /** Case-insensitive part of the name (DataRobot's searchName). */
  search?: string | null;
}

function listWhere(viewer: Viewer, filter: DefinitionFilter): SQL {
  const conditions: (SQL | undefined)[] = [visible(viewer.organizationId)];
  if (filter.deploymentId) conditions.push(eq(definitions.deploymentId, filter.deploymentId));
  const search = filter.search?.trim();
  if (search) conditions.push(ilike(definitions.name, `%${escapeLike(search)}%`));
  return and(...conditions)!;
}

const countDefinitions = (db: Db, where: SQL) => async () =>
  (await db.select({ n: sql<number>`count(*)::int` }).from(definitions).where(where))[0]!.n;

/** Newest first, by offset and limit (DataRobot's list), with the total. */
export async function listDefinitions(
  db: Db,
  viewer: Viewer,
  filter: DefinitionFilter,
  page: { offset: number; limit: number },
): Promise<{ rows: Definition[]; totalCount: number }> {
  const where = listWhere(viewer, filter);
  const [rows, totalCount] = await Promise.all([
    db
      .select()
      .from(definitions)
      .where(where)
      .orderBy(desc(definitions.createdAt), desc(definitions.id))
      .offset(page.offset)
      .limit(page.limit),
    countDefinitions(db, where)(),
  ]);
  return { rows, totalCount };
}

const newestFirst: KeysetOrder<Definition> = {
  expr: sql`${definitions.createdAt}`,
  id: sql`${definitions.id}`,
  cast: 'timestamptz',
  direction: 'DESC',
  key: (d) => [d.createdAt.toISOString(), d.id],
};

/** A deployment's definitions as a cursor page, newest first (GraphQL). */
export async function definitionsPage(
  db: Db,
  viewer: Viewer,
  deploymentId: string,
  args: PageArgs & { search?: string | null },
): Promise<Result<Page<Definition> & { totalCount: () => Promise<number> }>> {
  const where = listWhere(viewer, { deploymentId, search: args.search });
  const page = await keysetPage(args, newestFirst, (condition, orderBy, limit) =>
    db
      .select()
      .from(definitions)
      .where(and(where, condition))
      .orderBy(...orderBy)
      .limit(limit),
  );
  if (isError(page)) return page;
  return { ...page, totalCount: countDefinitions(db, where) };
}

/** What a definition's runs say about it, from its jobs. */
export interface DefinitionRuns {
  /** The newest job of the definition (run now, scheduled, or fromExisting of one of them). */
  lastStartedJobId: string | null;
  lastStartedJobStatus: JobStatus | null;
  lastStartedJobTime: Date | null;
  lastSuccessfulRunTime: Date | null;
  lastFailedRunTime: Date | null;
}

export const NO_RUNS: DefinitionRuns = {
  lastStartedJobId: null,
  lastStartedJobStatus: null,
  lastStartedJobTime: null,
  lastSuccessfulRunTime: null,
  lastFailedRunTime: null,
};

const toDate = (value: unknown) => (value === null || value === undefined ? null : value instanceof Date ? value : new Date(String(value)));

/**
 * Per definition id: the status and creation time of its newest job, and when its newest completed
 * and newest failed jobs (by creation) finished. Each is one backward step on the jobs' definition
 * index, however many runs a definition has had.
 */
export async function definitionRuns(db: DbOrTx, organizationId: string, ids: readonly string[]): Promise<Map<string, DefinitionRuns>> {
  if (!ids.length) return new Map();
  const newest = (status: SQL | undefined, column: SQL) => sql`(
    select ${column} from batch_prediction_jobs j
     where j.definition_id = d.id and j.organization_id = ${organizationId} ${status ? sql`and ${status}` : sql``}
     order by j.created_at desc, j.id desc limit 1)`;
  const rows = await db.execute<{
    id: string;
    job: string | null;
    status: JobStatus | null;
    started: unknown;
    succeeded: unknown;
    failed: unknown;
  }>(sql`
    select d.id,
           ${newest(undefined, sql`j.id`)} as job,
           ${newest(undefined, sql`j.status`)} as status,
           ${newest(undefined, sql`j.created_at`)} as started,
           ${newest(sql`j.status = 'COMPLETED'`, sql`j.finished_at`)} as succeeded,
           ${newest(sql`j.status = 'FAILED'`, sql`j.finished_at`)} as failed
      from batch_prediction_job_definitions d
     where d.organization_id = ${organizationId} and d.id in (${sql.join(
       ids.map((id) => sql`${id}`),
       sql`, `,
     )})`);
  return new Map(
    rows.map((row) => [
      row.id,
      {
        lastStartedJobId: row.job,
        lastStartedJobStatus: row.status,
        lastStartedJobTime: toDate(row.started),
        lastSuccessfulRunTime: toDate(row.succeeded),
        lastFailedRunTime: toDate(row.failed),
      },
    ]),
  );
}

/** What an answer about these definitions shows besides their rows: their runs and the names of their users. */
export async function describeDefinitions(
  db: Db,
  organizationId: string,
  rows: readonly Definition[],
): Promise<{ runs: Map<string, DefinitionRuns>; userNames: Map<string, string> }> {
  const userIds = new Set(rows.flatMap((d) => [d.createdById, d.updatedById ?? d.createdById]));
  const [runs, users] = await Promise.all([
    definitionRuns(
      db,
      organizationId,
      rows.map((d) => d.id),
    ),
    usersByIds(db, organizationId, [...userIds]),
  ]);
  return { runs, userNames: new Map(users.map((u) => [u.id, u.name])) };
}

/**
 * Run now (DataRobot's POST /batchPredictions/fromJobDefinition/): a job from the definition's
 * spec, started by the caller. A url intake is read at once; a localFile one waits for its upload.
 */
export async function runDefinition(app: AppServices, viewer: Viewer, id: string): Promise<Result<BatchPredictionJob>> {
  const definition = await getDefinition(app.db, viewer, id);
  if (isError(definition)) return definition;
  const job = await insertJob(app.db, viewer, definition.spec, definition.id);
  if (isError(job)) return job;
  await app.db.update(definitions).set({ lastStartedJobId: job.id }).where(eq(definitions.id, definition.id));
  if (job.spec.intakeSettings.type === 'url') await app.wakeJob(job.id);
  return job;
}

/** Definitions one tick starts at most (one transaction); the rest wait for the next tick. */
export const DUE_PER_TICK = 20;

/**
 * Starts the definitions whose next slot has come, in one transaction: the due rows are locked
 * (rows another process holds are skipped), each gets its job and its next slot (the first after
 * now) before the commit, so a slot runs once across any number of processes, and after a
 * downtime the missed slots run once, not once each. A job that cannot be created (batch
 * monitoring switched off, no model backend) is recorded as a FAILED job naming the reason; it
 * does not hold up the others. Returns the ids of the jobs to wake.
 */
export async function startDueDefinitions(db: Db, log: Logger = silentLogger, limit = DUE_PER_TICK): Promise<string[]> {
  return db.transaction(async (tx) => {
    const due = await tx
      .select()
      .from(definitions)
      .where(and(eq(definitions.enabled, true), isNull(definitions.deletedAt), lte(definitions.nextScheduledRunAt, sql`now()`)))
      .orderBy(definitions.nextScheduledRunAt)
      .limit(limit)
      .for('update', { skipLocked: true });
    if (!due.length) return [];
    const [clock] = await tx.execute<{ ms: number }>(sql`select (extract(epoch from now()) * 1000)::float8 as ms`);
    const now = Number(clock!.ms);
    const wake: string[] = [];
    for (const definition of due) {
      const slot = definition.nextScheduledRunAt!;
      let jobId: string | null = null;
      try {
        // A savepoint: a failure here undoes this definition's job alone.
        const job = await tx.transaction(async (sp) => {
          const created = await insertJob(sp, jobViewer(definition), definition.spec, definition.id);
          return isError(created) ? failedRun(sp, definition, slot, created) : created;
        });
        jobId = job.id;
        if (job.status === 'INITIALIZING' && job.spec.intakeSettings.type === 'url') wake.push(job.id);
      } catch (error) {
        log.error(
          { err: error, definitionId: definition.id, slot: slot.toISOString() },
          'a scheduled batch prediction job could not be started',
        );
      }
      const next = definition.schedule ? nextRunAfter(definition.schedule, new Date(Math.max(now, slot.getTime()))) : null;
      await tx
        .update(definitions)
        .set({ lastScheduledRunAt: slot, nextScheduledRunAt: next, lastStartedJobId: jobId ?? definition.lastStartedJobId })
        .where(eq(definitions.id, definition.id));
    }
    return wake;
  });
}

/** A scheduled run that could not start: a FAILED job saying why, so the definition shows it. */
async function failedRun(db: DbOrTx, definition: Definition, slot: Date, reason: DomainError): Promise<BatchPredictionJob> {
  const details = `The scheduled run of ${slot.toISOString()} could not start: ${reason.message}`;
  const [job] = await db
    .insert(batchPredictionJobs)
    .values({
      id: newId('BatchPredictionJob'),
      organizationId: definition.organizationId,
      deploymentId: definition.deploymentId,
      createdById: definition.createdById,
      definitionId: definition.id,
      status: 'FAILED',
      spec: definition.spec,
      statusDetails: details,
      logs: [`${new Date().toISOString()} ${details}`],
      finishedAt: sql`now()`,
    })
    .returning();
  return job!;
}
