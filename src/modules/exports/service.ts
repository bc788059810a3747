import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { and, count, desc, eq, inArray, lt, max, min, or, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type postgres from 'postgres';
import type { AppServices, Viewer } from '../../context.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { type DataExport, type Deployment, dataExports, deployments, monitoringBatches } from '../../db/tables.js';
import { isError, NotFoundError, type Result, ValidationError } from '../../errors.js';
import { announce } from '../../events/hub.js';
import { newId } from '../../ids.js';
import type { Logger } from '../../observability/log.js';
import { getDeployment } from '../deployments/service.js';
import { type BatchSelectionInput, resolveSelection } from '../metrics/sums.js';
import { exportPlan } from './columns.js';
import { parquetChunks } from './parquet.js';
import { ExportSnapshot } from './snapshot.js';

// Data exports (C12): a snapshot of a batch selection's predictions (and their actuals) written as
// CSV or Parquet to a file in the export directory, with progress, downloadable until it expires.
// Any process's worker may write it (a claim with a lease; an expired claim is taken over).

export type ExportFormat = 'CSV' | 'PARQUET';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['CSV', 'PARQUET'];

export const FORMAT_FILES: Record<ExportFormat, { extension: string; contentType: string }> = {
  CSV: { extension: 'csv', contentType: 'text/csv; charset=utf-8' },
  PARQUET: { extension: 'parquet', contentType: 'application/vnd.apache.parquet' },
};

/** The export's REST address, and its file's. */
export const exportPath = (exp: DataExport) => `/api/v2/deployments/${exp.deploymentId}/predictionDataExports/${exp.id}/`;
export const downloadPath = (exp: DataExport) => `${exportPath(exp)}download/`;

/** Tries of one export before it fails for good (a process dying mid-export counts as one). */
const MAX_ATTEMPTS = 3;
/** How often a running export writes its progress (and renews its claim). */
const PROGRESS_INTERVAL_MS = 1000;

export interface CreateDataExportInput {
  deploymentId: string;
  selection: BatchSelectionInput;
  format: ExportFormat;
  includeActuals: boolean;
}

export async function createDataExport(app: AppServices, viewer: Viewer, input: CreateDataExportInput): Promise<Result<DataExport>> {
  if (!EXPORT_FORMATS.includes(input.format)) return ValidationError.of('format', `must be one of ${EXPORT_FORMATS.join(', ')}`);
  const deployment = await getDeployment(app.db, viewer, input.deploymentId);
  if (isError(deployment)) return deployment;
  const selection = await resolveSelection(app.db, viewer, deployment.id, input.selection);
  if (selection instanceof ValidationError) {
    return new ValidationError(selection.fieldErrors.map((e) => ({ ...e, field: e.field.replace(/^batches/, 'selection') })));
  }
  if (selection.batchIds.length === 0) return ValidationError.of('selection', 'selects no live batch of this deployment');
  const [period] = await app.db
    .select({ start: min(monitoringBatches.earliestPredictionAt), end: max(monitoringBatches.latestPredictionAt) })
    .from(monitoringBatches)
    .where(inArray(monitoringBatches.id, selection.batchIds));
  const [created] = await app.db
    .insert(dataExports)
    .values({
      id: newId('DataExport'),
      organizationId: viewer.organizationId,
      deploymentId: deployment.id,
      createdById: viewer.userId,
      batchIds: selection.batchIds,
      modelId: selection.modelId,
      periodStart: period?.start ?? null,
      periodEnd: period?.end ?? null,
      format: input.format,
      includeActuals: input.includeActuals,
    })
    .returning();
  app.wakeExports();
  return created!;
}

export async function exportsByIds(db: DbOrTx, organizationId: string, ids: readonly string[]): Promise<DataExport[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(dataExports)
    .where(and(eq(dataExports.organizationId, organizationId), inArray(dataExports.id, [...ids])));
}

/** The export, if it is the viewer's organization's (and of `deploymentId`, when given). */
export async function getDataExport(db: DbOrTx, viewer: Viewer, id: string, deploymentId?: string): Promise<Result<DataExport>> {
  const [found] = await exportsByIds(db, viewer.organizationId, [id]);
  if (!found || (deploymentId !== undefined && found.deploymentId !== deploymentId)) return new NotFoundError('DataExport');
  return found;
}

export const EXPORT_STATUSES = ['CREATED', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const;

/** A deployment's exports, newest first. */
export async function listDataExports(
  db: Db,
  viewer: Viewer,
  deploymentId: string,
  page: { offset: number; limit: number; status?: DataExport['status'] | undefined },
): Promise<Result<{ totalCount: number; exports: DataExport[] }>> {
  const deployment = await getDeployment(db, viewer, deploymentId);
  if (isError(deployment)) return deployment;
  const where = and(
    eq(dataExports.deploymentId, deployment.id),
    eq(dataExports.organizationId, viewer.organizationId),
    page.status ? eq(dataExports.status, page.status) : undefined,
  );
  const [[total], rows] = await Promise.all([
    db.select({ n: count() }).from(dataExports).where(where),
    db
      .select()
      .from(dataExports)
      .where(where)
      .orderBy(desc(dataExports.createdAt), desc(dataExports.id))
      .offset(page.offset)
      .limit(page.limit),
  ]);
  return { totalCount: total?.n ?? 0, exports: rows };
}

/** 0…1: rows written over rows in the snapshot (1 once it succeeded). */
export function exportProgress(exp: DataExport): number {
  if (exp.status === 'SUCCEEDED') return 1;
  if (!exp.rowCount) return 0;
  return Math.min(1, exp.rowsWritten / exp.rowCount);
}

export const isExpired = (exp: DataExport, now = new Date()): boolean =>
  exp.fileDeleted || (exp.expiresAt !== null && exp.expiresAt.getTime() <= now.getTime());

/** What a download of an export finds. */
export type ExportFile =
  | { state: 'READY'; path: string; sizeBytes: number; fileName: string; contentType: string }
  | { state: 'NOT_READY'; status: DataExport['status']; error: string | null }
  | { state: 'EXPIRED'; expiredAt: Date | null };

export function exportFile(app: AppServices, exp: DataExport): ExportFile {
  if (exp.status !== 'SUCCEEDED' || !exp.fileName) return { state: 'NOT_READY', status: exp.status, error: exp.error };
  if (isExpired(exp)) return { state: 'EXPIRED', expiredAt: exp.expiresAt };
  const { extension, contentType } = FORMAT_FILES[exp.format];
  return {
    state: 'READY',
    path: path.join(app.config.exportDir, exp.fileName),
    sizeBytes: exp.sizeBytes ?? 0,
    fileName: `${exp.id}.${extension}`,
    contentType,
  };
}

// ---------------------------------------------------------------------------------------------
// Writing: the same bytes for a file (an export) and for a response (one batch, streamed).

/**
 * A snapshot holds a pool connection for as long as its rows stream, and a slow client holds it for
 * its whole download. So at most half the pool (at least 1) streams at once in a process, leaving
 * connections for everything else; a streamed download beyond that is refused (503, Retry-After).
 */
const streamingNow = new WeakMap<AppServices, number>();

export const streamingSlots = (app: AppServices): number => Math.max(1, Math.floor(app.config.dbPoolSize / 2));

/** Takes a streaming slot: a release function (idempotent), or null when every slot is taken. */
export function takeStreamingSlot(app: AppServices): (() => void) | null {
  const busy = streamingNow.get(app) ?? 0;
  if (busy >= streamingSlots(app)) return null;
  streamingNow.set(app, busy + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    streamingNow.set(app, (streamingNow.get(app) ?? 1) - 1);
  };
}

export interface ExportStreamScope {
  organizationId: string;
  deploymentId: string;
  batchIds: readonly string[];
  modelId: string | null;
  format: ExportFormat;
  includeActuals: boolean;
}

/**
 * The export's bytes, from a snapshot taken when it starts; `onSnapshot` learns the row count.
 * The snapshot's transaction ends when the iteration does (also when the consumer stops early).
 */
export async function* exportBytes(
  pg: postgres.Sql,
  deploymentRow: Deployment,
  scope: ExportStreamScope,
  rowGroupRows: number,
  onSnapshot: (snapshot: ExportSnapshot) => void = () => {},
): AsyncGenerator<Buffer> {
  const plan = exportPlan(deploymentRow, scope.includeActuals);
  const snapshot = await ExportSnapshot.open(pg, scope);
  try {
    onSnapshot(snapshot);
    if (scope.format === 'CSV') {
      yield Buffer.from(`${plan.columns.map((c) => csvName(c.name)).join(',')}\n`);
      yield* snapshot.csv(plan);
    } else {
      yield* parquetChunks(snapshot, plan, rowGroupRows);
    }
  } finally {
    await snapshot.close();
  }
}

/** A CSV header cell, quoted when it must be (RFC 4180). */
function csvName(name: string): string {
  return /[",\r\n]/.test(name) || name.trim() !== name ? `"${name.replaceAll('"', '""')}"` : name;
}

/** Claims the oldest export nobody is writing (or whose writer's claim expired). */
async function claimExport(db: Db, leaseSeconds: number): Promise<DataExport | undefined> {
  const lease = sql`now() + make_interval(secs => ${leaseSeconds})`;
  const [claimed] = await db
    .update(dataExports)
    .set({
      status: 'RUNNING',
      claimedUntil: lease,
      attempts: sql`${dataExports.attempts} + 1`,
      startedAt: sql`coalesce(${dataExports.startedAt}, now())`,
    })
    .where(
      eq(
        dataExports.id,
        sql`(select id from data_exports where status = 'CREATED' or (status = 'RUNNING' and claimed_until < now())
             order by created_at for update skip locked limit 1)`,
      ),
    )
    .returning();
  return claimed;
}

async function setExport(db: DbOrTx, exp: DataExport, fields: PgUpdateSetSource<typeof dataExports>): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.update(dataExports).set(fields).where(eq(dataExports.id, exp.id));
    await announce(tx, { k: 'export', d: exp.deploymentId, x: exp.id });
  });
}

