import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ReportDeploymentStatsDocument,
  ReportPredictionsDocument,
  SetTrainingBaselineDocument,
  SubmitActualsDocument,
} from './generated/graphql.js';
import { createBatch, createDeployment, createOrganization } from './helpers/fixtures.js';
import { random } from './helpers/random.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// Every number here is checked against the same quantity computed from the raw rows in the test.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

// biome-ignore lint: GraphQL answers are checked field by field
type Json = any;

async function query(text: string, variables?: Record<string, unknown>, token = server.adminToken): Promise<Json> {
  const result = await server.graphql<Json>(text, variables, token);
  if (result.errors?.length) throw new Error(JSON.stringify(result.errors));
  return result.data;
}

interface Row {
  features: { age: number | null; city: string | null };
  prediction: number;
  associationId: string;
}

function rowsFor(batch: number, n: number, shift = 0): Row[] {
  const next = random(1000 + batch);
  return Array.from({ length: n }, (_, i) => ({
    features: {
      age: i % 9 === 0 ? null : Math.round((next() * 60 + 20 + shift) * 10) / 10,
      city: ['Oslo', 'Lima', 'Pune', 'Kyiv'][Math.floor(next() * (shift ? 2 : 4))]!,
    },
    prediction: Math.round((next() * 100 + shift) * 100) / 100,
    associationId: `b${batch}-r${i}`,
  }));
}

const percentileCont = (sorted: number[], q: number) => {
  const position = q * (sorted.length - 1);
  const lower = Math.floor(position);
  return sorted[lower]! + (sorted[Math.ceil(position)]! - sorted[lower]!) * (position - lower);
};

function edgesOf(values: (number | null)[]): number[] {
  const present = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  const edges: number[] = [];
  for (let q = 1; q <= 9; q++) {
    const d = percentileCont(present, q / 10);
    if (edges.length === 0 || d > edges.at(-1)!) edges.push(d);
  }
  return edges;
}

const numericCounts = (edges: number[], values: (number | null)[]) => {
  const counts = new Array<number>(edges.length + 2).fill(0);
  for (const v of values) counts[v === null ? edges.length + 1 : edges.filter((e) => e <= v).length]!++;
  return counts;
};

function scores(expected: number[], actual: number[]) {
  const share = (c: number[]) => {
    const t = c.reduce((a, b) => a + b, 0);
    return c.map((x) => x / t);
  };
  const e = share(expected);
  const a = share(actual);
  let psi = 0;
  let kl = 0;
  let js = 0;
  let h = 0;
  a.forEach((ai, i) => {
    const ei = e[i]!;
    const x = ai || 0.0001;
    const y = ei || 0.0001;
    psi += (x - y) * Math.log(x / y);
    kl += x * Math.log(x / y);
    const m = (ai + ei) / 2;
    if (ai > 0) js += 0.5 * ai * Math.log2(ai / m);
    if (ei > 0) js += 0.5 * ei * Math.log2(ei / m);
    h += (Math.sqrt(ai) - Math.sqrt(ei)) ** 2;
  });
  return { PSI: psi, KL_DIVERGENCE: kl, JS_DIVERGENCE: js, HELLINGER: Math.sqrt(h / 2) };
}

