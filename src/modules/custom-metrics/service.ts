import { and, asc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Viewer } from '../../context.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { lockName } from '../../db/locks.js';
import { batchCustomMetricValues, type CustomMetric, customMetrics } from '../../db/tables.js';
import { transactionResult } from '../../db/transactions.js';
import { ConflictError, isError, NotFoundError, type Result, ValidationError } from '../../errors.js';
import { newId } from '../../ids.js';
import { booleanSchema, descriptionSchema, nameSchema, parseInput } from '../../validation.js';
import { getDeployment } from '../deployments/service.js';

// Custom metrics (C8): a deployment's own metrics, defined here and reported per batch (report.ts).
// One service for GraphQL (schema.ts) and DataRobot's REST routes (rest.ts).

const CUSTOM_METRIC_TYPES = ['average', 'sum', 'gauge'] as const;
const DIRECTIONALITIES = ['higherIsBetter', 'lowerIsBetter'] as const;

/** The most custom metrics a deployment has (DataRobot's limit too): bounds every per-batch read of all of them. */
export const MAX_CUSTOM_METRICS_PER_DEPLOYMENT = 50;

export const customMetricNotFound = () => new NotFoundError('CustomMetric', 'Custom metric not found');

const required = (expected: string) => (issue: { input: unknown }) =>
  issue.input === undefined ? 'is required' : issue.input === null ? 'must not be null' : `must be ${expected}`;

const finite = z.number({ error: required('a number') }).refine(Number.isFinite, 'must be a finite number');

const fields = {
  name: nameSchema(255),
  units: nameSchema(255),
  type: z.enum(CUSTOM_METRIC_TYPES, { error: required(`one of ${CUSTOM_METRIC_TYPES.join(', ')}`) }),
  directionality: z.enum(DIRECTIONALITIES, { error: required(`one of ${DIRECTIONALITIES.join(', ')}`) }),
  isModelSpecific: booleanSchema,
  /** null: no baseline. */
  baselineValue: finite.nullable(),
  /** null or "": none. */
  description: descriptionSchema,
  /** DataRobot's time bucket size: stored and answered, never read (values are kept per batch). */
  timeStep: nameSchema(32),
};

const createInput = z.object({
  ...fields,
  baselineValue: fields.baselineValue.optional(),
  timeStep: fields.timeStep.nullish(),
});

const updateInput = z.object({
  name: fields.name.optional(),
  units: fields.units.optional(),
  type: fields.type.optional(),
  directionality: fields.directionality.optional(),
  isModelSpecific: fields.isModelSpecific.optional(),
  baselineValue: fields.baselineValue.optional(),
  description: fields.description,
  timeStep: fields.timeStep.optional(),
});

/**
 * A metric's settings as both APIs give them (our names; REST maps DataRobot's `baselineValues`).
 * On update, an absent field stays; `baselineValue: null` removes the baseline.
 */
export interface CustomMetricInput {
  name?: unknown;
  units?: unknown;
  type?: unknown;
  directionality?: unknown;
  isModelSpecific?: unknown;
  baselineValue?: unknown;
  description?: unknown;
  timeStep?: unknown;
}

const nameTaken = (name: string) =>
  new ConflictError('name', `A custom metric named ${JSON.stringify(name)} already exists on this deployment`);

/** PostgreSQL's unique_violation of the name index (drizzle wraps the driver's error in `cause`). */
function isNameTaken(error: unknown): boolean {
  for (let e = error as { code?: string; constraint_name?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === '23505' && e.constraint_name === 'custom_metrics_name_idx') return true;
  }
  return false;
}

export async function createCustomMetric(
  db: Db,
  viewer: Viewer,
  deploymentId: string,
  input: CustomMetricInput,
): Promise<Result<CustomMetric>> {
  return transactionResult(db, async (tx) => {
    // The deployment first: a foreign or missing one answers the same whatever the input.
    const deployment = await getDeployment(tx, viewer, deploymentId);
    if (isError(deployment)) return deployment;
    const parsed = parseInput(createInput, input);
    if (isError(parsed)) return parsed;
    // Creators of one deployment's metrics queue here, so the count below stays true until the insert.
    await lockName(tx, `custom-metrics/${deployment.id}`);
    const [{ n }] = (await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(customMetrics)
      .where(eq(customMetrics.deploymentId, deployment.id))) as [{ n: number }];
    if (n >= MAX_CUSTOM_METRICS_PER_DEPLOYMENT) {
      return ValidationError.of(
        'deploymentId',
        `already has ${MAX_CUSTOM_METRICS_PER_DEPLOYMENT} custom metrics, the most a deployment can have; delete one first`,
      );
    }
    const [created] = await tx
      .insert(customMetrics)
      .values({
        id: newId('CustomMetric'),
        organizationId: viewer.organizationId,
        deploymentId: deployment.id,
        name: parsed.name,
        units: parsed.units,
        type: parsed.type,
        directionality: parsed.directionality,
        baselineValue: parsed.baselineValue ?? null,
        isModelSpecific: parsed.isModelSpecific,
        timeStep: parsed.timeStep ?? 'hour',
        description: parsed.description ?? '',
        createdById: viewer.userId,
      })
      .onConflictDoNothing({ target: [customMetrics.deploymentId, customMetrics.name] })
      .returning();
    return created ?? nameTaken(parsed.name);
  });
}

