import type { GraphQLTimer, Selection } from './metrics-graphql.js';
import type { RawScan } from './metrics-raw.js';
import { p50, p95, relativeDifference, sample } from './metrics-stats.js';
import type { Prng } from './prng.js';
import { round } from './report.js';

// Issue 15: batch comparisons timed beside the plain drift answer in the same run — drift against a
// reference selection, and the drift matrix — with their answers checked first.

const BINS = 'bins { label lower upper count share }';
const FEATURE = `name score importance sampleSize referenceSampleSize pValue adjustedPValue status isDrifted reference { ${BINS} } current { ${BINS} }`;
const DRIFT = `batchCount metric driftThreshold significanceLevel minSampleSize reference referenceBatchIds hasBaseline features { ${FEATURE} } target { ${FEATURE} }`;

export const COMPARISON_QUERIES = {
  /** The ratio's baseline: the same answer against the training baseline. */
  drift_vs_training_baseline: `query ($id: ID!, $s: BatchSelection!) { deployment(id: $id) { dataDrift(batches: $s, metric: PSI) { ${DRIFT} } } }`,
  drift_vs_reference_selection: `query ($id: ID!, $s: BatchSelection!, $r: BatchSelection!) { deployment(id: $id) { dataDrift(batches: $s, reference: $r, metric: PSI) { ${DRIFT} } } }`,
  /** What a table of scores asks (no histograms): how much of the answer is the bins. */
  drift_vs_reference_selection_scores_only: `query ($id: ID!, $s: BatchSelection!, $r: BatchSelection!) { deployment(id: $id) { dataDrift(batches: $s, reference: $r, metric: PSI) {
    batchCount reference features { name score sampleSize referenceSampleSize pValue adjustedPValue status } target { name score pValue status } } } }`,
  drift_matrix: `query ($id: ID!, $s: BatchSelection!, $f: String) { deployment(id: $id) { driftMatrix(batches: $s, feature: $f, metric: PSI) {
    feature metric driftThreshold significanceLevel minSampleSize hasBaseline batches { id name } sampleSizes rows { batchId scores pValues statuses } } } }`,
} as const;
export type ComparisonName = keyof typeof COMPARISON_QUERIES;
const NAMES = Object.keys(COMPARISON_QUERIES) as ComparisonName[];

/** Issue 15's goals: p50 of drift against a reference selection of 100, and of a 100 × 1 matrix. */
export const COMPARISON_GOALS_MS: Partial<Record<ComparisonName, number>> = { drift_vs_reference_selection: 15, drift_matrix: 50 };

export interface ComparisonDataset {
  key: string;
  deploymentId: string;
  batchIds: string[];
  raw: RawScan;
}

type Feature = { name: string; score: number | null; reference: { bins: { count: number }[] } };
type Drift = { reference: string; referenceBatchIds: string[]; features: Feature[]; target: Feature };
type Matrix = { batches: { id: string }[]; rows: { batchId: string; scores: (number | null)[] }[] };

/**
 * The answers first: a reference selection's bins equal the raw scan's counts of those batches (and
 * PSI against them is what the server reports for the pair); matrix cells equal dataDrift of the
 * pair asked alone.
 */