describe('monitoring a regression deployment over batch selections (C8)', () => {
  let deploymentId: string;
  const batchIds: string[] = [];
  const batchRows: Row[][] = [];
  const executionTimes: number[][] = [];
  const errors: { user: number; server: number }[] = [];
  const actuals: Map<string, number>[] = [];
  const baselineRows = rowsFor(99, 1000);

  beforeAll(async () => {
    const deployment = await createDeployment(server, server.adminToken, {
      features: [
        { name: 'age', type: 'NUMERIC', importance: 0.9 },
        { name: 'city', type: 'CATEGORICAL', importance: 0.1 },
      ],
    });
    deploymentId = deployment.id;
    await server.op(SetTrainingBaselineDocument, { input: { deploymentId, rows: baselineRows } });
    for (let b = 0; b < 5; b++) {
      const batch = await createBatch(server, deploymentId, `batch ${b}`);
      batchIds.push(batch.id);
      const rows = rowsFor(b, 150 + 10 * b, b === 4 ? 30 : 0);
      batchRows.push(rows);
      await server.op(ReportPredictionsDocument, { input: { deploymentId, batchId: batch.id, rows, executionTimeMs: 10 + b } });
      const next = random(50 + b);
      const times: number[] = [10 + b];
      const tally = { user: 0, server: 0 };
      await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const time = Math.round(Math.exp(next() * 6) * 100) / 100;
          const userError = i % 17 === 0;
          const systemError = i % 23 === 0;
          times.push(time);
          if (userError) tally.user++;
          if (systemError) tally.server++;
          await server.op(ReportDeploymentStatsDocument, {
            input: { deploymentId, batchId: batch.id, numPredictions: 2, executionTimeMs: time, userError, systemError },
          });
        }),
      );
      executionTimes.push(times);
      errors.push(tally);
      const truth = new Map(
        rows.filter((_, i) => i % 3 !== 0).map((r) => [r.associationId, Math.round((r.prediction + (next() - 0.5) * 20) * 100) / 100]),
      );
      truth.set(rows[1]!.associationId, 0); // an actual of 0: left out of MAPE
      actuals.push(truth);
      await server.op(SubmitActualsDocument, {
        input: { deploymentId, actuals: [...truth].map(([associationId, actualValue]) => ({ associationId, actualValue })) },
      });
    }
  });

  it('merges service health exactly, with quantiles within 1% of the raw execution times', async () => {
    for (const [selection, picked] of [
      [{ last: 3 }, [2, 3, 4]],
      [{ batchIds: [batchIds[0], batchIds[3]] }, [0, 3]],
      [{ batchIds: [batchIds[1]] }, [1]],
    ] as [Record<string, unknown>, number[]][]) {
      const data = await query(
        `query($id: ID!, $s: BatchSelection!) { deployment(id: $id) { serviceHealth(batches: $s) {
          batchCount totalPredictions totalRequests userErrorRate serverErrorRate numConsumers slowRequests(thresholdMs: 50)
          executionTime { count mean median p90 min max q99: quantile(q: 0.99) } } } }`,
        { id: deploymentId, s: selection },
      );
      const health = data.deployment.serviceHealth;
      const times = picked.flatMap((b) => executionTimes[b]!).sort((a, b) => a - b);
      const requests = picked.length * 41;
      expect(health.batchCount).toBe(picked.length);
      expect(health.totalRequests).toBe(requests);
      expect(health.totalPredictions).toBe(picked.reduce((n, b) => n + batchRows[b]!.length + 80, 0));
      expect(health.userErrorRate).toBeCloseTo(picked.reduce((n, b) => n + errors[b]!.user, 0) / requests, 12);
      expect(health.serverErrorRate).toBeCloseTo(picked.reduce((n, b) => n + errors[b]!.server, 0) / requests, 12);
      expect(health.numConsumers).toBe(1);
      expect(health.executionTime.count).toBe(times.length);
      expect(health.executionTime.mean).toBeCloseTo(times.reduce((a, b) => a + b, 0) / times.length, 9);
      expect(health.executionTime.min).toBe(times[0]);
      expect(health.executionTime.max).toBe(times.at(-1));
      for (const [field, q] of [
        ['median', 0.5],
        ['p90', 0.9],
        ['q99', 0.99],
      ] as const) {
        const exact = times[Math.floor(q * (times.length - 1))]!;
        expect(Math.abs(health.executionTime[field] - exact) / exact).toBeLessThanOrEqual(0.01);
      }
      const slow = times.filter((t) => t > 50).length;
      expect(Math.abs(health.slowRequests - slow)).toBeLessThanOrEqual(times.filter((t) => Math.abs(t - 50) / 50 <= 0.01).length);
    }
  });

  it('computes every drift metric exactly for the same bins, features and target', async () => {
    const ageEdges = edgesOf(baselineRows.map((r) => r.features.age));
    const predictionEdges = edgesOf(baselineRows.map((r) => r.prediction));
    const baselineAge = numericCounts(
      ageEdges,
      baselineRows.map((r) => r.features.age),
    );
    const baselinePrediction = numericCounts(
      predictionEdges,
      baselineRows.map((r) => r.prediction),
    );
    for (const metric of ['PSI', 'JS_DIVERGENCE', 'HELLINGER', 'KL_DIVERGENCE'] as const) {
      const data = await query(
        `query($id: ID!, $m: DriftMetric) { deployment(id: $id) { dataDrift(batches: {last: 2}, metric: $m) {
          batchCount hasBaseline driftThreshold features { name score importance sampleSize isDrifted current { bins { count share } } baseline { bins { count } } }
          target { score sampleSize } } } }`,
        { id: deploymentId, m: metric },
      );
      const drift = data.deployment.dataDrift;
      const rows = [...batchRows[3]!, ...batchRows[4]!];
      const age = drift.features.find((f: Json) => f.name === 'age');
      const currentAge = numericCounts(
        ageEdges,
        rows.map((r) => r.features.age),
      );
      expect(age.current.bins.map((b: Json) => b.count)).toEqual(currentAge);
      expect(age.baseline.bins.map((b: Json) => b.count)).toEqual(baselineAge);
      expect(age.sampleSize).toBe(rows.length);
      expect(age.score).toBeCloseTo(scores(baselineAge, currentAge)[metric], 9);
      expect(age.importance).toBe(0.9);
      const currentPrediction = numericCounts(
        predictionEdges,
        rows.map((r) => r.prediction),
      );
      expect(drift.target.score).toBeCloseTo(scores(baselinePrediction, currentPrediction)[metric], 9);
      if (metric === 'PSI') expect(age.isDrifted).toBe(age.score >= 0.15);
    }
  });

  it('computes RMSE, MAE, R², MAPE exactly from the joined actuals', async () => {
    const data = await query(
      `query($id: ID!, $s: BatchSelection!) { deployment(id: $id) { accuracy(batches: $s) { batchCount predictionsWithActuals rmse mae r2 mape logLoss } } }`,
      { id: deploymentId, s: { batchIds: [batchIds[0], batchIds[2], batchIds[4]] } },
    );
    const pairs = [0, 2, 4].flatMap((b) =>
      batchRows[b]!.filter((r) => actuals[b]!.has(r.associationId)).map((r) => [r.prediction, actuals[b]!.get(r.associationId)!] as const),
    );
    const n = pairs.length;
    const sse = pairs.reduce((a, [p, y]) => a + (p - y) ** 2, 0);
    const meanY = pairs.reduce((a, [, y]) => a + y, 0) / n;
    const sst = pairs.reduce((a, [, y]) => a + (y - meanY) ** 2, 0);
    const nonZero = pairs.filter(([, y]) => y !== 0);
    const accuracy = data.deployment.accuracy;
    expect(accuracy.predictionsWithActuals).toBe(n);
    expect(accuracy.rmse).toBeCloseTo(Math.sqrt(sse / n), 9);
    expect(accuracy.mae).toBeCloseTo(pairs.reduce((a, [p, y]) => a + Math.abs(p - y), 0) / n, 9);
    expect(accuracy.r2).toBeCloseTo(1 - sse / sst, 9);
    expect(accuracy.mape).toBeCloseTo((100 * nonZero.reduce((a, [p, y]) => a + Math.abs((p - y) / y), 0)) / nonZero.length, 9);
    expect(accuracy.logLoss).toBeNull();
  });

  it('gives one row per batch in batch order, and the same numbers on the batch itself', async () => {
    const data = await query(
      `query($id: ID!) { deployment(id: $id) {
        overBatches(batches: {last: 5}) { batch { id name } serviceHealth { totalRequests } dataDrift { features { name score } } accuracy { rmse } predictions { meanPrediction rowCount } }
        batches(first: 5, orderBy: {field: CREATED_AT, direction: ASC}) { edges { node { id serviceHealth { totalRequests } dataDrift { features { name score } } accuracy { rmse } } } } } }`,
      { id: deploymentId },
    );
    const series = data.deployment.overBatches;
    expect(series.map((r: Json) => r.batch.id)).toEqual(batchIds);
    series.forEach((row: Json, b: number) => {
      expect(row.serviceHealth.totalRequests).toBe(41);
      expect(row.predictions.rowCount).toBe(batchRows[b]!.length);
      expect(row.predictions.meanPrediction).toBeCloseTo(batchRows[b]!.reduce((a, r) => a + r.prediction, 0) / batchRows[b]!.length, 9);
      const node = data.deployment.batches.edges[b].node;
      expect(node.serviceHealth).toEqual(row.serviceHealth);
      expect(node.dataDrift).toEqual(row.dataDrift);
      expect(node.accuracy).toEqual(row.accuracy);
    });
  });

  it('reads prediction percentiles from the baseline bins: within the bin of the exact percentile', async () => {
    const data = await query(
      `query($id: ID!) { deployment(id: $id) { predictions(batches: {last: 5}) { rowCount meanPrediction p10: percentile(q: 0.1) p50: percentile(q: 0.5) p90: percentile(q: 0.9) } } }`,
      {
        id: deploymentId,
      },
    );
    const values = batchRows
      .flat()
      .map((r) => r.prediction)
      .sort((a, b) => a - b);
    const stats = data.deployment.predictions;
    expect(stats.rowCount).toBe(values.length);
    expect(stats.meanPrediction).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 9);
    const edges = edgesOf(baselineRows.map((r) => r.prediction));
    for (const [field, q] of [
      ['p10', 0.1],
      ['p50', 0.5],
      ['p90', 0.9],
    ] as const) {
      const exact = percentileCont(values, q);
      const bin = edges.filter((e) => e <= exact).length;
      const lower = edges[bin - 1] ?? edges[0]!;
      const upper = edges[bin] ?? edges.at(-1)!;
      expect(stats[field]).toBeGreaterThanOrEqual(lower - 1e-9);
      expect(stats[field]).toBeLessThanOrEqual(upper + 1e-9);
    }
  });

  it('leaves a deleted batch out of `last: N` and of explicit selections', async () => {
    const extra = await createBatch(server, deploymentId, 'short-lived');
    await server.op(ReportPredictionsDocument, { input: { deploymentId, batchId: extra.id, rows: rowsFor(77, 20), executionTimeMs: 5 } });
    const before = await query(
      `query($id: ID!) { deployment(id: $id) { serviceHealth(batches: {last: 2}) { batchCount totalRequests } } }`,
      { id: deploymentId },
    );
    expect(before.deployment.serviceHealth).toEqual({ batchCount: 2, totalRequests: 42 });
    await query(`mutation($id: ID!) { deleteMonitoringBatch(id: $id) { __typename } }`, { id: extra.id });
    const after = await query(
      `query($id: ID!, $b: [ID!]) { deployment(id: $id) { last: serviceHealth(batches: {last: 2}) { batchCount totalRequests } explicit: serviceHealth(batches: {batchIds: $b}) { batchCount totalRequests } } }`,
      { id: deploymentId, b: [extra.id, batchIds[4]] },
    );
    expect(after.deployment.last).toEqual({ batchCount: 2, totalRequests: 82 });
    expect(after.deployment.explicit).toEqual({ batchCount: 1, totalRequests: 41 });
  });

  it("never shows another organization's batches", async () => {
    const other = await createOrganization(server);
    const own = await createDeployment(server, other.token);
    const data = await query(
      `query($id: ID!, $b: [ID!]) { deployment(id: $id) { serviceHealth(batches: {batchIds: $b}) { batchCount totalRequests } accuracy(batches: {batchIds: $b}) { predictionsWithActuals } } }`,
      { id: own.id, b: batchIds },
      other.token,
    );
    expect(data.deployment).toEqual({ serviceHealth: { batchCount: 0, totalRequests: 0 }, accuracy: { predictionsWithActuals: 0 } });
    const foreign = await query(`query($id: ID!) { deployment(id: $id) { id } }`, { id: deploymentId }, other.token);
    expect(foreign.deployment).toBeNull();
  });

  it('refuses a selection that is neither or both, naming the argument', async () => {
    const both = await server.graphql(
      `query($id: ID!) { deployment(id: $id) { serviceHealth(batches: {last: 1, batchIds: []}) { batchCount } } }`,
      { id: deploymentId },
    );
    expect(both.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fieldErrors: [{ field: 'batches' }] });
    const tooMany = await server.graphql(`query($id: ID!) { deployment(id: $id) { serviceHealth(batches: {last: 0}) { batchCount } } }`, {
      id: deploymentId,
    });
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ fieldErrors: [{ field: 'batches.last' }] });
  });

  it('reports activity per UTC day for the last 7 days', async () => {
    const data = await query(`query($id: ID!) { deployment(id: $id) { activity { day predictionCount } } }`, { id: deploymentId });
    const days = data.deployment.activity;
    expect(days).toHaveLength(7);
    expect(days.at(-1).day).toBe(new Date().toISOString().slice(0, 10));
    // Rows carry no timestamp, so they count on the day they arrived: today.
    expect(days.at(-1).predictionCount).toBe(batchRows.reduce((n, rows) => n + rows.length, 0));
  });
});

