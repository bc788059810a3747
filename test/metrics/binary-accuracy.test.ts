import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccuracyDocument, ReportPredictionsDocument, SubmitActualsDocument } from '../generated/graphql.js';
import { createBatch, createBinaryDeployment } from '../helpers/fixtures.js';
import { random } from '../helpers/random.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Accuracy of a binary deployment over batches, against the same metrics computed from the raw
// (p(yes), outcome) pairs: exact for the counting metrics, within 0.005 for AUC (the server bins).

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('binary accuracy', () => {
  it('matches LogLoss, accuracy, F1, TPR, PPV exactly and AUC within 0.005 of the exact ROC AUC', async () => {
    const deployment = await createBinaryDeployment(server, server.adminToken, { predictionThreshold: 0.4 });
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
    const data = await server.op(AccuracyDocument, { id: deployment.id, batches: { last: 3 } });
    const a = data.deployment!.accuracy;
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
    expect(Math.abs(a.auc! - exactAuc)).toBeLessThanOrEqual(0.005);
    expect(a.rmse).toBeNull();
  });
});
