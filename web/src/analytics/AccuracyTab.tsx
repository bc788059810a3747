import { useState } from 'preact/hooks';
import { formatCount, formatNumber, formatPercent } from '../app/format';
import type { TabProps } from '../app/tabs';
import { ErrorNote, Loading } from '../app/ui';
import { CHART_COLORS, Chart } from '../charts/Chart';
import { type AccuracyFieldsFragment, AccuracyTabDocument, type TargetType } from '../generated/graphql';
import { BatchSelector } from '../selection/BatchSelector';
import { batchAxis, EmptyState, NoBatches, Tiles, useAnalysis, useKeptSelection } from './common';

type MetricKey = 'rmse' | 'mae' | 'r2' | 'mape' | 'auc' | 'accuracy' | 'f1' | 'tpr' | 'ppv' | 'logLoss';

interface MetricInfo {
  key: MetricKey;
  label: string;
  hint: string;
  format: (value: number) => string;
}

const mape = (value: number) => `${formatNumber(value)} %`;

/** The metrics of each target type, as the API computes them. */
const METRICS: Record<TargetType, MetricInfo[]> = {
  REGRESSION: [
    { key: 'rmse', label: 'RMSE', hint: 'root mean squared error, lower is better', format: formatNumber },
    { key: 'mae', label: 'MAE', hint: 'mean absolute error, lower is better', format: formatNumber },
    { key: 'r2', label: 'R²', hint: 'higher is better', format: formatNumber },
    { key: 'mape', label: 'MAPE', hint: 'mean absolute percentage error', format: mape },
  ],
  BINARY: [
    { key: 'auc', label: 'AUC', hint: 'area under the ROC curve', format: formatNumber },
    { key: 'accuracy', label: 'Accuracy', hint: 'at the prediction threshold', format: formatNumber },
    { key: 'f1', label: 'F1', hint: 'at the prediction threshold', format: formatNumber },
    { key: 'tpr', label: 'TPR (recall)', hint: 'true positive rate', format: formatNumber },
    { key: 'ppv', label: 'PPV (precision)', hint: 'positive predictive value', format: formatNumber },
    { key: 'logLoss', label: 'LogLoss', hint: 'lower is better', format: formatNumber },
  ],
  MULTICLASS: [
    { key: 'accuracy', label: 'Accuracy', hint: 'predicted class = actual class', format: formatNumber },
    { key: 'logLoss', label: 'LogLoss', hint: 'lower is better', format: formatNumber },
  ],
};

