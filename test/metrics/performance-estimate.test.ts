import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchEstimateLiveDocument,
  BatchPagePerformanceEstimateDocument,
  BatchPerformanceEstimateDocument,
  DeploymentPerformanceEstimateDocument,
  type PerformanceEstimateFieldsFragment,
  ReportPredictionsDocument,
  SubmitActualsDocument,
} from '../generated/graphql.js';
import {
  createBatch,
  createBinaryDeployment,
  createDeployment,
  createMulticlassDeployment,
  createOrganization,
  MISSING_BATCH,
} from '../helpers/fixtures.js';
import { closeSockets, connect, watch } from '../helpers/graphql-ws.js';
import { random } from '../helpers/random.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The label-free performance estimate (CBPE) of binary batches, end to end: simulated models whose
// truth is known. A calibrated model (y ~ Bernoulli(p)) realises what was estimated, within the
// sampling error of its batch; a miscalibrated one (y ~ Bernoulli(p²)) shows a large calibration
// error and estimates that tracked reality badly. Reference figures are computed here from the raw
// probabilities.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await closeSockets();
  await server?.stop();
});

const ROWS = 3000;

interface Simulated {
  deploymentId: string;
  batchIds: string[];
  /** Per batch: the probabilities sent and the outcomes drawn. */
  batches: { p: number[]; y: boolean[] }[];
}

/** Batches of ROWS predictions p = draw(), outcomes y ~ Bernoulli(outcome(p)); actuals sent only when asked. */
async function simulate(options: {
  batches: number;
  seed: number;
  draw: (next: () => number) => number;
  outcome: (p: number) => number;
  token?: string;
}): Promise<Simulated & { sendActuals: () => Promise<void> }> {
  const token = options.token ?? server.adminToken;
  const deployment = await createBinaryDeployment(server, token);
  const next = random(options.seed);
  const result: Simulated = { deploymentId: deployment.id, batchIds: [], batches: [] };
  for (let b = 0; b < options.batches; b++) {
    const batch = await createBatch(server, deployment.id, `sim ${b}`, token);
    const p = Array.from({ length: ROWS }, () => Math.round(options.draw(next) * 1e6) / 1e6);
    const y = p.map((pi) => next() < options.outcome(pi));
    await server.op(
      ReportPredictionsDocument,
      {
        input: {
          deploymentId: deployment.id,
          batchId: batch.id,
          rows: p.map((prediction, i) => ({ features: {}, prediction, associationId: `${b}-${i}` })),
        },
      },
      token,
    );
    result.batchIds.push(batch.id);
    result.batches.push({ p, y });
  }
  const sendActuals = async () => {
    for (const [b, { y }] of result.batches.entries()) {
      await server.op(
        SubmitActualsDocument,
        {
          input: {
            deploymentId: deployment.id,
            actuals: y.map((yi, i) => ({ associationId: `${b}-${i}`, actualValue: yi ? 'yes' : 'no' })),
          },
        },
        token,
      );
    }
  };
  return { ...result, sendActuals };
}

/** CBPE over the exact probabilities at threshold 0.5 (what the server's 1,000 bins approximate). */
function referenceEstimate(p: number[]) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (const pi of p) {
    if (pi >= 0.5) {
      tp += pi;
      fp += 1 - pi;
    } else {
      fn += pi;
      tn += 1 - pi;
    }
  }
  // AUC of weight p_i as a positive against weight 1 − p_j as a negative, ties half.
  const sorted = [...p].sort((a, b) => a - b);
  let area = 0;
  let negativesBelow = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    let positives = 0;
    let negatives = 0;
    while (j < sorted.length && sorted[j] === sorted[i]) {
      positives += sorted[j]!;
      negatives += 1 - sorted[j]!;
      j++;
    }
    area += positives * (negativesBelow + negatives / 2);
    negativesBelow += negatives;
    i = j;
  }
  const totalPositive = p.reduce((a, b) => a + b, 0);
  return {
    accuracy: (tp + tn) / p.length,
    precision: tp / (tp + fp),
    recall: tp / (tp + fn),
    f1: (2 * tp) / (2 * tp + fp + fn),
    auc: area / (totalPositive * (p.length - totalPositive)),
  };
}

