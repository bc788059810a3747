import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Viewer } from '../../context.js';
import type { Db } from '../../db/client.js';
import { type Deployment, deployments, type HealthSettings } from '../../db/tables.js';
import { transactionResult } from '../../db/transactions.js';
import { isError, NotFoundError, type Result, ValidationError } from '../../errors.js';
import { announce } from '../../events/hub.js';
import { definedOnly, parseInput } from '../../validation.js';
import { ACCURACY_JUDGMENTS, ACCURACY_METRICS, BATCH_COUNT_CHOICES, CLASSIFICATION_ONLY, healthSettings } from './health.js';
import { CONFIDENCE_LEVEL_RULE, INTERVAL_METRICS, MAX_CONFIDENCE_LEVEL, MIN_CONFIDENCE_LEVEL } from './intervals.js';

// Changing a deployment's health settings (the rules themselves are pure, in health.ts).

const batchCountSchema = z
  .number()
  .int()
  .refine((n) => (BATCH_COUNT_CHOICES as readonly number[]).includes(n), `must be one of ${BATCH_COUNT_CHOICES.join(', ')}`);
const rate = z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');
const count = z.number().int('must be an integer').min(1, 'must be ≥ 1 (null disables it)').nullable();

const healthSettingsInput = z.object({
  service: z
    .object({ batchCount: batchCountSchema.optional(), errorRateAtRisk: rate.optional(), errorRateFailing: rate.optional() })
    .nullish(),
  dataDrift: z
    .object({
      batchCount: batchCountSchema.optional(),
      driftThreshold: z.number().min(0, 'must be ≥ 0').optional(),
      significanceLevel: z
        .number()
        .gt(0, 'must be greater than 0 and less than 1')
        .lt(1, 'must be greater than 0 and less than 1')
        .optional(),
      minSampleSize: z.number().int('must be an integer').min(1, 'must be ≥ 1').max(1_000_000_000, 'must be ≤ 1000000000').optional(),
      importanceThreshold: rate.optional(),
      lowImportanceAtRiskCount: count.optional(),
      lowImportanceFailingCount: count.optional(),
      highImportanceAtRiskCount: count.optional(),
      highImportanceFailingCount: count.optional(),
      excludedFeatures: z.array(z.string()).max(2000).optional(),
    })
    .nullish(),
  accuracy: z
    .object({
      batchCount: batchCountSchema.optional(),
      metric: z.enum(ACCURACY_METRICS).optional(),
      atRiskThreshold: z.number().nullable().optional(),
      failingThreshold: z.number().nullable().optional(),
      judgeBy: z.enum(ACCURACY_JUDGMENTS).optional(),
      confidenceLevel: z
        .number()
        .min(MIN_CONFIDENCE_LEVEL, CONFIDENCE_LEVEL_RULE)
        .max(MAX_CONFIDENCE_LEVEL, CONFIDENCE_LEVEL_RULE)
        .optional(),
    })
    .nullish(),
});

/** Merges the given settings into the stored ones (omitted keys keep their value). */
export async function updateHealthSettings(
  db: Db,
  viewer: Viewer,
  deploymentId: string,
  /** Validated here: GraphQL and JSON clients may send null anywhere. */
  input: unknown,
): Promise<Result<Deployment>> {
  const parsed = parseInput(healthSettingsInput, input);
  if (isError(parsed)) return parsed;
  return transactionResult(db, async (tx) => {
    const [deployment] = await tx
      .select()
      .from(deployments)
      .where(and(eq(deployments.id, deploymentId), eq(deployments.organizationId, viewer.organizationId)))
      .for('update');
    if (!deployment) return new NotFoundError('Deployment');
    const stored = deployment.healthSettings;
    const metric = parsed.accuracy?.metric;
    if (metric && (deployment.targetType === 'REGRESSION') === CLASSIFICATION_ONLY.has(metric)) {
      return ValidationError.of(
        'accuracy.metric',
        deployment.targetType === 'REGRESSION'
          ? `${metric} applies to classification; use RMSE, MAE, R2 or MAPE`
          : `${metric} applies to regression`,
      );
    }
    if (metric === 'AUC' || metric === 'F1' || metric === 'TPR' || metric === 'PPV') {
      if (deployment.targetType === 'MULTICLASS')
        return ValidationError.of('accuracy.metric', `${metric} applies to binary targets; use LOG_LOSS or ACCURACY`);
    }
    // judgeBy CONFIDENCE_INTERVAL is refused with a metric that has no interval when it is set; a
    // metric changed afterwards is accepted and judged by its point (the reason says so).
    if (parsed.accuracy?.judgeBy === 'CONFIDENCE_INTERVAL') {
      const judged = metric ?? healthSettings(deployment).accuracy.metric;
      if (!(INTERVAL_METRICS as readonly string[]).includes(judged))
        return ValidationError.of(
          'accuracy.judgeBy',
          `${judged} has no confidence interval; judge it by POINT or use one of ${INTERVAL_METRICS.join(', ')}`,
        );
    }
    const next: HealthSettings = {
      service: { ...stored.service, ...definedOnly(parsed.service) },
      dataDrift: { ...stored.dataDrift, ...definedOnly(parsed.dataDrift) },
      accuracy: { ...stored.accuracy, ...definedOnly(parsed.accuracy) },
    };
    const [updated] = await tx.update(deployments).set({ healthSettings: next }).where(eq(deployments.id, deployment.id)).returning();
    await announce(tx, { k: 'health', d: deployment.id });
    return updated!;
  });
}
