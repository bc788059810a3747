import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  batchSummaryPath,
  bodyOf,
  createRestMetric,
  customMetricPath,
  customMetricsPath,
  METRIC_NOT_FOUND,
  MISSING_METRIC,
  metricBody,
  postValues,
  type RestMetric,
  type RestMetricPage,
  storedValues,
  valuesOverBatchPath,
} from '../helpers/custom-metrics.js';
import { createBatch, createTenant } from '../helpers/fixtures.js';
import { relativeLink } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// DataRobot's custom metric routes (C8, C13) as its Python client calls them: the bodies it sends,
// the shapes and status codes it reads (201, 200, 202 with a status Location, 204, 404, 409, 422).

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const METRIC_KEYS = [
  'baselineValues',
  'createdAt',
  'createdBy',
  'deploymentId',
  'description',
  'directionality',
  'id',
  'isGeospatial',
  'isModelSpecific',
  'name',
  'timeStep',
  'type',
  'units',
];

describe('creating and reading a metric', () => {
  it("creates one from the Python client's body (201, the full metric) and answers it on GET", async () => {
    const { token, deploymentId, adminId } = await createTenant(server);
    const before = Date.now();
    // CustomMetric.create(…, value_column_name=…, timestamp_column_name=…) sends exactly this.
    const body = {
      name: 'Revenue',
      units: 'USD',
      baselineValues: [{ value: 12 }],
      isModelSpecific: true,
      type: 'average',
      directionality: 'higherIsBetter',
      timeStep: 'hour',
      description: '',
      value: { columnName: 'value' },
      sampleCount: { columnName: 'sample_count' },
      timestamp: { columnName: 'timestamp', timeFormat: null },
      batch: { columnName: 'batch' },
      isGeospatial: false,
    };
    const created = await server.rest('POST', customMetricsPath(deploymentId), { token, body });
    expect(created.status).toBe(201);
    const metric = bodyOf<RestMetric>(created);
    expect(Object.keys(metric).sort()).toEqual(METRIC_KEYS);
    expect(metric).toMatchObject({
      deploymentId,
      name: 'Revenue',
      units: 'USD',
      baselineValues: [{ value: 12 }],
      isModelSpecific: true,
      type: 'average',
      directionality: 'higherIsBetter',
      timeStep: 'hour',
      description: '',
      isGeospatial: false,
      createdBy: { id: adminId },
    });
    expect(metric.id).toMatch(/^cm_[0-9a-f]{24}$/);
    expect(Date.parse(metric.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    const read = await server.rest('GET', customMetricPath(deploymentId, metric.id), { token });
    expect(read.status).toBe(200);
    expect(read.json).toEqual(metric);
  });

  it('fills in defaults: no baseline, timeStep hour, an empty description', async () => {
    const { token, deploymentId } = await createTenant(server);
    const { baselineValues: _b, timeStep: _t, description: _d, ...minimal } = metricBody({ name: 'minimal' });
    const created = await server.rest('POST', customMetricsPath(deploymentId), { token, body: minimal });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ baselineValues: [], timeStep: 'hour', description: '' });
  });

  it('refuses bad and unknown fields by name (422), and a second metric of the same name (409)', async () => {
    const { token, deploymentId } = await createTenant(server);
    const refused = async (fields: Record<string, unknown>, drop: string[] = []) => {
      const body = metricBody(fields);
      for (const key of drop) delete body[key];
      const answer = await server.rest('POST', customMetricsPath(deploymentId), { token, body });
      expect(answer.status, JSON.stringify(answer.json)).toBe(422);
      return answer.json.errors;
    };
    expect(await refused({}, ['name', 'units', 'type', 'directionality', 'isModelSpecific'])).toEqual({
      name: 'is required',
      units: 'is required',
      type: 'is required',
      directionality: 'is required',
      isModelSpecific: 'is required',
    });
    expect(await refused({ type: 'median', directionality: 'up', isModelSpecific: 'yes', name: '  ' })).toEqual({
      name: 'must not be empty',
      type: 'must be one of average, sum, gauge',
      directionality: 'must be one of higherIsBetter, lowerIsBetter',
      isModelSpecific: 'must be true or false',
    });
    expect(await refused({ baselineValues: [{ value: 1 }, { value: 2 }] })).toEqual({
      baselineValues: 'must be a list of at most one {"value": number} (none: no baseline)',
    });
    expect(await refused({ baselineValues: [{}] })).toEqual({ 'baselineValues.0': 'must be an object {"value": number}' });
    expect(await refused({ baselineValues: [{ value: 'high' }] })).toEqual({ 'baselineValues.0.value': 'must be a number' });
    expect(await refused({ colour: 'red', value: 'value_column' })).toEqual({
      colour: 'is not a field of a custom metric',
      value: 'must be a column mapping object ({"columnName": …}) or null',
    });
    expect(await refused({ isGeospatial: true, categories: [{ value: 'a' }] })).toEqual({
      isGeospatial: 'must be false: geospatial metrics are not supported',
      categories: 'must be null: categorical metrics are not supported',
    });
    expect(await refused({ name: 'x'.repeat(256) })).toEqual({ name: 'must be at most 255 characters' });

    await createRestMetric(server, deploymentId, { name: 'Latency' }, token);
    const again = await server.rest('POST', customMetricsPath(deploymentId), { token, body: metricBody({ name: ' Latency ' }) });
    expect(again.status).toBe(409);
    expect(again.json).toEqual({
      message: 'A custom metric named "Latency" already exists on this deployment',
      errors: { name: 'A custom metric named "Latency" already exists on this deployment' },
    });
    // Another deployment may use the name.
    const other = await createTenant(server);
    expect(
      (await server.rest('POST', customMetricsPath(other.deploymentId), { token: other.token, body: metricBody({ name: 'Latency' }) }))
        .status,
    ).toBe(201);
  });

  it('refuses a 51st metric on a deployment (422 naming deploymentId)', async () => {
    const { token, deploymentId } = await createTenant(server);
    await Promise.all(Array.from({ length: 50 }, (_, i) => createRestMetric(server, deploymentId, { name: `m${i}` }, token)));
    const over = await server.rest('POST', customMetricsPath(deploymentId), { token, body: metricBody({ name: 'm50' }) });
    expect(over.status).toBe(422);
    expect(over.json.errors).toEqual({ deploymentId: 'already has 50 custom metrics, the most a deployment can have; delete one first' });
    const list = await server.rest('GET', `${customMetricsPath(deploymentId)}?limit=1`, { token });
    expect(list.json.totalCount).toBe(50);
  });
});