/** Accuracy of the selected batches (predictions joined to their actuals): metrics, and predicted vs actual. */
export function AccuracyTab({ deployment }: TabProps) {
  const [selection, setSelection] = useKeptSelection(deployment.id, 'accuracy');
  const metrics = METRICS[deployment.targetType];
  const [metricKey, setMetricKey] = useState<MetricKey>(metrics[0]!.key);
  const classNames = deployment.classNames ?? [];
  const [className, setClassName] = useState(classNames[0] ?? '');
  const { data, error, loading } = useAnalysis(deployment.id, AccuracyTabDocument, { id: deployment.id, batches: selection });
  const accuracy = data?.deployment?.accuracy;
  const rows = data?.deployment?.overBatches ?? [];
  const metric = metrics.find((candidate) => candidate.key === metricKey) ?? metrics[0]!;
  const x = batchAxis(rows);

  let body = null;
  if (accuracy && rows.length === 0) body = <NoBatches selection={selection} />;
  else if (accuracy && accuracy.predictionsWithActuals === 0) {
    body = (
      <EmptyState title="No actuals yet for these batches.">
        Accuracy compares predictions with what really happened. Submit actual outcomes with their association ids (the submitActuals
        mutation or POST /api/v2/deployments/{deployment.id}/actuals/fromJSON/) and they join their predictions in any order.
      </EmptyState>
    );
  } else if (accuracy) {
    const rowCount = data?.deployment?.predictions.rowCount ?? 0;
    body = (
      <>
        <Tiles
          label="Accuracy of the selected batches"
          tiles={[
            {
              label: 'Predictions with actuals',
              value: formatCount(accuracy.predictionsWithActuals),
              hint: rowCount ? `${formatPercent(accuracy.predictionsWithActuals / rowCount)} of ${formatCount(rowCount)}` : undefined,
            },
            ...metrics.map((m) => ({ label: m.label, value: metricText(accuracy, m), hint: m.hint })),
          ]}
        />
        <div class="chart-grid">
          <div>
            <label class="inline-field">
              <span>Metric</span>
              <select value={metric.key} onChange={(event) => setMetricKey(event.currentTarget.value as MetricKey)}>
                {metrics.map((m) => (
                  <option key={m.key} value={m.key}>
                    {m.label}
                  </option>
                ))}
              </select>
            </label>
            <Chart
              title={`${metric.label} per batch`}
              itemsLabel="batches"
              x={x}
              yLabel={metric.label}
              format={metric.format}
              series={[{ label: metric.label, color: CHART_COLORS.blue, values: rows.map((row) => row.accuracy[metric.key] ?? null) }]}
            />
          </div>
          <div>
            {deployment.targetType === 'MULTICLASS' ? (
              <label class="inline-field">
                <span>Class</span>
                <select value={className} onChange={(event) => setClassName(event.currentTarget.value)}>
                  {classNames.map((name) => (
                    <option key={name} value={name}>
                      {name}
                    </option>
                  ))}
                </select>
              </label>
            ) : null}
            <PredictedVsActual
              targetType={deployment.targetType}
              positiveClass={deployment.positiveClass ?? ''}
              className={className}
              rows={rows}
            />
          </div>
        </div>
        <Chart
          title="Predictions with actuals per batch"
          itemsLabel="batches"
          x={x}
          yLabel="Predictions"
          fromZero
          format={formatCount}
          series={[
            {
              label: 'With actuals',
              kind: 'bars',
              color: CHART_COLORS.teal,
              values: rows.map((row) => row.accuracy.predictionsWithActuals),
            },
          ]}
        />
      </>
    );
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

function metricText(accuracy: AccuracyFieldsFragment, metric: MetricInfo): string {
  const value = accuracy[metric.key];
  return value === null || value === undefined ? '—' : metric.format(value);
}

/**
 * What the predictions with actuals predicted next to what happened, per batch. Regression: mean
 * prediction and mean actual; binary: mean probability of the positive class and the share of actuals
 * that are it; multiclass: the chosen class's share among predicted and among actual classes.
 */
function PredictedVsActual({
  targetType,
  positiveClass,
  className,
  rows,
}: {
  targetType: TargetType;
  positiveClass: string;
  className: string;
  rows: { batch: { name: string }; accuracy: AccuracyFieldsFragment }[];
}) {
  const x = batchAxis(rows);
  if (targetType === 'REGRESSION') {
    return (
      <Chart
        title="Predicted vs actual per batch"
        itemsLabel="batches"
        x={x}
        yLabel="Mean value"
        series={[
          { label: 'Mean prediction', color: CHART_COLORS.blue, values: rows.map((row) => row.accuracy.meanPredicted) },
          { label: 'Mean actual', color: CHART_COLORS.orange, dashed: true, values: rows.map((row) => row.accuracy.meanActual) },
        ]}
      />
    );
  }
  if (targetType === 'BINARY') {
    return (
      <Chart
        title={`Predicted vs actual per batch: ${positiveClass}`}
        itemsLabel="batches"
        x={x}
        yLabel={`Share ${positiveClass}`}
        fromZero
        format={formatPercent}
        series={[
          {
            label: `Mean predicted probability of ${positiveClass}`,
            color: CHART_COLORS.blue,
            values: rows.map((row) => row.accuracy.meanPredicted),
          },
          {
            label: `Actuals that are ${positiveClass}`,
            color: CHART_COLORS.orange,
            dashed: true,
            values: rows.map((row) => row.accuracy.meanActual),
          },
        ]}
      />
    );
  }
  const share = (list: AccuracyFieldsFragment['actualClassDistribution'], count: number) =>
    count > 0 ? (list.find((entry) => entry.className === className)?.share ?? null) : null;
  return (
    <Chart
      title={`Predicted vs actual per batch: ${className}`}
      itemsLabel="batches"
      x={x}
      yLabel={`Share ${className}`}
      fromZero
      format={formatPercent}
      series={[
        {
          label: `Predicted ${className}`,
          color: CHART_COLORS.blue,
          values: rows.map((row) => share(row.accuracy.predictedClassDistribution, row.accuracy.predictionsWithActuals)),
        },
        {
          label: `Actually ${className}`,
          color: CHART_COLORS.orange,
          dashed: true,
          values: rows.map((row) => share(row.accuracy.actualClassDistribution, row.accuracy.predictionsWithActuals)),
        },
      ]}
    />
  );
}