export async function checkComparisons(timer: GraphQLTimer, dataset: ComparisonDataset, selected: number, rng: Prng, feature: string) {
  const s: Selection = { batchIds: sample(dataset.batchIds, selected, rng) };
  const r: Selection = { batchIds: sample(dataset.batchIds, selected, rng) };
  const { data } = await timer.post(COMPARISON_QUERIES.drift_vs_reference_selection, { id: dataset.deploymentId, s, r });
  const drift = (data.deployment as { dataDrift: Drift }).dataDrift;
  if (drift.reference !== 'SELECTION' || drift.referenceBatchIds.length !== selected)
    throw new Error(`${dataset.key}: reference ${drift.reference} of ${drift.referenceBatchIds.length} batches`);
  const raw = await dataset.raw.drift(r);
  for (const f of [...drift.features, drift.target]) {
    const counts = f.reference.bins.map((b) => b.count);
    const expected = raw.columns.get(f.name)?.counts;
    if (JSON.stringify(counts) !== JSON.stringify(expected))
      throw new Error(
        `${dataset.key}: reference bins of ${f.name || 'the target'} ${JSON.stringify(counts)} vs raw ${JSON.stringify(expected)}`,
      );
  }
  const m: Selection = { last: Math.min(100, dataset.batchIds.length) };
  const { data: matrixData } = await timer.post(COMPARISON_QUERIES.drift_matrix, { id: dataset.deploymentId, s: m, f: feature });
  const matrix = (matrixData.deployment as { driftMatrix: Matrix }).driftMatrix;
  let worst = 0;
  for (let k = 0; k < 3; k++) {
    const i = rng.int(matrix.rows.length);
    const j = rng.int(matrix.rows.length);
    const pair = await timer.post(COMPARISON_QUERIES.drift_vs_reference_selection, {
      id: dataset.deploymentId,
      s: { batchIds: [matrix.batches[i]!.id] },
      r: { batchIds: [matrix.batches[j]!.id] },
    });
    const alone = (pair.data.deployment as { dataDrift: Drift }).dataDrift.features.find((f) => f.name === feature)!.score;
    const cell = matrix.rows[i]!.scores[j]!;
    const d = i === j ? Math.abs(cell) : relativeDifference(cell, alone!);
    if (!(d <= 1e-9)) throw new Error(`${dataset.key}: matrix cell [${i}][${j}] ${cell} vs dataDrift of the pair ${alone}`);
    worst = Math.max(worst, d);
  }
  return { matrixBatches: matrix.rows.length, worst };
}

/** --warmup then --runs requests of each comparison, interleaved; new random selections per request. */
export async function timeComparisons(
  timer: GraphQLTimer,
  datasets: ComparisonDataset[],
  options: { selected: number; runs: number; warmup: number; rng: Prng; feature: string },
) {
  const series = Object.fromEntries(datasets.map((d) => [d.key, Object.fromEntries(NAMES.map((n) => [n, [] as number[]]))])) as Record<
    string,
    Record<ComparisonName, number[]>
  >;
  for (let run = -options.warmup; run < options.runs; run++) {
    for (const dataset of run % 2 === 0 ? datasets : [...datasets].reverse()) {
      const s = { batchIds: sample(dataset.batchIds, options.selected, options.rng) };
      const r = { batchIds: sample(dataset.batchIds, options.selected, options.rng) };
      const variables: Record<ComparisonName, unknown> = {
        drift_vs_training_baseline: { id: dataset.deploymentId, s },
        drift_vs_reference_selection: { id: dataset.deploymentId, s, r },
        drift_vs_reference_selection_scores_only: { id: dataset.deploymentId, s, r },
        drift_matrix: { id: dataset.deploymentId, s: { batchIds: sample(dataset.batchIds, 100, options.rng) }, f: options.feature },
      };
      for (const name of run % 2 === 0 ? NAMES : [...NAMES].reverse()) {
        const { ms } = await timer.post(COMPARISON_QUERIES[name], variables[name]);
        if (run >= 0) series[dataset.key]![name].push(ms);
      }
    }
  }
  const figures: Record<string, Record<string, { p50: number; p95: number }>> = {};
  const misses: string[] = [];
  const ratios: Record<string, Record<string, number>> = {};
  for (const dataset of datasets) {
    const own = series[dataset.key]!;
    figures[dataset.key] = Object.fromEntries(NAMES.map((n) => [n, { p50: round(p50(own[n]), 2), p95: round(p95(own[n]), 2) }]));
    const base = p50(own.drift_vs_training_baseline);
    ratios[dataset.key] = {
      reference_selection_vs_training_baseline: round(p50(own.drift_vs_reference_selection) / base, 2),
      reference_selection_scores_only_vs_training_baseline: round(p50(own.drift_vs_reference_selection_scores_only) / base, 2),
      matrix_vs_training_baseline: round(p50(own.drift_matrix) / base, 2),
    };
    for (const [name, goal] of Object.entries(COMPARISON_GOALS_MS) as [ComparisonName, number][]) {
      if (p50(own[name]) > goal) misses.push(`${dataset.key} ${name} ${p50(own[name]).toFixed(1)} ms > ${goal} ms`);
    }
  }
  return {
    p50_ms: figures,
    p50_over_training_baseline_p50: ratios,
    goals_ms: COMPARISON_GOALS_MS,
    over_goal: misses,
    goal_met: misses.length === 0,
  };
}
