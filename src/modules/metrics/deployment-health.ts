import type { Viewer } from '../../context.js';
import type { Db } from '../../db/client.js';
import type { Deployment } from '../../db/tables.js';
import { isError, type Result } from '../../errors.js';
import { keysetPageInMemory, type Page } from '../../pagination.js';
import { currentBaselines } from '../baselines/current.js';
import { type DeploymentListArgs, deploymentOrder, listDeployments, matchingDeployments } from '../deployments/service.js';
import { accuracyIndicator, driftIndicator, type HealthFilter, healthSettings, type Indicator, serviceIndicator } from './health.js';
import { accuracyShape, driftShape } from './shapes.js';
import { accuracySums, columnSums, latestBatches, mergeAccuracySums, mergeColumnSums, mergeServiceSums, serviceSums } from './sums.js';

export interface DeploymentHealth {
  service: Indicator;
  drift: Indicator;
  accuracy: Indicator;
}

/**
 * Health of many deployments in a constant number of statements: the newest batches of each,
 * their per-batch sums in one read per kind, merged per deployment over its own N per area.
 */
export async function healthOfDeployments(
  db: Db,
  organizationId: string,
  list: readonly Deployment[],
): Promise<Map<string, DeploymentHealth>> {
  const result = new Map<string, DeploymentHealth>();
  if (list.length === 0) return result;
  const settings = new Map(list.map((d) => [d.id, healthSettings(d)]));
  const deepest = Math.max(...[...settings.values()].flatMap((s) => [s.service.batchCount, s.dataDrift.batchCount, s.accuracy.batchCount]));
  const ids = list.map((d) => d.id);
  const latest = await latestBatches(db, organizationId, ids, deepest);
  const all = [...new Set([...latest.values()].flat())];
  const selection = { deploymentId: '', batchIds: all, modelId: null };
  const [service, columns, accuracy, baselines] = await Promise.all([
    serviceSums(db, selection, true),
    columnSums(db, selection, true),
    accuracySums(db, selection, true),
    currentBaselines(db, organizationId, ids),
  ]);
  for (const deployment of list) {
    const s = settings.get(deployment.id)!;
    const newest = latest.get(deployment.id) ?? [];
    const take = (n: number) => newest.slice(0, n);
    const serviceBatches = take(s.service.batchCount);
    const driftBatches = take(s.dataDrift.batchCount);
    const accuracyBatches = take(s.accuracy.batchCount);
    const drift = driftShape(
      deployment,
      baselines.get(deployment.id) ?? null,
      mergeColumnSums(driftBatches.map((id) => columns.get(id))),
      'PSI',
      driftBatches.length,
    );
    result.set(deployment.id, {
      service: serviceIndicator(s.service, mergeServiceSums(serviceBatches.map((id) => service.get(id))), serviceBatches.length),
      drift: driftIndicator(s.dataDrift, drift.hasBaseline ? drift.features : null, driftBatches.length),
      accuracy: accuracyIndicator(
        s.accuracy,
        accuracyShape(deployment, mergeAccuracySums(accuracyBatches.map((id) => accuracy.get(id))), accuracyBatches.length),
        accuracyBatches.length,
      ),
    });
  }
  return result;
}

/** Whether a deployment's health passes a filter (each given area must be one of its statuses). */
export function matchesHealth(health: DeploymentHealth | undefined, filter: HealthFilter): boolean {
  if (!health) return false;
  const ok = (statuses: readonly string[] | null | undefined, indicator: Indicator) => !statuses || statuses.includes(indicator.status);
  return ok(filter.service, health.service) && ok(filter.drift, health.drift) && ok(filter.accuracy, health.accuracy);
}

/**
 * The inventory: deployments as listDeployments pages them, or, with a health filter, with health
 * computed for every candidate (in a constant number of statements) and the page cut in memory
 * with the same cursors.
 */
export async function listDeploymentsByHealth(
  db: Db,
  viewer: Viewer,
  args: DeploymentListArgs & { health?: HealthFilter | null | undefined },
): Promise<Result<Page<Deployment> & { totalCount: () => Promise<number> }>> {
  const { health } = args;
  if (!health || !(health.service || health.drift || health.accuracy)) return listDeployments(db, viewer, args);
  const candidates = await matchingDeployments(db, viewer, args.search);
  const statuses = await healthOfDeployments(db, viewer.organizationId, candidates);
  const matching = candidates.filter((d) => matchesHealth(statuses.get(d.id), health));
  const page = keysetPageInMemory(matching, args, deploymentOrder);
  if (isError(page)) return page;
  return { ...page, totalCount: async () => matching.length };
}
