import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeploymentBaselineDocument,
  type PredictionRowInput,
  ReportPredictionsDocument,
  SetTrainingBaselineDocument,
} from './generated/graphql.js';
import { createBatch, createDeployment, createOrganization } from './helpers/fixtures.js';
import { random } from './helpers/random.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { binCounts, decileEdges } from './helpers/statistics.js';
import { sleep } from './helpers/time.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

/** 40 cities with distinct frequencies (city k appears k+1 times in 820 rows), some ages missing. */
function sample(n: number, seed: number): PredictionRowInput[] {
  const next = random(seed);
  const cities: string[] = [];
  for (let k = 0; k < 40; k++) for (let j = 0; j <= k; j++) cities.push(`city-${String(k).padStart(2, '0')}`);
  return Array.from({ length: n }, (_, i) => ({
    features: { age: i % 11 === 0 ? null : Math.round(next() * 10_000) / 100, city: i % 13 === 0 ? null : cities[i % cities.length] },
    prediction: Math.round(next() * 1000) / 10,
  }));
}

function expectedNumeric(values: (number | null)[]) {
  const present = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  const edges = decileEdges(values);
  const counts = binCounts(edges, values);
  const mean = present.reduce((a, b) => a + b, 0) / present.length;
  const std = Math.sqrt(present.reduce((a, b) => a + (b - mean) ** 2, 0) / present.length);
  return { edges, counts, mean, std };
}

const ages = (rows: PredictionRowInput[]) => rows.map((r) => (r.features as { age: number | null }).age);

async function waitForVersion(batchId: string, version: number) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const rows = await server.sql`select baseline_version from batch_column_stats where batch_id = ${batchId}`;
    if (rows.length && rows.every((r) => r.baseline_version === version)) return;
    if (Date.now() > deadline) throw new Error(`batch ${batchId} was not re-binned to version ${version}: ${JSON.stringify(rows)}`);
    await sleep(100);
  }
}

describe('setting a training baseline', () => {
  it('bins numeric columns at the deciles and categorical ones by the 25 most frequent values', async () => {
    const deployment = await createDeployment(server);
    const rows = sample(820, 1);
    const result = await server.op(SetTrainingBaselineDocument, { input: { deploymentId: deployment.id, rows } });
    if (result.setTrainingBaseline.__typename !== 'SetTrainingBaselineSuccess') throw new Error(JSON.stringify(result));
    const { baseline } = result.setTrainingBaseline;
    expect(baseline).toMatchObject({ version: 1, rowCount: 820 });

    const age = baseline.features.find((f) => f.name === 'age')!;
    const expected = expectedNumeric(ages(rows));
    expect(age.kind).toBe('NUMERIC');
    expect(age.mean).toBeCloseTo(expected.mean, 9);
    expect(age.std).toBeCloseTo(expected.std, 9);
    expect(age.bins.map((b) => b.count)).toEqual(expected.counts);
    expect(age.bins).toHaveLength(11); // 10 value bins + missing
    expect(age.bins[0]).toMatchObject({ lower: null });
    expect(age.bins[9]).toMatchObject({ upper: null });
    expect(age.bins.slice(1, 10).map((b) => b.lower)).toEqual(expected.edges.map((e) => expect.closeTo(e, 9)));
    expect(age.bins.at(-1)).toMatchObject({ label: 'missing', count: ages(rows).filter((a) => a === null).length });

    const city = baseline.features.find((f) => f.name === 'city')!;
    const cities = rows.map((r) => (r.features as { city: string | null }).city);
    const frequency = new Map<string, number>();
    for (const c of cities) if (c !== null) frequency.set(c, (frequency.get(c) ?? 0) + 1);
    const top = [...frequency].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 25);
    expect(city.kind).toBe('CATEGORICAL');
    expect(city.bins.slice(0, 25).map((b) => [b.label, b.count])).toEqual(top);
    const other = [...frequency.values()].reduce((a, b) => a + b, 0) - top.reduce((a, [, n]) => a + n, 0);
    expect(city.bins.slice(25)).toEqual([
      expect.objectContaining({ label: 'other', count: other }),
      expect.objectContaining({ label: 'missing', count: cities.filter((c) => c === null).length }),
    ]);
    expect(city.bins.reduce((a, b) => a + b.share, 0)).toBeCloseTo(1, 12);

    const prediction = baseline.prediction!;
    expect(prediction.bins.map((b) => b.count)).toEqual(expectedNumeric(rows.map((r) => r.prediction!)).counts);
    const read = await server.op(DeploymentBaselineDocument, { id: deployment.id });
    expect(read.deployment?.trainingBaseline).toEqual(baseline);
  });

  it('refuses an empty sample and a bad row, naming it, and keeps no new version', async () => {
    const deployment = await createDeployment(server);
    const empty = await server.op(SetTrainingBaselineDocument, { input: { deploymentId: deployment.id, rows: [] } });
    expect(empty.setTrainingBaseline).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ field: 'rows' }] });
    const bad = await server.op(SetTrainingBaselineDocument, {
      input: {
        deploymentId: deployment.id,
        rows: [
          { features: { age: 1 }, prediction: 1 },
          { features: { age: 'old' }, prediction: 2 },
        ],
      },
    });
    expect(bad.setTrainingBaseline).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ field: 'rows.1.features.age' }] });
    expect((await server.op(DeploymentBaselineDocument, { id: deployment.id })).deployment?.trainingBaseline).toBeNull();
  });

  it("treats another organization's deployment as missing", async () => {
    const other = await createOrganization(server);
    const deployment = await createDeployment(server);
    const result = await server.op(
      SetTrainingBaselineDocument,
      { input: { deploymentId: deployment.id, rows: sample(5, 2) } },
      other.token,
    );
    expect(result.setTrainingBaseline).toMatchObject({ __typename: 'NotFoundError', resource: 'Deployment' });
  });

  it('accepts a large sample streamed as CSV over REST', async () => {
    const deployment = await createDeployment(server);
    const rows = sample(5000, 3);
    const csv = [
      'age,city,prediction',
      ...rows.map((r) => {
        const f = r.features as { age: number | null; city: string | null };
        return `${f.age ?? ''},${f.city ?? ''},${r.prediction}`;
      }),
    ].join('\n');
    const answer = await server.rest('POST', `/api/v2/deployments/${deployment.id}/trainingBaseline`, {
      rawBody: csv,
      headers: { 'content-type': 'text/csv' },
    });
    expect(answer.status).toBe(201);
    expect(answer.json).toMatchObject({ version: 1, rowCount: 5000 });
    expect(answer.json.columns!.features[0]!.counts).toEqual(expectedNumeric(ages(rows)).counts);
  });
});

