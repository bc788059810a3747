import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeploymentHealthDocument,
  type DeploymentHealthFilter,
  DeploymentsByHealthDocument,
  ReportDeploymentStatsDocument,
  ReportPredictionsDocument,
  SetTrainingBaselineDocument,
  SubmitActualsDocument,
  UpdateHealthSettingsDocument,
} from '../generated/graphql.js';
import { createBatch, createDeployment, createOrganization } from '../helpers/fixtures.js';
import { scoredRows } from '../helpers/ingest-data.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Prediction health (C9): service, drift and accuracy each PASSING, AT_RISK, FAILING or UNKNOWN over
// the last N batches, by thresholds in the deployment's health settings; and the inventory of
// deployments filtered by those statuses.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('prediction health (C9)', () => {
  it('is UNKNOWN without data, then follows error rates, drift of important features and accuracy thresholds', async () => {
    const deployment = await createDeployment(server, server.adminToken, {
      features: [
        { name: 'age', type: 'NUMERIC', importance: 0.9 },
        { name: 'city', type: 'CATEGORICAL', importance: 0.1 },
      ],
    });
    const health = async () => (await server.op(DeploymentHealthDocument, { id: deployment.id })).deployment!.health;
    expect(await health()).toMatchObject({
      service: { status: 'UNKNOWN' },
      drift: { status: 'UNKNOWN', reason: 'no training baseline' },
      accuracy: { status: 'UNKNOWN' },
    });

    await server.op(SetTrainingBaselineDocument, { input: { deploymentId: deployment.id, rows: scoredRows(1, 800) } });
    const batch = await createBatch(server, deployment.id);
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows: scoredRows(2, 300) } });
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
    await server.op(ReportPredictionsDocument, {
      input: { deploymentId: deployment.id, batchId: shifted.id, rows: scoredRows(3, 300, 30) },
    });
    for (let i = 0; i < 10; i++)
      await server.op(ReportDeploymentStatsDocument, {
        input: { deploymentId: deployment.id, batchId: shifted.id, numPredictions: 1, systemError: true },
      });
    status = await health();
    expect(status.service.status).toBe('FAILING');
    expect(status.drift.status).toBe('FAILING');
    expect(status.drift.reason).toContain('age');

    const settings = await server.op(UpdateHealthSettingsDocument, {
      input: {
        deploymentId: deployment.id,
        service: { batchCount: 1 },
        dataDrift: { excludedFeatures: ['age'], batchCount: 1 },
        accuracy: { metric: 'RMSE', atRiskThreshold: 1, failingThreshold: 1000 },
      },
    });
    if (settings.updateHealthSettings.__typename !== 'UpdateHealthSettingsSuccess') throw new Error(JSON.stringify(settings));
    expect(settings.updateHealthSettings.deployment.healthSettings).toEqual({
      service: { batchCount: 1, errorRateAtRisk: 0.01 },
      dataDrift: { excludedFeatures: ['age'], driftThreshold: 0.15 },
      accuracy: { metric: 'RMSE', atRiskThreshold: 1 },
    });
    const bad = await server.op(UpdateHealthSettingsDocument, {
      input: { deploymentId: deployment.id, service: { batchCount: 7 }, accuracy: { metric: 'AUC' } },
    });
    if (bad.updateHealthSettings.__typename !== 'ValidationError') throw new Error(JSON.stringify(bad));
    expect(bad.updateHealthSettings.fieldErrors.map((e) => e.field)).toEqual(['service.batchCount']);
    await server.op(SubmitActualsDocument, {
      input: {
        deploymentId: deployment.id,
        actuals: scoredRows(3, 300, 30)
          .slice(0, 50)
          .map((r) => ({ associationId: r.associationId, actualValue: r.prediction + 3 })),
      },
    });
    status = await health();
    expect(status.accuracy).toMatchObject({ status: 'AT_RISK' });
    expect(status.accuracy.reason).toContain('RMSE 3.000');
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
    const list = async (health: DeploymentHealthFilter, first = 10) =>
      (await server.op(DeploymentsByHealthDocument, { health, first }, org.token)).deployments;
    const failingOnly = await list({ service: ['FAILING'] });
    expect(failingOnly.totalCount).toBe(1);
    expect(failingOnly.edges.map((e) => e.node)).toEqual([{ label: 'failing', health: { service: { status: 'FAILING' } } }]);
    const known = await list({ service: ['PASSING', 'FAILING'] }, 1);
    expect(known).toMatchObject({ totalCount: 2, pageInfo: { hasNextPage: true } });
    expect(known.edges.map((e) => e.node.label)).toEqual(['failing']);
    expect((await list({ service: ['UNKNOWN'] })).edges.map((e) => e.node.label)).toEqual([idle.label]);
  });
});
