import { formatCount, formatNumber, formatPercent } from '../app/format';
import type { TabProps } from '../app/tabs';
import { ErrorNote, Loading } from '../app/ui';
import { CHART_COLORS, Chart } from '../charts/Chart';
import { ServiceHealthTabDocument } from '../generated/graphql';
import { BatchSelector } from '../selection/BatchSelector';
import { batchAxis, EmptyState, NoBatches, Tiles, useAnalysis, useKeptSelection } from './common';

const milliseconds = (value: number | null | undefined) => (value === null || value === undefined ? '—' : `${formatNumber(value)} ms`);
const percent = (value: number) => formatPercent(value);

/** Service health of the selected batches: what the requests did, and how fast and how well. */
export function ServiceHealthTab({ deployment }: TabProps) {
  const [selection, setSelection] = useKeptSelection(deployment.id, 'service');
  const { data, error, loading } = useAnalysis(deployment.id, ServiceHealthTabDocument, { id: deployment.id, batches: selection });
  const health = data?.deployment?.serviceHealth;
  const rows = data?.deployment?.overBatches ?? [];
  const x = batchAxis(rows);
  return (
    <div class="analysis">
      <BatchSelector deploymentId={deployment.id} selection={selection} onChange={setSelection} />
      <ErrorNote error={error} />
      {!data && loading ? <Loading /> : null}
      {health && rows.length === 0 ? <NoBatches selection={selection} /> : null}
      {health && rows.length > 0 ? (
        <>
          <Tiles
            label="Service health of the selected batches"
            tiles={[
              { label: 'Total predictions', value: formatCount(health.totalPredictions) },
              { label: 'Requests', value: formatCount(health.totalRequests) },
              { label: 'Median execution time', value: milliseconds(health.executionTime.median) },
              { label: 'p90 execution time', value: milliseconds(health.executionTime.p90) },
              { label: 'User error rate', value: formatPercent(health.userErrorRate), hint: '4xx' },
              { label: 'Server error rate', value: formatPercent(health.serverErrorRate), hint: '5xx' },
              { label: 'Consumers', value: formatCount(health.numConsumers), hint: 'distinct callers' },
            ]}
          />
          {health.totalRequests === 0 ? (
            <EmptyState title="No request statistics in these batches yet.">
              Predictions reported with their execution time, and reportDeploymentStats, record requests.
            </EmptyState>
          ) : null}
          <h2>Per batch</h2>
          <div class="chart-grid">
            <Chart
              title="Predictions per batch"
              itemsLabel="batches"
              x={x}
              yLabel="Predictions"
              fromZero
              format={formatCount}
              series={[
                { label: 'Predictions', color: CHART_COLORS.blue, kind: 'bars', values: rows.map((r) => r.serviceHealth.totalPredictions) },
              ]}
            />
            <Chart
              title="Requests per batch"
              itemsLabel="batches"
              x={x}
              yLabel="Requests"
              fromZero
              format={formatCount}
              series={[
                { label: 'Requests', color: CHART_COLORS.teal, kind: 'bars', values: rows.map((r) => r.serviceHealth.totalRequests) },
              ]}
            />
            <Chart
              title="Execution time per batch"
              itemsLabel="batches"
              x={x}
              yLabel="Milliseconds"
              fromZero
              format={(value) => milliseconds(value)}
              series={[
                { label: 'Median', color: CHART_COLORS.blue, values: rows.map((r) => r.serviceHealth.executionTime.median) },
                { label: 'p90', color: CHART_COLORS.orange, dashed: true, values: rows.map((r) => r.serviceHealth.executionTime.p90) },
              ]}
            />
            <Chart
              title="Error rates per batch"
              itemsLabel="batches"
              x={x}
              yLabel="Share of requests"
              fromZero
              format={percent}
              series={[
                { label: 'User errors', color: CHART_COLORS.orange, values: rows.map((r) => r.serviceHealth.userErrorRate) },
                {
                  label: 'Server errors',
                  color: CHART_COLORS.purple,
                  dashed: true,
                  values: rows.map((r) => r.serviceHealth.serverErrorRate),
                },
              ]}
            />
          </div>
        </>
      ) : null}
    </div>
  );
}
