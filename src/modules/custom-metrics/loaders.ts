import type { CustomMetric } from '../../db/tables.js';
import { byId, fromMap, lazily, perRequest } from '../../graphql/loaders.js';
import { customMetricsByIds, customMetricsOfDeployments } from './service.js';
import { type BatchMetricSums, batchMetricSums } from './values.js';

export const customMetricLoaders = perRequest(({ app: { db }, viewer }) =>
  lazily({
    metric: () => byId((ids) => customMetricsByIds(db, viewer.organizationId, ids)),
    /** A deployment's metrics, oldest first, by deployment id. */
    ofDeployment: () => fromMap<CustomMetric[], CustomMetric[]>((ids) => customMetricsOfDeployments(db, viewer.organizationId, ids), []),
    /** Every metric of a batch's deployment with the batch's sums: one statement for a page of batches. */
    batchValues: () => fromMap<BatchMetricSums[], BatchMetricSums[]>((ids) => batchMetricSums(db, viewer.organizationId, ids), []),
  }),
);
