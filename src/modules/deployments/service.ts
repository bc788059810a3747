import { and, desc, eq, ilike, inArray, or, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, DbOrTx } from '../../db/client.js';
import { type Deployment, deployments } from '../../db/tables.js';
import { BatchMonitoringDisabledError, isError, NotFoundError, type Result } from '../../errors.js';
import { newId } from '../../ids.js';
import { keysetPage, keysetPageInMemory, type Page, type PageArgs } from '../../pagination.js';
import { booleanSchema, descriptionSchema, type Loose, nameSchema, parseInput } from '../../validation.js';
import { healthOfDeployments, matchesHealth } from '../metrics/deployment-health.js';
import type { HealthFilter } from '../metrics/health.js';
import type { Viewer } from '../organizations/auth.js';

const featureSchema = z.object({
  name: nameSchema(256),
  type: z.enum(['NUMERIC', 'CATEGORICAL']),
  importance: z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1').nullish(),
});

const thresholdSchema = z.number({ error: 'must be a number' }).min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');
const modelIdSchema = nameSchema(256);

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
  const changes = Object.fromEntries(Object.entries(parsed).filter(([, value]) => value !== undefined));
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

/**
 * Newest first; `search` matches the label case-insensitively or the exact id. With a health
 * filter, health is computed for every candidate (in a constant number of statements) and the
 * page is cut in memory with the same cursors.
 */
export async function listDeployments(
  db: Db,
  viewer: Viewer,
  args: PageArgs & { search?: string | null | undefined; health?: HealthFilter | null | undefined },
): Promise<Result<Page<Deployment> & { totalCount: () => Promise<number> }>> {
  const filters: SQL[] = [eq(deployments.organizationId, viewer.organizationId)];
  const search = args.search?.trim();
  if (search) filters.push(or(ilike(deployments.label, `%${escapeLike(search)}%`), eq(deployments.id, search))!);
  const where = and(...filters);
  const order = {
    expr: sql`${deployments.createdAt}`,
    id: sql`${deployments.id}`,
    cast: 'timestamptz' as const,
    direction: 'DESC' as const,
    key: (row: Deployment): [string, string] => [row.createdAt.toISOString(), row.id],
  };
  const { health } = args;
  if (health && (health.service || health.drift || health.accuracy)) {
    const candidates = await db.select().from(deployments).where(where).orderBy(desc(deployments.createdAt), desc(deployments.id));
    const statuses = await healthOfDeployments(db, viewer.organizationId, candidates);
    const matching = candidates.filter((d) => matchesHealth(statuses.get(d.id), health));
    const page = keysetPageInMemory(matching, args, order);
    if (isError(page)) return page;
    return { ...page, totalCount: async () => matching.length };
  }
  const page = await keysetPage(args, order, (condition, orderBy, limit) =>
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
