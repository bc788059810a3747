import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDays, WEATHER } from '../../examples/demo/weather-data.js';
import {
  DataExportDocument,
  DemoDeploymentOverviewDocument,
  DeploymentHealthDocument,
  JobDefinitionDocument,
} from '../generated/graphql.js';
import { DEMO_MODEL, type FilledDemo, startFilledDemo } from '../helpers/demo.js';
import { modelAnswer } from '../helpers/model-server.js';

// `npm run demo` fills a server with Seattle's weather, a month per batch, through a scheduled job
// definition and the example model server. Six months of it, read back through the API: every tab
// of the dashboard has something true to show.

const MONTHS = ['2013-01', '2013-02', '2013-03', '2013-04', '2013-05', '2013-06'];
const days = readDays();
const daysOf = (month: string) => days.filter((d) => d.date.startsWith(month));

let filled: FilledDemo;
beforeAll(async () => {
  filled = await startFilledDemo(MONTHS.length);
}, 180_000);
afterAll(async () => {
  await filled?.stop();
});

const overview = async () => (await filled.server.op(DemoDeploymentOverviewDocument, { id: filled.demo.deploymentId })).deployment!;

describe('the demo deployment', () => {
  it('is a multiclass deployment scoring through the example model server, with a 2012 baseline', async () => {
    const deployment = await overview();
    expect(deployment).toMatchObject({
      label: 'Seattle weather (daily)',
      targetType: 'MULTICLASS',
      classNames: [...WEATHER],
      associationIdColumn: 'date',
      modelBackend: { protocol: 'OPEN_INFERENCE_V2', modelName: 'seattle-weather' },
      trainingBaseline: { rowCount: 366 },
    });
    // The baseline's predictions and every job's chunks were scored by the model server itself.
    const inferences = filled.models.received.filter((r) => r.method === 'POST' && r.path === '/v2/models/seattle-weather/infer');
    expect(inferences.length).toBeGreaterThanOrEqual(1 + MONTHS.length);
  });

  it('has a batch per month, named by month, with the month as its model history period and every day predicted', async () => {
    const batches = (await overview()).batches;
    expect(batches.totalCount).toBe(MONTHS.length);
    const nodes = batches.edges.map((e) => e.node);
    expect(nodes.map((b) => b.name)).toEqual(MONTHS);
    expect(filled.demo.batches.map((b) => b.id)).toEqual(nodes.map((b) => b.id));
    for (const [i, batch] of nodes.entries()) {
      const month = MONTHS[i]!;
      expect(batch.predictionCount, month).toBe(daysOf(month).length);
      expect(batch.modelHistory).toHaveLength(1);
      const [history] = batch.modelHistory;
      expect(history!.modelId).toBe('seattle-weather-2012');
      expect(new Date(history!.startTime!).toISOString()).toBe(`${month}-01T00:00:00.000Z`);
      const end = new Date(history!.endTime!);
      expect(end.toISOString().slice(0, 7)).toBe(month);
      expect(new Date(end.getTime() + 1).getUTCDate()).toBe(1); // the month's last millisecond
    }
  });

  it('scored each month with a run of its scheduled, monthly job definition (paused after the replay)', async () => {
    const nodes = (await overview()).batches.edges.map((e) => e.node);
    for (const batch of nodes)
      expect(batch.predictionJob).toMatchObject({ status: 'COMPLETED', definition: { id: filled.demo.definitionId } });
    const definition = (await filled.server.op(JobDefinitionDocument, { id: filled.demo.definitionId })).batchPredictionJobDefinition!;
    expect(definition.schedule).toEqual({ minute: [0], hour: [6], dayOfMonth: [1], month: null, dayOfWeek: null, cron: '0 6 1 * *' });
    expect(definition.enabled).toBe(false);
    expect(definition.batchPredictionJob.intakeSettings).toMatchObject({ type: 'URL' });
    expect(definition.batchPredictionJob.intakeSettings.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/seattle-weather\/2013-06\.csv$/);
    expect(definition.lastStartedJobStatus).toBe('COMPLETED');
  });

  it('joined the real weather to every prediction: each month’s accuracy is the model’s on that month', async () => {
    const nodes = (await overview()).batches.edges.map((e) => e.node);
    const accuracies = nodes.map((batch, i) => {
      const of = daysOf(MONTHS[i]!);
      const right = of.filter((day) => {
        const p = modelAnswer(DEMO_MODEL, { ...day });
        return WEATHER[p.indexOf(Math.max(...p))] === day.weather;
      }).length;
      expect(batch.accuracy.predictionsWithActuals, MONTHS[i]).toBe(of.length);
      expect(batch.accuracy.accuracy, MONTHS[i]).toBeCloseTo(right / of.length, 9);
      return batch.accuracy.accuracy!;
    });
    expect(new Set(accuracies).size).toBeGreaterThan(1); // months differ
  });

  it('shows seasonal drift against 2012: winter months drift on temperature, and months differ', async () => {
    const nodes = (await overview()).batches.edges.map((e) => e.node);
    for (const batch of nodes) {
      expect(batch.dataDrift.features.map((f) => f.name).sort()).toEqual(['precipitation', 'temp_max', 'temp_min', 'wind']);
      for (const feature of batch.dataDrift.features) expect(feature.score, `${batch.name} ${feature.name}`).not.toBeNull();
      expect(batch.dataDrift.target?.score).not.toBeNull();
    }
    const tempMax = nodes.map((b) => b.dataDrift.features.find((f) => f.name === 'temp_max')!.score!);
    expect(tempMax[0]).toBeGreaterThan(0.15); // January against a whole year: drifted
    expect(new Set(tempMax.map((s) => s.toFixed(6))).size).toBe(MONTHS.length);
  });

  it('reported the custom metrics per batch: total precipitation and the share of rainy days', async () => {
    const deployment = await overview();
    expect(deployment.customMetrics.map((m) => [m.name, m.type])).toEqual(
      expect.arrayContaining([
        ['Total precipitation', 'SUM'],
        ['Rainy days', 'AVERAGE'],
      ]),
    );
    const training = days.filter((d) => d.date < '2013');
    const precipitationBaseline = deployment.customMetrics.find((m) => m.name === 'Total precipitation')!.baselineValue!;
    expect(precipitationBaseline).toBeCloseTo(training.reduce((s, d) => s + d.precipitation, 0) / 12, 1);
    for (const [i, batch] of deployment.batches.edges.map((e) => e.node).entries()) {
      const of = daysOf(MONTHS[i]!);
      const value = (name: string) => batch.customMetrics.find((m) => m.metric.name === name);
      expect(value('Total precipitation')).toMatchObject({ sampleCount: of.length });
      expect(value('Total precipitation')!.value).toBeCloseTo(
        of.reduce((s, d) => s + d.precipitation, 0),
        6,
      );
      expect(value('Rainy days')!.value).toBeCloseTo((100 * of.filter((d) => d.weather === 'rain').length) / of.length, 6);
    }
  });

  it('has health indicators with something to say: accuracy over the last 5 months against its thresholds, drift, service', async () => {
    const { health } = (await filled.server.op(DeploymentHealthDocument, { id: filled.demo.deploymentId })).deployment!;
    // February–June 2013: the model is right on about 80% of the days, above the at-risk 75%.
    expect(health.accuracy.status).toBe('PASSING');
    const lastFive = MONTHS.slice(-5).reduce((n, month) => n + daysOf(month).length, 0);
    expect(health.accuracy.reason).toMatch(new RegExp(`^ACCURACY 0\\.\\d+ over ${lastFive} predictions with actuals within thresholds$`));
    expect(health.drift.status).not.toBe('UNKNOWN');
    expect(health.service.status).toBe('PASSING');
  });

  it('exported the last months with their actuals', async () => {
    const exported = (await filled.server.op(DataExportDocument, { id: filled.demo.exportId })).dataExport!;
    expect(exported).toMatchObject({ status: 'SUCCEEDED', format: 'CSV', includeActuals: true, batchCount: MONTHS.length });
    expect(exported.rowCount).toBe(MONTHS.reduce((n, m) => n + daysOf(m).length, 0));
  });

  it('said what it did, a line per month', () => {
    for (const month of MONTHS) expect(filled.lines.some((line) => line.includes(`${month}:`) && line.includes('accuracy'))).toBe(true);
  });
});
