import { readFileSync } from 'node:fs';
import { DemoClient, ok } from './client.js';
import { type CsvServer, startCsvServer } from './csv-server.js';
import {
  DemoBatchAccuracyDocument,
  DemoBatchModelHistoryDocument,
  DemoCheckModelBackendDocument,
  DemoCreateCustomMetricDocument,
  DemoCreateDataExportDocument,
  DemoCreateDeploymentDocument,
  DemoCreateJobDefinitionDocument,
  DemoDataExportDocument,
  DemoDeploymentsDocument,
  DemoJobDocument,
  DemoRenameBatchDocument,
  DemoReportCustomMetricDocument,
  DemoRunJobDefinitionDocument,
  DemoSetTrainingBaselineDocument,
  DemoSubmitActualsDocument,
  DemoUpdateDeploymentSettingsDocument,
  DemoUpdateHealthSettingsDocument,
  DemoUpdateJobDefinitionDocument,
  DemoViewerDocument,
} from './generated/graphql.js';
import { type Day, daysByMonth, FEATURES, readDays, WEATHER } from './weather-data.js';

// Fills a batchlens server with a deployment worth looking at: Seattle's daily weather 2013–2015,
// a month per batch, scored by the example model server (a model fitted on 2012) through a
// scheduled batch prediction job definition, with the real weather as actuals and two custom
// metrics. Everything goes through the server's public GraphQL API, as any client would send it.

export const DEMO_LABEL = 'Seattle weather (daily)';
/** The model on the example model server (examples/model-server/models/seattle-weather.json). */
export const MODEL_NAME = 'seattle-weather';
const MODEL_ID = 'seattle-weather-2012';
const MODEL_FILE = new URL('../model-server/models/seattle-weather.json', import.meta.url);
/** Months the demo replays: 2013-01 … 2015-12. */
export const MAX_MONTHS = 36;
const JOB_TIMEOUT_MS = 120_000;
const EXPORT_TIMEOUT_MS = 120_000;

