import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomMetricValuesLiveDocument, DeleteMonitoringBatchDocument, LockMonitoringBatchDocument } from '../generated/graphql.js';
import { createMetric, postValues, report } from '../helpers/custom-metrics.js';
import { createBatch, createTenant } from '../helpers/fixtures.js';
import { closeSockets, connect, watch } from '../helpers/graphql-ws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The customMetricValues subscription (C8, C11): a batch's value of every metric of its deployment
// now, then after each report into it, from any server instance on the database; it completes when
// the batch is deleted.

let server: TestServer;
let other: TestServer; // a second instance on the same database

beforeAll(async () => {
  server = await startTestServer();
  other = await startTestServer({ databaseUrl: server.app.databaseUrl, bootstrapToken: server.adminToken });
});
afterAll(async () => {
  await closeSockets();
  await other?.stop();
  await server?.stop();
});

describe('customMetricValues subscription', () => {
  it('sends the values now, then the new values after each report (GraphQL, REST, another instance), and completes when the batch is deleted', async () => {
    const { token, deploymentId } = await createTenant(server);
    const batch = await createBatch(server, deploymentId, 'live', token);
    const elsewhere = await createBatch(server, deploymentId, 'elsewhere', token);
    const sum = await createMetric(server, deploymentId, { name: 'sum', type: 'SUM' }, token);
    const average = await createMetric(server, deploymentId, { name: 'average', type: 'AVERAGE' }, token);
    await report(server, sum.id, [{ value: 5, batchId: batch.id }], { token });

    const sub = watch(connect(server, token), CustomMetricValuesLiveDocument, { batchId: batch.id });
    const first = await sub.until(() => true);
    expect(first.data.customMetricValues).toEqual({
      batch: { id: batch.id },
      values: [
        { metric: { id: sum.id, name: 'sum' }, value: 5, sampleCount: 1, bucketCount: 1 },
        { metric: { id: average.id, name: 'average' }, value: null, sampleCount: 0, bucketCount: 0 },
      ],
    });

    await report(
      server,
      average.id,
      [
        { value: 2, sampleSize: 3, batchId: batch.id },
        { value: 6, batchId: elsewhere.id },
      ],
      { token },
    );
    const afterAverage = await sub.until((m) => m.customMetricValues.values[1]!.value !== null);
    expect(afterAverage.data.customMetricValues.values[1]).toMatchObject({ value: 2, sampleCount: 3, bucketCount: 1 });

    expect((await postValues(server, deploymentId, sum.id, { buckets: [{ value: 10, batch: batch.id }] }, token)).status).toBe(202);
    await sub.until((m) => m.customMetricValues.values[0]!.value === 15, 5000, afterAverage.index);

    await report(other, sum.id, [{ value: 1, batchId: batch.id }], { token });
    await sub.until((m) => m.customMetricValues.values[0]!.value === 16 && m.customMetricValues.values[0]!.bucketCount === 3);

    // Locking changes no value; deleting the batch completes the stream.
    await server.op(LockMonitoringBatchDocument, { id: batch.id }, token);
    await server.op(DeleteMonitoringBatchDocument, { id: batch.id }, token);
    await sub.done;
    expect(sub.completed).toBe(true);
    expect(sub.errors).toEqual([]);
    expect(sub.messages.at(-1)!.data.customMetricValues.values.map((v) => v.value)).toEqual([16, 2]);
  });

  it('coalesces a burst of reports and always delivers the final values', async () => {
    const { token, deploymentId } = await createTenant(server);
    const batch = await createBatch(server, deploymentId, 'burst', token);
    const metric = await createMetric(server, deploymentId, { type: 'SUM' }, token);
    const sub = watch(connect(server, token), CustomMetricValuesLiveDocument, { batchId: batch.id });
    await sub.until((m) => m.customMetricValues.values[0]!.bucketCount === 0);
    await Promise.all(Array.from({ length: 40 }, (_, i) => report(server, metric.id, [{ value: i, batchId: batch.id }], { token })));
    await sub.until((m) => m.customMetricValues.values[0]!.bucketCount === 40 && m.customMetricValues.values[0]!.value === (39 * 40) / 2);
    expect(sub.messages.length).toBeLessThan(40);
    const counts = sub.messages.map((m) => m.data.customMetricValues.values[0]!.bucketCount);
    expect([...counts].sort((x, y) => x - y)).toEqual(counts); // never goes back
    await sub.stop();
  });
});
