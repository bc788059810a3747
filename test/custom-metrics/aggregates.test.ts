import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchCustomMetricsDocument,
  type BatchSelection,
  CustomMetricSummaryDocument,
  DeleteMonitoringBatchDocument,
  DeploymentCustomMetricSummaryDocument,
} from '../generated/graphql.js';
import {
  batchSummaryPath,
  bodyOf,
  createMetric,
  expected,
  expectReading,
  type RawBucket,
  type RestBatchSummary,
  type RestValuesOverBatch,
  randomBuckets,
  report,
  selectionQuery,
  storedValues,
  valuesOverBatchPath,
} from '../helpers/custom-metrics.js';
import { countRows } from '../helpers/db.js';
import { createBatch, createDeployment, createOrganization } from '../helpers/fixtures.js';
import { random } from '../helpers/random.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { sleep } from '../helpers/time.js';

// Custom metric values (C8) are stored as one mergeable aggregate row per (metric, batch, model).
// Every number read back — over one batch, several, the last N, one model, a batch of a page — is
// checked against the same quantity computed here from the raw buckets sent.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const TYPES = ['SUM', 'AVERAGE', 'GAUGE'] as const;

describe('a metric of each type read over batch selections', () => {
  let token: string;
  let deploymentId: string;
  const batchIds: string[] = [];
  const metrics = new Map<(typeof TYPES)[number], { id: string; sent: RawBucket[] }>();

  beforeAll(async () => {
    ({ token } = await createOrganization(server, null));
    deploymentId = (await createDeployment(server, token)).id;
    for (let b = 0; b < 5; b++) batchIds.push((await createBatch(server, deploymentId, `batch ${b}`, token)).id);
    const next = random(7);
    for (const [t, type] of TYPES.entries()) {
      const metric = await createMetric(server, deploymentId, { type, baselineValue: 40 }, token);
      const sent = randomBuckets(next, batchIds, 120, Date.UTC(2026, 0, 1 + t));
      // Three reports, so values also merge across requests.
      for (const part of [sent.slice(0, 30), sent.slice(30, 31), sent.slice(31)]) await report(server, metric.id, part, { token });
      metrics.set(type, { id: metric.id, sent });
    }
  });

  const selections: [string, BatchSelection, number[]][] = [
    ['one batch', { batchIds: [] }, [2]],
    ['several batches', { batchIds: [] }, [0, 3, 4]],
    ['the last 3', { last: 3 }, [2, 3, 4]],
    ['every batch', { last: 100 }, [0, 1, 2, 3, 4]],
  ];

  for (const type of TYPES) {
    it(`merges a ${type} metric exactly as the raw buckets give it, per selection and per batch`, async () => {
      const { id, sent } = metrics.get(type)!;
      for (const [name, selection, picked] of selections) {
        const batches: BatchSelection = selection.last ? selection : { batchIds: picked.map((b) => batchIds[b]!) };
        const { customMetric } = await server.op(CustomMetricSummaryDocument, { id, batches }, token);
        const summary = customMetric!.summary;
        const inSelection = sent.filter((b) => picked.some((p) => batchIds[p] === b.batchId));
        const want = expected(type, inSelection);
        expect(summary.batchCount, name).toBe(picked.length);
        expectReading(summary, want);
        expect(summary.baselineValue).toBe(40);
        expect(summary.percentChange).toBeCloseTo(((want.value! - 40) / 40) * 100, 9);
        expect(summary.change).toBe(want.value! > 40 ? 'BETTER' : want.value! < 40 ? 'WORSE' : 'SAME');
        expect(summary.overBatches.map((row) => row.batch.id)).toEqual(picked.map((b) => batchIds[b]));
        for (const row of summary.overBatches)
          expectReading(
            row,
            expected(
              type,
              sent.filter((b) => b.batchId === row.batch.id),
            ),
          );
      }
    });
  }

  it('answers the same summary from the deployment (customMetricSummary), and null for a metric of another deployment', async () => {
    const { id } = metrics.get('AVERAGE')!;
    const batches = { batchIds: [batchIds[1]!, batchIds[3]!] };
    const { customMetric } = await server.op(CustomMetricSummaryDocument, { id, batches }, token);
    const { deployment } = await server.op(DeploymentCustomMetricSummaryDocument, { deploymentId, metricId: id, batches }, token);
    const { overBatches: _, ...viaMetric } = customMetric!.summary;
    expect(deployment!.customMetricSummary).toEqual(viaMetric);
    const other = await createDeployment(server, token);
    const { deployment: elsewhere } = await server.op(
      DeploymentCustomMetricSummaryDocument,
      { deploymentId: other.id, metricId: id, batches },
      token,
    );
    expect(elsewhere!.customMetricSummary).toBeNull();
  });

  it('answers the same numbers over REST: batchSummary (given batches, lastN, all) and valuesOverBatch in batch order', async () => {
    for (const type of TYPES) {
      const { id, sent } = metrics.get(type)!;
      const of = (picked: number[]) =>
        expected(
          type,
          sent.filter((b) => picked.some((p) => batchIds[p] === b.batchId)),
        );
      for (const [query, picked] of [
        [selectionQuery([batchIds[1]!, batchIds[3]!]), [1, 3]],
        [`?batchId=${batchIds[0]},${batchIds[4]}`, [0, 4]],
        ['?lastN=2', [3, 4]],
        ['', [0, 1, 2, 3, 4]],
      ] as [string, number[]][]) {
        const answer = await server.rest('GET', batchSummaryPath(deploymentId, id, query), { token });
        expect(answer.status).toBe(200);
        const body = bodyOf<RestBatchSummary>(answer);
        const want = of(picked);
        expect(Object.keys(body.metric).sort()).toEqual(['baselineValue', 'id', 'name', 'percentChange', 'sampleCount', 'value']);
        expect(body.batchCount).toBe(picked.length);
        expect(body.metric.id).toBe(id);
        expectReading(body.metric, want);
        expect(body.metric.baselineValue).toBe(40);
        expect(body.metric.percentChange).toBeCloseTo(((want.value! - 40) / 40) * 100, 9);
      }
      const over = await server.rest('GET', valuesOverBatchPath(deploymentId, id), { token });
      expect(over.status).toBe(200);
      const body = bodyOf<RestValuesOverBatch>(over);
      expect(body.metric).toMatchObject({ id, type: type.toLowerCase() });
      expect(body.buckets.map((b) => b.batch.id)).toEqual(batchIds);
      for (const [b, bucket] of body.buckets.entries()) {
        expect(bucket.batch).toMatchObject({ name: `batch ${b}` });
        expect(Date.parse(bucket.batch.createdAt)).not.toBeNaN();
        expect(bucket.batch).not.toHaveProperty('lastPredictionTimestamp'); // no predictions: absent, not null
        const want = of([b]);
        expect(bucket.value).toBeCloseTo(want.value!, 9);
        expect(bucket.sampleSize).toBe(want.sampleCount);
      }
    }
  });

  it("shows each batch's value of every metric on MonitoringBatch.customMetrics", async () => {
    for (const batchId of batchIds) {
      const { monitoringBatch } = await server.op(BatchCustomMetricsDocument, { id: batchId }, token);
      expect(monitoringBatch!.customMetrics.map((v) => v.metric.id)).toEqual(TYPES.map((type) => metrics.get(type)!.id));
      for (const [t, type] of TYPES.entries()) {
        expectReading(
          monitoringBatch!.customMetrics[t]!,
          expected(
            type,
            metrics.get(type)!.sent.filter((b) => b.batchId === batchId),
          ),
        );
      }
    }
  });

  it('stores one aggregate row per batch, whatever the number of buckets and reports', async () => {
    const { id, sent } = metrics.get('SUM')!;
    const rows = await storedValues(server, id);
    expect(rows.map((r) => r.batch_id)).toEqual([...new Set(sent.map((b) => b.batchId))].sort());
    expect(rows.every((r) => r.model_id === '')).toBe(true);
    expect(rows.reduce((n, r) => n + r.bucket_count, 0)).toBe(sent.length);
  });
});

