import { formatCount, formatNumber } from '../app/format';
import type { TabProps } from '../app/tabs';
import { ErrorNote, Loading } from '../app/ui';
import { CHART_COLORS, Chart, type ChartSeries } from '../charts/Chart';
import type { CustomMetricChange, CustomMetricDirectionality, CustomMetricsTabQuery } from '../generated/graphql';
import { CustomMetricsTabDocument } from '../generated/graphql';
import { BatchSelector } from '../selection/BatchSelector';
import { batchAxis, EmptyState, NoBatches, Tiles, useAnalysis, useKeptSelection } from './common';

type Metric = NonNullable<CustomMetricsTabQuery['deployment']>['customMetrics'][number];

const TYPE_TEXT = { AVERAGE: 'average', SUM: 'sum', GAUGE: 'gauge (latest value)' } as const;

/** "12.5 % above the baseline: better (higher is better)". */
function changeText(
  change: CustomMetricChange,
  percentChange: number | null,
  directionality: CustomMetricDirectionality,
  hasValue: boolean,
): string {
  const rule = directionality === 'HIGHER_IS_BETTER' ? 'higher is better' : 'lower is better';
  if (!hasValue) return 'No value in the selected batches.';
  if (change === 'UNKNOWN') return 'No baseline to compare with.';
  if (change === 'SAME') return 'Same as the baseline.';
  const verdict = change === 'BETTER' ? 'better' : 'worse';
  // Above or below follows from the verdict and the direction (the percentage is null for a baseline of 0).
  const above = (change === 'BETTER') === (directionality === 'HIGHER_IS_BETTER');
  const amount = percentChange === null ? '' : `${formatNumber(Math.abs(percentChange))} % `;
  return `${amount}${above ? 'above' : 'below'} the baseline: ${verdict} (${rule}).`;
}

/** The deployment's custom metrics over the selected batches: a summary and a line per metric. */
export function CustomMetricsTab({ deployment }: TabProps) {
  const [selection, setSelection] = useKeptSelection(deployment.id, 'custom-metrics');
  const { data, error, loading } = useAnalysis(deployment.id, CustomMetricsTabDocument, { id: deployment.id, batches: selection });
  const metrics = data?.deployment?.customMetrics;
  let body = null;
  if (metrics && metrics.length === 0) {
    body = (
      <EmptyState title="No custom metrics.">
        Define one with the createCustomMetric mutation or POST /api/v2/deployments/{deployment.id}/customMetrics/, then report its values
        into batches.
      </EmptyState>
    );
  } else if (metrics && metrics[0]!.summary.overBatches.length === 0) {
    body = <NoBatches selection={selection} />;
  } else if (metrics) {
    body = metrics.map((metric) => <MetricSection key={metric.id} metric={metric} />);
  }
  return (
    <div class="analysis">
      <BatchSelector deploymentId={deployment.id} selection={selection} onChange={setSelection} />
      <ErrorNote error={error} />
      {!data && loading ? <Loading /> : null}
      {body}
    </div>
  );
}

function MetricSection({ metric }: { metric: Metric }) {
  const { summary } = metric;
  const rows = summary.overBatches;
  const units = metric.units ? ` ${metric.units}` : '';
  const format = (value: number) => `${formatNumber(value)}${units}`;
  const headingId = `metric-${metric.id}`;
  const series: ChartSeries[] = [{ label: metric.name, color: CHART_COLORS.blue, values: rows.map((row) => row.value) }];
  if (rows.some((row) => row.baselineValue !== null)) {
    series.push({ label: 'Baseline', color: CHART_COLORS.gray, dashed: true, values: rows.map((row) => row.baselineValue) });
  }
  const verdict = changeText(summary.change, summary.percentChange, metric.directionality, summary.value !== null);
  return (
    <section class="metric-section" aria-labelledby={headingId}>
      <h2 id={headingId}>{metric.name}</h2>
      <p class="muted small">
        {metric.description ? `${metric.description} · ` : ''}
        {TYPE_TEXT[metric.type]} · {metric.directionality === 'HIGHER_IS_BETTER' ? 'higher is better' : 'lower is better'}
        {metric.isModelSpecific ? ' · per model' : ''}
      </p>
      <Tiles
        label={`${metric.name} over the selected batches`}
        tiles={[
          { label: 'Value', value: summary.value === null ? '—' : format(summary.value) },
          { label: 'Baseline', value: summary.baselineValue === null ? '—' : format(summary.baselineValue) },
          { label: 'Change', value: changeWord(summary.change), hint: verdict },
          {
            label: 'Reported',
            value: `${formatCount(summary.bucketCount)} buckets`,
            hint: `${formatCount(summary.sampleCount)} samples, in ${formatCount(summary.batchCount)} batches`,
          },
        ]}
      />
      {summary.value === null ? (
        <EmptyState title="No values reported in the selected batches.">
          Report values with reportCustomMetricValues or POST …/customMetrics/{metric.id}/fromJSON/.
        </EmptyState>
      ) : (
        <Chart
          title={`${metric.name} per batch`}
          itemsLabel="batches"
          x={batchAxis(rows)}
          yLabel={metric.units || metric.name}
          format={formatNumber}
          series={series}
        />
      )}
    </section>
  );
}

function changeWord(change: CustomMetricChange): string {
  return { BETTER: 'Better', WORSE: 'Worse', SAME: 'Same', UNKNOWN: '—' }[change];
}