describe('binary accuracy', () => {
  it('matches LogLoss, accuracy, F1, TPR, PPV exactly and AUC within 0.005 of the exact ROC AUC', async () => {
    const deployment = await createDeployment(server, server.adminToken, {
      targetType: 'BINARY',
      targetName: 'churn',
      classNames: ['no', 'yes'],
      positiveClass: 'yes',
      predictionThreshold: 0.4,
    });
    const next = random(7);
    const pairs: [number, boolean][] = [];
    for (let b = 0; b < 3; b++) {
      const batch = await createBatch(server, deployment.id);
      const rows = Array.from({ length: 400 }, (_, i) => ({
        features: {},
        prediction: Math.round(next() * 1e6) / 1e6,
        associationId: `${b}-${i}`,
      }));
      await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows } });
      const outcomes = rows.map((r) => next() < r.prediction * 0.8 + 0.1);
      await server.op(SubmitActualsDocument, {
        input: {
          deploymentId: deployment.id,
          actuals: rows.map((r, i) => ({ associationId: r.associationId, actualValue: outcomes[i] ? 'yes' : 'no' })),
        },
      });
      rows.forEach((r, i) => {
        pairs.push([r.prediction, outcomes[i]!]);
      });
    }
    const data = await query(
      `query($id: ID!) { deployment(id: $id) { accuracy(batches: {last: 3}) { predictionsWithActuals logLoss auc accuracy f1 tpr ppv rmse } } }`,
      { id: deployment.id },
    );
    const a = data.deployment.accuracy;
    let tp = 0;
    let fp = 0;
    let tn = 0;
    let fn = 0;
    let logLoss = 0;
    for (const [p, y] of pairs) {
      const c = Math.min(Math.max(p, 1e-15), 1 - 1e-15);
      logLoss += -Math.log(y ? c : 1 - c);
      if (p >= 0.4) y ? tp++ : fp++;
      else y ? fn++ : tn++;
    }
    const positives = pairs.filter(([, y]) => y).map(([p]) => p);
    const negatives = pairs.filter(([, y]) => !y).map(([p]) => p);
    let wins = 0;
    for (const p of positives) for (const q of negatives) wins += p > q ? 1 : p === q ? 0.5 : 0;
    const exactAuc = wins / (positives.length * negatives.length);
    const tpr = tp / (tp + fn);
    const ppv = tp / (tp + fp);
    expect(a.predictionsWithActuals).toBe(1200);
    expect(a.logLoss).toBeCloseTo(logLoss / 1200, 9);
    expect(a.accuracy).toBeCloseTo((tp + tn) / 1200, 12);
    expect(a.tpr).toBeCloseTo(tpr, 12);
    expect(a.ppv).toBeCloseTo(ppv, 12);
    expect(a.f1).toBeCloseTo((2 * tpr * ppv) / (tpr + ppv), 12);
    expect(Math.abs(a.auc - exactAuc)).toBeLessThanOrEqual(0.005);
    expect(a.rmse).toBeNull();
  });
});

