import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccuracyHealthDocument,
  AccuracyIntervalsDocument,
  DefaultLevelIntervalsDocument,
  DeploymentsByHealthDocument,
  ReportPredictionsDocument,
  SubmitActualsDocument,
  UpdateAccuracyJudgmentDocument,
  type UpdateHealthSettingsInput,
} from '../generated/graphql.js';
import { createBatch, createBinaryDeployment, createDeployment, createOrganization, MISSING_DEPLOYMENT } from '../helpers/fixtures.js';
import { random } from '../helpers/random.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { chiSquareWilsonHilferty, hanleyMcNeilReference, wilsonReference, Z95 } from '../helpers/statistics.js';

// Accuracy confidence intervals read through GraphQL from ingested predictions and actuals, against
// the reference formulas computed here from the raw pairs; and the accuracy health rule judging by
// the whole interval instead of the point.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

type Interval = { metric: string; value: number; lower: number; upper: number; level: number; method: string };

function expectInterval(list: Interval[], metric: string, method: string, [lower, upper]: [number, number], rel = 1e-9): void {
  const found = list.find((i) => i.metric === metric);
  expect(found, metric).toMatchObject({ method, level: 0.95 });
  expect(Math.abs(found!.lower - lower), `${metric} lower ${found!.lower} vs ${lower}`).toBeLessThanOrEqual(rel * lower + 1e-12);
  expect(Math.abs(found!.upper - upper), `${metric} upper ${found!.upper} vs ${upper}`).toBeLessThanOrEqual(rel * upper + 1e-12);
}

/** One batch of regression predictions whose errors (actual − prediction) are `errors`. */
async function regressionBatch(deploymentId: string, errors: number[], token = server.adminToken) {
  const batch = await createBatch(server, deploymentId, `b${errors.length}-${Math.random()}`, token);
  const rows = errors.map((_, i) => ({ features: { age: 30, city: 'Oslo' }, prediction: 10 + (i % 7), associationId: `${batch.id}-${i}` }));
  await server.op(ReportPredictionsDocument, { input: { deploymentId, batchId: batch.id, rows } }, token);
  await server.op(
    SubmitActualsDocument,
    { input: { deploymentId, actuals: rows.map((r, i) => ({ associationId: r.associationId, actualValue: r.prediction + errors[i]! })) } },
    token,
  );
  return batch;
}