describe('listing metrics', () => {
  it('answers {count, totalCount, next, previous, data} by offset and limit, oldest first', async () => {
    const { token, deploymentId } = await createTenant(server);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createRestMetric(server, deploymentId, { name: `m${i}` }, token)).id);
    const first = await server.rest('GET', `${customMetricsPath(deploymentId)}?limit=2`, { token });
    expect(first.status).toBe(200);
    const page = bodyOf<RestMetricPage>(first);
    expect(page).toMatchObject({ count: 2, totalCount: 5, previous: null });
    expect(page.data.map((m) => m.id)).toEqual(ids.slice(0, 2));
    expect(Object.keys(page.data[0]!).sort()).toEqual(METRIC_KEYS);
    const second = bodyOf<RestMetricPage>(await server.rest('GET', relativeLink(server, page.next!), { token }));
    expect(second.data.map((m) => m.id)).toEqual(ids.slice(2, 4));
    const last = bodyOf<RestMetricPage>(await server.rest('GET', relativeLink(server, second.next!), { token }));
    expect(last).toMatchObject({ count: 1, next: null });
    expect(last.data.map((m) => m.id)).toEqual(ids.slice(4));
    expect(relativeLink(server, last.previous!)).toBe(`${customMetricsPath(deploymentId)}?limit=2&offset=2`);
    const bad = await server.rest('GET', `${customMetricsPath(deploymentId)}?offset=-1&limit=5000`, { token });
    expect(bad.status).toBe(422);
    expect(bad.json.errors).toEqual({ offset: 'must be an integer from 0 to 1000000000', limit: 'must be an integer from 0 to 1000' });
  });
});

