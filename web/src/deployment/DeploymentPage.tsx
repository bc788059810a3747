import type { FunctionComponent } from 'preact';
import { useRef } from 'preact/hooks';
import { AccuracyTab } from '../analytics/AccuracyTab';
import { CustomMetricsTab } from '../analytics/CustomMetricsTab';
import { DataDriftTab } from '../analytics/DataDriftTab';
import { ServiceHealthTab } from '../analytics/ServiceHealthTab';
import { useQuery } from '../api/hooks';
import { href, navigate } from '../app/router';
import type { TabProps } from '../app/tabs';
import { ErrorNote, Loading } from '../app/ui';
import { BatchManagementTab } from '../batches/BatchManagementTab';
import { ExportTab } from '../exports/ExportTab';
import { DeploymentPageDocument } from '../generated/graphql';
import { JobsTab } from '../jobs/JobsTab';
import { SettingsTab } from '../settings/SettingsTab';

const TABS: { id: string; title: string; view: FunctionComponent<TabProps> }[] = [
  { id: 'batches', title: 'Batch Management', view: BatchManagementTab },
  { id: 'service', title: 'Service Health', view: ServiceHealthTab },
  { id: 'drift', title: 'Data Drift', view: DataDriftTab },
  { id: 'accuracy', title: 'Accuracy', view: AccuracyTab },
  { id: 'custom-metrics', title: 'Custom Metrics', view: CustomMetricsTab },
  { id: 'export', title: 'Data Export', view: ExportTab },
  { id: 'jobs', title: 'Jobs', view: JobsTab },
  { id: 'settings', title: 'Settings', view: SettingsTab },
];

/** A deployment: its header and tabs (a WAI-ARIA tab list: arrow keys move between tabs). */
export function DeploymentPage({ deploymentId, tab, itemId }: { deploymentId: string; tab: string; itemId?: string }) {
  const { data, error, loading, refetch } = useQuery(DeploymentPageDocument, { id: deploymentId });
  const tabList = useRef<HTMLDivElement>(null);
  const current = TABS.find((candidate) => candidate.id === tab) ?? TABS[0]!;
  if (!data) return <main>{loading ? <Loading /> : <ErrorNote error={error} />}</main>;
  const deployment = data.deployment;
  if (!deployment) {
    return (
      <main>
        <h1>Deployment not found</h1>
        <p>
          No deployment <code>{deploymentId}</code> in your organization. <a href="#/">All deployments</a>
        </p>
      </main>
    );
  }
  const View = current.view;
  const move = (event: KeyboardEvent) => {
    const index = TABS.indexOf(current);
    const next =
      event.key === 'ArrowRight'
        ? index + 1
        : event.key === 'ArrowLeft'
          ? index - 1
          : event.key === 'Home'
            ? 0
            : event.key === 'End'
              ? TABS.length - 1
              : null;
    if (next === null) return;
    event.preventDefault();
    const target = TABS[(next + TABS.length) % TABS.length]!;
    navigate({ page: 'deployment', deploymentId, tab: target.id });
    requestAnimationFrame(() => tabList.current?.querySelector<HTMLElement>(`#tab-${target.id}`)?.focus());
  };
  return (
    <main>
      <nav aria-label="Breadcrumb" class="breadcrumb">
        <a href="#/">Deployments</a> › <span>{deployment.label}</span>
      </nav>
      <header class="deployment-header">
        <h1>
          {deployment.label}{' '}
          {deployment.batchMonitoringEnabled ? (
            <span class="badge" title="Batch monitoring is on">
              BATCH
            </span>
          ) : null}
        </h1>
        <p class="muted">
          {deployment.targetType.toLowerCase()} · target <code>{deployment.targetName}</code> · model <code>{deployment.modelId}</code> · id{' '}
          <code>{deployment.id}</code>
        </p>
        {deployment.description ? <p>{deployment.description}</p> : null}
      </header>
      <div role="tablist" aria-label="Deployment views" class="tabs" ref={tabList} onKeyDown={move}>
        {TABS.map((candidate) => (
          <a
            key={candidate.id}
            id={`tab-${candidate.id}`}
            role="tab"
            aria-selected={candidate === current}
            aria-controls="tab-panel"
            tabIndex={candidate === current ? 0 : -1}
            href={href({ page: 'deployment', deploymentId, tab: candidate.id })}
          >
            {candidate.title}
          </a>
        ))}
      </div>
      <section id="tab-panel" role="tabpanel" aria-labelledby={`tab-${current.id}`} class="tab-panel">
        <View
          key={`${deployment.id}:${current.id}`}
          deployment={deployment}
          itemId={current.id === tab ? itemId : undefined}
          reloadDeployment={refetch}
        />
      </section>
    </main>
  );
}
