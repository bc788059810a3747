import { and, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Viewer } from '../../context.js';
import type { Db } from '../../db/client.js';
import { lockDeploymentForActuals } from '../../db/locks.js';
import { actuals, monitoringBatches, predictionModels, predictions } from '../../db/tables.js';
import { transactionResult } from '../../db/transactions.js';
import { type FieldError, isError, MAX_ROW_ERRORS, type Result, ValidationError } from '../../errors.js';
import { announce } from '../../events/hub.js';
import { parseTimestamp, unstorableText } from '../../validation.js';
import { recordBatchEvents } from '../batches/audit.js';
import { accuracyFingerprints } from '../batches/seal.js';
import { getBatchDeployment } from '../deployments/service.js';
import { type ActualOutcome, BatchAggregator } from '../predictions/aggregates.js';
import { MAX_ABS_ROW_NUMBER, ROW_NUMBER_RANGE_MESSAGE } from '../rows/normalize.js';
import { type TargetShape, targetShape } from '../rows/shape.js';
import { associationIdSql, splitAssociationIds } from '../rows/storage.js';

export const MAX_ACTUALS_PER_REQUEST = 10_000;

interface ValidActual {
  associationId: string;
  outcome: ActualOutcome;
  wasActedOn: boolean | null;
  timestamp: Date | null;
}

function validateActual(shape: TargetShape, item: unknown, where: string): ValidActual | FieldError {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return { field: where, message: 'must be an object' };
  const raw = item as Record<string, unknown>;
  const id = raw.associationId;
  let associationId: string;
  if (typeof id === 'string' && id.length > 0 && id.length <= 256 && unstorableText(id) === null) associationId = id;
  else if (typeof id === 'number' && Number.isInteger(id)) associationId = String(id);
  else return { field: `${where}.associationId`, message: 'must be a non-empty string of at most 256 characters (or an integer)' };

  const value = raw.actualValue;
  let outcome: ActualOutcome;
  if (shape.targetType === 'REGRESSION') {
    const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
    if (!Number.isFinite(number)) return { field: `${where}.actualValue`, message: 'must be a finite number' };
    if (Math.abs(number) > MAX_ABS_ROW_NUMBER) return { field: `${where}.actualValue`, message: ROW_NUMBER_RANGE_MESSAGE };
    outcome = { value: number, label: null };
  } else {
    const label = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : null; // a class name: never unstorable text
    if (label === null || !shape.classNames!.includes(label)) {
      return { field: `${where}.actualValue`, message: `must be one of the classes: ${shape.classNames!.join(', ')}` };
    }
    outcome = { value: null, label };
  }
  const acted = raw.wasActedOn;
  if (acted !== undefined && acted !== null && typeof acted !== 'boolean')
    return { field: `${where}.wasActedOn`, message: 'must be true or false' };
  let timestamp: Date | null = null;
  if (raw.timestamp !== undefined && raw.timestamp !== null) {
    timestamp = typeof raw.timestamp === 'string' ? parseTimestamp(raw.timestamp) : null;
    if (!timestamp) return { field: `${where}.timestamp`, message: 'must be an ISO-8601 date-time' };
  }
  return { associationId, outcome, wasActedOn: (acted as boolean | null | undefined) ?? null, timestamp };
}

export interface SubmitActualsSummary {
  /** Actuals stored (new or replacing an earlier one). */
  acceptedCount: number;
  /** Those that matched a prediction now; the others are kept and join when it arrives. */
  matchedCount: number;
  unmatchedAssociationIds: string[];
}

/**
 * Stores actuals by association id (replacing earlier ones) and moves accuracy aggregates of the
 * batches holding the matched predictions: the earlier actual's contribution out, the new one in.
 */
