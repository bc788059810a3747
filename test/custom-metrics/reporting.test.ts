import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateMonitoringBatchDocument,
  CustomMetricSummaryDocument,
  DeleteMonitoringBatchDocument,
  LockMonitoringBatchDocument,
  ReportCustomMetricValuesDocument,
  type ReportCustomMetricValuesMutation,
  UnlockMonitoringBatchDocument,
  UpdateDeploymentSettingsDocument,
} from '../generated/graphql.js';
import {
  createMetric,
  expected,
  expectReading,
  postValues,
  type RawBucket,
  randomBuckets,
  report,
  storedValues,
  wireBucket,
} from '../helpers/custom-metrics.js';
import { createBatch, createDeployment, createOrganization } from '../helpers/fixtures.js';
import { random } from '../helpers/random.js';
import { lockBatch } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Reporting custom metric values (C8): every bucket is checked before anything is stored, refusals
// name the bucket, a request is stored whole or not at all, a dry run stores nothing, and a locked
// batch (even one locked while the report runs) takes no values.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

type Result = ReportCustomMetricValuesMutation['reportCustomMetricValues'];

/** A tenant with a deployment, `n` batches and a SUM metric. */
async function setup(n = 3) {
  const { token } = await createOrganization(server, null);
  const deploymentId = (await createDeployment(server, token)).id;
  const batchIds: string[] = [];
  for (let b = 0; b < n; b++) batchIds.push((await createBatch(server, deploymentId, `b${b}`, token)).id);
  const metric = await createMetric(server, deploymentId, { type: 'SUM' }, token);
  const send = async (buckets: RawBucket[], extra: { dryRun?: boolean; modelId?: string } = {}) =>
    (await server.op(ReportCustomMetricValuesDocument, { input: { metricId: metric.id, buckets, ...extra } }, token))
      .reportCustomMetricValues;
  return { token, deploymentId, batchIds, metricId: metric.id, send };
}

const fieldsOf = (result: Result) => (result.__typename === 'ValidationError' ? result.fieldErrors.map((e) => e.field) : []);