describe('values per model', () => {
  it('keeps a model-specific metric per model (the report’s modelId, else the deployment’s model) and merges models without a modelId', async () => {
    const { token } = await createOrganization(server, null);
    const deploymentId = (await createDeployment(server, token, { modelId: 'model-a' })).id;
    const batchIds = [
      (await createBatch(server, deploymentId, 'one', token)).id,
      (await createBatch(server, deploymentId, 'two', token)).id,
    ];
    const metric = await createMetric(server, deploymentId, { type: 'AVERAGE', isModelSpecific: true }, token);
    const next = random(11);
    const ofA = randomBuckets(next, batchIds, 40, Date.UTC(2026, 1, 1));
    const ofB = randomBuckets(next, batchIds, 25, Date.UTC(2026, 2, 1));
    expect((await report(server, metric.id, ofA, { token })).modelId).toBe('model-a');
    expect((await report(server, metric.id, ofB, { token, modelId: 'model-b' })).modelId).toBe('model-b');
    for (const [modelId, buckets] of [
      ['model-a', ofA],
      ['model-b', ofB],
      [null, [...ofA, ...ofB]],
      ['model-c', []],
    ] as [string | null, RawBucket[]][]) {
      const { customMetric } = await server.op(CustomMetricSummaryDocument, { id: metric.id, batches: { last: 2, modelId } }, token);
      expectReading(customMetric!.summary, expected('AVERAGE', buckets));
      const query = selectionQuery(batchIds, modelId ? { modelId } : {});
      const rest = bodyOf<RestBatchSummary>(await server.rest('GET', batchSummaryPath(deploymentId, metric.id, query), { token }));
      expectReading(rest.metric, expected('AVERAGE', buckets));
    }
    const rows = await storedValues(server, metric.id);
    expect(new Set(rows.map((r) => r.model_id))).toEqual(new Set(['model-a', 'model-b']));
  });

  it("stores a deployment metric's values under no model, whatever modelId a report or a selection names", async () => {
    const { token } = await createOrganization(server, null);
    const deploymentId = (await createDeployment(server, token, { modelId: 'model-a' })).id;
    const batchId = (await createBatch(server, deploymentId, 'one', token)).id;
    const metric = await createMetric(server, deploymentId, { type: 'SUM' }, token);
    const buckets = randomBuckets(random(3), [batchId], 10);
    const done = await report(server, metric.id, buckets, { token, modelId: 'model-z' });
    expect(done.modelId).toBe('');
    const { customMetric } = await server.op(
      CustomMetricSummaryDocument,
      { id: metric.id, batches: { last: 1, modelId: 'model-z' } },
      token,
    );
    expectReading(customMetric!.summary, expected('SUM', buckets));
    expect((await storedValues(server, metric.id)).map((r) => r.model_id)).toEqual(['']);
  });
});

