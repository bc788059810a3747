import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchPageMetricsDocument,
  DeploymentBatchesDocument,
  ReportPredictionsDocument,
  SetTrainingBaselineDocument,
  UpdateBatchModelHistoryDocument,
} from './generated/graphql.js';
import { createBatch, createDeployment, createOrganization, createUser } from './helpers/fixtures.js';
import { scoredRows } from './helpers/ingest-data.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// A page of batches costs the same small number of SQL statements whatever its size: what each
// batch needs (creator, model history, metrics) is loaded for the whole page at once.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('SQL statements per page of batches (dataloaders)', () => {
  it('costs the same small number of statements for 5 and 50 batches with creator and model history', async () => {
    const org = await createOrganization(server, null);
    const counts: number[] = [];
    for (const size of [5, 50]) {
      const deployment = await createDeployment(server, org.token);
      const member = await createUser(server, org.token, `u${size}`);
      for (let i = 0; i < size; i++) {
        const batch = await createBatch(server, deployment.id, `b${i}`, i % 2 ? org.token : member.secret);
        await server.op(
          UpdateBatchModelHistoryDocument,
          { input: { batchId: batch.id, modelId: `m${i % 3}`, startTime: '2026-01-01T00:00:00Z', endTime: '2026-01-02T00:00:00Z' } },
          org.token,
        );
      }
      const { answer: data, statements } = await server.statementsOf((headers) =>
        server.op(DeploymentBatchesDocument, { deploymentId: deployment.id, first: 50 }, org.token, headers),
      );
      expect(data.deployment?.batches.edges).toHaveLength(size);
      expect(data.deployment?.batches.edges.every((e) => e.node.createdBy.name && e.node.modelHistory.length === 1)).toBe(true);
      counts.push(statements.length);
    }
    // token → viewer, deployment, batch page, totalCount, quota, creators, model histories
    expect(counts).toMatchInlineSnapshot(`
      [
        7,
        7,
      ]
    `);
    expect(counts[0]).toBe(counts[1]);
  });
});

describe('SQL statements per page of batches with their metrics (dataloaders)', () => {
  it('costs the same number of statements for 5 and 50 batches with serviceHealth, dataDrift and accuracy', async () => {
    const org = await createOrganization(server, null);
    const counts: number[] = [];
    for (const size of [5, 50]) {
      const deployment = await createDeployment(server, org.token);
      await server.op(SetTrainingBaselineDocument, { input: { deploymentId: deployment.id, rows: scoredRows(5, 100) } }, org.token);
      for (let i = 0; i < size; i++) {
        const batch = await createBatch(server, deployment.id, `b${i}`, org.token);
        await server.op(
          ReportPredictionsDocument,
          { input: { deploymentId: deployment.id, batchId: batch.id, rows: scoredRows(i, 3), executionTimeMs: 3 } },
          org.token,
        );
      }
      const { answer: data, statements } = await server.statementsOf((headers) =>
        server.op(BatchPageMetricsDocument, { id: deployment.id, first: 50 }, org.token, headers),
      );
      expect(data.deployment!.batches.edges).toHaveLength(size);
      expect(data.deployment!.batches.edges.every((e) => e.node.serviceHealth.totalRequests === 1)).toBe(true);
      counts.push(statements.length);
    }
    // token, deployment, batch page, service (stats, buckets, consumers), column sums, baseline, accuracy
    expect(counts).toMatchInlineSnapshot(`
      [
        9,
        9,
      ]
    `);
    expect(counts[0]).toBe(counts[1]);
  });
});