describe('prediction health (C9)', () => {
  it('is UNKNOWN without data, then follows error rates, drift of important features and accuracy thresholds', async () => {
    const deployment = await createDeployment(server, server.adminToken, {
      features: [
        { name: 'age', type: 'NUMERIC', importance: 0.9 },
        { name: 'city', type: 'CATEGORICAL', importance: 0.1 },
      ],
    });
    const health = async () =>
      (
        await query(
          `query($id: ID!) { deployment(id: $id) { health { service { status reason batchCount } drift { status reason } accuracy { status reason } } } }`,
          { id: deployment.id },
        )
      ).deployment.health;
    expect(await health()).toMatchObject({
      service: { status: 'UNKNOWN' },
      drift: { status: 'UNKNOWN', reason: 'no training baseline' },
      accuracy: { status: 'UNKNOWN' },
    });

    await server.op(SetTrainingBaselineDocument, { input: { deploymentId: deployment.id, rows: rowsFor(1, 800) } });
    const batch = await createBatch(server, deployment.id);
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows: rowsFor(2, 300) } });
    for (let i = 0; i < 98; i++)
      await server.op(ReportDeploymentStatsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, numPredictions: 1 } });
    await server.op(ReportDeploymentStatsDocument, {
      input: { deploymentId: deployment.id, batchId: batch.id, numPredictions: 1, userError: true },
    });
    let status = await health();
    expect(status.service).toMatchObject({ status: 'AT_RISK', batchCount: 1 }); // 1 error in 100 requests = 1%
    expect(status.service.reason).toContain('1.00%');
    expect(status.drift.status).toBe('PASSING');

    const shifted = await createBatch(server, deployment.id);
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: shifted.id, rows: rowsFor(3, 300, 30) } });
    for (let i = 0; i < 10; i++)
      await server.op(ReportDeploymentStatsDocument, {
        input: { deploymentId: deployment.id, batchId: shifted.id, numPredictions: 1, systemError: true },
      });
    status = await health();
    expect(status.service.status).toBe('FAILING');
    expect(status.drift.status).toBe('FAILING');
    expect(status.drift.reason).toContain('age');

    const settings = await query(
      `mutation($id: ID!) { updateHealthSettings(input: {deploymentId: $id, service: {batchCount: 1}, dataDrift: {excludedFeatures: ["age"], batchCount: 1}, accuracy: {metric: RMSE, atRiskThreshold: 1, failingThreshold: 1000}}) {
        __typename ... on UpdateHealthSettingsSuccess { deployment { healthSettings { service { batchCount errorRateAtRisk } dataDrift { excludedFeatures driftThreshold } accuracy { metric atRiskThreshold } } } } } }`,
      { id: deployment.id },
    );
    expect(settings.updateHealthSettings.deployment.healthSettings).toEqual({
      service: { batchCount: 1, errorRateAtRisk: 0.01 },
      dataDrift: { excludedFeatures: ['age'], driftThreshold: 0.15 },
      accuracy: { metric: 'RMSE', atRiskThreshold: 1 },
    });
    const bad = await query(
      `mutation($id: ID!) { updateHealthSettings(input: {deploymentId: $id, service: {batchCount: 7}, accuracy: {metric: AUC}}) { __typename ... on ValidationError { fieldErrors { field } } } }`,
      {
        id: deployment.id,
      },
    );
    expect(bad.updateHealthSettings.fieldErrors.map((e: Json) => e.field)).toEqual(['service.batchCount']);
    await server.op(SubmitActualsDocument, {
      input: {
        deploymentId: deployment.id,
        actuals: rowsFor(3, 300, 30)
          .slice(0, 50)
          .map((r) => ({ associationId: r.associationId, actualValue: r.prediction + 3 })),
      },
    });
    status = await health();
    expect(status.accuracy).toMatchObject({ status: 'AT_RISK' });
    expect(status.accuracy.reason).toContain('RMSE 3.000');
  });
});

