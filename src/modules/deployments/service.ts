import { and, desc, eq, ilike, inArray, or, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Viewer } from '../../context.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { type Deployment, deployments } from '../../db/tables.js';
import { BatchMonitoringDisabledError, isError, NotFoundError, type Result } from '../../errors.js';
import { newId } from '../../ids.js';
import { keysetPage, type Page, type PageArgs } from '../../pagination.js';
import { booleanSchema, definedOnly, descriptionSchema, type Loose, nameSchema, parseInput } from '../../validation.js';
import { requireAdmin } from '../organizations/service.js';
import { modelBackendInput, modelBackendSetting } from './model-backend.js';

const featureSchema = z.object({
  name: nameSchema(256),
  type: z.enum(['NUMERIC', 'CATEGORICAL']),
  importance: z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1').nullish(),
});

const thresholdSchema = z.number({ error: 'must be a number' }).min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');
const modelIdSchema = nameSchema(256);
/** An input column's name, as a batch prediction job's CSV header names it. */
const associationIdColumnSchema = nameSchema(256);

const createDeploymentInput = z
  .object({
    label: nameSchema(512),
    description: descriptionSchema,
    targetType: z.enum(['BINARY', 'MULTICLASS', 'REGRESSION']),
    targetName: nameSchema(512),
    classNames: z.array(nameSchema(256)).max(1000, 'must have at most 1000 classes').nullish(),
    positiveClass: z.string().nullish(),
    predictionThreshold: thresholdSchema.nullish(),
    features: z.array(featureSchema).max(2000, 'must have at most 2000 features').nullish(),
    modelId: modelIdSchema.nullish(),
    batchMonitoringEnabled: z.boolean().nullish(),
    modelBackend: modelBackendInput.nullish(),
    associationIdColumn: associationIdColumnSchema.nullish(),
  })
  .superRefine((input, ctx) => {
    const classes = input.classNames ?? [];
    if (new Set(classes).size !== classes.length) {
      ctx.addIssue({ code: 'custom', path: ['classNames'], message: 'must not repeat a class name' });
    }
    if (input.targetType === 'REGRESSION') {
      if (classes.length) ctx.addIssue({ code: 'custom', path: ['classNames'], message: 'must be empty for a regression target' });
      if (input.positiveClass != null) {
        ctx.addIssue({ code: 'custom', path: ['positiveClass'], message: 'must be empty for a regression target' });
      }
    } else if (input.targetType === 'BINARY') {
      if (classes.length !== 2)
        ctx.addIssue({ code: 'custom', path: ['classNames'], message: 'must name exactly 2 classes for a binary target' });
      if (input.positiveClass == null || !classes.includes(input.positiveClass)) {
        ctx.addIssue({ code: 'custom', path: ['positiveClass'], message: 'must be one of classNames for a binary target' });
      }
    } else {
      if (classes.length < 2)
        ctx.addIssue({ code: 'custom', path: ['classNames'], message: 'must name at least 2 classes for a multiclass target' });
      if (input.positiveClass != null) {
        ctx.addIssue({ code: 'custom', path: ['positiveClass'], message: 'must be empty for a multiclass target' });
      }
    }
    const seen = new Set<string>();
    (input.features ?? []).forEach((feature, index) => {
      if (seen.has(feature.name))
        ctx.addIssue({ code: 'custom', path: ['features', index, 'name'], message: 'repeats another feature name' });
      seen.add(feature.name);
    });
  });

export type CreateDeploymentInput = z.input<typeof createDeploymentInput>;

export async function createDeployment(db: Db, viewer: Viewer, input: CreateDeploymentInput): Promise<Result<Deployment>> {
  const parsed = parseInput(createDeploymentInput, input);
  if (isError(parsed)) return parsed;
  if (parsed.modelBackend) {
    const refused = requireAdmin(viewer, 'set a model backend');
    if (refused) return refused;
  }
  const [deployment] = await db
    .insert(deployments)
    .values({
      id: newId('Deployment'),
      organizationId: viewer.organizationId,
      label: parsed.label,
      description: parsed.description ?? null,
      targetType: parsed.targetType,
      targetName: parsed.targetName,
      classNames: parsed.targetType === 'REGRESSION' ? null : (parsed.classNames ?? null),
      positiveClass: parsed.positiveClass ?? null,
      predictionThreshold: parsed.predictionThreshold ?? 0.5,
      features: (parsed.features ?? []).map((f) => ({ name: f.name, type: f.type, importance: f.importance ?? null })),
      modelId: parsed.modelId ?? newId('Deployment').replace('dep_', 'model_'),
      batchMonitoringEnabled: parsed.batchMonitoringEnabled ?? false,
      modelBackend: parsed.modelBackend ? modelBackendSetting(parsed.modelBackend, null) : null,
      associationIdColumn: parsed.associationIdColumn ?? null,
    })
    .returning();
  return deployment!;
}