export interface FillOptions {
  /** The batchlens server, e.g. http://127.0.0.1:4000 */
  url: string;
  /** An organization admin's token (setting a model backend needs one). */
  token: string;
  /** The example model server (serving `seattle-weather`), reachable from the batchlens server. */
  modelServerUrl: string;
  /** Months to replay from 2013-01 (1–36, default 36). */
  months?: number;
  /** Serves the monthly CSVs the job definition reads; without it one is started on 127.0.0.1 for the fill. */
  csvServer?: CsvServer;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface DemoBatch {
  id: string;
  /** YYYY-MM */
  name: string;
  jobId: string;
  days: number;
  /** Share of the month's days the model got right, from the joined actuals. */
  accuracy: number | null;
}

export interface DemoResult {
  deploymentId: string;
  definitionId: string;
  batches: DemoBatch[];
  customMetricIds: { precipitation: string; rainyDays: string };
  exportId: string;
  /** The deployment's page in the dashboard. */
  dashboardUrl: string;
}

interface ModelFile {
  outputs: Record<string, { coefficients: Record<string, number> }>;
}

/**
 * Each feature's importance for the drift view, 0–1: how far the model's scores move over a
 * typical spread of the feature (Σ over classes |coefficient| × its standard deviation in 2012),
 * relative to the strongest feature.
 */
function featureImportances(training: Day[]): Record<string, number> {
  const model = JSON.parse(readFileSync(MODEL_FILE, 'utf8')) as ModelFile;
  const raw = FEATURES.map((feature) => {
    const values = training.map((d) => d[feature]);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    return Object.values(model.outputs).reduce((sum, output) => sum + Math.abs(output.coefficients[feature] ?? 0), 0) * std;
  });
  const top = Math.max(...raw);
  return Object.fromEntries(FEATURES.map((feature, j) => [feature, Math.round((raw[j]! / top) * 100) / 100]));
}

/** The model server's probabilities for `days` (Open Inference Protocol v2), one row per day in classNames order. */
async function scoreDirectly(modelServerUrl: string, days: Day[]): Promise<number[][]> {
  const response = await fetch(`${modelServerUrl}/v2/models/${MODEL_NAME}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      inputs: FEATURES.map((name) => ({ name, datatype: 'FP64', shape: [days.length], data: days.map((d) => d[name]) })),
    }),
  });
  if (!response.ok) throw new Error(`the model server answered ${response.status}: ${await response.text()}`);
  const answer = (await response.json()) as { outputs: { data: number[] }[] };
  const flat = answer.outputs[0]!.data;
  return days.map((_, i) => flat.slice(i * WEATHER.length, (i + 1) * WEATHER.length));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The first and last millisecond of a month (YYYY-MM), in UTC. */
function monthRange(month: string): { start: string; end: string } {
  const [year, number] = month.split('-').map(Number) as [number, number];
  const start = Date.UTC(year, number - 1, 1);
  const next = Date.UTC(year, number, 1);
  return { start: new Date(start).toISOString(), end: new Date(next - 1).toISOString() };
}

const monthTitle = (month: string) =>
  new Date(`${month}-01T00:00:00Z`).toLocaleString('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' });

export async function fillDemo(options: FillOptions): Promise<DemoResult> {
  const log = options.log ?? console.log;
  const months = options.months ?? MAX_MONTHS;
  if (!Number.isInteger(months) || months < 1 || months > MAX_MONTHS) throw new Error(`months must be 1–${MAX_MONTHS}, got ${months}`);
  const api = new DemoClient(options.url.replace(/\/+$/, ''), options.token);
  const modelServerUrl = options.modelServerUrl.replace(/\/+$/, '');

  const days = readDays();
  const training = days.filter((d) => d.date < '2013');
  const replayed = [...daysByMonth(days.filter((d) => d.date >= '2013'))].slice(0, months);
  const viewer = (await api.request(DemoViewerDocument, {})).viewer;
  if (viewer.role !== 'ADMIN') throw new Error(`the token is ${viewer.name}'s, a ${viewer.role}: setting a model backend takes an admin's`);

  const csvServer = options.csvServer ?? (await startCsvServer(days));
  try {
    // 1. The deployment: a multiclass model of the day's weather, batch monitoring on, the date as
    // the association id its jobs record (so the weather, reported later, joins its prediction).
    const importances = featureImportances(training);
    const created = await api.request(DemoCreateDeploymentDocument, {
      input: {
        label: DEMO_LABEL,
        description:
          "The day's weather in Seattle (drizzle, fog, rain, snow, sun) from its precipitation, temperatures and wind. " +
          'A multinomial logistic regression fitted on 2012, scored each month by a scheduled batch prediction job. ' +
          'Data: NOAA via vega-datasets.',
        targetType: 'MULTICLASS',
        targetName: 'weather',
        classNames: [...WEATHER],
        features: FEATURES.map((name) => ({ name, type: 'NUMERIC' as const, importance: importances[name] })),
        modelId: MODEL_ID,
        batchMonitoringEnabled: true,
        associationIdColumn: 'date',
      },
    });
    const deploymentId = ok(created.createDeployment, 'deployment', 'creating the deployment').deployment.id;
    log(`deployment "${DEMO_LABEL}" created (${deploymentId})`);

    // 2. Its model backend: the example model server, over the Open Inference Protocol v2.
    const backend = await api.request(DemoUpdateDeploymentSettingsDocument, {
      input: { deploymentId, modelBackend: { protocol: 'OPEN_INFERENCE_V2', url: modelServerUrl, modelName: MODEL_NAME } },
    });
    ok(backend.updateDeploymentSettings, 'deployment', 'setting the model backend');
    const check = ok(
      (await api.request(DemoCheckModelBackendDocument, { deploymentId })).checkModelBackend,
      'ready',
      'checking the model backend',
    );
    if (!check.ready || check.problems.length)
      throw new Error(`the model backend ${check.backend} is not usable: ${check.problems.join('; ')}`);
    log(`model backend: ${check.backend}`);

    // 3. The training baseline: the model's own predictions on its training year.
    const probabilities = await scoreDirectly(modelServerUrl, training);
    const baseline = await api.request(DemoSetTrainingBaselineDocument, {
      input: {
        deploymentId,
        rows: training.map((day, i) => ({
          features: Object.fromEntries(FEATURES.map((f) => [f, day[f]])),
          probabilities: probabilities[i]!,
        })),
      },
    });
    const { rowCount } = ok(baseline.setTrainingBaseline, 'baseline', 'setting the training baseline').baseline;
    log(`training baseline: ${rowCount} days of 2012`);

    // 4. Custom metrics, per day of a batch, with 2012's monthly figures as their baselines.
    const precipitation2012 = training.reduce((sum, d) => sum + d.precipitation, 0);
    const rainy2012 = training.filter((d) => d.weather === 'rain').length / training.length;
    const metric = async (input: {
      name: string;
      units: string;
      type: 'SUM' | 'AVERAGE';
      baselineValue: number;
      description: string;
    }): Promise<string> => {
      const answer = await api.request(DemoCreateCustomMetricDocument, {
        input: { ...input, deploymentId, directionality: 'LOWER_IS_BETTER', isModelSpecific: false, timeStep: 'day' },
      });
      return ok(answer.createCustomMetric, 'customMetric', `creating the custom metric "${input.name}"`).customMetric.id;
    };
    const customMetricIds = {
      precipitation: await metric({
        name: 'Total precipitation',
        units: 'mm',
        type: 'SUM',
        baselineValue: Math.round((precipitation2012 / 12) * 10) / 10,
        description: "The month's precipitation; the baseline is 2012's monthly mean.",
      }),
      rainyDays: await metric({
        name: 'Rainy days',
        units: '%',
        type: 'AVERAGE',
        baselineValue: Math.round(rainy2012 * 1000) / 10,
        description: 'Share of the days whose weather was rain; the baseline is 2012’s share.',
      }),
    };
    log('custom metrics: Total precipitation (mm, sum), Rainy days (%, average)');

    // Accuracy health over the last 5 months: the model's share of right days (it scores 74–77% over
    // a year; winters fall well below), so the inventory shows passing or at-risk, not "unknown".
    const health = await api.request(DemoUpdateHealthSettingsDocument, {
      input: { deploymentId, accuracy: { metric: 'ACCURACY', batchCount: 5, atRiskThreshold: 0.75, failingThreshold: 0.6 } },
    });
    ok(health.updateHealthSettings, 'deployment', 'setting the accuracy health thresholds');

    // 5. The job definition: monthly, on the 1st at 06:00 UTC, reading the month's CSV by URL, each
    // run into a batch of its own. Its name is unique in the organization: a second demo gets a suffix.
    const definitionInput = (name: string) => ({
      name,
      enabled: true,
      schedule: { minute: [0], hour: [6], dayOfMonth: [1] },
      batchPredictionJob: {
        deploymentId,
        intakeSettings: { type: 'URL' as const, url: csvServer.monthUrl(replayed[0]![0]) },
        passthroughColumns: ['date'],
        monitoringBatchPrefix: 'Seattle weather',
        numConcurrent: 2,
      },
    });
    const baseName = 'Seattle weather: monthly scoring';
    let definitionAnswer = await api.request(DemoCreateJobDefinitionDocument, { input: definitionInput(baseName) });
    const first = definitionAnswer.createBatchPredictionJobDefinition;
    if ('__typename' in first && first.__typename === 'ConflictError') {
      definitionAnswer = await api.request(DemoCreateJobDefinitionDocument, { input: definitionInput(`${baseName} (${deploymentId})`) });
    }
    const definition = ok(definitionAnswer.createBatchPredictionJobDefinition, 'definition', 'creating the job definition').definition;
    log(`job definition "${definition.name}": monthly (1st, 06:00 UTC), next run ${definition.nextScheduledRunTime}`);

    // 6. A month at a time: point the definition at the month's file, run it now, wait for the run,
    // then name the batch after the month, backfill its period, report the weather and the metrics.
    const batches: DemoBatch[] = [];
    for (const [index, [month, of]] of replayed.entries()) {
      if (index > 0) {
        const moved = await api.request(DemoUpdateJobDefinitionDocument, {
          input: {
            id: definition.id,
            batchPredictionJob: { deploymentId, intakeSettings: { type: 'URL', url: csvServer.monthUrl(month) } },
          },
        });
        ok(moved.updateBatchPredictionJobDefinition, 'definition', `pointing the job definition at ${month}`);
      }
      const run = await api.request(DemoRunJobDefinitionDocument, { id: definition.id });
      const { jobId } = ok(run.runBatchPredictionJobDefinition, 'jobId', `running the job definition for ${month}`);
      const batchId = await waitForJob(api, jobId, month);

      const renamed = await api.request(DemoRenameBatchDocument, {
        input: {
          id: batchId,
          name: month,
          description: `Seattle's weather in ${monthTitle(month)}: ${of.length} days, scored by job ${jobId}.`,
        },
      });
      ok(renamed.updateMonitoringBatch, 'batch', `naming the batch of ${month}`);
      const { start, end } = monthRange(month);
      const history = await api.request(DemoBatchModelHistoryDocument, {
        input: { batchId, modelId: MODEL_ID, startTime: start, endTime: end },
      });
      ok(history.updateBatchModelHistory, 'batch', `setting the period of ${month}`);

      const actuals = await api.request(DemoSubmitActualsDocument, {
        input: {
          deploymentId,
          actuals: of.map((day) => ({ associationId: day.date, actualValue: day.weather, timestamp: `${day.date}T23:59:59Z` })),
        },
      });
      const joined = ok(actuals.submitActuals, 'matchedCount', `submitting the actuals of ${month}`);
      if (joined.matchedCount !== of.length)
        throw new Error(`${month}: ${joined.matchedCount} of ${of.length} actuals joined (unmatched: ${joined.unmatchedAssociationIds})`);

      const report = async (metricId: string, value: (day: Day) => number) => {
        const answer = await api.request(DemoReportCustomMetricDocument, {
          input: { metricId, buckets: of.map((day) => ({ batchId, value: value(day), timestamp: `${day.date}T12:00:00Z` })) },
        });
        ok(answer.reportCustomMetricValues, 'sampleCount', `reporting a custom metric for ${month}`);
      };
      await report(customMetricIds.precipitation, (day) => day.precipitation);
      await report(customMetricIds.rainyDays, (day) => (day.weather === 'rain' ? 100 : 0));

      const scored = await api.request(DemoBatchAccuracyDocument, { deploymentId, batchId });
      const accuracy = scored.deployment?.accuracy.accuracy ?? null;
      batches.push({ id: batchId, name: month, jobId, days: of.length, accuracy });
      const share = accuracy === null ? 'n/a' : `${(accuracy * 100).toFixed(0)}%`;
      log(`[${index + 1}/${replayed.length}] ${month}: ${of.length} days scored by job ${jobId}, weather joined, accuracy ${share}`);
    }

    // The replay is over: the definition keeps its monthly schedule but is paused, so no scheduled
    // run re-reads the last month (its dates are already predicted: the run would be refused).
    const paused = await api.request(DemoUpdateJobDefinitionDocument, { input: { id: definition.id, enabled: false } });
    ok(paused.updateBatchPredictionJobDefinition, 'definition', 'pausing the job definition');
    log('job definition paused (its schedule kept)');

    // 7. A data export of the last year (or what there is), predictions with their actuals.
    const exported = await api.request(DemoCreateDataExportDocument, {
      input: { deploymentId, format: 'CSV', includeActuals: true, selection: { last: Math.min(12, batches.length) } },
    });
    const exportId = ok(exported.createDataExport, 'export', 'starting the data export').export.id;
    const rows = await waitForExport(api, exportId);
    log(`data export ${exportId}: ${rows} rows with their actuals (CSV)`);

    return {
      deploymentId,
      definitionId: definition.id,
      batches,
      customMetricIds,
      exportId,
      dashboardUrl: `${api.url}/#/deployments/${deploymentId}/batches`,
    };
  } finally {
    if (!options.csvServer) await csvServer.stop();
  }
}

