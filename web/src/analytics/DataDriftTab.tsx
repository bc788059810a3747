import { useState } from 'preact/hooks';
import { formatCount, formatNumber, formatPercent } from '../app/format';
import type { TabProps } from '../app/tabs';
import { ErrorNote, Loading } from '../app/ui';
import { CHART_COLORS, Chart } from '../charts/Chart';
import { DataDriftTabDocument, type DriftMetric, type FeatureDriftFieldsFragment } from '../generated/graphql';
import { BatchSelector } from '../selection/BatchSelector';
import { batchAxis, EmptyState, NoBatches, Tiles, useAnalysis, useKeptSelection } from './common';

const METRICS: { value: DriftMetric; label: string }[] = [
  { value: 'PSI', label: 'PSI (population stability index)' },
  { value: 'JS_DIVERGENCE', label: 'Jensen–Shannon divergence' },
  { value: 'HELLINGER', label: 'Hellinger distance' },
  { value: 'KL_DIVERGENCE', label: 'KL divergence' },
];
const SHORT_METRIC: Record<DriftMetric, string> = { PSI: 'PSI', JS_DIVERGENCE: 'JS', HELLINGER: 'Hellinger', KL_DIVERGENCE: 'KL' };

/** The choice of the target in the feature list (a feature may not be named ''). */
const TARGET = '';

/** Data drift of the selected batches against the training baseline, per feature and over batches. */
export function DataDriftTab({ deployment }: TabProps) {
  const [selection, setSelection] = useKeptSelection(deployment.id, 'drift');
  const [metric, setMetric] = useState<DriftMetric>('PSI');
  const [chosen, setChosen] = useState<string | null>(null);
  const { data, error, loading } = useAnalysis(deployment.id, DataDriftTabDocument, { id: deployment.id, batches: selection, metric });
  const drift = data?.deployment?.dataDrift;
  const rows = data?.deployment?.overBatches ?? [];
  const scoreLabel = `Drift score (${SHORT_METRIC[drift?.metric ?? metric]})`;

  let body = null;
  if (drift && !drift.hasBaseline) {
    body = (
      <EmptyState title="No training baseline.">
        Drift compares the predictions’ features with a training baseline, and this deployment has none yet. Set one with the
        setTrainingBaseline mutation or POST /api/v2/deployments/{deployment.id}/trainingBaseline/.
      </EmptyState>
    );
  } else if (drift && rows.length === 0) {
    body = <NoBatches selection={selection} />;
  } else if (drift) {
    const features = drift.features;
    const byScore = [...features].sort((a, b) => (b.score ?? -1) - (a.score ?? -1));
    const choice: FeatureDriftFieldsFragment | null =
      (chosen === TARGET ? drift.target : features.find((feature) => feature.name === chosen)) ?? byScore[0] ?? drift.target ?? null;
    const choiceName = choice ? (choice === drift.target ? 'the target (prediction)' : choice.name) : '';
    const drifted = features.filter((feature) => feature.isDrifted).length;
    const threshold = { label: 'Drift threshold', value: drift.driftThreshold, color: CHART_COLORS.red };
    // Scatter: features by importance (features without one at 0), drifted ones in their own colour.
    const scatter = [...features].sort((a, b) => (a.importance ?? 0) - (b.importance ?? 0) || a.name.localeCompare(b.name));
    const isTarget = choice === drift.target;
    const choiceOverBatches = rows.map((row) => row.dataDrift.features.find((feature) => feature.name === choice?.name)?.score ?? null);
    body = (
      <>
        <Tiles
          label="Data drift of the selected batches"
          tiles={[
            {
              label: 'Drifted features',
              value: `${formatCount(drifted)} of ${formatCount(features.length)}`,
              hint: `${scoreLabel} ≥ ${formatNumber(drift.driftThreshold)}`,
            },
            { label: 'Target drift', value: formatNumber(drift.target?.score), hint: drift.target?.isDrifted ? 'drifted' : undefined },
            { label: 'Rows compared', value: formatCount(features[0]?.sampleSize ?? drift.target?.sampleSize ?? 0) },
            { label: 'Batches', value: formatCount(drift.batchCount) },
          ]}
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
                values: scatter.map((f) => (f.isDrifted ? null : f.score)),
              },
              { label: 'Drifted', kind: 'points', color: CHART_COLORS.orange, values: scatter.map((f) => (f.isDrifted ? f.score : null)) },
            ]}
          />
          <div class="feature-chart">
            <label class="inline-field">
              <span>Feature</span>
              <select
                value={choice === drift.target ? TARGET : (choice?.name ?? '')}
                onChange={(event) => setChosen(event.currentTarget.value)}
              >
                {byScore.map((feature) => (
                  <option key={feature.name} value={feature.name}>
                    {feature.name} — {formatNumber(feature.score)}
                    {feature.isDrifted ? ' (drifted)' : ''}
                  </option>
                ))}
                {drift.target ? <option value={TARGET}>Target (prediction) — {formatNumber(drift.target.score)}</option> : null}
              </select>
            </label>
            {choice ? (
              <Chart
                title={`Distribution of ${choiceName}: baseline vs selection`}
                itemsLabel="bins"
                x={{ kind: 'categories', label: 'Bin', labels: choice.baseline.bins.map((bin) => bin.label) }}
                yLabel="Share of rows"
                fromZero
                format={formatPercent}
                series={[
                  {
                    label: 'Training baseline',
                    kind: 'bars',
                    barSide: -1,
                    color: CHART_COLORS.gray,
                    values: choice.baseline.bins.map((bin) => bin.share),
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
          <Chart
            title={`Drift over batches: ${choiceName}${isTarget ? '' : ' and the target'}`}
            itemsLabel="batches"
            x={batchAxis(rows)}
            yLabel={scoreLabel}
            fromZero
            lines={[threshold]}
            series={[
              ...(isTarget ? [] : [{ label: choice.name, color: CHART_COLORS.blue, values: choiceOverBatches }]),
              {
                label: 'Target (prediction)',
                color: CHART_COLORS.purple,
                dashed: true,
                values: rows.map((row) => row.dataDrift.target?.score ?? null),
              },
            ]}
          />
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
      </div>
      <ErrorNote error={error} />
      {!data && loading ? <Loading /> : null}
      {body}
    </div>
  );
}