/** Realised figures from (p, y) pairs at threshold 0.5. */
function realisedOf(p: number[], y: boolean[]) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  p.forEach((pi, i) => {
    if (pi >= 0.5) y[i] ? tp++ : fp++;
    else y[i] ? fn++ : tn++;
  });
  return { accuracy: (tp + tn) / p.length, f1: (2 * tp) / (2 * tp + fp + fn) };
}

const uniform = (next: () => number) => next();

async function estimateOf(deploymentId: string, batchIds: string[], token = server.adminToken) {
  const data = await server.op(DeploymentPerformanceEstimateDocument, { id: deploymentId, batches: { batchIds } }, token);
  return data.deployment?.performanceEstimate;
}

function expectFiguresNull(figures: PerformanceEstimateFieldsFragment['realised']) {
  expect(figures).toEqual({ accuracy: null, precision: null, recall: null, f1: null, auc: null });
}

describe('the label-free performance estimate of a binary deployment', () => {
  it('is there before any actual arrives, as CBPE over the raw probabilities computes it', async () => {
    const sim = await simulate({ batches: 1, seed: 11, draw: uniform, outcome: (p) => p });
    const data = await server.op(BatchPerformanceEstimateDocument, { id: sim.batchIds[0]! });
    const e = data.monitoringBatch!.performanceEstimate!;
    expect(e).toMatchObject({ batchCount: 1, predictionThreshold: 0.5, rowCount: ROWS, predictionsWithActuals: 0 });
    const reference = referenceEstimate(sim.batches[0]!.p);
    // Midpoints of 1,000 bins: each count within 0.0005 per prediction (accuracy within 0.0005);
    // the ratios move by about as much, the AUC by up to a bin's ties.
    expect(Math.abs(e.expected.accuracy! - reference.accuracy)).toBeLessThanOrEqual(0.0005);
    expect(Math.abs(e.expected.precision! - reference.precision)).toBeLessThan(0.002);
    expect(Math.abs(e.expected.recall! - reference.recall)).toBeLessThan(0.002);
    expect(Math.abs(e.expected.f1! - reference.f1)).toBeLessThan(0.002);
    expect(Math.abs(e.expected.auc! - reference.auc)).toBeLessThan(0.002);
    expectFiguresNull(e.realised);
    expectFiguresNull(e.expectedWithActuals);
    expect(e.calibration).toMatchObject({ expectedCalibrationError: null, maxCalibrationGap: null, predictionsWithActuals: 0 });
    expect(e.calibration.bins).toHaveLength(10);
    expect(e.tracking).toMatchObject({ batchesWithActuals: 0, accuracyMeanAbsoluteError: null, f1BatchCount: 0, aucBatchCount: 0 });
  });

  it('of a calibrated model is close to what its actuals realise, with a small calibration error', async () => {
    const sim = await simulate({ batches: 3, seed: 12, draw: uniform, outcome: (p) => p });
    await sim.sendActuals();
    // Tolerances from the sample size: a batch's realised accuracy is a mean of ROWS = 3,000
    // independent correct / wrong draws (variance ≤ 1/4 each), so its standard deviation is
    // ≤ 0.5/√3000 ≈ 0.0091; 0.04 is over 4σ. F1 and AUC vary about as much at these sizes
    // (checked over seeds: |error| < 0.02); the same 0.04 bound. Over the 9,000 rows merged, σ ≈ 0.0053.
    for (const [b, id] of sim.batchIds.entries()) {
      const e = (await server.op(BatchPerformanceEstimateDocument, { id })).monitoringBatch!.performanceEstimate!;
      const { p, y } = sim.batches[b]!;
      const realised = realisedOf(p, y);
      expect(e.predictionsWithActuals).toBe(ROWS);
      expect(e.realised.accuracy).toBeCloseTo(realised.accuracy, 12);
      expect(e.realised.f1).toBeCloseTo(realised.f1, 12);
      expect(Math.abs(e.expected.accuracy! - e.realised.accuracy!)).toBeLessThan(0.04);
      expect(Math.abs(e.expected.f1! - e.realised.f1!)).toBeLessThan(0.04);
      expect(Math.abs(e.expected.auc! - e.realised.auc!)).toBeLessThan(0.04);
      // Every prediction has its actual: the like-with-like estimate is the estimate itself.
      expect(e.expectedWithActuals.accuracy).toBeCloseTo(e.expected.accuracy!, 12);
    }
    const merged = (await estimateOf(sim.deploymentId, sim.batchIds))!;
    expect(merged).toMatchObject({ batchCount: 3, rowCount: 3 * ROWS, predictionsWithActuals: 3 * ROWS });
    expect(Math.abs(merged.expected.accuracy! - merged.realised.accuracy!)).toBeLessThan(0.025);
    // 10 bins of ~900 actuals: each bin's observed rate has σ ≤ 0.5/30 ≈ 0.017 around its mean
    // prediction, so the ECE (a weighted mean of |gaps|) is ≈ 0.013; 0.04 leaves room.
    expect(merged.calibration.predictionsWithActuals).toBe(3 * ROWS);
    expect(merged.calibration.expectedCalibrationError!).toBeLessThan(0.04);
    expect(merged.calibration.maxCalibrationGap!).toBeLessThan(0.08);
    expect(merged.calibration.bins.reduce((n, bin) => n + bin.count, 0)).toBe(3 * ROWS);
    expect(merged.tracking).toMatchObject({ batchesWithActuals: 3, f1BatchCount: 3, aucBatchCount: 3 });
    expect(merged.tracking.accuracyMeanAbsoluteError!).toBeLessThan(0.04);
    expect(merged.tracking.f1MeanAbsoluteError!).toBeLessThan(0.04);
    expect(merged.tracking.aucMeanAbsoluteError!).toBeLessThan(0.04);
  });

  it('of a miscalibrated model (y ~ Bernoulli(p²)) shows a large calibration error and a large tracking error', async () => {
    // p uniform on [0.5, 1): every prediction positive; expected accuracy E[p] = 0.75, realised
    // E[p²] = 7/12 ≈ 0.583 (a gap of 1/6); the calibration gap p − p² averages 1/6, up to ~0.25 near 0.5.
    const sim = await simulate({ batches: 2, seed: 13, draw: (next) => 0.5 + next() / 2, outcome: (p) => p * p });
    await sim.sendActuals();
    const e = (await estimateOf(sim.deploymentId, sim.batchIds))!;
    expect(e.expected.accuracy!).toBeCloseTo(0.75, 1);
    expect(e.realised.accuracy!).toBeCloseTo(7 / 12, 1);
    expect(e.calibration.expectedCalibrationError!).toBeGreaterThan(0.12);
    expect(e.calibration.maxCalibrationGap!).toBeGreaterThan(0.2);
    // The gap p − p² is 0 at p = 1: the top bin is nearly calibrated, the [0.5, 0.6) bin far off.
    const low = e.calibration.bins.find((bin) => bin.lower === 0.5)!;
    expect(low.meanPredicted! - low.observedPositiveRate!).toBeGreaterThan(0.2);
    expect(e.calibration.bins.filter((bin) => bin.upper <= 0.5).every((bin) => bin.count === 0 && bin.meanPredicted === null)).toBe(true);
    expect(e.tracking.batchesWithActuals).toBe(2);
    expect(e.tracking.accuracyMeanAbsoluteError!).toBeGreaterThan(0.12);
    expect(e.tracking.f1MeanAbsoluteError!).toBeGreaterThan(0.08);
  });

  it('compares like with like when only some predictions have actuals', async () => {
    const sim = await simulate({ batches: 1, seed: 14, draw: uniform, outcome: (p) => p });
    const { p, y } = sim.batches[0]!;
    // Actuals for the predictions above 0.7 only: the estimate over them differs from the whole batch's.
    const chosen = p.flatMap((pi, i) => (pi > 0.7 ? [i] : []));
    await server.op(SubmitActualsDocument, {
      input: {
        deploymentId: sim.deploymentId,
        actuals: chosen.map((i) => ({ associationId: `0-${i}`, actualValue: y[i] ? 'yes' : 'no' })),
      },
    });
    const e = (await server.op(BatchPerformanceEstimateDocument, { id: sim.batchIds[0]! })).monitoringBatch!.performanceEstimate!;
    expect(e.rowCount).toBe(ROWS);
    expect(e.predictionsWithActuals).toBe(chosen.length);
    const reference = referenceEstimate(chosen.map((i) => p[i]!));
    expect(Math.abs(e.expectedWithActuals.accuracy! - reference.accuracy)).toBeLessThanOrEqual(0.0005);
    expect(Math.abs(e.expectedWithActuals.accuracy! - e.expected.accuracy!)).toBeGreaterThan(0.05);
    expect(e.realised.accuracy).toBeCloseTo(
      realisedOf(
        chosen.map((i) => p[i]!),
        chosen.map((i) => y[i]!),
      ).accuracy,
      12,
    );
    expect(e.tracking.accuracyMeanAbsoluteError).toBeCloseTo(Math.abs(e.expectedWithActuals.accuracy! - e.realised.accuracy!), 12);
  });
});

