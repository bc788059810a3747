import { useState } from 'preact/hooks';
import { useQuery } from '../api/hooks';
import { formatCount, formatNumber, formatPercent } from '../app/format';
import type { TabProps } from '../app/tabs';
import { ErrorNote, Loading } from '../app/ui';
import { CHART_COLORS, Chart } from '../charts/Chart';
import {
  DataDriftOverBatchesDocument,
  type DataDriftOverBatchesQuery,
  DataDriftReferenceBatchDocument,
  DataDriftTabDocument,
  type DataDriftTabQuery,
  type DriftMetric,
  type FeatureDriftFieldsFragment,
} from '../generated/graphql';
import { type BatchSelection, BatchSelector } from '../selection/BatchSelector';
import { batchAxis, EmptyState, NoBatches, Tiles, useAnalysis, useKeptSelection } from './common';
import { DriftHeatMap, formatPValue, STATUS_TEXT } from './DriftHeatMap';

const METRICS: { value: DriftMetric; label: string }[] = [
  { value: 'PSI', label: 'PSI (population stability index)' },
  { value: 'JS_DIVERGENCE', label: 'Jensen–Shannon divergence' },
  { value: 'HELLINGER', label: 'Hellinger distance' },
  { value: 'KL_DIVERGENCE', label: 'KL divergence' },
];
const SHORT_METRIC: Record<DriftMetric, string> = { PSI: 'PSI', JS_DIVERGENCE: 'JS', HELLINGER: 'Hellinger', KL_DIVERGENCE: 'KL' };

/** The choice of the target in the feature list (a feature may not be named ''). */
const TARGET = '';

/** What the selection is compared with. */
type ReferenceMode = 'BASELINE' | 'PREVIOUS' | 'BATCHES';
const REFERENCES: { value: ReferenceMode; label: string }[] = [
  { value: 'BASELINE', label: 'Training baseline' },
  { value: 'PREVIOUS', label: 'Previous batch' },
  { value: 'BATCHES', label: 'Batches…' },
];

type Drift = NonNullable<DataDriftTabQuery['deployment']>['dataDrift'];

/**
 * Data drift of the selected batches per feature and over batches, against a reference: the
 * training baseline, the batch created just before the selection's first (the chart: each batch
 * against the one before it), or a reference selection of batches (the chart stays on the baseline).
 */
