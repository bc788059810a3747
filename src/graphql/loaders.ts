import DataLoader from 'dataloader';
import type { Db } from '../db/client.js';
import type { BatchQuota } from '../errors.js';
import { batchesByIds, modelHistoryByBatchIds, quotasFor, type ModelHistoryEntry, type MonitoringBatch } from '../modules/batches/service.js';
import { deploymentsByIds, type Deployment } from '../modules/deployments/service.js';
import { usersByIds, type User } from '../modules/organizations/service.js';
import type { Viewer } from '../modules/organizations/auth.js';

function byId<T extends { id: string }>(load: (ids: readonly string[]) => Promise<T[]>) {
  return new DataLoader<string, T | null>(async (ids) => {
    const found = new Map((await load(ids)).map((row) => [row.id, row]));
    return ids.map((id) => found.get(id) ?? null);
  });
}

/**
 * Per-request dataloaders: a page of N batches costs one statement per related kind, not N.
 * Every loader is scoped to the viewer's organization, so a foreign id loads as null.
 */
export function createLoaders(db: Db, viewer: Viewer) {
  const org = viewer.organizationId;
  return {
    user: byId<User>((ids) => usersByIds(db, org, ids)),
    deployment: byId<Deployment>((ids) => deploymentsByIds(db, org, ids)),
    batch: byId<MonitoringBatch>((ids) => batchesByIds(db, org, ids)),
    quota: new DataLoader<string, BatchQuota | null>(async (ids) => {
      const quotas = await quotasFor(db, org, ids);
      return ids.map((id) => quotas.get(id) ?? null);
    }),
    /** Only called with ids of batches already loaded through the viewer's organization. */
    modelHistory: new DataLoader<string, ModelHistoryEntry[]>(async (batchIds) => {
      const byBatch = new Map<string, ModelHistoryEntry[]>();
      for (const row of await modelHistoryByBatchIds(db, batchIds)) {
        const entries = byBatch.get(row.batchId);
        if (entries) entries.push(row);
        else byBatch.set(row.batchId, [row]);
      }
      return batchIds.map((id) => byBatch.get(id) ?? []);
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