const updateDeploymentSettingsInput = z.object({
  label: nameSchema(512).optional(),
  description: descriptionSchema,
  modelId: modelIdSchema.optional(),
  predictionThreshold: thresholdSchema.optional(),
  batchMonitoringEnabled: booleanSchema.optional(),
  /** null removes the backend. */
  modelBackend: modelBackendInput.nullish(),
  /** null: jobs record no association ids. */
  associationIdColumn: associationIdColumnSchema.nullish(),
});

export type UpdateDeploymentSettingsInput = Loose<z.input<typeof updateDeploymentSettingsInput>>;

export async function updateDeploymentSettings(
  db: Db,
  viewer: Viewer,
  deploymentId: string,
  input: UpdateDeploymentSettingsInput,
): Promise<Result<Deployment>> {
  const parsed = parseInput(updateDeploymentSettingsInput, input);
  if (isError(parsed)) return parsed;
  const { modelBackend, ...settings } = parsed;
  const changes: Partial<Deployment> = definedOnly(settings);
  if (modelBackend !== undefined) {
    const refused = requireAdmin(viewer, 'set a model backend');
    if (refused) return refused;
    const [before] = await deploymentsByIds(db, viewer.organizationId, [deploymentId]);
    if (!before) return new NotFoundError('Deployment');
    changes.modelBackend = modelBackend === null ? null : modelBackendSetting(modelBackend, before.modelBackend);
  }
  const [updated] = Object.keys(changes).length
    ? await db
        .update(deployments)
        .set(changes)
        .where(and(eq(deployments.id, deploymentId), eq(deployments.organizationId, viewer.organizationId)))
        .returning()
    : await deploymentsByIds(db, viewer.organizationId, [deploymentId]);
  return updated ?? new NotFoundError('Deployment');
}

export async function deploymentsByIds(db: DbOrTx, organizationId: string, ids: readonly string[]): Promise<Deployment[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(deployments)
    .where(and(eq(deployments.organizationId, organizationId), inArray(deployments.id, [...ids])));
}

export async function getDeployment(db: DbOrTx, viewer: Viewer, id: string): Promise<Deployment | NotFoundError> {
  const [deployment] = await deploymentsByIds(db, viewer.organizationId, [id]);
  return deployment ?? new NotFoundError('Deployment');
}

/** The deployment, if it exists in the viewer's organization and has batch monitoring on (C1). */
export async function getBatchDeployment(
  db: DbOrTx,
  viewer: Viewer,
  id: string,
): Promise<Deployment | NotFoundError | BatchMonitoringDisabledError> {
  const deployment = await getDeployment(db, viewer, id);
  if (isError(deployment)) return deployment;
  return deployment.batchMonitoringEnabled ? deployment : new BatchMonitoringDisabledError(deployment.id);
}

/** Newest first, then by id: the order of every deployment list (SQL pages and in-memory ones). */
export const deploymentOrder = {
  expr: sql`${deployments.createdAt}`,
  id: sql`${deployments.id}`,
  cast: 'timestamptz' as const,
  direction: 'DESC' as const,
  key: (row: Deployment): [string, string] => [row.createdAt.toISOString(), row.id],
};

export interface DeploymentListArgs extends PageArgs {
  /** Case-insensitive part of the label, or an exact id. */
  search?: string | null | undefined;
}

function deploymentsWhere(viewer: Viewer, search: string | null | undefined): SQL {
  const filters: SQL[] = [eq(deployments.organizationId, viewer.organizationId)];
  const text = search?.trim();
  if (text) filters.push(or(ilike(deployments.label, `%${escapeLike(text)}%`), eq(deployments.id, text))!);
  return and(...filters)!;
}

/** Every deployment the search matches, in list order (for filters computed outside SQL). */
export function matchingDeployments(db: Db, viewer: Viewer, search: string | null | undefined): Promise<Deployment[]> {
  return db.select().from(deployments).where(deploymentsWhere(viewer, search)).orderBy(desc(deployments.createdAt), desc(deployments.id));
}

export async function listDeployments(
  db: Db,
  viewer: Viewer,
  args: DeploymentListArgs,
): Promise<Result<Page<Deployment> & { totalCount: () => Promise<number> }>> {
  const where = deploymentsWhere(viewer, args.search);
  const page = await keysetPage(args, deploymentOrder, (condition, orderBy, limit) =>
    db
      .select()
      .from(deployments)
      .where(and(where, condition))
      .orderBy(...orderBy)
      .limit(limit),
  );
  if (isError(page)) return page;
  return {
    ...page,
    totalCount: async () => (await db.select({ n: sql<number>`count(*)::int` }).from(deployments).where(where))[0]!.n,
  };
}

export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}