/** Writes one claimed export's file; its status ends SUCCEEDED or FAILED (or RUNNING for a retry). */
async function writeExport(app: AppServices, exp: DataExport, leaseSeconds: number, signal: AbortSignal): Promise<void> {
  if (exp.attempts > MAX_ATTEMPTS) {
    await setExport(app.db, exp, { status: 'FAILED', error: `Gave up after ${MAX_ATTEMPTS} attempts`, finishedAt: new Date() });
    return;
  }
  const [deployment] = await app.db.select().from(deployments).where(eq(deployments.id, exp.deploymentId));
  if (!deployment) {
    await setExport(app.db, exp, { status: 'FAILED', error: 'The deployment is gone', finishedAt: new Date() });
    return;
  }
  const { extension } = FORMAT_FILES[exp.format];
  const fileName = `${exp.id}.${extension}`;
  await mkdir(app.config.exportDir, { recursive: true });
  const target = path.join(app.config.exportDir, fileName);
  // Its own partial file per attempt: a writer whose claim ran out while it still wrote never
  // shares a file with the one that took over (the last complete rename wins; both are whole).
  const partial = `${target}.${randomUUID()}.partial`;
  let snapshot: ExportSnapshot | undefined;
  let lastReport = Date.now();
  let reporting: Promise<void> = Promise.resolve();
  const report = () => {
    if (!snapshot || Date.now() - lastReport < PROGRESS_INTERVAL_MS) return;
    lastReport = Date.now();
    const rowsWritten = snapshot.rowsRead;
    reporting = reporting.then(() =>
      setExport(app.db, exp, {
        rowsWritten,
        claimedUntil: sql`now() + make_interval(secs => ${leaseSeconds})`,
      }),
    );
  };
  try {
    const bytes = exportBytes(
      app.pg,
      deployment,
      { ...exp, batchIds: exp.batchIds, modelId: exp.modelId },
      app.config.exportRowGroupRows,
      (taken) => {
        snapshot = taken;
        reporting = reporting.then(() => setExport(app.db, exp, { rowCount: taken.rowCount, rowsWritten: 0 }));
      },
    );
    const progress = async function* () {
      for await (const chunk of bytes) {
        report();
        yield chunk;
      }
    };
    // The generator straight into the file (no Readable in between, which would read 16 chunks ahead).
    await pipeline(progress, createWriteStream(partial), { signal });
    await reporting;
    await rename(partial, target);
    const { size } = await stat(target);
    await setExport(app.db, exp, {
      status: 'SUCCEEDED',
      rowsWritten: snapshot?.rowsRead ?? 0,
      rowCount: snapshot?.rowsRead ?? 0,
      sizeBytes: size,
      fileName,
      finishedAt: new Date(),
      claimedUntil: null,
      expiresAt: sql`now() + make_interval(hours => ${app.config.exportRetentionHours})`,
    });
  } catch (error) {
    await reporting.catch(() => {});
    await rm(partial, { force: true });
    if (signal.aborted) {
      // This process is stopping: hand the export back at once rather than after the claim runs out.
      await setExport(app.db, exp, { status: 'CREATED', claimedUntil: null, rowsWritten: 0, attempts: exp.attempts - 1 });
      return;
    }
    const full = (error as NodeJS.ErrnoException)?.code === 'ENOSPC';
    await setExport(app.db, exp, {
      status: 'FAILED',
      error: full
        ? `Export failed: the server's export directory is full (no space left on device); free space there (BATCHLENS_EXPORT_DIR) and export again`
        : `Export failed: ${String((error as Error)?.message ?? error)}`,
      finishedAt: new Date(),
    });
  }
}