describe('refusals', () => {
  it('name each bad bucket field over GraphQL: sample sizes, values out of range, batches that are not live batches of the deployment', async () => {
    const { token, deploymentId, batchIds, send } = await setup();
    const otherDeployment = (await createDeployment(server, token)).id;
    const foreignBatch = (await createBatch(server, otherDeployment, 'elsewhere', token)).id;
    const deleted = (await createBatch(server, deploymentId, 'deleted', token)).id;
    await server.op(DeleteMonitoringBatchDocument, { id: deleted }, token);
    const good = batchIds[0]!;
    const result = await send([
      { value: 1, batchId: good },
      { value: 1, sampleSize: 0, batchId: good },
      { value: 1e101, batchId: good },
      { value: 2, batchId: 'mb_ffffffffffffffffffffffff' },
      { value: 3, batchId: foreignBatch },
      { value: 4, batchId: deleted },
      { value: 5, sampleSize: 1_000_000_001, batchId: good },
      { value: 6, batchId: good },
    ]);
    expect(result.__typename).toBe('ValidationError');
    expect(fieldsOf(result)).toEqual([
      'buckets.1.sampleSize',
      'buckets.2.value',
      'buckets.3.batchId',
      'buckets.4.batchId',
      'buckets.5.batchId',
      'buckets.6.sampleSize',
    ]);
    if (result.__typename === 'ValidationError') {
      expect(result.fieldErrors[3]!.message).toBe('is not a monitoring batch of this deployment');
      expect(result.fieldErrors[0]!.message).toBe('must be an integer from 1 to 1000000000');
    }
  });

  it('name each bad bucket field over REST (422): types, a missing batch, timestamps, unknown fields', async () => {
    const { token, deploymentId, batchIds, metricId } = await setup();
    const good = batchIds[0]!;
    const answer = await postValues(
      server,
      deploymentId,
      metricId,
      {
        buckets: [
          { value: 1, batch: good },
          { value: '7', batch: good },
          { sampleSize: 2, batch: good },
          { value: 1, sampleSize: 1.5, batch: good },
          { value: 1, timestamp: 'yesterday', batch: good },
          { value: 1 },
          { value: 1, batch: 42 },
          { value: 1, batch: good, weight: 3 },
          'seven',
          { value: 1, batch: good, timestamp: '2026-01-01T00:00:00', associationId: 'a-1' },
        ],
      },
      token,
    );
    expect(answer.status).toBe(422);
    expect(Object.keys(answer.json.errors!)).toEqual([
      'buckets.1.value',
      'buckets.2.value',
      'buckets.3.sampleSize',
      'buckets.4.timestamp',
      'buckets.5.batch',
      'buckets.6.batch',
      'buckets.7.weight',
      'buckets.8',
    ]);
    expect(answer.json.errors!['buckets.5.batch']).toMatch(/^is required/);
    expect(answer.json.message).toMatch(/^Invalid input: buckets\.1\.value: must be a finite number; /);
    expect(await storedValues(server, metricId)).toEqual([]);
  });

  it(`names at most 20 bad buckets, and refuses more than 10,000 buckets, no bucket, segments and a bad modelId by name`, async () => {
    const { token, deploymentId, batchIds, metricId, send } = await setup(1);
    const bad = Array.from({ length: 30 }, () => ({ value: 1, sampleSize: -1, batchId: batchIds[0]! }));
    const many = await send(bad);
    expect(fieldsOf(many)).toEqual(Array.from({ length: 20 }, (_, i) => `buckets.${i}.sampleSize`));

    const tooMany = await postValues(
      server,
      deploymentId,
      metricId,
      {
        buckets: Array.from({ length: 10_001 }, () => ({ value: 1, batch: batchIds[0] })),
      },
      token,
    );
    expect(tooMany.status).toBe(422);
    expect(tooMany.json.errors).toEqual({ buckets: 'must contain at most 10000 buckets (got 10001); send several requests' });
    const none = await postValues(server, deploymentId, metricId, { buckets: [] }, token);
    expect(none.json.errors).toEqual({ buckets: 'must contain at least one bucket' });
    const missing = await postValues(server, deploymentId, metricId, {}, token);
    expect(missing.json.errors).toEqual({ buckets: 'is required' });
    const segmented = await postValues(
      server,
      deploymentId,
      metricId,
      {
        buckets: [{ value: 1, batch: batchIds[0] }],
        segments: [{ name: 'region', value: 'north' }],
      },
      token,
    );
    expect(segmented.status).toBe(422);
    expect(Object.keys(segmented.json.errors!)).toEqual(['segments']);
    expect(fieldsOf(await send([{ value: 1, batchId: batchIds[0]! }], { modelId: '   ' }))).toEqual(['modelId']);
    const unknown = await postValues(
      server,
      deploymentId,
      metricId,
      { buckets: [{ value: 1, batch: batchIds[0] }], batchId: batchIds[0] },
      token,
    );
    expect(unknown.status).toBe(422);
    expect(unknown.json.errors).toEqual({ batchId: 'is not a field of a custom metric report' });
    expect(await storedValues(server, metricId)).toEqual([]);

    // Exactly 10,000 buckets, empty segments and DataRobot's extra fields are fine.
    const most = await postValues(
      server,
      deploymentId,
      metricId,
      {
        buckets: Array.from({ length: 10_000 }, (_, i) => ({ value: i, batch: batchIds[0], associationId: `a${i}` })),
        segments: [],
        modelPackageId: '6421df32525c58cc6f991f25',
        dryRun: false,
      },
      token,
    );
    expect(most.status, JSON.stringify(most.json)).toBe(202);
    expect(await storedValues(server, metricId)).toEqual([
      expect.objectContaining({ bucket_count: 10_000, sample_size: 10_000, value_sum: (9_999 * 10_000) / 2 }),
    ]);
  });

  it('refuses values for a deployment with batch monitoring off (nothing stored), and still defines and reads its metrics', async () => {
    const { token, deploymentId, batchIds, metricId, send } = await setup(1);
    const off = await server.op(UpdateDeploymentSettingsDocument, { input: { deploymentId, batchMonitoringEnabled: false } }, token);
    expect(off.updateDeploymentSettings.__typename).toBe('UpdateDeploymentSettingsSuccess');
    const refused = await send([{ value: 1, batchId: batchIds[0]! }]);
    expect(refused).toMatchObject({ __typename: 'BatchMonitoringDisabledError', deploymentId });
    const rest = await postValues(server, deploymentId, metricId, { buckets: [{ value: 1, batch: batchIds[0] }] }, token);
    expect(rest.status).toBe(422);
    expect(rest.json.message).toMatch(/^Batch monitoring is not enabled/);
    expect(await storedValues(server, metricId)).toEqual([]);
    // Defining and reading stay possible.
    const another = await createMetric(server, deploymentId, {}, token);
    const { customMetric } = await server.op(CustomMetricSummaryDocument, { id: another.id, batches: { last: 1 } }, token);
    expect(customMetric!.summary).toMatchObject({ value: null, batchCount: 1 });
  });
});

