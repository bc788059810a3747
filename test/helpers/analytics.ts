import type { Page } from 'playwright-core';
import {
  ReportDeploymentStatsDocument,
  ReportPredictionsDocument,
  SetTrainingBaselineDocument,
  SubmitActualsDocument,
} from '../generated/graphql.js';
import { createMetric, report } from './custom-metrics.js';
import { createBatch, createBinaryDeployment, createDeployment, createMulticlassDeployment } from './fixtures.js';
import { scoredRows } from './ingest-data.js';
import { random } from './random.js';
import type { TestServer } from './server.js';

// The analysis tabs' browser tests: a deployment with everything they chart, and what a chart on the
// page shows (its data table's rows, and how many pixels of its series' colours its canvas holds).

export const SEEDED_BATCHES = 6;
/** Batches from this number on have shifted ages, fewer cities and higher predictions (they drift). */
export const FIRST_DRIFTING_BATCH = 5;
export const batchName = (b: number) => `week 0${b}`;

async function ok<T extends Record<string, { __typename: string }>>(answer: Promise<T>, success: string): Promise<T> {
  const data = await answer;
  const result = Object.values(data)[0]!;
  if (result.__typename !== success) throw new Error(JSON.stringify(data));
  return data;
}

/**
 * A regression deployment with a training baseline and SEEDED_BATCHES batches (`week 01` …), each
 * with 200 predictions in two requests and two request-stat reports (execution times rising with the
 * batch; a user error in even batches, a server error in the last), actuals for 150 predictions
 * (off by a bias that grows with the batch) and values of an AVERAGE custom metric (baseline 100).
 */
export async function seedAnalyticsDeployment(server: TestServer, token: string) {
  const deployment = await createDeployment(server, token, {
    label: 'House prices (weekly)',
    features: [
      { name: 'age', type: 'NUMERIC', importance: 0.8 },
      { name: 'city', type: 'CATEGORICAL', importance: 0.3 },
    ],
  });
  const deploymentId = deployment.id;
  await ok(
    server.op(SetTrainingBaselineDocument, { input: { deploymentId, rows: scoredRows(100, 1000) } }, token),
    'SetTrainingBaselineSuccess',
  );
  const metric = await createMetric(
    server,
    deploymentId,
    { name: 'Revenue per prediction', units: 'EUR', type: 'AVERAGE', directionality: 'HIGHER_IS_BETTER', baselineValue: 100 },
    token,
  );
  const batches: { id: string; name: string }[] = [];
  for (let b = 1; b <= SEEDED_BATCHES; b++) {
    const batch = await createBatch(server, deploymentId, batchName(b), token);
    batches.push(batch);
    const rows = scoredRows(b, 200, b >= FIRST_DRIFTING_BATCH ? 30 : 0);
    for (const [k, chunk] of [rows.slice(0, 100), rows.slice(100)].entries()) {
      await ok(
        server.op(
          ReportPredictionsDocument,
          { input: { deploymentId, batchId: batch.id, rows: chunk, executionTimeMs: 40 + b * 10 + k * 30 } },
          token,
        ),
        'ReportPredictionsSuccess',
      );
    }
    for (const stats of [
      { numPredictions: 5, executionTimeMs: 45 + b * 10, userError: b % 2 === 0 },
      { numPredictions: 5, executionTimeMs: 150 + b * 20, systemError: b === SEEDED_BATCHES },
    ]) {
      await ok(
        server.op(ReportDeploymentStatsDocument, { input: { deploymentId, batchId: batch.id, ...stats } }, token),
        'ReportDeploymentStatsSuccess',
      );
    }
    await ok(
      server.op(
        SubmitActualsDocument,
        {
          input: {
            deploymentId,
            actuals: rows
              .slice(0, 150)
              .map((row, i) => ({ associationId: row.associationId, actualValue: row.prediction + b * 2 + (i % 7) - 3 })),
          },
        },
        token,
      ),
      'SubmitActualsSuccess',
    );
    await report(
      server,
      metric.id,
      [
        { batchId: batch.id, value: 80 + b * 6, sampleSize: 10 },
        { batchId: batch.id, value: 90 + b * 6, sampleSize: 30 },
      ],
      { token },
    );
  }
  return { deploymentId, batches, metric };
}