describe('Accuracy.confidenceIntervals', () => {
  it('binary: Wilson for accuracy, TPR, PPV; Wilson of the Jaccard index for F1; Hanley–McNeil for AUC', async () => {
    const deployment = await createBinaryDeployment(server, server.adminToken, { predictionThreshold: 0.5 });
    const batch = await createBatch(server, deployment.id);
    const next = random(15);
    const rows = Array.from({ length: 600 }, (_, i) => ({
      features: {},
      prediction: Math.round(next() * 1e6) / 1e6,
      associationId: `r${i}`,
    }));
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows } });
    const outcomes = rows.map((r) => next() < r.prediction * 0.7 + 0.15);
    await server.op(SubmitActualsDocument, {
      input: {
        deploymentId: deployment.id,
        actuals: rows.map((r, i) => ({ associationId: r.associationId, actualValue: outcomes[i] ? 'yes' : 'no' })),
      },
    });
    let tp = 0;
    let fp = 0;
    let tn = 0;
    let fn = 0;
    rows.forEach((r, i) => {
      if (r.prediction >= 0.5) outcomes[i] ? tp++ : fp++;
      else outcomes[i] ? fn++ : tn++;
    });
    const a = (await server.op(AccuracyIntervalsDocument, { id: deployment.id, batches: { last: 1 } })).deployment!.accuracy;
    const list = a.confidenceIntervals;
    expect(list.map((i) => i.metric).sort()).toEqual(['ACCURACY', 'AUC', 'F1', 'PPV', 'TPR']);
    expectInterval(list, 'ACCURACY', 'WILSON', wilsonReference(tp + tn, 600));
    expectInterval(list, 'TPR', 'WILSON', wilsonReference(tp, tp + fn));
    expectInterval(list, 'PPV', 'WILSON', wilsonReference(tp, tp + fp));
    const [jLower, jUpper] = wilsonReference(tp, tp + fp + fn);
    expectInterval(list, 'F1', 'WILSON_JACCARD', [(2 * jLower) / (1 + jLower), (2 * jUpper) / (1 + jUpper)]);
    const positives = outcomes.filter(Boolean).length;
    expectInterval(list, 'AUC', 'HANLEY_MCNEIL', hanleyMcNeilReference(a.auc!, positives, 600 - positives));
    for (const i of list) expect(i.value).toBe(a[i.metric.toLowerCase() as 'accuracy' | 'auc' | 'f1' | 'tpr' | 'ppv']);

    const wide = (await server.op(AccuracyIntervalsDocument, { id: deployment.id, batches: { last: 1 }, level: 0.99 })).deployment!
      .accuracy;
    const width = (l: Interval[], m: string) => l.find((i) => i.metric === m)!.upper - l.find((i) => i.metric === m)!.lower;
    for (const m of ['ACCURACY', 'AUC', 'F1']) expect(width(wide.confidenceIntervals, m)).toBeGreaterThan(width(list, m));
    expect(wide.confidenceIntervals[0]!.level).toBe(0.99);
    const defaulted = await server.op(DefaultLevelIntervalsDocument, { id: deployment.id });
    expect(defaulted.deployment!.accuracy.confidenceIntervals.every((i) => i.level === 0.95)).toBe(true);
  });

  it('regression: chi-square for RMSE, normal for MAE; none for R² and MAPE', async () => {
    const deployment = await createDeployment(server);
    const next = random(1936);
    const errors = Array.from({ length: 400 }, () => Math.round((next() - 0.5) * 800) / 100);
    await regressionBatch(deployment.id, errors);
    const a = (await server.op(AccuracyIntervalsDocument, { id: deployment.id, batches: { last: 1 } })).deployment!.accuracy;
    const n = errors.length;
    const sse = errors.reduce((s, e) => s + e * e, 0);
    const mean = errors.reduce((s, e) => s + Math.abs(e), 0) / n;
    const sd = Math.sqrt((sse - n * mean * mean) / (n - 1));
    expect(a.confidenceIntervals.map((i) => i.metric)).toEqual(['RMSE', 'MAE']);
    // Wilson–Hilferty is within 10⁻³ of the chi-square quantile.
    expectInterval(
      a.confidenceIntervals,
      'RMSE',
      'CHI_SQUARE',
      [Math.sqrt(sse / chiSquareWilsonHilferty(Z95, n)), Math.sqrt(sse / chiSquareWilsonHilferty(-Z95, n))],
      1e-3,
    );
    expectInterval(a.confidenceIntervals, 'MAE', 'NORMAL', [mean - (Z95 * sd) / Math.sqrt(n), mean + (Z95 * sd) / Math.sqrt(n)], 1e-6);
  });

  it('refuses a level outside 0.5–0.999, naming it; a foreign deployment is null like a missing one', async () => {
    const deployment = await createDeployment(server);
    await regressionBatch(deployment.id, [1, -1, 2]);
    for (const level of [0.3, 1, 0.9995]) {
      const answer = await server.graphql(AccuracyIntervalsDocument, { id: deployment.id, batches: { last: 1 }, level });
      expect(answer.status).toBe(200);
      expect(answer.errors?.[0]).toMatchObject({
        message: expect.stringContaining('level'),
        extensions: { code: 'BAD_USER_INPUT', fieldErrors: [{ field: 'level' }] },
      });
    }
    const other = await createOrganization(server);
    for (const id of [deployment.id, MISSING_DEPLOYMENT]) {
      const data = await server.op(AccuracyIntervalsDocument, { id, batches: { last: 1 } }, other.token);
      expect(data.deployment).toBeNull();
    }
  });
});

