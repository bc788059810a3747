import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PredictedVsActualDocument,
  type PredictedVsActualFieldsFragment,
  type PredictionRowInput,
  ReportPredictionsDocument,
  SubmitActualsDocument,
} from '../generated/graphql.js';
import { createBatch, createBinaryDeployment, createDeployment, createMulticlassDeployment } from '../helpers/fixtures.js';
import { random } from '../helpers/random.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Predicted vs actual (the Accuracy tab's series): the mean actual and mean prediction, and the
// actual and predicted classes, of the predictions that have an actual — per batch and over a
// selection — against the same figures computed here from the raw (prediction, actual) pairs.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

/** Sixty-fourths summing to 64, all different. */
const TRIPLES = [
  [10, 20, 34],
  [5, 27, 32],
  [40, 15, 9],
  [22, 30, 12],
];

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

async function report(deploymentId: string, batchId: string, rows: PredictionRowInput[]) {
  const data = await server.op(ReportPredictionsDocument, { input: { deploymentId, batchId, rows } });
  if (data.reportPredictions.__typename !== 'ReportPredictionsSuccess') throw new Error(JSON.stringify(data));
}

async function submit(deploymentId: string, actuals: { associationId: string; actualValue: string | number }[]) {
  const data = await server.op(SubmitActualsDocument, { input: { deploymentId, actuals } });
  if (data.submitActuals.__typename !== 'SubmitActualsSuccess') throw new Error(JSON.stringify(data));
}

async function predictedVsActual(deploymentId: string, batchIds: string[]) {
  const { deployment } = await server.op(PredictedVsActualDocument, { id: deploymentId, batches: { batchIds } });
  return { selection: deployment!.accuracy, perBatch: deployment!.overBatches.map((row) => row.accuracy) };
}

/** Class counts and shares in the given class order. */
function classes(classNames: string[], labels: string[]) {
  return classNames.map((className) => {
    const count = labels.filter((label) => label === className).length;
    return { className, count, share: labels.length ? count / labels.length : 0 };
  });
}

function expectClasses(actual: PredictedVsActualFieldsFragment['actualClassDistribution'], expected: ReturnType<typeof classes>) {
  expect(actual.map(({ className, count }) => ({ className, count }))).toEqual(
    expected.map(({ className, count }) => ({ className, count })),
  );
  actual.forEach((share, i) => {
    expect(share.share).toBeCloseTo(expected[i]!.share, 12);
  });
}