describe('performance estimates of other deployments and organizations', () => {
  it('answer null for regression and multiclass deployments and their batches', async () => {
    const regression = await createDeployment(server);
    const multiclass = await createMulticlassDeployment(server, ['cat', 'dog', 'fox']);
    for (const deployment of [regression, multiclass]) {
      const batch = await createBatch(server, deployment.id);
      const rows =
        deployment === regression ? [{ features: { age: 1 }, prediction: 0.7 }] : [{ features: {}, probabilities: [0.2, 0.3, 0.5] }];
      await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows } });
      expect(await estimateOf(deployment.id, [batch.id])).toBeNull();
      const data = await server.op(BatchPerformanceEstimateDocument, { id: batch.id });
      expect(data.monitoringBatch).toEqual({ id: batch.id, performanceEstimate: null });
      const [stored] = await server.sql`select probability_bins from batch_column_stats where batch_id = ${batch.id} and is_prediction`;
      expect(stored!.probability_bins).toBeNull();
    }
  });

  it("treat another organization's deployment and batches as missing", async () => {
    const org = await createOrganization(server, null);
    const sim = await simulate({ batches: 1, seed: 15, draw: uniform, outcome: (p) => p, token: org.token });
    const ownDeployment = await createBinaryDeployment(server);
    // Foreign deployment: missing.
    expect(await estimateOf(sim.deploymentId, sim.batchIds)).toBeUndefined();
    // Foreign batch ids in a selection of one's own deployment: left out.
    expect(await estimateOf(ownDeployment.id, sim.batchIds)).toMatchObject({ batchCount: 0, rowCount: 0, expected: { accuracy: null } });
    // Foreign or missing batch: null.
    for (const id of [sim.batchIds[0]!, MISSING_BATCH]) {
      expect((await server.op(BatchPerformanceEstimateDocument, { id })).monitoringBatch).toBeNull();
    }
    // The owner sees it.
    expect((await estimateOf(sim.deploymentId, sim.batchIds, org.token))!.rowCount).toBe(ROWS);
  });
});