describe('the accuracy health rule judged by the confidence interval', () => {
  it('needs the whole interval past a threshold: a small batch stays below, a large one fails; the inventory agrees', async () => {
    const org = await createOrganization(server, null);
    const small = await createDeployment(server, org.token, { label: 'small' });
    const large = await createDeployment(server, org.token, { label: 'large' });
    // RMSE exactly 1.1 in both: ±1.1 errors. At 30 rows the 95% interval is about [0.88, 1.47]; at 2,000, [1.07, 1.14].
    await regressionBatch(
      small.id,
      Array.from({ length: 30 }, (_, i) => (i % 2 ? 1.1 : -1.1)),
      org.token,
    );
    await regressionBatch(
      large.id,
      Array.from({ length: 2000 }, (_, i) => (i % 2 ? 1.1 : -1.1)),
      org.token,
    );
    const settings = async (deploymentId: string, accuracy: UpdateHealthSettingsInput['accuracy']) => {
      const data = await server.op(UpdateAccuracyJudgmentDocument, { input: { deploymentId, accuracy } }, org.token);
      if (data.updateHealthSettings.__typename !== 'UpdateHealthSettingsSuccess') throw new Error(JSON.stringify(data));
      return data.updateHealthSettings.deployment.healthSettings.accuracy;
    };
    const health = async (id: string) => (await server.op(AccuracyHealthDocument, { id }, org.token)).deployment!.health.accuracy;

    for (const d of [small, large]) {
      expect(await settings(d.id, { metric: 'RMSE', atRiskThreshold: 0.9, failingThreshold: 1, batchCount: 1 })).toEqual({
        batchCount: 1,
        metric: 'RMSE',
        atRiskThreshold: 0.9,
        failingThreshold: 1,
        judgeBy: 'POINT',
        confidenceLevel: 0.95,
      });
      expect((await health(d.id)).status).toBe('FAILING');
    }
    for (const d of [small, large])
      expect(await settings(d.id, { judgeBy: 'CONFIDENCE_INTERVAL' })).toMatchObject({ judgeBy: 'CONFIDENCE_INTERVAL' });

    const n = 30;
    const lower = Math.sqrt((n * 1.21) / chiSquareWilsonHilferty(Z95, n));
    expect(lower).toBeGreaterThan(0.85);
    expect(lower).toBeLessThan(0.9);
    const smallHealth = await health(small.id);
    expect(smallHealth).toMatchObject({ status: 'PASSING', batchCount: 1 });
    expect(smallHealth.reason).toMatch(
      /^RMSE 1\.100 over 30 predictions with actuals, 95\.00% interval \[0\.87\d\d, 1\.4\d\d\] within thresholds$/,
    );
    const largeHealth = await health(large.id);
    expect(largeHealth.status).toBe('FAILING');
    expect(largeHealth.reason).toMatch(/interval \[1\.0\d\d, 1\.1\d\d\] reached the failing threshold 1 \(the whole interval\)$/);

    // A lower at-risk threshold is under the small batch's whole interval: AT_RISK, still not FAILING.
    await settings(small.id, { atRiskThreshold: 0.85 });
    expect(await health(small.id)).toMatchObject({ status: 'AT_RISK' });
    expect((await health(small.id)).reason).toContain('reached the at-risk threshold 0.85 (the whole interval)');

    const failing = (await server.op(DeploymentsByHealthDocument, { health: { accuracy: ['FAILING'] } }, org.token)).deployments;
    expect(failing.edges.map((e) => e.node.label)).toEqual(['large']);
    const atRisk = (await server.op(DeploymentsByHealthDocument, { health: { accuracy: ['AT_RISK'] } }, org.token)).deployments;
    expect(atRisk.edges.map((e) => e.node.label)).toEqual(['small']);

    // At 99.9% the large batch's interval is wider, and still wholly above 1.
    await settings(large.id, { confidenceLevel: 0.999 });
    expect(await health(large.id)).toMatchObject({ status: 'FAILING', reason: expect.stringContaining('99.90% interval [1.04') });
  });

  it('refuses CONFIDENCE_INTERVAL for a metric without an interval, and a bad level; a metric changed later is judged by its point', async () => {
    const deployment = await createDeployment(server);
    await regressionBatch(deployment.id, [1, -2, 3, -1, 2]);
    const update = (accuracy: UpdateHealthSettingsInput['accuracy']) =>
      server.op(UpdateAccuracyJudgmentDocument, { input: { deploymentId: deployment.id, accuracy } });
    const refused = async (accuracy: UpdateHealthSettingsInput['accuracy'], field: string) => {
      const data = await update(accuracy);
      if (data.updateHealthSettings.__typename !== 'ValidationError') throw new Error(JSON.stringify(data));
      expect(data.updateHealthSettings.fieldErrors.map((e) => e.field)).toEqual([field]);
      return data.updateHealthSettings.message;
    };
    expect(await refused({ metric: 'R2', judgeBy: 'CONFIDENCE_INTERVAL' }, 'accuracy.judgeBy')).toContain('R2 has no confidence interval');
    expect(await refused({ confidenceLevel: 0.3 }, 'accuracy.confidenceLevel')).toContain('between 0.5 and 0.999');
    expect(await refused({ confidenceLevel: 1 }, 'accuracy.confidenceLevel')).toBeTruthy();

    const ok = await update({ metric: 'MAE', judgeBy: 'CONFIDENCE_INTERVAL', confidenceLevel: 0.9, atRiskThreshold: 100 });
    expect(ok.updateHealthSettings.__typename).toBe('UpdateHealthSettingsSuccess');
    let health = (await server.op(AccuracyHealthDocument, { id: deployment.id })).deployment!.health.accuracy;
    expect(health).toMatchObject({ status: 'PASSING' });
    expect(health.reason).toContain('90.00% interval');

    // The metric alone changes to one without an interval: accepted, judged by the point, said so.
    const later = await update({ metric: 'R2' });
    expect(later.updateHealthSettings.__typename).toBe('UpdateHealthSettingsSuccess');
    health = (await server.op(AccuracyHealthDocument, { id: deployment.id })).deployment!.health.accuracy;
    expect(health.reason).toContain('no confidence interval for R2: judged by the point');

    // MAE of a single prediction has no interval to judge by: UNKNOWN, not judged by the point.
    const single = await createDeployment(server);
    await regressionBatch(single.id, [500]);
    await server.op(UpdateAccuracyJudgmentDocument, {
      input: { deploymentId: single.id, accuracy: { metric: 'MAE', judgeBy: 'CONFIDENCE_INTERVAL', atRiskThreshold: 1 } },
    });
    expect((await server.op(AccuracyHealthDocument, { id: single.id })).deployment!.health.accuracy).toMatchObject({
      status: 'UNKNOWN',
      reason: 'MAE 500.0 over 1 predictions with actuals: too few for a confidence interval',
    });
  });
});
