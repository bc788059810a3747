import { useState } from 'preact/hooks';
import { useQuery } from '../api/hooks';
import { href } from '../app/router';
import { ErrorNote, HealthBadge, Loading } from '../app/ui';
import { DeploymentsInventoryDocument, type InventoryDeploymentFragment } from '../generated/graphql';
import { Sparkline } from './Sparkline';

const PAGE = 50;

/** The deployments of the organization: label, BATCH badge, the three health indicators, activity. */
export function Inventory() {
  const [search, setSearch] = useState('');
  const [pages, setPages] = useState<(string | null)[]>([null]);
  const after = pages[pages.length - 1] ?? null;
  const { data, error, loading } = useQuery(DeploymentsInventoryDocument, { search: search.trim() || null, first: PAGE, after });
  const connection = data?.deployments;
  return (
    <main>
      <h1>Deployments</h1>
      <div class="toolbar">
        <label for="deployment-search">Search</label>
        <input
          id="deployment-search"
          type="search"
          placeholder="Label or id"
          value={search}
          onInput={(event) => {
            setSearch(event.currentTarget.value);
            setPages([null]);
          }}
        />
        {connection ? <span class="muted">{connection.totalCount} deployments</span> : null}
      </div>
      <ErrorNote error={error} />
      {!connection && loading ? <Loading /> : null}
      {connection ? (
        <table class="data-table">
          <caption class="visually-hidden">Deployments</caption>
          <thead>
            <tr>
              <th scope="col">Deployment</th>
              <th scope="col">Service health</th>
              <th scope="col">Data drift</th>
              <th scope="col">Accuracy</th>
              <th scope="col">Activity (7 days)</th>
            </tr>
          </thead>
          <tbody>
            {connection.edges.map(({ node }) => (
              <InventoryRow key={node.id} deployment={node} />
            ))}
          </tbody>
        </table>
      ) : null}
      {connection && connection.edges.length === 0 ? <p>No deployment matches.</p> : null}
      <div class="pager">
        <button type="button" disabled={pages.length < 2} onClick={() => setPages(pages.slice(0, -1))}>
          Previous
        </button>
        <button
          type="button"
          disabled={!connection?.pageInfo.hasNextPage}
          onClick={() => connection?.pageInfo.endCursor && setPages([...pages, connection.pageInfo.endCursor])}
        >
          Next
        </button>
      </div>
    </main>
  );
}

function InventoryRow({ deployment }: { deployment: InventoryDeploymentFragment }) {
  return (
    <tr>
      <th scope="row">
        <a href={href({ page: 'deployment', deploymentId: deployment.id, tab: 'batches' })}>{deployment.label}</a>{' '}
        {deployment.batchMonitoringEnabled ? (
          <span class="badge" title="Batch monitoring is on">
            BATCH
          </span>
        ) : null}
        <div class="muted small">
          {deployment.targetType.toLowerCase()} · {deployment.id}
        </div>
      </th>
      <td>
        <HealthBadge area="Service health" status={deployment.health.service.status} reason={deployment.health.service.reason} />
      </td>
      <td>
        <HealthBadge area="Data drift" status={deployment.health.drift.status} reason={deployment.health.drift.reason} />
      </td>
      <td>
        <HealthBadge area="Accuracy" status={deployment.health.accuracy.status} reason={deployment.health.accuracy.reason} />
      </td>
      <td>
        <Sparkline days={deployment.activity} label={`Predictions per day of ${deployment.label}`} />
      </td>
    </tr>
  );
}