describe('SQL statements per page of batches with their performance estimate', () => {
  it('costs the same number of statements for 5 and 50 batches', async () => {
    const org = await createOrganization(server, null);
    const counts: number[] = [];
    for (const size of [5, 50]) {
      const deployment = await createBinaryDeployment(server, org.token);
      for (let i = 0; i < size; i++) {
        const batch = await createBatch(server, deployment.id, `b${i}`, org.token);
        const rows = [0.2, 0.6, 0.9].map((prediction, j) => ({ features: {}, prediction, associationId: `${i}-${j}` }));
        await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows } }, org.token);
      }
      await server.op(
        SubmitActualsDocument,
        { input: { deploymentId: deployment.id, actuals: [{ associationId: '0-0', actualValue: 'no' }] } },
        org.token,
      );
      const { answer, statements } = await server.statementsOf((headers) =>
        server.op(BatchPagePerformanceEstimateDocument, { id: deployment.id, first: 50 }, org.token, headers),
      );
      const edges = answer.deployment!.batches.edges;
      expect(edges).toHaveLength(size);
      expect(edges.every((e) => e.node.performanceEstimate!.rowCount === 3)).toBe(true);
      expect(edges.filter((e) => e.node.performanceEstimate!.predictionsWithActuals === 1)).toHaveLength(1);
      counts.push(statements.length);
    }
    // token, deployment (its loader also answers the batches' deployment), batch page, probability histograms, accuracy sums
    expect(counts).toMatchInlineSnapshot(`
      [
        5,
        5,
      ]
    `);
    expect(counts[0]).toBe(counts[1]);
  });
});

