import { and, eq, inArray } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { type BaselineColumns, type Deployment, deployments, type TrainingBaseline, trainingBaselines } from '../../db/tables.js';

/** What binning and drift need of a deployment's current training baseline. */
export interface Baseline {
  version: number;
  columns: BaselineColumns;
}

/**
 * The one reader of current baselines: for each of the organization's deployments asked for, the
 * baseline version its row points at (deployments without one are absent from the map).
 */
export async function currentBaselines(
  db: DbOrTx,
  organizationId: string,
  deploymentIds: readonly string[],
): Promise<Map<string, TrainingBaseline>> {
  if (deploymentIds.length === 0) return new Map();
  const rows = await db
    .select({ baseline: trainingBaselines })
    .from(trainingBaselines)
    .innerJoin(
      deployments,
      and(eq(deployments.id, trainingBaselines.deploymentId), eq(deployments.baselineVersion, trainingBaselines.version)),
    )
    .where(and(eq(deployments.organizationId, organizationId), inArray(deployments.id, [...deploymentIds])));
  return new Map(rows.map(({ baseline }) => [baseline.deploymentId, baseline]));
}

export async function currentBaseline(db: DbOrTx, deployment: Deployment): Promise<TrainingBaseline | null> {
  if (deployment.baselineVersion === null) return null;
  const key = `${deployment.id}/${deployment.baselineVersion}`;
  const cached = recentBaselines.get(key);
  if (cached) return cached;
  const baseline = (await currentBaselines(db, deployment.organizationId, [deployment.id])).get(deployment.id) ?? null;
  // Only the version the deployment row (read by the caller, in its transaction) points at is kept.
  if (baseline?.version === deployment.baselineVersion) {
    if (recentBaselines.size >= MAX_CACHED_BASELINES) recentBaselines.delete(recentBaselines.keys().next().value!);
    recentBaselines.set(key, baseline);
  }
  return baseline;
}

/**
 * A baseline version never changes once stored (a new baseline is a new version), so the ones
 * ingest reads for every request are kept by (deployment, version): a one-row report saves a query.
 */
const recentBaselines = new Map<string, TrainingBaseline>();
const MAX_CACHED_BASELINES = 256;