/**
 * Writes exports until none is waiting. One writer per process at a time (`wake` while it runs
 * asks for one more look); the tick also calls it, for exports a dead process left behind.
 */
export class ExportWorker {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly app: () => AppServices,
    private readonly leaseSeconds: number,
    private readonly log: Logger,
  ) {}

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error: unknown) => this.log.error({ err: error }, 'data export worker failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async drain(): Promise<void> {
    while (!this.stopped) {
      const claimed = await claimExport(this.app().db, this.leaseSeconds);
      if (!claimed) return;
      await writeExport(this.app(), claimed, this.leaseSeconds, this.abort.signal);
    }
  }

  /** Stops writing: an export being written goes back to CREATED for any process to take. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.running;
  }
}

/** Removes the files of exports past their expiry (every process's tick). */
export async function expireExports(app: AppServices): Promise<number> {
  const expired = await app.db
    .select({ id: dataExports.id, fileName: dataExports.fileName, deploymentId: dataExports.deploymentId })
    .from(dataExports)
    .where(and(eq(dataExports.fileDeleted, false), lt(dataExports.expiresAt, sql`now()`)))
    .limit(100);
  for (const exp of expired) {
    if (exp.fileName) await rm(path.join(app.config.exportDir, exp.fileName), { force: true });
    await app.db.transaction(async (tx) => {
      await tx.update(dataExports).set({ fileDeleted: true }).where(eq(dataExports.id, exp.id));
      await announce(tx, { k: 'export', d: exp.deploymentId, x: exp.id });
    });
  }
  // Partial files a killed process left behind (its export is retried under another name).
  const cutoff = Date.now() - app.config.exportRetentionHours * 3_600_000;
  const names = await readdir(app.config.exportDir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.endsWith('.partial')) continue;
    const file = path.join(app.config.exportDir, name);
    const info = await stat(file).catch(() => null);
    if (info && info.mtimeMs < cutoff) await rm(file, { force: true });
  }
  // Exports stuck in CREATED / RUNNING with an expired claim are picked up by the worker.
  return expired.length;
}

/** Whether any export waits for a writer (or lost its writer): the tick wakes the worker then. */
export async function exportsWaiting(db: Db): Promise<boolean> {
  const [row] = await db
    .select({ id: dataExports.id })
    .from(dataExports)
    .where(or(eq(dataExports.status, 'CREATED'), and(eq(dataExports.status, 'RUNNING'), lt(dataExports.claimedUntil, sql`now()`))))
    .limit(1);
  return row !== undefined;
}