function visible(organizationId: string, deploymentId?: string): SQL {
  return and(
    eq(customMetrics.organizationId, organizationId),
    deploymentId === undefined ? undefined : eq(customMetrics.deploymentId, deploymentId),
  )!;
}

export async function customMetricsByIds(db: DbOrTx, organizationId: string, ids: readonly string[]): Promise<CustomMetric[]> {
  if (!ids.length) return [];
  return db
    .select()
    .from(customMetrics)
    .where(and(visible(organizationId), inArray(customMetrics.id, [...ids])));
}

/** The metric, when it is the viewer's organization's (and, given `deploymentId`, that deployment's). */
export async function getCustomMetric(db: DbOrTx, viewer: Viewer, id: string, deploymentId?: string): Promise<Result<CustomMetric>> {
  const [metric] = await db
    .select()
    .from(customMetrics)
    .where(and(visible(viewer.organizationId, deploymentId), eq(customMetrics.id, id)));
  return metric ?? customMetricNotFound();
}

const oldestFirst = [asc(customMetrics.createdAt), asc(customMetrics.id)];

/** Every metric of these deployments (of the organization), oldest first: at most 50 each. */
export async function customMetricsOfDeployments(
  db: DbOrTx,
  organizationId: string,
  deploymentIds: readonly string[],
): Promise<Map<string, CustomMetric[]>> {
  const result = new Map<string, CustomMetric[]>(deploymentIds.map((id) => [id, []]));
  if (!deploymentIds.length) return result;
  const rows = await db
    .select()
    .from(customMetrics)
    .where(and(visible(organizationId), inArray(customMetrics.deploymentId, [...deploymentIds])))
    .orderBy(...oldestFirst);
  for (const row of rows) result.get(row.deploymentId)?.push(row);
  return result;
}

/** A deployment's metrics by offset and limit (DataRobot's list), oldest first, with the total. */
export async function listCustomMetrics(
  db: Db,
  viewer: Viewer,
  deploymentId: string,
  page: { offset: number; limit: number },
): Promise<Result<{ rows: CustomMetric[]; totalCount: number }>> {
  const deployment = await getDeployment(db, viewer, deploymentId);
  if (isError(deployment)) return deployment;
  const where = visible(viewer.organizationId, deployment.id);
  const [rows, [count]] = await Promise.all([
    db
      .select()
      .from(customMetrics)
      .where(where)
      .orderBy(...oldestFirst)
      .offset(page.offset)
      .limit(page.limit),
    db.select({ n: sql<number>`count(*)::int` }).from(customMetrics).where(where),
  ]);
  return { rows, totalCount: count!.n };
}

/**
 * Partial update. The aggregation type and model specificity decide how values are stored (Σ value
 * or Σ value·sampleSize; per model or under ''), so they change only while the metric has none.
 */
export async function updateCustomMetric(
  db: Db,
  viewer: Viewer,
  id: string,
  input: CustomMetricInput,
  deploymentId?: string,
): Promise<Result<CustomMetric>> {
  try {
    return await transactionResult(db, async (tx) => {
      const [before] = await tx
        .select()
        .from(customMetrics)
        .where(and(visible(viewer.organizationId, deploymentId), eq(customMetrics.id, id)))
        .for('update');
      if (!before) return customMetricNotFound();
      const parsed = parseInput(updateInput, input);
      if (isError(parsed)) return parsed;
      const typeChanges = parsed.type !== undefined && parsed.type !== before.type;
      const scopeChanges = parsed.isModelSpecific !== undefined && parsed.isModelSpecific !== before.isModelSpecific;
      if (typeChanges || scopeChanges) {
        // The row lock above makes a report wait (it takes KEY SHARE on the metric): none slips in between.
        const [stored] = await tx
          .select({ one: sql<number>`1` })
          .from(batchCustomMetricValues)
          .where(eq(batchCustomMetricValues.metricId, id))
          .limit(1);
        if (stored) {
          const message =
            'cannot change once values are reported (they are stored aggregated for the current setting); create another metric';
          return new ValidationError([
            ...(typeChanges ? [{ field: 'type', message }] : []),
            ...(scopeChanges ? [{ field: 'isModelSpecific', message }] : []),
          ]);
        }
      }
      const [updated] = await tx
        .update(customMetrics)
        .set({
          name: parsed.name,
          units: parsed.units,
          type: parsed.type,
          directionality: parsed.directionality,
          isModelSpecific: parsed.isModelSpecific,
          baselineValue: parsed.baselineValue,
          description: parsed.description === undefined ? undefined : (parsed.description ?? ''),
          timeStep: parsed.timeStep,
          updatedAt: sql`now()`,
        })
        .where(eq(customMetrics.id, before.id))
        .returning();
      return updated!;
    });
  } catch (error) {
    if (isNameTaken(error)) return nameTaken(String(input.name).trim());
    throw error;
  }
}

/** Deletes the metric and, by the cascading key, every value reported for it. */
export async function deleteCustomMetric(db: Db, viewer: Viewer, id: string, deploymentId?: string): Promise<Result<CustomMetric>> {
  const [deleted] = await db
    .delete(customMetrics)
    .where(and(visible(viewer.organizationId, deploymentId), eq(customMetrics.id, id)))
    .returning();
  return deleted ?? customMetricNotFound();
}