describe('a request', () => {
  it('is stored whole or not at all: one bad bucket among good ones in several batches stores nothing, and names that bucket', async () => {
    const { token, batchIds, metricId, send } = await setup();
    const before = randomBuckets(random(1), batchIds, 30);
    await report(server, metricId, before, { token });
    const stored = await storedValues(server, metricId);
    const good = randomBuckets(random(2), batchIds, 60);
    const withBad = [...good.slice(0, 41), { value: 1, sampleSize: 0, batchId: batchIds[1]! }, ...good.slice(41)];
    const result = await send(withBad);
    expect(fieldsOf(result)).toEqual(['buckets.41.sampleSize']);
    expect(await storedValues(server, metricId)).toEqual(stored);
    const { customMetric } = await server.op(CustomMetricSummaryDocument, { id: metricId, batches: { batchIds } }, token);
    expectReading(customMetric!.summary, expected('SUM', before));
  });

  it('stores nothing on a dry run, having checked everything (a bad bucket is refused the same)', async () => {
    const { token, deploymentId, batchIds, metricId, send } = await setup();
    const buckets = randomBuckets(random(4), batchIds, 25);
    const dry = await send(buckets, { dryRun: true });
    expect(dry).toMatchObject({ __typename: 'ReportCustomMetricValuesSuccess', dryRun: true, bucketCount: 25, modelId: '' });
    if (dry.__typename === 'ReportCustomMetricValuesSuccess') {
      expect(dry.sampleCount).toBe(buckets.reduce((n, b) => n + b.sampleSize!, 0));
      expect(new Set(dry.batches.map((b) => b.id))).toEqual(new Set(buckets.map((b) => b.batchId)));
    }
    const rest = await postValues(server, deploymentId, metricId, { buckets: buckets.map(wireBucket), dryRun: true }, token);
    expect(rest.status).toBe(202);
    expect(rest.json).toMatchObject({ dryRun: true, bucketCount: 25 });
    expect(fieldsOf(await send([...buckets, { value: 1, batchId: 'mb_nope' }], { dryRun: true }))).toEqual(['buckets.25.batchId']);
    expect(await storedValues(server, metricId)).toEqual([]);
    expect((await send(buckets)).__typename).toBe('ReportCustomMetricValuesSuccess');
    expect((await storedValues(server, metricId)).reduce((n, r) => n + r.bucket_count, 0)).toBe(25);
  });
});