describe('changing and deleting a metric', () => {
  it('PATCH changes only the fields given; baselineValues [] unsets the baseline; 409 for a taken name', async () => {
    const { token, deploymentId } = await createTenant(server);
    const metric = await createRestMetric(server, deploymentId, { name: 'a', baselineValues: [{ value: 3 }], description: 'first' }, token);
    await createRestMetric(server, deploymentId, { name: 'taken' }, token);
    const path = customMetricPath(deploymentId, metric.id);
    const renamed = await server.rest('PATCH', path, { token, body: { name: 'b', units: 'ms', directionality: 'lowerIsBetter' } });
    expect(renamed.status).toBe(200);
    expect(renamed.json).toEqual({ ...metric, name: 'b', units: 'ms', directionality: 'lowerIsBetter' });
    const unset = await server.rest('PATCH', path, { token, body: { baselineValues: [] } });
    expect(unset.json).toMatchObject({ baselineValues: [], name: 'b', description: 'first' });
    const set = await server.rest('PATCH', path, { token, body: { baselineValues: [{ value: -2.5 }], description: null } });
    expect(set.json).toMatchObject({ baselineValues: [{ value: -2.5 }], description: '' });
    const taken = await server.rest('PATCH', path, { token, body: { name: 'taken' } });
    expect(taken.status).toBe(409);
    expect(taken.json.errors).toEqual({ name: 'A custom metric named "taken" already exists on this deployment' });
    const bad = await server.rest('PATCH', path, { token, body: { type: 'mean', nickname: 'x' } });
    expect(bad.status).toBe(422);
    expect(bad.json.errors).toEqual({ nickname: 'is not a field of a custom metric' });
    const badType = await server.rest('PATCH', path, { token, body: { type: 'mean' } });
    expect(badType.json.errors).toEqual({ type: 'must be one of average, sum, gauge' });
    expect((await server.rest('GET', path, { token })).json).toMatchObject({ name: 'b', type: 'sum', baselineValues: [{ value: -2.5 }] });
  });

  it('changes the type or model specificity only while no value is reported', async () => {
    const { token, deploymentId } = await createTenant(server);
    const batch = await createBatch(server, deploymentId, 'b', token);
    const metric = await createRestMetric(server, deploymentId, { type: 'sum' }, token);
    const path = customMetricPath(deploymentId, metric.id);
    expect((await server.rest('PATCH', path, { token, body: { type: 'average', isModelSpecific: true } })).json).toMatchObject({
      type: 'average',
      isModelSpecific: true,
    });
    expect((await postValues(server, deploymentId, metric.id, { buckets: [{ value: 1, batch: batch.id }] }, token)).status).toBe(202);
    const refused = await server.rest('PATCH', path, { token, body: { type: 'gauge', isModelSpecific: false } });
    expect(refused.status).toBe(422);
    const message = 'cannot change once values are reported (they are stored aggregated for the current setting); create another metric';
    expect(refused.json.errors).toEqual({ type: message, isModelSpecific: message });
    // The same values are fine.
    expect((await server.rest('PATCH', path, { token, body: { type: 'average', name: 'renamed' } })).status).toBe(200);
  });

  it('DELETE answers 204 and removes the metric with its values; then 404', async () => {
    const { token, deploymentId } = await createTenant(server);
    const batch = await createBatch(server, deploymentId, 'b', token);
    const metric = await createRestMetric(server, deploymentId, {}, token);
    await postValues(server, deploymentId, metric.id, { buckets: [{ value: 1, batch: batch.id }] }, token);
    expect(await storedValues(server, metric.id)).toHaveLength(1);
    const path = customMetricPath(deploymentId, metric.id);
    const deleted = await server.rest('DELETE', path, { token });
    expect(deleted.status).toBe(204);
    expect(deleted.json).toBeNull();
    expect(await storedValues(server, metric.id)).toEqual([]);
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const answer = await server.rest(method, path, { token, body: method === 'PATCH' ? { name: 'x' } : undefined });
      expect(answer.status, method).toBe(404);
      expect(answer.json).toEqual(METRIC_NOT_FOUND);
    }
    // The name is free again.
    expect((await server.rest('POST', customMetricsPath(deploymentId), { token, body: metricBody({ name: metric.name }) })).status).toBe(
      201,
    );
  });
});