/**
 * A binary (no / yes) or multiclass (cat / dog / fox) deployment with three batches (`run 1` …) of
 * 120 predictions each, every one with an actual (right about two times in three).
 */
export async function seedClassificationDeployment(server: TestServer, token: string, kind: 'BINARY' | 'MULTICLASS') {
  const classNames = kind === 'BINARY' ? ['no', 'yes'] : ['cat', 'dog', 'fox'];
  const deployment =
    kind === 'BINARY'
      ? await createBinaryDeployment(server, token, { label: 'Churn (binary)' })
      : await createMulticlassDeployment(server, classNames, token);
  const next = random(kind === 'BINARY' ? 31 : 37);
  for (let b = 1; b <= 3; b++) {
    const batch = await createBatch(server, deployment.id, `run ${b}`, token);
    const rows = Array.from({ length: 120 }, (_, i) => {
      const winner = Math.floor(next() * classNames.length);
      const probabilities = classNames.map((_, k) => (k === winner ? 0.6 : 0.4 / (classNames.length - 1)));
      return { features: {}, probabilities, associationId: `${kind}-${b}-${i}`, winner };
    });
    await ok(
      server.op(
        ReportPredictionsDocument,
        { input: { deploymentId: deployment.id, batchId: batch.id, rows: rows.map(({ winner: _, ...row }) => row) } },
        token,
      ),
      'ReportPredictionsSuccess',
    );
    const actuals = rows.map((row) => ({
      associationId: row.associationId,
      actualValue: classNames[next() < 0.67 ? row.winner : (row.winner + 1) % classNames.length]!,
    }));
    await ok(server.op(SubmitActualsDocument, { input: { deploymentId: deployment.id, actuals } }, token), 'SubmitActualsSuccess');
  }
  return { deploymentId: deployment.id, classNames };
}

export interface ChartState {
  title: string;
  /** The data table's first column header: "Batch", "Bin", "Feature". */
  axis: string;
  rows: number;
  rowLabels: string[];
  /** Canvas pixels (nearly) of a series' colour: 0 when nothing is drawn. */
  seriesPixels: number;
  accessibleName: string;
}

/** Every chart on the page, read from its canvas and its data table. */
export function chartStates(page: Page): Promise<ChartState[]> {
  return page.evaluate(() => {
    const hex = (text: string) => {
      const value = text.trim().replace('#', '');
      return [0, 2, 4].map((i) => Number.parseInt(value.slice(i, i + 2), 16));
    };
    return [...document.querySelectorAll<HTMLElement>('figure.chart')].map((figure) => {
      const colours = [...figure.querySelectorAll<HTMLElement>('.chart-legend .swatch:not(.reference)')].map((swatch) =>
        hex(getComputedStyle(swatch).getPropertyValue('--swatch')),
      );
      const canvas = figure.querySelector('canvas');
      let seriesPixels = 0;
      if (canvas && canvas.width > 0 && canvas.height > 0) {
        const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < pixels.length; i += 4) {
          if (pixels[i + 3]! < 200) continue;
          const r = pixels[i]!;
          const g = pixels[i + 1]!;
          const b = pixels[i + 2]!;
          if (colours.some(([cr, cg, cb]) => Math.abs(r - cr!) + Math.abs(g - cg!) + Math.abs(b - cb!) < 40)) seriesPixels++;
        }
      }
      return {
        title: figure.querySelector('h3')?.textContent ?? '',
        axis: figure.querySelector('thead th')?.textContent ?? '',
        rows: figure.querySelectorAll('tbody tr').length,
        rowLabels: [...figure.querySelectorAll('tbody th')].map((cell) => cell.textContent ?? ''),
        seriesPixels,
        accessibleName: figure.querySelector('[role="img"]')?.getAttribute('aria-label') ?? '',
      };
    });
  });
}

/** The charts over batches (their x axis is the batch), with their row labels. */
export async function batchCharts(page: Page): Promise<ChartState[]> {
  return (await chartStates(page)).filter((chart) => chart.axis === 'Batch');
}
