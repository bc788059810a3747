import DataLoader from 'dataloader';
import type { BatchAuditEvent, ModelHistoryEntry, User } from '../../db/tables.js';
import type { BatchQuota } from '../../errors.js';
import { orThrow } from '../../graphql/errors.js';
import { byId, fromMap, lazily, perRequest } from '../../graphql/loaders.js';
import type { Page, PageArgs } from '../../pagination.js';
import { auditTrails } from './audit.js';
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
    /**
     * A page of a batch's audit trail, by batch id: one loader per page arguments, so the trails of a
     * page of batches asked with the same arguments cost one statement.
     */
    auditTrail: () => {
      const byArgs = new Map<string, DataLoader<string, Page<BatchAuditEvent>>>();
      return (args: PageArgs) => {
        const key = JSON.stringify([args.first, args.after, args.last, args.before]);
        let loader = byArgs.get(key);
        if (!loader) {
          loader = new DataLoader<string, Page<BatchAuditEvent>>(async (batchIds) => {
            const pages = orThrow(await auditTrails(db, viewer.organizationId, batchIds, args));
            return batchIds.map((id) => pages.get(id)!);
          });
          byArgs.set(key, loader);
        }
        return loader;
      };
    },
  }),
);