describe('binning batches against the baseline', () => {
  it('bins rows ingested after the baseline exactly as the baseline bins', async () => {
    const deployment = await createDeployment(server);
    const baselineRows = sample(820, 4);
    const set = await server.op(SetTrainingBaselineDocument, { input: { deploymentId: deployment.id, rows: baselineRows } });
    if (set.setTrainingBaseline.__typename !== 'SetTrainingBaselineSuccess') throw new Error('no baseline');
    const { edges } = expectedNumeric(ages(baselineRows));
    const batch = await createBatch(server, deployment.id);
    const rows = sample(300, 5);
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows } });
    const [age] =
      await server.sql`select bin_counts, baseline_version from batch_column_stats where batch_id = ${batch.id} and column_name = 'age'`;
    const expected = binCounts(edges, ages(rows));
    expect(age!.baseline_version).toBe(1);
    expect((age!.bin_counts as string[]).map(Number)).toEqual(expected);
  });

  it('re-bins batches ingested before a baseline, and again when the baseline is replaced', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const rows = sample(400, 6);
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows: rows.slice(0, 200) } });
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows: rows.slice(200) } });
    for (const [version, seed] of [
      [1, 7],
      [2, 8],
    ] as const) {
      const baselineRows = sample(820, seed);
      await server.op(SetTrainingBaselineDocument, { input: { deploymentId: deployment.id, rows: baselineRows } });
      await waitForVersion(batch.id, version);
      const { edges } = expectedNumeric(ages(baselineRows));
      const expected = binCounts(edges, ages(rows));
      const [age] = await server.sql`select bin_counts from batch_column_stats where batch_id = ${batch.id} and column_name = 'age'`;
      expect((age!.bin_counts as string[]).map(Number)).toEqual(expected);
      const [city] = await server.sql`select bin_counts from batch_column_stats where batch_id = ${batch.id} and column_name = 'city'`;
      expect((city!.bin_counts as string[]).map(Number).reduce((a, b) => a + b, 0)).toBe(400);
    }
  });
});