describe('reporting and reading values', () => {
  it("fromJSON answers 202 with a status Location (as DataRobot's client waits on it) and what was stored", async () => {
    const { token, deploymentId } = await createTenant(server);
    const [one, two] = [await createBatch(server, deploymentId, 'one', token), await createBatch(server, deploymentId, 'two', token)];
    const metric = await createRestMetric(server, deploymentId, { type: 'average' }, token);
    const answer = await postValues(
      server,
      deploymentId,
      metric.id,
      {
        buckets: [
          { value: 12, sampleSize: 3, batch: one.id },
          { value: 4, sampleSize: 1, batch: two.id, associationId: '65f44d04dbe192b552e752ed' },
          { value: 6, batch: one.id },
        ],
        dryRun: false,
        modelPackageId: '6421df32525c58cc6f991f25',
      },
      token,
    );
    expect(answer.status).toBe(202);
    expect(answer.headers.get('location')).toMatch(/^\/api\/v2\/status\/done_[0-9a-f]{32}\/$/);
    expect(answer.json).toEqual({
      customMetricId: metric.id,
      dryRun: false,
      modelId: '',
      bucketCount: 3,
      sampleCount: 5,
      batchIds: [one.id, two.id],
    });
    const summary = await server.rest('GET', batchSummaryPath(deploymentId, metric.id), { token });
    expect(summary.json).toEqual({
      metric: { id: metric.id, name: metric.name, value: (12 * 3 + 4 + 6) / 5, sampleCount: 5, baselineValue: null, percentChange: null },
      batchCount: 2,
    });
  });

  it('refuses bad selection parameters by name (422)', async () => {
    const { token, deploymentId } = await createTenant(server);
    const metric = await createRestMetric(server, deploymentId, {}, token);
    for (const path of [batchSummaryPath, valuesOverBatchPath]) {
      const cases: [string, Record<string, string>][] = [
        ['?lastN=0', { lastN: 'must be an integer from 1 to 10000' }],
        ['?lastN=2.5', { lastN: 'must be an integer from 1 to 10000' }],
        ['?batchId=mb_a&lastN=2', { lastN: 'give either batchId or lastN, not both' }],
        [
          '?segmentAttribute=region&segmentValue=north',
          {
            segmentAttribute: 'is not supported: batchlens keeps no segmented custom metric values',
            segmentValue: 'is not supported: batchlens keeps no segmented custom metric values',
          },
        ],
        [
          '?batchId=mb_%00&modelId=m%00',
          { batchId: 'must not contain the NUL character (\\u0000)', modelId: 'must not contain the NUL character (\\u0000)' },
        ],
      ];
      for (const [query, errors] of cases) {
        const answer = await server.rest('GET', path(deploymentId, metric.id, query), { token });
        expect(answer.status, query).toBe(422);
        expect(answer.json.errors, query).toEqual(errors);
      }
    }
  });

  it('answers a selection of no batch (unknown ids are left out) with no value', async () => {
    const { token, deploymentId } = await createTenant(server);
    const metric = await createRestMetric(server, deploymentId, { baselineValues: [{ value: 1 }] }, token);
    const summary = await server.rest('GET', batchSummaryPath(deploymentId, metric.id, '?batchId=mb_000000000000000000000000'), { token });
    expect(summary.status).toBe(200);
    expect(summary.json).toEqual({
      metric: { id: metric.id, name: metric.name, value: null, sampleCount: 0, baselineValue: 1, percentChange: null },
      batchCount: 0,
    });
    const over = await server.rest('GET', valuesOverBatchPath(deploymentId, metric.id), { token });
    expect(over.json).toEqual({ buckets: [], metric });
  });

  it('answers 404 for a missing metric or deployment on every route', async () => {
    const { token, deploymentId } = await createTenant(server);
    const routes: [string, string, unknown?][] = [
      ['GET', customMetricPath(deploymentId, MISSING_METRIC)],
      ['PATCH', customMetricPath(deploymentId, MISSING_METRIC), { name: 'x' }],
      ['DELETE', customMetricPath(deploymentId, MISSING_METRIC)],
      ['POST', `${customMetricPath(deploymentId, MISSING_METRIC)}fromJSON/`, { buckets: [] }],
      ['GET', batchSummaryPath(deploymentId, MISSING_METRIC)],
      ['GET', valuesOverBatchPath(deploymentId, MISSING_METRIC)],
    ];
    for (const [method, path, body] of routes) {
      const answer = await server.rest(method, path, { token, body });
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.json).toEqual(METRIC_NOT_FOUND);
    }
  });
});
