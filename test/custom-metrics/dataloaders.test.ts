import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchPageCustomMetricsDocument, CustomMetricSummaryDocument } from '../generated/graphql.js';
import { createMetric, expected, type RawBucket, report } from '../helpers/custom-metrics.js';
import { createBatch, createDeployment, createOrganization } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Custom metric values cost the same small number of SQL statements whatever the number of batches:
// a page of batches loads every batch's values of every metric at once (a dataloader), and a
// summary over N batches reads their aggregate rows in one statement.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const TYPES = ['SUM', 'AVERAGE', 'GAUGE'] as const;

/** A deployment with `size` batches and a metric of each type, each batch holding two buckets of each. */
async function deploymentWithValues(token: string, size: number) {
  const deployment = await createDeployment(server, token);
  const batchIds: string[] = [];
  for (let i = 0; i < size; i++) batchIds.push((await createBatch(server, deployment.id, `b${i}`, token)).id);
  const metrics: { id: string; type: (typeof TYPES)[number]; sent: RawBucket[] }[] = [];
  for (const type of TYPES) {
    const metric = await createMetric(server, deployment.id, { type }, token);
    const sent = batchIds.flatMap((batchId, i) => [
      { value: i, sampleSize: 2, timestamp: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), batchId },
      { value: i + 0.5, sampleSize: 3, timestamp: new Date(Date.UTC(2026, 0, 1, 1, i)).toISOString(), batchId },
    ]);
    await report(server, metric.id, sent, { token });
    metrics.push({ id: metric.id, type, sent });
  }
  return { deploymentId: deployment.id, batchIds, metrics };
}

describe('SQL statements per page of batches with their custom metrics (dataloader)', () => {
  it('costs the same statements for 5 and 50 batches with every metric’s value in each', async () => {
    const org = await createOrganization(server, null);
    const counts: number[] = [];
    for (const size of [5, 50]) {
      const { deploymentId, metrics } = await deploymentWithValues(org.token, size);
      const { answer: data, statements } = await server.statementsOf((headers) =>
        server.op(BatchPageCustomMetricsDocument, { id: deploymentId, first: 50 }, org.token, headers),
      );
      counts.push(statements.length);
      const edges = data.deployment!.batches.edges;
      expect(edges).toHaveLength(size);
      for (const { node } of edges) {
        expect(node.customMetrics.map((v) => v.metric.id)).toEqual(metrics.map((m) => m.id));
        for (const [m, metric] of metrics.entries()) {
          const want = expected(
            metric.type,
            metric.sent.filter((b) => b.batchId === node.id),
          );
          expect(node.customMetrics[m]!.value).toBeCloseTo(want.value!, 9);
          expect(node.customMetrics[m]).toMatchObject({ sampleCount: 5, bucketCount: 2, min: want.min, max: want.max });
        }
      }
    }
    // token → viewer, deployment, batch page, every batch's metrics and values
    expect(counts).toMatchInlineSnapshot(`
      [
        4,
        4,
      ]
    `);
    expect(counts[0]).toBe(counts[1]);
  });

  it('costs the same statements for a summary with its series over 5 and 50 batches', async () => {
    const org = await createOrganization(server, null);
    const counts: number[] = [];
    for (const size of [5, 50]) {
      const { metrics } = await deploymentWithValues(org.token, size);
      const average = metrics[1]!;
      const { answer: data, statements } = await server.statementsOf((headers) =>
        server.op(CustomMetricSummaryDocument, { id: average.id, batches: { last: size } }, org.token, headers),
      );
      counts.push(statements.length);
      const summary = data.customMetric!.summary;
      expect(summary.overBatches).toHaveLength(size);
      expect(summary.value).toBeCloseTo(expected('AVERAGE', average.sent).value!, 9);
    }
    // token → viewer, metric, selection, aggregate rows, the series' batches
    expect(counts).toMatchInlineSnapshot(`
      [
        5,
        5,
      ]
    `);
    expect(counts[0]).toBe(counts[1]);
  });
});
