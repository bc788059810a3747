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
  return (await currentBaselines(db, deployment.organizationId, [deployment.id])).get(deployment.id) ?? null;
}