export function DataDriftTab({ deployment }: TabProps) {
  const [selection, setSelection] = useKeptSelection(deployment.id, 'drift');
  const [referenceSelection, setReferenceSelection] = useKeptSelection(deployment.id, 'drift-reference');
  const [mode, setMode] = useState<ReferenceMode>('BASELINE');
  const [metric, setMetric] = useState<DriftMetric>('PSI');
  const [chosen, setChosen] = useState<string | null>(null);
  const series = useAnalysis(deployment.id, DataDriftOverBatchesDocument, {
    id: deployment.id,
    batches: selection,
    metric,
    reference: mode === 'PREVIOUS' ? 'PREVIOUS' : 'TRAINING_BASELINE',
  });
  const rows = series.data?.deployment?.overBatches ?? [];
  // The batch before the selection's first, as the series over batches found it once it answered for this mode
  // (kept while it refreshes: a batch event must not blank the table).
  const seriesOfMode = rows.every((row) => row.dataDrift.reference === (mode === 'PREVIOUS' ? 'PREVIOUS_BATCH' : 'TRAINING_BASELINE'));
  const previousId = mode === 'PREVIOUS' && seriesOfMode ? (rows[0]?.dataDrift.referenceBatchIds[0] ?? null) : null;
  const model = selection.modelId ? { modelId: selection.modelId } : {};
  const reference: BatchSelection | null =
    mode === 'BASELINE' ? null : mode === 'BATCHES' ? referenceSelection : previousId ? { batchIds: [previousId], ...model } : null;
  const waiting = mode === 'PREVIOUS' && !previousId;
  const { data, error, loading } = useAnalysis(
    deployment.id,
    DataDriftTabDocument,
    { id: deployment.id, batches: selection, metric, reference },
    { skip: waiting },
  );
  const previous = useQuery(DataDriftReferenceBatchDocument, { id: previousId ?? '' }, { skip: !previousId });
  // Not the answer of another reference while the new one loads.
  const answer = data?.deployment?.dataDrift;
  const drift =
    waiting || !answer
      ? undefined
      : mode === 'BASELINE'
        ? answer.reference === 'TRAINING_BASELINE'
          ? answer
          : undefined
        : answer.reference === 'SELECTION' && (mode === 'BATCHES' || answer.referenceBatchIds[0] === previousId)
          ? answer
          : undefined;
  const scoreLabel = `Drift score (${SHORT_METRIC[drift?.metric ?? metric]})`;
  const referenceName =
    mode === 'BASELINE'
      ? 'the training baseline'
      : mode === 'PREVIOUS'
        ? `the batch before the selection (${previous.data?.monitoringBatch?.name ?? '…'})`
        : `the reference batches (${formatCount(drift?.referenceBatchIds.length ?? 0)})`;

  let body = null;
  if (drift && !drift.hasBaseline) {
    body = (
      <EmptyState title="No training baseline.">
        Drift compares the predictions’ features with a training baseline, and this deployment has none yet. Set one with the
        setTrainingBaseline mutation or POST /api/v2/deployments/{deployment.id}/trainingBaseline/.
      </EmptyState>
    );
  } else if (series.data && rows.length === 0) {
    body = <NoBatches selection={selection} />;
  } else if (mode === 'PREVIOUS' && seriesOfMode && !previousId && rows.length > 0) {
    body = (
      <>
        <EmptyState title="No batch before the selection.">
          The selection starts with the deployment’s first batch: there is no previous batch to compare it with. The chart below compares
          each batch with the one before it.
        </EmptyState>
        <OverBatchesChart rows={rows} choice={null} mode={mode} scoreLabel={scoreLabel} threshold={null} />
      </>
    );
  } else if (drift && rows.length > 0) {
    const features = drift.features;
    const byScore = [...features].sort((a, b) => (b.score ?? -1) - (a.score ?? -1));
    const choice: FeatureDriftFieldsFragment | null =
      (chosen === TARGET ? drift.target : features.find((feature) => feature.name === chosen)) ?? byScore[0] ?? drift.target ?? null;
    const isTarget = choice !== null && choice === drift.target;
    const choiceName = choice ? (isTarget ? 'the target (prediction)' : choice.name) : '';
    const drifted = features.filter((feature) => feature.status === 'DRIFTED').length;
    const unjudged = features.filter((feature) => feature.status === 'INSUFFICIENT_DATA' || feature.status === 'NO_DATA').length;
    const threshold = { label: 'Drift threshold', value: drift.driftThreshold, color: CHART_COLORS.red };
    // Scatter: features by importance (features without one at 0), drifted ones in their own colour.
    const scatter = [...features].sort((a, b) => (a.importance ?? 0) - (b.importance ?? 0) || a.name.localeCompare(b.name));
    const judged = (f: FeatureDriftFieldsFragment) => f.status === 'DRIFTED' || f.status === 'NOT_DRIFTED';
    const referenceShort = mode === 'BASELINE' ? 'baseline' : mode === 'PREVIOUS' ? 'previous batch' : 'reference batches';
    const referenceLabel = mode === 'BASELINE' ? 'Training baseline' : mode === 'PREVIOUS' ? 'Previous batch' : 'Reference batches';
    body = (
      <>
        <Tiles
          label="Data drift of the selected batches"
          tiles={[
            {
              label: 'Drifted features',
              value: `${formatCount(drifted)} of ${formatCount(features.length)}`,
              hint: `${scoreLabel} ≥ ${formatNumber(drift.driftThreshold)}, adjusted p ≤ ${formatNumber(drift.significanceLevel)}${
                unjudged ? `; ${formatCount(unjudged)} not judged` : ''
              }`,
            },
            {
              label: 'Target drift',
              value: formatNumber(drift.target?.score),
              hint: drift.target ? STATUS_TEXT[drift.target.status].toLowerCase() : undefined,
            },
            {
              label: 'Rows compared',
              value: formatCount(features[0]?.sampleSize ?? drift.target?.sampleSize ?? 0),
              hint: `reference: ${formatCount(features[0]?.referenceSampleSize ?? drift.target?.referenceSampleSize ?? 0)} rows`,
            },
            { label: 'Batches', value: formatCount(drift.batchCount) },
          ]}
        />
        <FeatureTable
          drift={drift}
          features={byScore}
          chosen={choice}
          referenceName={referenceName}
          scoreLabel={scoreLabel}
          onChoose={(name) => setChosen(name)}
        />
        <div class="chart-grid">
          <Chart
            title="Drift vs importance"
            itemsLabel="features"
            x={{
              kind: 'values',
              label: 'Importance',
              rowHeader: 'Feature',
              values: scatter.map((feature) => feature.importance ?? 0),
              rowLabels: scatter.map((feature) => (feature.importance === null ? `${feature.name} (no importance)` : feature.name)),
              range: [-0.05, 1.05],
            }}
            yLabel={scoreLabel}
            fromZero
            lines={[threshold]}
            series={[
              {
                label: 'Not drifted',
                kind: 'points',
                color: CHART_COLORS.blue,
                values: scatter.map((f) => (f.status === 'NOT_DRIFTED' ? f.score : null)),
              },
              {
                label: 'Drifted',
                kind: 'points',
                color: CHART_COLORS.orange,
                values: scatter.map((f) => (f.status === 'DRIFTED' ? f.score : null)),
              },
              {
                label: 'Insufficient data',
                kind: 'points',
                color: CHART_COLORS.gray,
                values: scatter.map((f) => (judged(f) ? null : f.score)),
              },
            ]}
          />
          <div class="feature-chart">
            <label class="inline-field">
              <span>Feature</span>
              <select value={isTarget ? TARGET : (choice?.name ?? '')} onChange={(event) => setChosen(event.currentTarget.value)}>
                {byScore.map((feature) => (
                  <option key={feature.name} value={feature.name}>
                    {feature.name} — {formatNumber(feature.score)}
                    {feature.status === 'DRIFTED' ? ' (drifted)' : feature.status === 'INSUFFICIENT_DATA' ? ' (insufficient data)' : ''}
                  </option>
                ))}
                {drift.target ? <option value={TARGET}>Target (prediction) — {formatNumber(drift.target.score)}</option> : null}
              </select>
            </label>
            {choice ? (
              <Chart
                title={`Distribution of ${choiceName}: ${referenceShort} vs selection`}
                itemsLabel="bins"
                x={{ kind: 'categories', label: 'Bin', labels: choice.reference.bins.map((bin) => bin.label) }}
                yLabel="Share of rows"
                fromZero
                format={formatPercent}
                series={[
                  {
                    label: referenceLabel,
                    kind: 'bars',
                    barSide: -1,
                    color: CHART_COLORS.gray,
                    values: choice.reference.bins.map((bin) => bin.share),
                  },
                  {
                    label: 'Selected batches',
                    kind: 'bars',
                    barSide: 1,
                    color: CHART_COLORS.blue,
                    values: choice.current.bins.map((bin) => bin.share),
                  },
                ]}
              />
            ) : null}
          </div>
        </div>
        {choice ? (
          <>
            <OverBatchesChart
              rows={rows}
              choice={isTarget ? null : choice.name}
              mode={mode}
              scoreLabel={scoreLabel}
              threshold={threshold}
            />
            <DriftHeatMap
              deploymentId={deployment.id}
              selection={selection}
              batchCount={rows.length}
              batchIds={rows.map((row) => row.batch.id)}
              feature={isTarget ? null : choice.name}
              featureLabel={choiceName}
              metric={metric}
              scoreLabel={scoreLabel}
            />
          </>
        ) : null}
      </>
    );
  }

  return (
    <div class="analysis">
      <BatchSelector deploymentId={deployment.id} selection={selection} onChange={setSelection} />
      <div class="toolbar">
        <label class="inline-field">
          <span>Drift metric</span>
          <select value={metric} onChange={(event) => setMetric(event.currentTarget.value as DriftMetric)}>
            {METRICS.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
        </label>
        <label class="inline-field">
          <span>Compare with</span>
          <select value={mode} onChange={(event) => setMode(event.currentTarget.value as ReferenceMode)}>
            {REFERENCES.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      {mode === 'BATCHES' ? (
        <BatchSelector
          deploymentId={deployment.id}
          selection={referenceSelection}
          onChange={setReferenceSelection}
          title="Reference batches"
        />
      ) : null}
      <ErrorNote error={error ?? series.error} />
      {(!data && loading) || (!series.data && series.loading) ? <Loading /> : null}
      {body}
    </div>
  );
}

/** Every feature (and the target) against the reference: score, adjusted p-value, rows each side, status. */
function FeatureTable({
  drift,
  features,
  chosen,
  referenceName,
  scoreLabel,
  onChoose,
}: {
  drift: Drift;
  features: readonly FeatureDriftFieldsFragment[];
  chosen: FeatureDriftFieldsFragment | null;
  referenceName: string;
  scoreLabel: string;
  onChoose: (name: string) => void;
}) {
  const all = drift.target ? [...features, drift.target] : features;
  return (
    <div class="table-scroll">
      <table class="data-table drift-table">
        <caption>
          Features of the selection against {referenceName}. Drifted: adjusted p-value ≤ {formatNumber(drift.significanceLevel)} and{' '}
          {scoreLabel} ≥ {formatNumber(drift.driftThreshold)}; fewer than {formatCount(drift.minSampleSize)} rows on a side: insufficient
          data.
        </caption>
        <thead>
          <tr>
            <th scope="col">Feature</th>
            <th scope="col" class="number">
              Importance
            </th>
            <th scope="col" class="number">
              {scoreLabel}
            </th>
            <th scope="col" class="number">
              p-value (adjusted)
            </th>
            <th scope="col" class="number">
              Rows (selection / reference)
            </th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {all.map((feature) => {
            const isTarget = feature === drift.target;
            const name = isTarget ? 'Target (prediction)' : feature.name;
            return (
              <tr key={isTarget ? '\u0000target' : feature.name} aria-current={feature === chosen ? 'true' : undefined}>
                <th scope="row">
                  <button type="button" class="link-button" onClick={() => onChoose(isTarget ? TARGET : feature.name)}>
                    {name}
                  </button>
                </th>
                <td class="number">{isTarget ? '' : formatNumber(feature.importance)}</td>
                <td class="number">{formatNumber(feature.score)}</td>
                <td class="number" title={`unadjusted: ${formatPValue(feature.pValue)}`}>
                  {formatPValue(feature.adjustedPValue)}
                </td>
                <td class="number">
                  {formatCount(feature.sampleSize)} / {formatCount(feature.referenceSampleSize)}
                </td>
                <td class={`drift-status drift-status-${feature.status.toLowerCase().replace('_', '-')}`}>{STATUS_TEXT[feature.status]}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The chosen feature (null: the target alone) and the target over batches, against the baseline or each previous batch. */
function OverBatchesChart({
  rows,
  choice,
  mode,
  scoreLabel,
  threshold,
}: {
  rows: NonNullable<DataDriftOverBatchesQuery['deployment']>['overBatches'];
  choice: string | null;
  mode: ReferenceMode;
  scoreLabel: string;
  threshold: { label: string; value: number; color: string } | null;
}) {
  const against = mode === 'PREVIOUS' ? ' (each against the previous batch)' : mode === 'BATCHES' ? ' (against the training baseline)' : '';
  const name = choice === null ? 'the target (prediction)' : `${choice} and the target`;
  return (
    <Chart
      title={`Drift over batches${against}: ${name}`}
      itemsLabel="batches"
      x={batchAxis(rows)}
      yLabel={scoreLabel}
      fromZero
      lines={threshold ? [threshold] : []}
      series={[
        ...(choice === null
          ? []
          : [
              {
                label: choice,
                color: CHART_COLORS.blue,
                values: rows.map((row) => row.dataDrift.features.find((feature) => feature.name === choice)?.score ?? null),
              },
            ]),
        {
          label: 'Target (prediction)',
          color: CHART_COLORS.purple,
          dashed: true,
          values: rows.map((row) => row.dataDrift.target?.score ?? null),
        },
      ]}
    />
  );
}