describe('a gauge', () => {
  it('takes the value of the latest timestamp; of equal timestamps the later bucket, within a request and across requests', async () => {
    const { token } = await createOrganization(server, null);
    const deploymentId = (await createDeployment(server, token)).id;
    const [one, two] = [
      (await createBatch(server, deploymentId, 'one', token)).id,
      (await createBatch(server, deploymentId, 'two', token)).id,
    ];
    const metric = await createMetric(server, deploymentId, { type: 'GAUGE' }, token);
    const at = (hour: number) => new Date(Date.UTC(2026, 3, 1, hour)).toISOString();
    const read = async (batchIds: string[]) =>
      (await server.op(CustomMetricSummaryDocument, { id: metric.id, batches: { batchIds } }, token)).customMetric!.summary;

    await report(
      server,
      metric.id,
      [
        { value: 5, timestamp: at(3), batchId: one! },
        { value: 9, timestamp: at(7), batchId: one! },
        { value: 7, timestamp: at(7), batchId: one! }, // same time, later bucket: wins
        { value: 1, timestamp: at(2), batchId: one! },
      ],
      { token },
    );
    expect(await read([one!])).toMatchObject({ value: 7, min: 1, max: 9, bucketCount: 4 });
    await report(server, metric.id, [{ value: 8, timestamp: at(7), batchId: one! }], { token }); // a later request, same time: wins
    expect(await read([one!])).toMatchObject({ value: 8, min: 1, max: 9 });
    await report(server, metric.id, [{ value: 100, timestamp: at(6), batchId: one! }], { token }); // older: value stays
    expect(await read([one!])).toMatchObject({ value: 8, min: 1, max: 100 });

    await report(server, metric.id, [{ value: -3, timestamp: at(9), batchId: two! }], { token });
    expect(await read([one!, two!])).toMatchObject({ value: -3, min: -3, max: 100, bucketCount: 7 });
    await report(server, metric.id, [{ value: 4, timestamp: at(12), batchId: one! }], { token });
    expect(await read([one!, two!])).toMatchObject({ value: 4, min: -3, max: 100 });
  });

  it('takes the time of the request for a bucket without timestamp (later requests win)', async () => {
    const { token } = await createOrganization(server, null);
    const deploymentId = (await createDeployment(server, token)).id;
    const batchId = (await createBatch(server, deploymentId, 'one', token)).id;
    const metric = await createMetric(server, deploymentId, { type: 'GAUGE' }, token);
    await report(server, metric.id, [{ value: 1, batchId }], { token });
    await sleep(5);
    await report(server, metric.id, [{ value: 2, batchId }], { token });
    const { customMetric } = await server.op(CustomMetricSummaryDocument, { id: metric.id, batches: { batchIds: [batchId] } }, token);
    expect(customMetric!.summary).toMatchObject({ value: 2, min: 1, max: 2 });
  });
});