export async function submitActuals(
  db: Db,
  viewer: Viewer,
  input: { deploymentId: string; actuals: unknown; itemPath: string },
): Promise<Result<SubmitActualsSummary>> {
  if (!Array.isArray(input.actuals)) return ValidationError.of(input.itemPath, 'must be a list of actuals');
  if (input.actuals.length === 0) return ValidationError.of(input.itemPath, 'must contain at least one actual');
  if (input.actuals.length > MAX_ACTUALS_PER_REQUEST) {
    return ValidationError.of(
      input.itemPath,
      `must contain at most ${MAX_ACTUALS_PER_REQUEST} actuals per request (got ${input.actuals.length})`,
    );
  }
  const items = input.actuals as unknown[];
  return transactionResult(db, async (tx) => {
    const deployment = await getBatchDeployment(tx, viewer, input.deploymentId);
    if (isError(deployment)) return deployment;
    const shape = targetShape(deployment);
    const errors: FieldError[] = [];
    const valid: ValidActual[] = [];
    const seen = new Map<string, number>();
    items.forEach((item, index) => {
      if (errors.length >= MAX_ROW_ERRORS) return;
      const where = `${input.itemPath}.${index}`;
      const actual = validateActual(shape, item, where);
      if ('field' in actual) errors.push(actual);
      else if (seen.has(actual.associationId)) {
        errors.push({
          field: `${where}.associationId`,
          message: `repeats the association id of ${input.itemPath}.${seen.get(actual.associationId)}`,
        });
      } else {
        seen.set(actual.associationId, index);
        valid.push(actual);
      }
    });
    if (errors.length) return new ValidationError(errors);

    await lockDeploymentForActuals(tx, deployment.id);
    const ids = valid.map((a) => a.associationId);
    const previous = new Map(
      (
        await tx
          .select({ associationId: actuals.associationId, value: actuals.actualValue, label: actuals.actualLabel })
          .from(actuals)
          .where(and(eq(actuals.deploymentId, deployment.id), inArray(actuals.associationId, ids)))
      ).map((row) => [row.associationId, { value: row.value, label: row.label }]),
    );
    // Predictions of deleted batches no longer count (their rows are purged in the background).
    const { uuids, texts } = splitAssociationIds(ids);
    const matched = await tx
      .select({
        associationId: sql<string>`${sql.raw(associationIdSql('"predictions"'))}`,
        batchId: monitoringBatches.id,
        sealed: sql<boolean>`${monitoringBatches.fingerprint} is not null`,
        modelId: predictionModels.modelId,
        prediction: predictions.prediction,
        probabilities: predictions.probabilities,
        predictedLabel: predictions.predictedLabel,
      })
      .from(predictions)
      .innerJoin(monitoringBatches, and(eq(monitoringBatches.key, predictions.batchKey), isNull(monitoringBatches.deletedAt)))
      .innerJoin(predictionModels, eq(predictionModels.key, predictions.modelKey))
      .where(
        and(
          eq(predictions.deploymentKey, deployment.key),
          or(
            uuids.length ? inArray(predictions.associationUuid, uuids) : undefined,
            texts.length ? inArray(predictions.associationText, texts) : undefined,
          ),
        ),
      );
    const byId = new Map(valid.map((a) => [a.associationId, a]));
    const perBatch = new Map<string, BatchAggregator>();
    const matchedPerBatch = new Map<string, number>();
    const sealed = new Set<string>();
    for (const prediction of matched) {
      matchedPerBatch.set(prediction.batchId, (matchedPerBatch.get(prediction.batchId) ?? 0) + 1);
      if (prediction.sealed) sealed.add(prediction.batchId);
      const actual = byId.get(prediction.associationId!)!;
      let aggregator = perBatch.get(prediction.batchId);
      if (!aggregator) {
        aggregator = new BatchAggregator(shape, null);
        perBatch.set(prediction.batchId, aggregator);
      }
      const scored = {
        prediction: prediction.prediction,
        probabilities: prediction.probabilities,
        predictedLabel: prediction.predictedLabel,
      };
      const earlier = previous.get(prediction.associationId!);
      if (earlier) aggregator.addAccuracy(prediction.modelId, scored, earlier, -1);
      aggregator.addAccuracy(prediction.modelId, scored, actual.outcome, 1);
    }
    const now = new Date();
    for (let start = 0; start < valid.length; start += 2000) {
      await tx
        .insert(actuals)
        .values(
          valid.slice(start, start + 2000).map((a) => ({
            deploymentId: deployment.id,
            associationId: a.associationId,
            actualValue: a.outcome.value,
            actualLabel: a.outcome.label,
            wasActedOn: a.wasActedOn,
            timestamp: a.timestamp ?? now,
          })),
        )
        .onConflictDoUpdate({
          target: [actuals.deploymentId, actuals.associationId],
          set: {
            actualValue: sql`excluded.actual_value`,
            actualLabel: sql`excluded.actual_label`,
            wasActedOn: sql`excluded.was_acted_on`,
            timestamp: sql`excluded.timestamp`,
            receivedAt: sql`now()`,
          },
        });
    }
    for (const [batchId, aggregator] of perBatch) {
      await aggregator.write(tx, deployment.id, batchId);
      await announce(tx, { k: 'batch', d: deployment.id, b: batchId });
    }
    if (perBatch.size) await announce(tx, { k: 'health', d: deployment.id });
    // Actuals may still arrive for a locked batch: its seal's accuracy fingerprint moves with them,
    // here, so verifyBatch shows only changes that bypassed this path. One event per batch.
    const moved = await accuracyFingerprints(tx, [...sealed]);
    for (const [batchId, fingerprint] of moved) {
      await tx.update(monitoringBatches).set({ accuracyFingerprint: fingerprint }).where(eq(monitoringBatches.id, batchId));
    }
    await recordBatchEvents(
      tx,
      viewer,
      [...matchedPerBatch].map(([batchId, count]) => ({
        batch: { id: batchId, organizationId: deployment.organizationId, deploymentId: deployment.id },
        action: 'ACTUALS_MATCHED' as const,
        rowCount: count,
        fingerprint: moved.get(batchId) ?? null,
      })),
    );
    const matchedIds = new Set(matched.map((m) => m.associationId));
    return {
      acceptedCount: valid.length,
      matchedCount: matchedIds.size,
      unmatchedAssociationIds: ids.filter((id) => !matchedIds.has(id)),
    };
  });
}
