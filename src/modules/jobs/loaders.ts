import DataLoader from 'dataloader';
import type { BatchPredictionJob } from '../../db/tables.js';
import { byId, lazily, perRequest } from '../../graphql/loaders.js';
import { jobsByIds, jobsOfBatches } from './service.js';

export const jobLoaders = perRequest(({ app: { db }, viewer }) =>
  lazily({
    job: () => byId((ids) => jobsByIds(db, viewer.organizationId, ids)),
    /** The run that made a monitoring batch (and records into it), by batch id; null for other batches. */
    jobOfBatch: () =>
      new DataLoader<string, BatchPredictionJob | null>(async (batchIds) => {
        const byBatch = new Map((await jobsOfBatches(db, viewer.organizationId, batchIds)).map((job) => [job.batchId!, job]));
        return batchIds.map((id) => byBatch.get(id) ?? null);
      }),
  }),
);
