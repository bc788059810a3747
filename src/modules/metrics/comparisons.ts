import type { Viewer } from '../../context.js';
import type { Db } from '../../db/client.js';
import type { Deployment } from '../../db/tables.js';
import { isError, type Result, ValidationError } from '../../errors.js';
import { currentBaseline } from '../baselines/current.js';
import type { DriftMetric } from './compute.js';
import { type DriftCell, type DriftRule, driftMatrix } from './drift.js';
import { driftRule } from './health.js';
import { type DataDriftShape, type DriftReference, driftShape, TRAINING_BASELINE } from './shapes.js';
import { type BatchSelectionInput, type ColumnSums, columnSums, resolveSelection } from './sums.js';

// Batch comparisons (any batch against any batch): a selection's drift against a reference
// selection, and the drift matrix of up to MAX_MATRIX_BATCHES batches — the rules here, read by
// GraphQL (and by any other door).

/** The most batches a drift matrix compares (N² cells). */
export const MAX_MATRIX_BATCHES = 100;

/** A selection's drift against the training baseline, or against `reference` (another selection) when given. */
export async function selectionDrift(
  db: Db,
  viewer: Viewer,
  deployment: Deployment,
  args: { batches: BatchSelectionInput; metric: DriftMetric; reference?: BatchSelectionInput | null | undefined },
): Promise<Result<DataDriftShape>> {
  const [selection, referenceSelection] = await Promise.all([
    resolveSelection(db, viewer, deployment.id, args.batches),
    args.reference ? resolveSelection(db, viewer, deployment.id, args.reference, 'reference') : null,
  ]);
  if (isError(selection)) return selection;
  if (isError(referenceSelection)) return referenceSelection;
  const [baseline, sums, referenceSums] = await Promise.all([
    currentBaseline(db, deployment),
    columnSums(db, selection, false),
    referenceSelection ? columnSums(db, referenceSelection, false) : null,
  ]);
  const against: DriftReference = referenceSelection
    ? { kind: 'SELECTION', batchIds: referenceSelection.batchIds, sums: referenceSums!.get('') }
    : TRAINING_BASELINE;
  return driftShape(deployment, baseline, sums.get(''), args.metric, selection.batchIds.length, against);
}

export interface DriftMatrixShape extends DriftRule {
  feature: string;
  metric: DriftMetric;
  hasBaseline: boolean;
  batchIds: string[];
  sampleSizes: number[];
  cells: DriftCell[][];
}

/**
 * Every batch of the selection against every other for one feature (null: the target), from one
 * statement over that column's per-batch aggregates. Refuses more than MAX_MATRIX_BATCHES batches
 * and a feature the baseline does not bin; without a baseline, no cells.
 */
export async function driftMatrixOf(
  db: Db,
  viewer: Viewer,
  deployment: Deployment,
  args: { batches: BatchSelectionInput; feature?: string | null | undefined; metric: DriftMetric },
): Promise<Result<DriftMatrixShape>> {
  const { feature, metric } = args;
  const [selection, baseline] = await Promise.all([
    resolveSelection(db, viewer, deployment.id, args.batches),
    currentBaseline(db, deployment),
  ]);
  if (isError(selection)) return selection;
  if (selection.batchIds.length > MAX_MATRIX_BATCHES)
    return ValidationError.of('batches', `a drift matrix compares at most ${MAX_MATRIX_BATCHES} batches`);
  const column = feature == null ? baseline?.columns.prediction : baseline?.columns.features.find((c) => c.name === feature);
  if (baseline && !column)
    return ValidationError.of('feature', feature == null ? 'the baseline has no prediction column' : `no feature named ${feature}`);
  const sums = column
    ? await columnSums(db, selection, true, { column: feature ?? '', isPrediction: feature == null })
    : new Map<string, ColumnSums[]>();
  const histograms = selection.batchIds.map((id) => sums.get(id)?.[0]?.binCounts ?? null);
  const rule = driftRule(deployment);
  return {
    ...rule,
    feature: feature ?? '',
    metric,
    hasBaseline: baseline !== null,
    batchIds: selection.batchIds,
    sampleSizes: histograms.map((h) => (h ? h.reduce((a, b) => a + b, 0) : 0)),
    cells: column ? driftMatrix(metric, histograms, rule) : [],
  };
}
