import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataDriftDocument, ReportPredictionsDocument } from '../generated/graphql.js';
import {
  batchCharts,
  batchName,
  chartStates,
  FIRST_DRIFTING_BATCH,
  SEEDED_BATCHES,
  seedAnalyticsDeployment,
  seedClassificationDeployment,
} from '../helpers/analytics.js';
import {
  expectNoProblems,
  launchBrowser,
  openPage,
  type PageProblems,
  screenshotDirectory,
  seriousAccessibilityViolations,
} from '../helpers/browser.js';
import { createBatch, createDeployment, createOrganization } from '../helpers/fixtures.js';
import { scoredRows } from '../helpers/ingest-data.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { CHROMIUM, systemPackage } from '../helpers/system-packages.js';

// The four analysis tabs (Service Health, Data Drift, Accuracy, Custom Metrics) and the batch
// selector they share, in a real Chromium against a real server with seeded batches.

const chromiumCommand = systemPackage(CHROMIUM);
/** expect.poll with time for a page that fetches and draws (vitest's default is 1 s). */
const poll = <T>(read: () => Promise<T> | T) => expect.poll(read, { timeout: 15_000 });
const ALL_NAMES = Array.from({ length: SEEDED_BATCHES }, (_, i) => batchName(i + 1));

describe.runIf(chromiumCommand)('the analysis tabs in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let tenant: { token: string };
  let seeded: Awaited<ReturnType<typeof seedAnalyticsDeployment>>;
  let emptyDeploymentId: string;
  let freshDeploymentId: string;
  let foreignDeploymentId: string;

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser(chromiumCommand!);
    tenant = await createOrganization(server);
    seeded = await seedAnalyticsDeployment(server, tenant.token);
    emptyDeploymentId = (await createDeployment(server, tenant.token, { label: 'Nothing yet' })).id;
    // Predictions but no baseline, no actuals, no custom metric.
    freshDeploymentId = (await createDeployment(server, tenant.token, { label: 'Fresh model' })).id;
    const batch = await createBatch(server, freshDeploymentId, 'first run', tenant.token);
    await server.op(
      ReportPredictionsDocument,
      { input: { deploymentId: freshDeploymentId, batchId: batch.id, rows: scoredRows(1, 50), executionTimeMs: 25 } },
      tenant.token,
    );
    const other = await createOrganization(server);
    foreignDeploymentId = (await seedAnalyticsDeployment(server, other.token)).deploymentId;
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function openTab(tab: string, deploymentId = seeded.deploymentId): Promise<{ page: Page; problems: PageProblems }> {
    const opened = await openPage(browser, { token: tenant.token });
    await opened.page.goto(`${server.url}/#/deployments/${deploymentId}/${tab}`);
    await opened.page.locator('section.batch-selector').waitFor();
    return opened;
  }

  /** Waits until every chart over batches shows `names` (in this order) and every chart draws something. */
  async function expectCharts(page: Page, names: string[], minimumCharts: number) {
    await poll(async () => {
      const charts = await batchCharts(page);
      return charts.length >= minimumCharts && charts.every((chart) => JSON.stringify(chart.rowLabels) === JSON.stringify(names));
    }).toBe(true);
    // uPlot draws on the next animation frame after new data: wait for the pixels too.
    await poll(async () => (await chartStates(page)).filter((chart) => chart.seriesPixels <= 10).map((chart) => chart.title)).toEqual([]);
    for (const chart of await chartStates(page)) {
      expect(chart.seriesPixels, `${chart.title} draws its series`).toBeGreaterThan(10);
      expect(chart.accessibleName).toContain(chart.title);
    }
  }

  /**
   * The selector, as a user drives it: "last N" shortcuts, moving batches with clicks and with the
   * keyboard, searching; after each step every chart over batches shows exactly the selection.
   */
  async function exerciseSelector(page: Page, minimumCharts: number) {
    const selector = page.locator('section.batch-selector');
    const selected = selector.locator('[data-list="selected"] button');
    const available = selector.locator('[data-list="available"] button');

    // The default: the last 10 batches, i.e. all six, oldest first on the x axis.
    await expectCharts(page, ALL_NAMES, minimumCharts);
    await selector.getByRole('button', { name: '5 batches' }).click();
    await expectCharts(page, ALL_NAMES.slice(1), minimumCharts);
    expect(await selector.getByRole('button', { name: '5 batches' }).getAttribute('aria-pressed')).toBe('true');
    await poll(() => available.allTextContents()).toEqual([expect.stringContaining('week 01')]);
    await selector.getByRole('button', { name: '1 batch', exact: true }).click();
    await expectCharts(page, ['week 06'], minimumCharts);

    // Clear, then pick two batches with clicks.
    await selector.getByRole('button', { name: 'Clear' }).click();
    await page.getByRole('status').filter({ hasText: 'No batch selected.' }).waitFor();
    await selector.getByRole('button', { name: /^Add week 05/ }).click();
    await selector.getByRole('button', { name: /^Add week 02/ }).click();
    await expectCharts(page, ['week 02', 'week 05'], minimumCharts);
    await poll(() => selected.count()).toBe(2);

    // The keyboard: arrow down from week 03 to week 01 (newest first), Enter adds it; focus stays in the list.
    await selector.getByRole('button', { name: /^Add week 03/ }).focus();
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toContain('week 01');
    await page.keyboard.press('Enter');
    await expectCharts(page, ['week 01', 'week 02', 'week 05'], minimumCharts);
    expect(await page.evaluate(() => document.activeElement?.closest('[data-list]')?.getAttribute('data-list'))).toBe('available');
    await selector.getByRole('button', { name: /^Remove week 05/ }).focus();
    await page.keyboard.press('Space');
    await expectCharts(page, ['week 01', 'week 02'], minimumCharts);
    await poll(() => selector.locator('[aria-live="polite"]').textContent()).toBe('Removed week 05. 2 batches selected.');

    // Search narrows both lists; a found batch is added from the keyboard.
    await selector.getByLabel('Search batches').fill('week 04');
    await poll(() => available.allTextContents()).toEqual([expect.stringContaining('week 04')]);
    expect(await selector.locator('[data-list="selected"]').count()).toBe(0);
    await available.first().focus();
    await page.keyboard.press('Enter');
    await expectCharts(page, ['week 01', 'week 02', 'week 04'], minimumCharts);
    await selector.getByLabel('Search batches').fill('');

    // All.
    await selector.getByRole('button', { name: 'All batches' }).click();
    await expectCharts(page, ALL_NAMES, minimumCharts);
    await poll(() => available.count()).toBe(0);
    await poll(() => selector.locator('.selector-summary').textContent()).toBe(`All ${SEEDED_BATCHES} batches selected.`);
  }

  it('Service Health: tiles of the selection and four charts per batch that follow the selector', async () => {
    const { page, problems } = await openTab('service');
    const tiles = page.locator('.tile');
    await poll(() => tiles.count()).toBe(7);
    // 6 batches × (200 predictions in 2 requests + 2 reports of 5 predictions).
    expect(await tiles.filter({ hasText: 'Total predictions' }).locator('.tile-value').textContent()).toBe('1,260');
    expect(await tiles.filter({ hasText: 'Requests' }).locator('.tile-value').textContent()).toBe('24');
    expect(await tiles.filter({ hasText: 'Consumers' }).locator('.tile-value').textContent()).toBe('1');
    await exerciseSelector(page, 4);
    const titles = (await chartStates(page)).map((chart) => chart.title);
    expect(titles).toEqual(['Predictions per batch', 'Requests per batch', 'Execution time per batch', 'Error rates per batch']);
    // A chart's table holds its values: 210 predictions and 4 requests in every batch.
    const predictions = page.locator('figure.chart').first();
    expect(await predictions.locator('tbody td').allTextContents()).toEqual(ALL_NAMES.map(() => '210'));
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDirectory(), 'service-health.png'), fullPage: true });
    expectNoProblems(problems);
    await page.context().close();
  });

  it('Data Drift: drift vs importance, a feature’s baseline vs selection histogram, drift over batches, for the chosen feature and metric', async () => {
    const { page, problems } = await openTab('drift');
    await exerciseSelector(page, 1);
    const charts = await chartStates(page);
    expect(charts.map((chart) => chart.title)).toEqual([
      'Drift vs importance',
      'Distribution of age: baseline vs selection',
      'Drift over batches: age and the target',
    ]);
    // The scatter has a point per feature; the histogram a bar pair per baseline bin.
    const api = (await server.op(DataDriftDocument, { id: seeded.deploymentId, batches: { last: 10 } }, tenant.token)).deployment!
      .dataDrift;
    const bins = (name: string) => api.features.find((feature) => feature.name === name)!.baseline.bins.length;
    expect(charts[0]!.rowLabels.sort()).toEqual(['age', 'city']);
    expect(charts[1]!.rows).toBe(bins('age'));
    // The later batches really drift: above the threshold, the earlier ones below it.
    const overBatches = page.locator('figure.chart').nth(2);
    const ageScores = (
      await overBatches.locator('tbody tr').evaluateAll((rows) => rows.map((row) => row.querySelector('td')?.textContent ?? ''))
    ).map(Number);
    for (const [i, score] of ageScores.entries()) {
      if (i + 1 >= FIRST_DRIFTING_BATCH) expect(score).toBeGreaterThan(api.driftThreshold);
      else expect(score).toBeLessThan(api.driftThreshold);
    }
    const drifted = api.features.filter((feature) => feature.isDrifted).length;
    expect(await page.locator('.tile').filter({ hasText: 'Drifted features' }).locator('.tile-value').textContent()).toBe(
      `${drifted} of 2`,
    );

    // Another feature, then the target, with the keyboard-operable selects.
    await page.getByRole('combobox', { name: 'Feature' }).selectOption('city');
    await poll(async () => (await chartStates(page))[1]?.title).toBe('Distribution of city: baseline vs selection');
    expect((await chartStates(page))[1]!.rows).toBe(bins('city'));
    // The target comes after the features in the list.
    await page.getByRole('combobox', { name: 'Feature' }).selectOption({ index: 2 });
    await poll(async () => (await chartStates(page)).map((chart) => chart.title)).toEqual([
      'Drift vs importance',
      'Distribution of the target (prediction): baseline vs selection',
      'Drift over batches: the target (prediction)',
    ]);
    await page.getByRole('combobox', { name: 'Drift metric' }).selectOption('HELLINGER');
    await poll(() => page.locator('.tile').first().locator('.tile-hint').textContent()).toContain('Hellinger');
    await expectCharts(page, ALL_NAMES, 1);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await page.getByRole('combobox', { name: 'Drift metric' }).selectOption('PSI');
    await page.getByRole('combobox', { name: 'Feature' }).selectOption('age');
    await expectCharts(page, ALL_NAMES, 1);
    await page.screenshot({ path: path.join(screenshotDirectory(), 'data-drift.png'), fullPage: true });
    expectNoProblems(problems);
    await page.context().close();
  });

  it('Accuracy: the regression metrics as tiles and over batches, and predicted vs actual per batch', async () => {
    const { page, problems } = await openTab('accuracy');
    await exerciseSelector(page, 3);
    const tiles = page.locator('.tile');
    expect(await tiles.locator('dt').allTextContents()).toEqual(['Predictions with actuals', 'RMSE', 'MAE', 'R²', 'MAPE']);
    expect(await tiles.first().locator('.tile-value').textContent()).toBe('900');
    const charts = await chartStates(page);
    expect(charts.map((chart) => chart.title)).toEqual([
      'RMSE per batch',
      'Predicted vs actual per batch',
      'Predictions with actuals per batch',
    ]);
    // The actuals are the predictions plus 2·batch (± 3): the mean actual runs above the mean prediction by about that.
    const predictedVsActual = page.locator('figure.chart').nth(1);
    const pairs = await predictedVsActual
      .locator('tbody tr')
      .evaluateAll((rows) =>
        rows.map((row) => [...row.querySelectorAll('td')].map((cell) => Number((cell.textContent ?? '').replace(/,/g, '')))),
      );
    for (const [i, [meanPrediction, meanActual]] of pairs.entries()) expect(meanActual! - meanPrediction!).toBeCloseTo(2 * (i + 1), 0);
    await page.getByRole('combobox', { name: 'Metric' }).selectOption('r2');
    await poll(async () => (await chartStates(page))[0]?.title).toBe('R² per batch');
    await expectCharts(page, ALL_NAMES, 3);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDirectory(), 'accuracy.png'), fullPage: true });
    expectNoProblems(problems);
    await page.context().close();
  });

  it('Accuracy: a binary and a multiclass deployment show their own metrics and predicted vs actual per class', async () => {
    const binary = await seedClassificationDeployment(server, tenant.token, 'BINARY');
    const { page, problems } = await openTab('accuracy', binary.deploymentId);
    const tiles = page.locator('.tile');
    await poll(() => tiles.locator('dt').allTextContents()).toEqual([
      'Predictions with actuals',
      'AUC',
      'Accuracy',
      'F1',
      'TPR (recall)',
      'PPV (precision)',
      'LogLoss',
    ]);
    expect(await tiles.first().locator('.tile-value').textContent()).toBe('360');
    await expectCharts(page, ['run 1', 'run 2', 'run 3'], 3);
    expect((await chartStates(page))[1]!.title).toBe('Predicted vs actual per batch: yes');
    expect(await seriousAccessibilityViolations(page)).toEqual([]);

    const multiclass = await seedClassificationDeployment(server, tenant.token, 'MULTICLASS');
    await page.goto(`${server.url}/#/deployments/${multiclass.deploymentId}/accuracy`);
    await poll(() => tiles.locator('dt').allTextContents()).toEqual(['Predictions with actuals', 'Accuracy', 'LogLoss']);
    await expectCharts(page, ['run 1', 'run 2', 'run 3'], 3);
    expect((await chartStates(page))[1]!.title).toBe('Predicted vs actual per batch: cat');
    await page.getByRole('combobox', { name: 'Class' }).selectOption('fox');
    await poll(async () => (await chartStates(page))[1]?.title).toBe('Predicted vs actual per batch: fox');
    await expectCharts(page, ['run 1', 'run 2', 'run 3'], 3);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    expectNoProblems(problems);
    await page.context().close();
  });

  it('follows the deployment’s batches live: a new batch joins a “last N” selection without a reload', async () => {
    const deploymentId = (await createDeployment(server, tenant.token, { label: 'Live' })).id;
    const first = await createBatch(server, deploymentId, 'morning', tenant.token);
    await server.op(
      ReportPredictionsDocument,
      { input: { deploymentId, batchId: first.id, rows: scoredRows(1, 20), executionTimeMs: 30 } },
      tenant.token,
    );
    const { page, problems } = await openPage(browser, { token: tenant.token });
    // The selector and the tab each subscribe to the deployment's batch events over the page's socket.
    let subscribed = 0;
    page.on('websocket', (socket) =>
      socket.on('framesent', (frame) => {
        if (String(frame.payload).includes('"type":"subscribe"') && String(frame.payload).includes('batchEvents')) subscribed++;
      }),
    );
    await page.goto(`${server.url}/#/deployments/${deploymentId}/service`);
    await expectCharts(page, ['morning'], 4);
    await poll(() => subscribed).toBe(2);
    await page.waitForTimeout(300); // the server has registered them (as test/live.test.ts waits)
    const second = await createBatch(server, deploymentId, 'evening', tenant.token);
    await server.op(
      ReportPredictionsDocument,
      { input: { deploymentId, batchId: second.id, rows: scoredRows(2, 20), executionTimeMs: 30 } },
      tenant.token,
    );
    await poll(async () => (await batchCharts(page)).map((chart) => chart.rowLabels.join())).toEqual(
      Array.from({ length: 4 }, () => 'morning,evening'),
    );
    await poll(() => page.locator('section.batch-selector .selector-summary').textContent()).toBe('The last 10 batches selected (2 of 2).');
    expectNoProblems(problems);
    await page.context().close();
  });

  it('Custom Metrics: each metric’s summary over the selection with better/worse wording, and its value vs baseline per batch', async () => {
    const { page, problems } = await openTab('custom-metrics');
    await page.getByRole('heading', { name: 'Revenue per prediction', exact: true }).waitFor();
    await exerciseSelector(page, 1);
    const chart = (await chartStates(page))[0]!;
    expect(chart.title).toBe('Revenue per prediction per batch');
    // Batch b: (80 + 6b)·10 + (90 + 6b)·30 over 40 samples = 87.5 + 6b.
    const values = await page
      .locator('figure.chart tbody tr')
      .evaluateAll((rows) => rows.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent)));
    expect(values).toEqual(ALL_NAMES.map((_, i) => [String(87.5 + 6 * (i + 1)), '100']));
    // Over all six: 87.5 + 6·3.5 = 108.5, 8.5 % above the baseline of 100, and higher is better.
    const tiles = page.locator('.tile');
    expect(await tiles.filter({ hasText: 'Value' }).locator('.tile-value').textContent()).toBe('108.5 EUR');
    expect(await tiles.filter({ hasText: 'Change' }).locator('.tile-value').textContent()).toBe('Better');
    expect(await tiles.filter({ hasText: 'Change' }).locator('.tile-hint').textContent()).toBe(
      '8.5 % above the baseline: better (higher is better).',
    );
    // The first two batches alone are below the baseline: worse.
    const selector = page.locator('section.batch-selector');
    await selector.getByRole('button', { name: 'Clear' }).click();
    await selector.getByRole('button', { name: /^Add week 01/ }).click();
    await selector.getByRole('button', { name: /^Add week 02/ }).click();
    await expectCharts(page, ['week 01', 'week 02'], 1);
    expect(await tiles.filter({ hasText: 'Change' }).locator('.tile-value').textContent()).toBe('Worse');
    expect(await tiles.filter({ hasText: 'Change' }).locator('.tile-hint').textContent()).toBe(
      '3.5 % below the baseline: worse (higher is better).',
    );
    await selector.getByRole('button', { name: 'All batches' }).click();
    await expectCharts(page, ALL_NAMES, 1);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDirectory(), 'custom-metrics.png'), fullPage: true });
    expectNoProblems(problems);
    await page.context().close();
  });

  it('keeps each tab’s selection while the page is open', async () => {
    const { page, problems } = await openTab('service');
    await page.locator('section.batch-selector').getByRole('button', { name: '5 batches' }).click();
    await expectCharts(page, ALL_NAMES.slice(1), 4);
    await page.getByRole('tab', { name: 'Accuracy' }).click();
    await expectCharts(page, ALL_NAMES, 3);
    await page.getByRole('tab', { name: 'Service Health' }).click();
    await expectCharts(page, ALL_NAMES.slice(1), 4);
    expectNoProblems(problems);
    await page.context().close();
  });

  it('lists a deployment with many batches 100 at a time, searches beyond the loaded page, and turns “All” minus one into explicit picks', async () => {
    const org = await createOrganization(server, null);
    const deploymentId = (await createDeployment(server, org.token, { label: 'Many batches' })).id;
    const names = Array.from({ length: 130 }, (_, i) => `run ${String(i + 1).padStart(3, '0')}`);
    for (const name of names) await createBatch(server, deploymentId, name, org.token);
    const { page, problems } = await openPage(browser, { token: org.token });
    await page.goto(`${server.url}/#/deployments/${deploymentId}/service`);
    const selector = page.locator('section.batch-selector');
    const [availableList, selectedList] = [selector.locator('.selector-list').nth(0), selector.locator('.selector-list').nth(1)];
    const available = availableList.locator('button.batch-item');
    const selected = selectedList.locator('button.batch-item');
    // The first page (100, newest first) without the 10 selected; then the next page on demand.
    await poll(() => available.count()).toBe(90);
    expect(await selected.count()).toBe(10);
    await availableList.getByRole('button', { name: 'Show 100 more' }).click();
    await poll(() => available.count()).toBe(120);
    expect(await available.last().textContent()).toContain('run 001');
    await selector.getByLabel('Search batches').fill('run 003');
    await poll(() => available.allTextContents()).toEqual([expect.stringContaining('run 003')]);
    await selector.getByLabel('Search batches').fill('');

    await selector.getByRole('button', { name: 'All batches' }).click();
    await poll(() => selector.locator('.selector-summary').textContent()).toBe('All 130 batches selected.');
    await poll(() => selected.count()).toBe(100);
    expect(await available.count()).toBe(0);
    // Removing one fetches the other 30 ids first: 129 picked, every chart over batches has 129 of them.
    await selectedList.getByRole('button', { name: /^Remove run 130/ }).click();
    await poll(() => selector.locator('.selector-summary').textContent()).toBe('129 batches picked of 130.');
    expect(await selected.count()).toBe(129);
    expect(await available.allTextContents()).toEqual([expect.stringContaining('run 130')]);
    await poll(async () => (await batchCharts(page)).map((chart) => chart.rowLabels.join())).toEqual(
      Array.from({ length: 4 }, () => names.slice(0, 129).join()),
    );
    expectNoProblems(problems);
    await page.context().close();
  });

  it('says so when there are no batches, no training baseline, no actuals or no custom metric, without errors', async () => {
    const { page, problems } = await openTab('service', emptyDeploymentId);
    const status = page.getByRole('status');
    await status.filter({ hasText: 'No batches yet.' }).waitFor();
    await poll(() => page.locator('.selector-summary').textContent()).toBe('This deployment has no batches yet.');
    for (const [tab, text] of [
      ['Data Drift', 'No training baseline.'],
      ['Accuracy', 'No batches yet.'],
      ['Custom Metrics', 'No custom metrics.'],
    ] as const) {
      await page.getByRole('tab', { name: tab }).click();
      await status.filter({ hasText: text }).waitFor();
      expect(await page.locator('figure.chart').count()).toBe(0);
    }
    expect(await seriousAccessibilityViolations(page)).toEqual([]);

    await page.goto(`${server.url}/#/deployments/${freshDeploymentId}/drift`);
    await status.filter({ hasText: 'No training baseline.' }).waitFor();
    await page.getByRole('tab', { name: 'Accuracy' }).click();
    await status.filter({ hasText: 'No actuals yet for these batches.' }).waitFor();
    await page.getByRole('tab', { name: 'Service Health' }).click();
    await expectCharts(page, ['first run'], 4);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);

    // Another organization's deployment is not found, like a missing one.
    await page.goto(`${server.url}/#/deployments/${foreignDeploymentId}/service`);
    await page.getByRole('heading', { name: 'Deployment not found' }).waitFor();
    expect(await page.content()).not.toContain('week 01');
    expectNoProblems(problems);
    await page.context().close();
  });
});