/** Waits for a job to complete; its monitoring batch's id. */
async function waitForJob(api: DemoClient, jobId: string, month: string): Promise<string> {
  const deadline = Date.now() + JOB_TIMEOUT_MS;
  for (;;) {
    const job = (await api.request(DemoJobDocument, { id: jobId })).batchPredictionJob;
    if (!job) throw new Error(`job ${jobId} (${month}) is gone`);
    if (job.status === 'COMPLETED') {
      if (!job.monitoringBatch) throw new Error(`job ${jobId} (${month}) completed without a monitoring batch`);
      return job.monitoringBatch.id;
    }
    if (job.status === 'FAILED' || job.status === 'ABORTED') throw new Error(`job ${jobId} (${month}) ${job.status}: ${job.statusDetails}`);
    if (Date.now() > deadline)
      throw new Error(`job ${jobId} (${month}) did not complete within ${JOB_TIMEOUT_MS / 1000} s: ${job.statusDetails}`);
    await sleep(100);
  }
}

/** Waits for an export to succeed; its row count. */
async function waitForExport(api: DemoClient, exportId: string): Promise<number> {
  const deadline = Date.now() + EXPORT_TIMEOUT_MS;
  for (;;) {
    const found = (await api.request(DemoDataExportDocument, { id: exportId })).dataExport;
    if (!found) throw new Error(`data export ${exportId} is gone`);
    if (found.status === 'SUCCEEDED') return found.rowCount ?? 0;
    if (found.status === 'FAILED') throw new Error(`data export ${exportId} failed: ${found.error}`);
    if (Date.now() > deadline) throw new Error(`data export ${exportId} did not finish within ${EXPORT_TIMEOUT_MS / 1000} s`);
    await sleep(200);
  }
}

/**
 * A demo deployment already on the server (a restart with --keep): its model backend is pointed at
 * `modelServerUrl` (the model server's port changes with every start). Null when there is none.
 */
export async function reconnectDemo(options: { url: string; token: string; modelServerUrl: string }): Promise<string | null> {
  const api = new DemoClient(options.url.replace(/\/+$/, ''), options.token);
  const found = (await api.request(DemoDeploymentsDocument, { search: DEMO_LABEL })).deployments.edges
    .map((edge) => edge.node)
    .find((node) => node.label === DEMO_LABEL);
  if (!found) return null;
  const updated = await api.request(DemoUpdateDeploymentSettingsDocument, {
    input: {
      deploymentId: found.id,
      modelBackend: { protocol: 'OPEN_INFERENCE_V2', url: options.modelServerUrl.replace(/\/+$/, ''), modelName: MODEL_NAME },
    },
  });
  ok(updated.updateDeploymentSettings, 'deployment', 'pointing the model backend at the new model server');
  return found.id;
}