describe('a deleted batch', () => {
  it('leaves every read at once, and its stored values are purged with it', async () => {
    const { token } = await createOrganization(server, null);
    const deploymentId = (await createDeployment(server, token)).id;
    const batchIds = [];
    for (let b = 0; b < 3; b++) batchIds.push((await createBatch(server, deploymentId, `b${b}`, token)).id);
    const metric = await createMetric(server, deploymentId, { type: 'AVERAGE' }, token);
    const sent = randomBuckets(random(5), batchIds, 60);
    await report(server, metric.id, sent, { token });
    const doomed = batchIds[1]!;
    expect((await server.op(DeleteMonitoringBatchDocument, { id: doomed }, token)).deleteMonitoringBatch.__typename).toBe(
      'DeleteMonitoringBatchSuccess',
    );
    const kept = sent.filter((b) => b.batchId !== doomed);
    for (const batches of [{ last: 3 }, { batchIds }] as BatchSelection[]) {
      const { customMetric } = await server.op(CustomMetricSummaryDocument, { id: metric.id, batches }, token);
      expect(customMetric!.summary.batchCount).toBe(2);
      expectReading(customMetric!.summary, expected('AVERAGE', kept));
      expect(customMetric!.summary.overBatches.map((r) => r.batch.id)).toEqual([batchIds[0], batchIds[2]]);
    }
    const rest = bodyOf<RestBatchSummary>(await server.rest('GET', batchSummaryPath(deploymentId, metric.id), { token }));
    expectReading(rest.metric, expected('AVERAGE', kept));
    const over = bodyOf<RestValuesOverBatch>(await server.rest('GET', valuesOverBatchPath(deploymentId, metric.id), { token }));
    expect(over.buckets.map((b) => b.batch.id)).toEqual([batchIds[0], batchIds[2]]);
    expect((await server.op(BatchCustomMetricsDocument, { id: doomed }, token)).monitoringBatch).toBeNull();

    const deadline = Date.now() + 10_000;
    while ((await countRows(server, 'batch_custom_metric_values', 'batch_id', doomed)) > 0 && Date.now() < deadline) await sleep(200);
    expect(await countRows(server, 'batch_custom_metric_values', 'batch_id', doomed)).toBe(0);
    expect((await storedValues(server, metric.id)).map((r) => r.batch_id).sort()).toEqual([batchIds[0], batchIds[2]].sort());
  });
});

describe('a batch without values', () => {
  it('reads null with no samples, and the selection still counts it', async () => {
    const { token } = await createOrganization(server, null);
    const deploymentId = (await createDeployment(server, token)).id;
    const [empty, full] = [
      (await createBatch(server, deploymentId, 'empty', token)).id,
      (await createBatch(server, deploymentId, 'full', token)).id,
    ];
    const metric = await createMetric(server, deploymentId, { type: 'SUM', baselineValue: 10 }, token);
    const { customMetric } = await server.op(CustomMetricSummaryDocument, { id: metric.id, batches: { batchIds: [empty!] } }, token);
    expect(customMetric!.summary).toMatchObject({
      value: null,
      sampleCount: 0,
      bucketCount: 0,
      min: null,
      max: null,
      baselineValue: 10,
      percentChange: null,
      change: 'UNKNOWN',
      batchCount: 1,
    });
    await report(server, metric.id, [{ value: 4, batchId: full! }], { token });
    const both = (await server.op(CustomMetricSummaryDocument, { id: metric.id, batches: { last: 2 } }, token)).customMetric!.summary;
    expect(both).toMatchObject({ value: 4, percentChange: -60, change: 'WORSE', batchCount: 2 });
    expect(both.overBatches.map((r) => r.value)).toEqual([null, 4]);
  });
});