describe('the monitoringBatch subscription', () => {
  it('pushes the estimate as rows stream in, and the realised figures when actuals arrive', async () => {
    const deployment = await createBinaryDeployment(server);
    const batch = await createBatch(server, deployment.id, 'live estimate');
    const sub = watch(connect(server), BatchEstimateLiveDocument, { id: batch.id });
    const first = await sub.until((m) => m.monitoringBatch.predictionCount === 0);
    expect(first.data.monitoringBatch.performanceEstimate).toMatchObject({ rowCount: 0, expected: { accuracy: null } });
    const next = random(16);
    const send = async (from: number, n: number) => {
      const rows = Array.from({ length: n }, (_, i) => ({
        features: {},
        prediction: Math.round(next() * 1e6) / 1e6,
        associationId: `l-${from + i}`,
      }));
      await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows } });
    };
    for (const [from, n] of [
      [0, 200],
      [200, 300],
    ] as const) {
      await send(from, n);
      const pushed = await sub.until((m) => m.monitoringBatch.predictionCount === from + n);
      const estimate = pushed.data.monitoringBatch.performanceEstimate!;
      expect(estimate.rowCount).toBe(from + n);
      // What was pushed is what a query answers now.
      const now = (await server.op(BatchPerformanceEstimateDocument, { id: batch.id })).monitoringBatch!.performanceEstimate!;
      expect(estimate.expected).toEqual(now.expected);
      expect(estimate.expected.accuracy).not.toBeNull();
    }
    // Actuals change no batch row, yet the realised figures beside the estimate are pushed.
    await server.op(SubmitActualsDocument, {
      input: {
        deploymentId: deployment.id,
        actuals: Array.from({ length: 100 }, (_, i) => ({ associationId: `l-${i}`, actualValue: i % 2 ? 'yes' : 'no' })),
      },
    });
    const realised = await sub.until((m) => m.monitoringBatch.performanceEstimate?.predictionsWithActuals === 100);
    const now = (await server.op(BatchPerformanceEstimateDocument, { id: batch.id })).monitoringBatch!.performanceEstimate!;
    expect(realised.data.monitoringBatch.performanceEstimate!.realised).toEqual(now.realised);
    expect(now.realised.accuracy).not.toBeNull();
    expect(sub.errors).toEqual([]);
    await sub.stop();
  });
});
