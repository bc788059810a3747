import DataLoader from 'dataloader';
import type { Deployment } from '../../db/tables.js';
import { lazily, perRequest } from '../../graphql/loaders.js';
import { type DeploymentHealth, healthOfDeployments } from './deployment-health.js';
import { accuracySums, columnSums, probabilitySums, type Selection, serviceSums } from './sums.js';

/** One statement for any number of batches: per-batch sums keyed by batch id. */
function perBatch<T>(load: (selection: Selection, perBatch: true) => Promise<Map<string, T>>) {
  return new DataLoader<string, T | undefined>(async (batchIds) => {
    const sums = await load({ deploymentId: '', batchIds: [...batchIds], modelId: null }, true);
    return batchIds.map((id) => sums.get(id));
  });
}

/** Metric loaders for batch fields (ids already loaded through the viewer's organization). */
export const metricLoaders = perRequest(({ app: { db }, viewer }) =>
  lazily({
    service: () => perBatch((selection, grouped) => serviceSums(db, selection, grouped)),
    columns: () => perBatch((selection, grouped) => columnSums(db, selection, grouped)),
    accuracy: () => perBatch((selection, grouped) => accuracySums(db, selection, grouped)),
    /** Binary: every prediction's probability histogram (the label-free estimate). */
    probability: () => perBatch((selection, grouped) => probabilitySums(db, selection, grouped)),
    /** Health of every deployment asked for in the same tick, in a constant number of statements. */
    health: () =>
      new DataLoader<Deployment, DeploymentHealth | undefined, string>(
        async (list) => {
          const health = await healthOfDeployments(db, viewer.organizationId, list);
          return list.map((deployment) => health.get(deployment.id));
        },
        { cacheKeyFn: (deployment) => deployment.id },
      ),
  }),
);
