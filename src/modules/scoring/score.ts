import type { Deployment, ModelBackend } from '../../db/tables.js';
import { type FieldError, isError, MAX_ROW_ERRORS, type Result, ValidationError } from '../../errors.js';
import { normalizeFeatures, type PredictionRow, type RowContext } from '../rows/normalize.js';
import { type TargetShape, targetShape } from '../rows/shape.js';
import { type BackendAnswer, type FeatureValue, score } from './backend.js';

// Rows in, predictions out: validates each row's features the way ingest does, sends them to the
// deployment's backend as columns, and turns the answer into what DataRobot answers (prediction,
// predictionValues, label) and what ingest stores (the same row with its prediction).

export interface ScoredRow {
  /** The row's features, validated (declared features only). */
  features: Record<string, number | string | null>;
  /** Regression: the value; binary: probability of the positive class; multiclass: null. */
  value: number | null;
  /** Classification: one per class, in classNames order. */
  probabilities: number[] | null;
  /** Regression: the value; classification: the predicted class. */
  prediction: number | string;
}

export interface Scored {
  rows: ScoredRow[];
  /** Columns of the input that are not features of the deployment. */
  unknownFeatures: string[];
  /** How long the backend took, in ms. */
  backendMs: number;
}

/**
 * Validates raw feature records (`where(i)` names row i in errors); a bad row refuses them all
 * with a ValidationError naming up to MAX_ROW_ERRORS rows and fields, before any scoring.
 */
export function validateFeatures(
  shape: TargetShape,
  records: readonly unknown[],
  where: (index: number) => string,
): Result<{ features: Record<string, number | string | null>[]; unknownFeatures: string[] }> {
  const context: RowContext = { unknownFeatures: new Set() };
  const features: Record<string, number | string | null>[] = new Array(records.length);
  const errors: FieldError[] = [];
  const refusal: { error: FieldError | null } = { error: null };
  for (let i = 0; i < records.length; i++) {
    const row = normalizeFeatures(shape, records[i], where(i), context, refusal);
    if (row) features[i] = row;
    else {
      errors.push(refusal.error!);
      if (errors.length >= MAX_ROW_ERRORS) break;
    }
  }
  if (errors.length) return new ValidationError(errors);
  return { features, unknownFeatures: [...context.unknownFeatures].sort() };
}

/** Feature i of every row, for the backend (rows are validated records). */
function columnsOf(shape: TargetShape, rows: Record<string, number | string | null>[]): FeatureValue[][] {
  return shape.features.map((feature) => {
    const column: FeatureValue[] = new Array(rows.length);
    for (let r = 0; r < rows.length; r++) column[r] = rows[r]![feature.name] ?? null;
    return column;
  });
}

/** The class a classification answer predicts: binary by threshold, multiclass arg-max (first on ties). */
function predictedClass(shape: TargetShape, probabilities: number[]): { value: number | null; label: string } {
  const classes = shape.classNames ?? [];
  if (shape.targetType === 'BINARY') {
    const positive = classes.indexOf(shape.positiveClass ?? '');
    const p = probabilities[positive]!;
    return { value: p, label: p >= shape.predictionThreshold ? classes[positive]! : classes[1 - positive]! };
  }
  let best = 0;
  for (let i = 1; i < probabilities.length; i++) if (probabilities[i]! > probabilities[best]!) best = i;
  return { value: null, label: classes[best]! };
}

function scoredRow(shape: TargetShape, features: Record<string, number | string | null>, answer: BackendAnswer): ScoredRow {
  if (answer.probabilities === null) return { features, value: answer.value, probabilities: null, prediction: answer.value! };
  const { value, label } = predictedClass(shape, answer.probabilities);
  return { features, value, probabilities: answer.probabilities, prediction: label };
}

/** Scores validated feature rows through the backend. */
export function scoreFeatures(
  deployment: Deployment,
  backend: ModelBackend,
  features: Record<string, number | string | null>[],
  signal?: AbortSignal,
): Promise<Result<{ rows: ScoredRow[]; backendMs: number }>> {
  const shape = targetShape(deployment);
  return scoreColumns(deployment, backend, columnsOf(shape, features), features.length, signal, features);
}

/**
 * Scores validated features given as columns (`columns[i]`: feature i, in the deployment's order,
 * for every row). `records` are the same rows as records, when the caller has them.
 */
export async function scoreColumns(
  deployment: Deployment,
  backend: ModelBackend,
  columns: FeatureValue[][],
  rowCount: number,
  signal?: AbortSignal,
  records?: Record<string, number | string | null>[],
): Promise<Result<{ rows: ScoredRow[]; backendMs: number }>> {
  const shape = targetShape(deployment);
  const started = performance.now();
  const answers = await score(backend, shape, columns, rowCount, { signal });
  if (isError(answers)) return answers;
  const backendMs = performance.now() - started;
  const names = shape.features.map((f) => f.name);
  // Every record starts as a copy of one template: one object layout for all rows.
  const template: Record<string, number | string | null> = Object.fromEntries(names.map((name) => [name, null]));
  const rows = new Array<ScoredRow>(rowCount);
  for (let r = 0; r < rowCount; r++) {
    let record = records?.[r];
    if (!record) {
      record = { ...template };
      for (let i = 0; i < names.length; i++) record[names[i]!] = columns[i]![r] ?? null;
    }
    rows[r] = scoredRow(shape, record, answers[r]!);
  }
  return { rows, backendMs };
}

/** A scored row as ingest stores it (normalizeRow's output: its features were validated before scoring). */
export function predictionRow(row: ScoredRow): PredictionRow {
  return {
    timestamp: null,
    features: row.features,
    prediction: row.value,
    probabilities: row.probabilities,
    predictedLabel: typeof row.prediction === 'string' ? row.prediction : null,
    associationId: null,
  };
}

/** A scored row as the item ingest validates and stores (normalizeRow's input shape). */
export function ingestItem(row: ScoredRow, associationId: string | null = null): Record<string, unknown> {
  return {
    features: row.features,
    prediction: row.probabilities === null ? row.value : undefined,
    probabilities: row.probabilities,
    associationId,
  };
}

/** DataRobot's `predictionValues` of a row: regression `[{label: targetName, value}]`, classification one per class in classNames order. */
export function predictionValues(deployment: Deployment, row: ScoredRow): { label: string; value: number }[] {
  if (row.probabilities === null) return [{ label: deployment.targetName, value: row.value! }];
  const classes = deployment.classNames ?? [];
  return row.probabilities.map((value, i) => ({ label: classes[i]!, value }));
}
