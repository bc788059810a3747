import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccuracyDocument,
  ActivityDocument,
  type BatchSelection,
  DataDriftDocument,
  DeleteMonitoringBatchDocument,
  DeploymentDocument,
  OverBatchesDocument,
  PredictionStatsDocument,
  ReportDeploymentStatsDocument,
  ReportPredictionsDocument,
  SelectionTotalsDocument,
  ServiceHealthDocument,
  SetTrainingBaselineDocument,
  SubmitActualsDocument,
} from '../generated/graphql.js';
import { createBatch, createDeployment, createOrganization } from '../helpers/fixtures.js';
import { type ScoredRow, scoredRows } from '../helpers/ingest-data.js';
import { random } from '../helpers/random.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { binCounts, decileEdges, percentileCont } from '../helpers/statistics.js';

// Monitoring a deployment over a selection of batches (C8): the last N, or given ids. Service
// health, data drift, accuracy and prediction statistics merge the batches' stored aggregates; every
// number is checked against the same quantity computed here from the raw rows.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

/** PSI, KL, JS and Hellinger between two histograms, as the server computes them (0 shares as 0.0001 for PSI and KL). */
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

describe('a regression deployment monitored over batch selections (C8)', () => {
  let deploymentId: string;
  const batchIds: string[] = [];
  const batchRows: ScoredRow[][] = [];
  const executionTimes: number[][] = [];
  const errors: { user: number; server: number }[] = [];
  const actuals: Map<string, number>[] = [];
  const baselineRows = scoredRows(99, 1000);

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
      const rows = scoredRows(b, 150 + 10 * b, b === 4 ? 30 : 0);
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
      [{ batchIds: [batchIds[0]!, batchIds[3]!] }, [0, 3]],
      [{ batchIds: [batchIds[1]!] }, [1]],
    ] as [BatchSelection, number[]][]) {
      const data = await server.op(ServiceHealthDocument, { id: deploymentId, batches: selection });
      const health = data.deployment!.serviceHealth;
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
        expect(Math.abs(health.executionTime[field]! - exact) / exact).toBeLessThanOrEqual(0.01);
      }
      const slow = times.filter((t) => t > 50).length;
      expect(Math.abs(health.slowRequests - slow)).toBeLessThanOrEqual(times.filter((t) => Math.abs(t - 50) / 50 <= 0.01).length);
    }
  });

  it('computes every drift metric exactly for the same bins, features and target', async () => {
    const ageEdges = decileEdges(baselineRows.map((r) => r.features.age));
    const predictionEdges = decileEdges(baselineRows.map((r) => r.prediction));
    const baselineAge = binCounts(
      ageEdges,
      baselineRows.map((r) => r.features.age),
    );
    const baselinePrediction = binCounts(
      predictionEdges,
      baselineRows.map((r) => r.prediction),
    );
    for (const metric of ['PSI', 'JS_DIVERGENCE', 'HELLINGER', 'KL_DIVERGENCE'] as const) {
      const data = await server.op(DataDriftDocument, { id: deploymentId, batches: { last: 2 }, metric });
      const drift = data.deployment!.dataDrift;
      const rows = [...batchRows[3]!, ...batchRows[4]!];
      const age = drift.features.find((f) => f.name === 'age')!;
      const currentAge = binCounts(
        ageEdges,
        rows.map((r) => r.features.age),
      );
      expect(age.current.bins.map((b) => b.count)).toEqual(currentAge);
      expect(age.baseline!.bins.map((b) => b.count)).toEqual(baselineAge);
      expect(age.sampleSize).toBe(rows.length);
      expect(age.score).toBeCloseTo(scores(baselineAge, currentAge)[metric], 9);
      expect(age.importance).toBe(0.9);
      const currentPrediction = binCounts(
        predictionEdges,
        rows.map((r) => r.prediction),
      );
      expect(drift.target!.score).toBeCloseTo(scores(baselinePrediction, currentPrediction)[metric], 9);
      if (metric === 'PSI') expect(age.isDrifted).toBe(age.score! >= 0.15);
    }
  });

  it('computes RMSE, MAE, R², MAPE exactly from the joined actuals', async () => {
    const data = await server.op(AccuracyDocument, { id: deploymentId, batches: { batchIds: [batchIds[0]!, batchIds[2]!, batchIds[4]!] } });
    const pairs = [0, 2, 4].flatMap((b) =>
      batchRows[b]!.filter((r) => actuals[b]!.has(r.associationId)).map((r) => [r.prediction, actuals[b]!.get(r.associationId)!] as const),
    );
    const n = pairs.length;
    const sse = pairs.reduce((a, [p, y]) => a + (p - y) ** 2, 0);
    const meanY = pairs.reduce((a, [, y]) => a + y, 0) / n;
    const sst = pairs.reduce((a, [, y]) => a + (y - meanY) ** 2, 0);
    const nonZero = pairs.filter(([, y]) => y !== 0);
    const accuracy = data.deployment!.accuracy;
    expect(accuracy.predictionsWithActuals).toBe(n);
    expect(accuracy.rmse).toBeCloseTo(Math.sqrt(sse / n), 9);
    expect(accuracy.mae).toBeCloseTo(pairs.reduce((a, [p, y]) => a + Math.abs(p - y), 0) / n, 9);
    expect(accuracy.r2).toBeCloseTo(1 - sse / sst, 9);
    expect(accuracy.mape).toBeCloseTo((100 * nonZero.reduce((a, [p, y]) => a + Math.abs((p - y) / y), 0)) / nonZero.length, 9);
    expect(accuracy.logLoss).toBeNull();
  });

  it('gives one row per batch in batch order, and the same numbers on the batch itself', async () => {
    const data = await server.op(OverBatchesDocument, { id: deploymentId, batches: { last: 5 }, first: 5 });
    const series = data.deployment!.overBatches;
    expect(series.map((r) => r.batch.id)).toEqual(batchIds);
    series.forEach((row, b) => {
      expect(row.serviceHealth.totalRequests).toBe(41);
      expect(row.predictions.rowCount).toBe(batchRows[b]!.length);
      expect(row.predictions.meanPrediction).toBeCloseTo(batchRows[b]!.reduce((a, r) => a + r.prediction, 0) / batchRows[b]!.length, 9);
      const node = data.deployment!.batches.edges[b]!.node;
      expect(node.serviceHealth).toEqual(row.serviceHealth);
      expect(node.dataDrift).toEqual(row.dataDrift);
      expect(node.accuracy).toEqual(row.accuracy);
    });
  });

  it('reads prediction percentiles from the baseline bins: within the bin of the exact percentile', async () => {
    const data = await server.op(PredictionStatsDocument, { id: deploymentId, batches: { last: 5 } });
    const values = batchRows
      .flat()
      .map((r) => r.prediction)
      .sort((a, b) => a - b);
    const stats = data.deployment!.predictions;
    expect(stats.rowCount).toBe(values.length);
    expect(stats.meanPrediction).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 9);
    const edges = decileEdges(baselineRows.map((r) => r.prediction));
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
    await server.op(ReportPredictionsDocument, {
      input: { deploymentId, batchId: extra.id, rows: scoredRows(77, 20), executionTimeMs: 5 },
    });
    const before = await server.op(SelectionTotalsDocument, { id: deploymentId, batches: { last: 2 } });
    expect(before.deployment!.serviceHealth).toEqual({ batchCount: 2, totalRequests: 42 });
    await server.op(DeleteMonitoringBatchDocument, { id: extra.id });
    const last = await server.op(SelectionTotalsDocument, { id: deploymentId, batches: { last: 2 } });
    const explicit = await server.op(SelectionTotalsDocument, { id: deploymentId, batches: { batchIds: [extra.id, batchIds[4]!] } });
    expect(last.deployment!.serviceHealth).toEqual({ batchCount: 2, totalRequests: 82 });
    expect(explicit.deployment!.serviceHealth).toEqual({ batchCount: 1, totalRequests: 41 });
  });

  it("never shows another organization's batches", async () => {
    const other = await createOrganization(server);
    const own = await createDeployment(server, other.token);
    const data = await server.op(SelectionTotalsDocument, { id: own.id, batches: { batchIds } }, other.token);
    expect(data.deployment).toEqual({ serviceHealth: { batchCount: 0, totalRequests: 0 }, accuracy: { predictionsWithActuals: 0 } });
    const foreign = await server.op(DeploymentDocument, { id: deploymentId }, other.token);
    expect(foreign.deployment).toBeNull();
  });

  it('refuses a selection that is neither or both, naming the argument', async () => {
    const both = await server.graphql(ServiceHealthDocument, { id: deploymentId, batches: { last: 1, batchIds: [] } });
    expect(both.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fieldErrors: [{ field: 'batches' }] });
    const tooMany = await server.graphql(ServiceHealthDocument, { id: deploymentId, batches: { last: 0 } });
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ fieldErrors: [{ field: 'batches.last' }] });
  });

  it('reports activity per UTC day for the last 7 days', async () => {
    const data = await server.op(ActivityDocument, { id: deploymentId });
    const days = data.deployment!.activity;
    expect(days).toHaveLength(7);
    expect(days.at(-1)!.day).toBe(new Date().toISOString().slice(0, 10));
    // Rows carry no timestamp, so they count on the day they arrived: today.
    expect(days.at(-1)!.predictionCount).toBe(batchRows.reduce((n, rows) => n + rows.length, 0));
  });
});
