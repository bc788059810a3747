import DataLoader from 'dataloader';
import type { ModelHistoryEntry, User } from '../../db/tables.js';
import type { BatchQuota } from '../../errors.js';
import { byId, fromMap, lazily, perRequest } from '../../graphql/loaders.js';
import { batchCreatorsByDeployment, batchesByIds, modelHistoryByBatchIds, quotasFor } from './service.js';

export const batchLoaders = perRequest(({ app: { db }, viewer }) =>
  lazily({
    batch: () => byId((ids) => batchesByIds(db, viewer.organizationId, ids)),
    /** Today's quota by deployment id. */
    quota: () => fromMap<BatchQuota, null>((ids) => quotasFor(db, viewer.organizationId, ids), null),
    /** Creators of live batches by deployment id (none for a foreign or missing deployment). */
    creators: () => fromMap<User[], User[]>((ids) => batchCreatorsByDeployment(db, viewer.organizationId, ids), []),
    /** Only called with ids of batches already loaded through the viewer's organization. */
    modelHistory: () =>
      new DataLoader<string, ModelHistoryEntry[]>(async (batchIds) => {
        const byBatch = new Map<string, ModelHistoryEntry[]>();
        for (const row of await modelHistoryByBatchIds(db, batchIds)) {
          const entries = byBatch.get(row.batchId);
          if (entries) entries.push(row);
          else byBatch.set(row.batchId, [row]);
        }
        return batchIds.map((id) => byBatch.get(id) ?? []);
      }),
  }),
);