describe('dataloaders and SQL statements', () => {
  it('costs the same number of statements for 5 and 50 batches with serviceHealth, dataDrift and accuracy', async () => {
    const org = await createOrganization(server, null);
    const counts: number[] = [];
    for (const size of [5, 50]) {
      const deployment = await createDeployment(server, org.token);
      await server.op(SetTrainingBaselineDocument, { input: { deploymentId: deployment.id, rows: rowsFor(5, 100) } }, org.token);
      for (let i = 0; i < size; i++) {
        const batch = await createBatch(server, deployment.id, `b${i}`, org.token);
        await server.op(
          ReportPredictionsDocument,
          { input: { deploymentId: deployment.id, batchId: batch.id, rows: rowsFor(i, 3), executionTimeMs: 3 } },
          org.token,
        );
      }
      server.statements.length = 0;
      const data = await query(
        `query($id: ID!) { deployment(id: $id) { batches(first: 50) { edges { node { id
          serviceHealth { totalRequests executionTime { median } numConsumers } dataDrift { features { score } target { score } } accuracy { rmse } } } } } }`,
        { id: deployment.id },
        org.token,
      );
      expect(data.deployment.batches.edges).toHaveLength(size);
      expect(data.deployment.batches.edges.every((e: Json) => e.node.serviceHealth.totalRequests === 1)).toBe(true);
      counts.push(server.statements.length);
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

describe('the inventory filtered by health', () => {
  it('lists only deployments whose statuses match, with cursors and totalCount', async () => {
    const org = await createOrganization(server, null);
    const healthy = await createDeployment(server, org.token, { label: 'healthy' });
    const failing = await createDeployment(server, org.token, { label: 'failing' });
    const idle = await createDeployment(server, org.token, { label: 'idle' });
    for (const [deployment, systemError] of [
      [healthy, false],
      [failing, true],
    ] as const) {
      const batch = await createBatch(server, deployment.id, 'b', org.token);
      await server.op(
        ReportDeploymentStatsDocument,
        { input: { deploymentId: deployment.id, batchId: batch.id, numPredictions: 1, systemError } },
        org.token,
      );
    }
    const list = async (filter: Record<string, string[]>, first = 10) =>
      (
        await query(
          `query($h: DeploymentHealthFilter, $first: Int) { deployments(health: $h, first: $first) { totalCount edges { node { label health { service { status } } } } pageInfo { hasNextPage } } }`,
          { h: filter, first },
          org.token,
        )
      ).deployments;
    const failingOnly = await list({ service: ['FAILING'] });
    expect(failingOnly.totalCount).toBe(1);
    expect(failingOnly.edges.map((e: Json) => e.node)).toEqual([{ label: 'failing', health: { service: { status: 'FAILING' } } }]);
    const known = await list({ service: ['PASSING', 'FAILING'] }, 1);
    expect(known).toMatchObject({ totalCount: 2, pageInfo: { hasNextPage: true } });
    expect(known.edges.map((e: Json) => e.node.label)).toEqual(['failing']);
    expect((await list({ service: ['UNKNOWN'] })).edges.map((e: Json) => e.node.label)).toEqual([idle.label]);
  });
});