describe('a locked batch', () => {
  it('refuses the whole request with BatchLockedError naming the first bucket into it; nothing is stored; accepted again once unlocked', async () => {
    const { token, deploymentId, batchIds, metricId, send } = await setup();
    const locked = batchIds[2]!;
    expect((await server.op(LockMonitoringBatchDocument, { id: locked }, token)).lockMonitoringBatch.__typename).toBe(
      'LockMonitoringBatchSuccess',
    );
    const buckets = [
      { value: 1, batchId: batchIds[0]! },
      { value: 2, batchId: batchIds[1]! },
      { value: 3, batchId: locked },
      { value: 4, batchId: locked },
    ];
    expect(await send(buckets)).toEqual({
      __typename: 'BatchLockedError',
      message: 'Monitoring batch is locked and accepts no new custom metric values',
      batchId: locked,
      batchField: 'buckets.2.batchId',
    });
    const rest = await postValues(server, deploymentId, metricId, { buckets: buckets.map(wireBucket) }, token);
    expect(rest.status).toBe(409);
    expect(rest.json).toEqual({
      message: 'Monitoring batch is locked and accepts no new custom metric values',
      batchId: locked,
      errors: { 'buckets.2.batch': 'Monitoring batch is locked and accepts no new custom metric values' },
    });
    // Bad buckets are named before a lock is.
    expect(fieldsOf(await send([...buckets, { value: 5, sampleSize: 0, batchId: batchIds[0]! }]))).toEqual(['buckets.4.sampleSize']);
    expect(await storedValues(server, metricId)).toEqual([]);

    await server.op(UnlockMonitoringBatchDocument, { id: locked }, token);
    expect((await send(buckets)).__typename).toBe('ReportCustomMetricValuesSuccess');
    expect((await storedValues(server, metricId)).map((r) => r.value_sum)).toEqual(
      [
        [batchIds[0]!, 1],
        [batchIds[1]!, 2],
        [locked, 7],
      ]
        .sort(([a], [b]) => String(a).localeCompare(String(b)))
        .map(([, sum]) => sum),
    );
  });

  it('racing a report: the report is either stored whole before the lock, or refused whole — every round', async () => {
    const { token, deploymentId, metricId } = await setup(0);
    const outcomes = new Set<string>();
    for (let round = 0; round < 12; round++) {
      const ids: string[] = [];
      for (let b = 0; b < 3; b++) {
        const created = await server.op(CreateMonitoringBatchDocument, { input: { deploymentId, name: `r${round}-${b}` } }, token);
        if (created.createMonitoringBatch.__typename !== 'CreateMonitoringBatchSuccess') throw new Error('no batch');
        ids.push(created.createMonitoringBatch.batch.id);
      }
      const buckets = randomBuckets(random(100 + round), ids, 3000);
      const [result, lock] = await Promise.all([
        postValues(server, deploymentId, metricId, { buckets: buckets.map(wireBucket) }, token),
        new Promise((resolve) => setTimeout(resolve, round % 4)).then(() => lockBatch(server, deploymentId, ids[1]!, token)),
      ]);
      expect(lock.status).toBe(200);
      outcomes.add(String(result.status));
      const stored = (await storedValues(server, metricId)).filter((r) => ids.includes(r.batch_id));
      if (result.status === 202) expect(stored.reduce((n, r) => n + r.bucket_count, 0)).toBe(3000);
      else {
        expect(result.status, JSON.stringify(result.json)).toBe(409);
        expect(result.json.batchId).toBe(ids[1]);
        expect(stored).toEqual([]);
      }
      // Locked now, whatever happened: the next report is refused.
      const after = await postValues(server, deploymentId, metricId, { buckets: [{ value: 1, batch: ids[1] }] }, token);
      expect(after.status).toBe(409);
    }
    expect([...outcomes].every((s) => s === '202' || s === '409')).toBe(true);
  });
});

describe('timestamps', () => {
  it('reads a timestamp without a zone (as DataRobot’s client sends them) as UTC', async () => {
    const { token, deploymentId, batchIds } = await setup(1);
    const gauge = await createMetric(server, deploymentId, { type: 'GAUGE' }, token);
    const answer = await postValues(
      server,
      deploymentId,
      gauge.id,
      {
        buckets: [
          { value: 1, timestamp: '2026-03-15T14:00:00', batch: batchIds[0] },
          { value: 2, timestamp: '2026-03-15T13:59:59.999Z', batch: batchIds[0] },
          { value: 3, timestamp: '2026-03-15T15:30:00+02:00', batch: batchIds[0] },
        ],
      },
      token,
    );
    expect(answer.status).toBe(202);
    const [row] = await server.sql`select gauge_value, gauge_at from batch_custom_metric_values where metric_id = ${gauge.id}`;
    expect(row).toEqual({ gauge_value: 1, gauge_at: new Date('2026-03-15T14:00:00Z') });
  });
});