describe('predicted vs actual', () => {
  it('regression: the mean actual and the mean prediction of the rows with actuals, whichever came first, the latest actual counting', async () => {
    const deployment = await createDeployment(server);
    const next = random(21);
    const batches = [
      await createBatch(server, deployment.id),
      await createBatch(server, deployment.id),
      await createBatch(server, deployment.id),
    ];
    // Per batch: the (prediction, actual) pairs that end up joined.
    const pairs: [number, number][][] = [[], [], []];
    for (const [b, batch] of batches.entries()) {
      const rows = Array.from({ length: 120 }, (_, i) => ({
        features: { age: i },
        prediction: Math.round((next() * 200 - 50 + b * 40) * 1000) / 1000,
        associationId: `reg-${b}-${i}`,
      }));
      // Batch 0: actuals first (they join when the predictions arrive); batch 1: after; batch 2: none.
      const actuals = rows.map((row) => ({
        associationId: row.associationId,
        actualValue: Math.round((row.prediction + next() * 30 - 10) * 100) / 100,
      }));
      const withActuals = actuals.filter((_, i) => i % 4 !== 0);
      if (b === 0) await submit(deployment.id, withActuals);
      await report(deployment.id, batch.id, rows);
      if (b === 1) {
        await submit(deployment.id, withActuals);
        // A replaced actual counts with its latest value only.
        withActuals[0] = { ...withActuals[0]!, actualValue: 1234.5 };
        await submit(deployment.id, [withActuals[0]]);
      }
      if (b < 2) {
        const byId = new Map(rows.map((row) => [row.associationId, row.prediction]));
        pairs[b] = withActuals.map((a) => [byId.get(a.associationId)!, a.actualValue]);
      }
    }
    const { selection, perBatch } = await predictedVsActual(
      deployment.id,
      batches.map((b) => b.id),
    );
    for (const b of [0, 1]) {
      expect(perBatch[b]!.predictionsWithActuals).toBe(90);
      expect(perBatch[b]!.meanActual).toBeCloseTo(mean(pairs[b]!.map(([, y]) => y)), 9);
      expect(perBatch[b]!.meanPredicted).toBeCloseTo(mean(pairs[b]!.map(([p]) => p)), 9);
      expect(perBatch[b]!.actualClassDistribution).toEqual([]);
    }
    expect(perBatch[2]).toEqual({
      predictionsWithActuals: 0,
      meanActual: null,
      meanPredicted: null,
      actualClassDistribution: [],
      predictedClassDistribution: [],
    });
    const all = [...pairs[0]!, ...pairs[1]!];
    expect(selection.predictionsWithActuals).toBe(180);
    expect(selection.meanActual).toBeCloseTo(mean(all.map(([, y]) => y)), 9);
    expect(selection.meanPredicted).toBeCloseTo(mean(all.map(([p]) => p)), 9);
  });

  it('binary: the positive-class rate of the actuals, the mean probability within 0.0005, and the classes at the threshold', async () => {
    // The positive class first in classNames: the counts must land on the right class.
    const deployment = await createBinaryDeployment(server, server.adminToken, {
      classNames: ['churned', 'stayed'],
      positiveClass: 'churned',
      predictionThreshold: 0.4,
    });
    const classNames = ['churned', 'stayed'];
    const next = random(5);
    const batches = [await createBatch(server, deployment.id), await createBatch(server, deployment.id)];
    const pairs: [number, boolean][][] = [[], []];
    for (const [b, batch] of batches.entries()) {
      const rows = Array.from({ length: 300 }, (_, i) => ({
        features: {},
        prediction: Math.round(next() ** (b + 1) * 1e6) / 1e6,
        associationId: `bin-${b}-${i}`,
      }));
      await report(deployment.id, batch.id, rows);
      const outcomes = rows.map((row) => next() < row.prediction * 0.7 + 0.15);
      await submit(
        deployment.id,
        rows.map((row, i) => ({ associationId: row.associationId, actualValue: outcomes[i] ? 'churned' : 'stayed' })),
      );
      pairs[b] = rows.map((row, i) => [row.prediction, outcomes[i]!]);
    }
    const { selection, perBatch } = await predictedVsActual(
      deployment.id,
      batches.map((b) => b.id),
    );
    const check = (got: PredictedVsActualFieldsFragment, list: [number, boolean][]) => {
      expect(got.predictionsWithActuals).toBe(list.length);
      expect(got.meanActual).toBeCloseTo(list.filter(([, y]) => y).length / list.length, 12);
      expect(Math.abs(got.meanPredicted! - mean(list.map(([p]) => p)))).toBeLessThanOrEqual(0.0005);
      expectClasses(
        got.actualClassDistribution,
        classes(
          classNames,
          list.map(([, y]) => (y ? 'churned' : 'stayed')),
        ),
      );
      expectClasses(
        got.predictedClassDistribution,
        classes(
          classNames,
          list.map(([p]) => (p >= 0.4 ? 'churned' : 'stayed')),
        ),
      );
    };
    check(perBatch[0]!, pairs[0]!);
    check(perBatch[1]!, pairs[1]!);
    check(selection, [...pairs[0]!, ...pairs[1]!]);
    // The two batches really differ (the second's probabilities are squared): the series shows it.
    expect(perBatch[1]!.meanPredicted!).toBeLessThan(perBatch[0]!.meanPredicted! - 0.05);
  });

  it('multiclass: the actual and the predicted (argmax) classes of the rows with actuals; zero counts without actuals', async () => {
    const classNames = ['cat', 'dog', 'fox'];
    const deployment = await createMulticlassDeployment(server, classNames);
    const next = random(9);
    const batches = [await createBatch(server, deployment.id), await createBatch(server, deployment.id)];
    const actualLabels: string[] = [];
    const predictedLabels: string[] = [];
    const rows = Array.from({ length: 200 }, (_, i) => {
      // Distinct probabilities in 1/64 steps (the argmax is unambiguous), rotated so every class wins some.
      const triple = TRIPLES[Math.floor(next() * TRIPLES.length)]!;
      const turn = Math.floor(next() * 3);
      const probabilities = [0, 1, 2].map((k) => triple[(k + turn) % 3]! / 64);
      return { features: {}, probabilities, associationId: `mc-${i}` };
    });
    await report(deployment.id, batches[0]!.id, rows);
    await report(deployment.id, batches[1]!.id, [{ features: {}, probabilities: [0.2, 0.3, 0.5], associationId: 'mc-lonely' }]);
    const actuals = rows
      .filter((_, i) => i % 5 !== 0)
      .map((row) => {
        const label = classNames[Math.floor(next() * 3)]!;
        actualLabels.push(label);
        predictedLabels.push(classNames[row.probabilities.indexOf(Math.max(...row.probabilities))]!);
        return { associationId: row.associationId, actualValue: label };
      });
    await submit(deployment.id, actuals);
    const { selection, perBatch } = await predictedVsActual(
      deployment.id,
      batches.map((b) => b.id),
    );
    expect(perBatch[0]!.predictionsWithActuals).toBe(160);
    expectClasses(perBatch[0]!.actualClassDistribution, classes(classNames, actualLabels));
    expectClasses(perBatch[0]!.predictedClassDistribution, classes(classNames, predictedLabels));
    expect(perBatch[0]!.meanActual).toBeNull();
    expect(perBatch[1]!.actualClassDistribution).toEqual(classNames.map((className) => ({ className, count: 0, share: 0 })));
    expect(perBatch[1]!.predictedClassDistribution).toEqual(classNames.map((className) => ({ className, count: 0, share: 0 })));
    expectClasses(selection.actualClassDistribution, classes(classNames, actualLabels));
  });
});
