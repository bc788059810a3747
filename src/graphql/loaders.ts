import DataLoader from 'dataloader';
import type { Db } from '../db/client.js';
import type { Deployment, ModelHistoryEntry, MonitoringBatch, User } from '../db/tables.js';
import type { BatchQuota } from '../errors.js';
import { type Baseline, currentBaselines } from '../modules/baselines/current.js';

import { batchesByIds, modelHistoryByBatchIds, quotasFor } from '../modules/batches/service.js';
import { deploymentsByIds } from '../modules/deployments/service.js';
import { type DeploymentHealth, healthOfDeployments } from '../modules/metrics/deployment-health.js';
import { accuracySums, columnSums, labelSums, type Selection, serviceSums } from '../modules/metrics/sums.js';
import type { Viewer } from '../modules/organizations/auth.js';
import { usersByIds } from '../modules/organizations/service.js';

function byId<T extends { id: string }>(load: (ids: readonly string[]) => Promise<T[]>) {
  return new DataLoader<string, T | null>(async (ids) => {
    const found = new Map((await load(ids)).map((row) => [row.id, row]));
    return ids.map((id) => found.get(id) ?? null);
  });
}

/**
 * An object whose properties are made on first use: most operations (and every idle subscription,
 * which holds its context for as long as it lives) touch only a few of the loaders.
 */
function lazily<T extends object>(make: { [K in keyof T]: () => T[K] }): T {
  const target = {} as T;
  for (const key of Object.keys(make) as (keyof T)[]) {
    Object.defineProperty(target, key, {
      configurable: true,
      enumerable: true,
      get() {
        const value = make[key]();
        Object.defineProperty(target, key, { value, enumerable: true, writable: false });
        return value;
      },
    });
  }
  return target;
}

/**
 * Per-request dataloaders: a page of N batches costs one statement per related kind, not N.
 * Every loader is scoped to the viewer's organization, so a foreign id loads as null.
 */
export function createLoaders(db: Db, viewer: Viewer) {
  const org = viewer.organizationId;
  return lazily({
    user: () => byId<User>((ids) => usersByIds(db, org, ids)),
    deployment: () => byId<Deployment>((ids) => deploymentsByIds(db, org, ids)),
    batch: () => byId<MonitoringBatch>((ids) => batchesByIds(db, org, ids)),
    quota: () =>
      new DataLoader<string, BatchQuota | null>(async (ids) => {
        const quotas = await quotasFor(db, org, ids);
        return ids.map((id) => quotas.get(id) ?? null);
      }),
    /** Only called with ids of batches already loaded through the viewer's organization. */
    metrics: () => createMetricLoaders(db, viewer),
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
  });
}

export type Loaders = ReturnType<typeof createLoaders>;

/** One statement for any number of batches: per-batch sums keyed by batch id. */
function perBatch<T>(load: (selection: Selection, perBatch: true) => Promise<Map<string, T>>) {
  return new DataLoader<string, T | undefined>(async (batchIds) => {
    const sums = await load({ deploymentId: '', batchIds: [...batchIds], modelId: null }, true);
    return batchIds.map((id) => sums.get(id));
  });
}

/** Metric loaders for batch fields (ids already loaded through the viewer's organization). */
export function createMetricLoaders(db: Db, viewer: Viewer) {
  return lazily({
    baseline: () =>
      new DataLoader<string, Baseline | null>(async (deploymentIds) => {
        const baselines = await currentBaselines(db, viewer.organizationId, deploymentIds);
        return deploymentIds.map((id) => baselines.get(id) ?? null);
      }),
    service: () => perBatch((selection, grouped) => serviceSums(db, selection, grouped)),
    columns: () => perBatch((selection, grouped) => columnSums(db, selection, grouped)),
    accuracy: () => perBatch((selection, grouped) => accuracySums(db, selection, grouped)),
    labels: () => perBatch((selection, grouped) => labelSums(db, selection, grouped)),
    /** Health of every deployment asked for in the same tick, in a constant number of statements. */
    health: () =>
      new DataLoader<Deployment, DeploymentHealth | undefined, string>(
        async (list) => {
          const health = await healthOfDeployments(db, viewer.organizationId, list);
          return list.map((deployment) => health.get(deployment.id));
        },
        { cacheKeyFn: (deployment) => deployment.id },
      ),
  });
}
