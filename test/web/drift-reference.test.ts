import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DashboardDriftMatrixDocument,
  DashboardDriftReferenceDocument,
  ReportPredictionsDocument,
  SetTrainingBaselineDocument,
} from '../generated/graphql.js';
import { batchName, SEEDED_BATCHES, seedAnalyticsDeployment } from '../helpers/analytics.js';
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

// The Data Drift tab's reference selector (training baseline, previous batch, reference batches) and
// the heat map of the drift matrix, in a real Chromium against a real server with seeded batches;
// what the page shows is compared with the API's answers.

const chromiumCommand = systemPackage(CHROMIUM);
const poll = <T>(read: () => Promise<T> | T) => expect.poll(read, { timeout: 15_000 });
const STATUS_TEXT = { DRIFTED: 'Drifted', NOT_DRIFTED: 'Not drifted', INSUFFICIENT_DATA: 'Insufficient data', NO_DATA: 'No data' };

interface TableRow {
  name: string;
  score: string;
  rows: string;
  status: string;
}

/** The feature table as shown: one row per feature, then the target. */
function featureTable(page: Page): Promise<TableRow[]> {
  return page.locator('table.drift-table tbody tr').evaluateAll((rows) =>
    rows.map((row) => {
      const cells = [...row.querySelectorAll('td')].map((cell) => cell.textContent?.trim() ?? '');
      return { name: row.querySelector('th')?.textContent?.trim() ?? '', score: cells[1]!, rows: cells[3]!, status: cells[4]! };
    }),
  );
}

/** The heat map's cells, row by row: score (data attribute), status, accessible name. */
function heatMap(page: Page) {
  return page.locator('table.heatmap-grid tbody tr').evaluateAll((rows) =>
    rows.map((row) =>
      [...row.querySelectorAll<HTMLElement>('td.heatmap-cell')].map((cell) => ({
        score: cell.dataset.score === '' ? null : Number(cell.dataset.score),
        status: cell.dataset.status ?? '',
        label: cell.getAttribute('aria-label') ?? '',
        marked: cell.textContent === '●',
      })),
    ),
  );
}

describe.runIf(chromiumCommand)('the Data Drift tab’s reference and drift matrix in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let tenant: { token: string };
  let seeded: Awaited<ReturnType<typeof seedAnalyticsDeployment>>;

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser(chromiumCommand!);
    tenant = await createOrganization(server);
    seeded = await seedAnalyticsDeployment(server, tenant.token);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function openDrift(): Promise<{ page: Page; problems: PageProblems }> {
    const opened = await openPage(browser, { token: tenant.token });
    await opened.page.goto(`${server.url}/#/deployments/${seeded.deploymentId}/drift`);
    await opened.page.locator('table.drift-table').waitFor();
    return opened;
  }

  const apiDrift = async (batches: { last?: number; batchIds?: string[] }, reference: { last?: number; batchIds?: string[] } | null) =>
    (await server.op(DashboardDriftReferenceDocument, { id: seeded.deploymentId, batches, reference }, tenant.token)).deployment!.dataDrift;

  /** The table rows the page should show for an API answer (features by score, then the target). */
  const expectedRows = (drift: Awaited<ReturnType<typeof apiDrift>>) =>
    drift.features
      .filter((feature) => feature.name !== '')
      .map((feature) => ({ name: feature.name, status: STATUS_TEXT[feature.status] }))
      .sort((a, b) => a.name.localeCompare(b.name));

  it('compares the selection with the training baseline, a reference selection and the previous batch', async () => {
    const { page, problems } = await openDrift();
    const compareWith = page.getByRole('combobox', { name: 'Compare with' });

    // The default: the training baseline.
    const baseline = await apiDrift({ last: 10 }, null);
    expect(baseline.reference).toBe('TRAINING_BASELINE');
    await poll(async () => (await featureTable(page)).map((row) => row.name)).toEqual(
      expect.arrayContaining(['age', 'city', 'Target (prediction)']),
    );
    const shown = await featureTable(page);
    expect(
      shown
        .filter((row) => row.name !== 'Target (prediction)')
        .map(({ name, status }) => ({ name, status }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    ).toEqual(expectedRows(baseline));
    expect(shown.find((row) => row.name === 'age')!.rows).toBe(`${(SEEDED_BATCHES * 200).toLocaleString('en-US')} / 1,000`);
    expect(await page.locator('table.drift-table caption').textContent()).toContain('the training baseline');
    // Drift in the later batches against the baseline: some score above 0.
    expect(shown.some((row) => Number(row.score) > 0)).toBe(true);

    // Reference batches: by default the same "last 10" as the selection, so nothing has drifted.
    await compareWith.selectOption('BATCHES');
    const referenceSelector = page
      .locator('section.batch-selector')
      .filter({ has: page.getByRole('heading', { name: 'Reference batches' }) });
    await referenceSelector.waitFor();
    const itself = await apiDrift({ last: 10 }, { last: 10 });
    expect(itself.reference).toBe('SELECTION');
    await poll(async () => (await featureTable(page)).map((row) => row.status)).toEqual(['Not drifted', 'Not drifted', 'Not drifted']);
    for (const row of await featureTable(page)) {
      expect(row.score).toBe('0');
      expect(row.rows).toBe('1,200 / 1,200');
    }
    await poll(async () => page.locator('figure.chart h3').allTextContents()).toContain(
      'Distribution of age: reference batches vs selection',
    );

    // The reference: the first batch alone ("week 01" is no drifting batch), picked in the second selector.
    await referenceSelector.getByRole('button', { name: 'Clear' }).click();
    await referenceSelector.getByRole('button', { name: /^Add week 01/ }).click();
    const againstFirst = await apiDrift({ last: 10 }, { batchIds: [seeded.batches[0]!.id] });
    await poll(async () => (await featureTable(page)).find((row) => row.name === 'age')?.rows).toBe('1,200 / 200');
    const table = await featureTable(page);
    for (const feature of againstFirst.features) {
      const row = table.find((shownRow) => shownRow.name === feature.name)!;
      expect(Number(row.score)).toBeCloseTo(feature.score!, 3);
      expect(row.status).toBe(STATUS_TEXT[feature.status]);
    }
    expect(await page.locator('table.drift-table caption').textContent()).toContain('the reference batches (1)');

    // The previous batch: the selection "last 1" (week 06) against week 05; the chart: each batch against the one before.
    await compareWith.selectOption('PREVIOUS');
    expect(await page.getByRole('heading', { name: 'Reference batches' }).count()).toBe(0);
    const selector = page.locator('section.batch-selector');
    await selector.getByRole('button', { name: '1 batch', exact: true }).click();
    const lastId = seeded.batches[SEEDED_BATCHES - 1]!.id;
    const previous = await apiDrift({ batchIds: [lastId] }, { batchIds: [seeded.batches[SEEDED_BATCHES - 2]!.id] });
    await poll(() => page.locator('table.drift-table caption').textContent()).toContain(`(${batchName(SEEDED_BATCHES - 1)})`);
    await poll(async () => (await featureTable(page)).find((row) => row.name === 'age')?.rows).toBe('200 / 200');
    for (const feature of previous.features) {
      const row = (await featureTable(page)).find((shownRow) => shownRow.name === feature.name)!;
      expect(Number(row.score)).toBeCloseTo(feature.score!, 3);
      expect(row.status).toBe(STATUS_TEXT[feature.status]);
    }
    expect(await page.locator('figure.chart h3').allTextContents()).toContain(
      'Drift over batches (each against the previous batch): age and the target',
    );

    // Back to the whole selection, the first batch has none before it: said so, with the chart only.
    await selector.getByRole('button', { name: '10 batches' }).click();
    await page.getByRole('status').filter({ hasText: 'No batch before the selection.' }).waitFor();
    expect(await page.locator('table.drift-table').count()).toBe(0);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    expectNoProblems(problems);
    await page.context().close();
  });

  it('draws the drift matrix of the chosen feature and of the target as an N×N heat map, refreshed when a batch arrives', async () => {
    const { page, problems } = await openDrift();
    const readMatrix = async (feature: string | null, last = 10) =>
      (await server.op(DashboardDriftMatrixDocument, { id: seeded.deploymentId, batches: { last }, feature }, tenant.token)).deployment!
        .driftMatrix;

    const expectMatrix = async (feature: string | null, n: number) => {
      const api = await readMatrix(feature);
      expect(api.batches).toHaveLength(n);
      await poll(async () => (await heatMap(page)).map((row) => row.length)).toEqual(Array(n).fill(n));
      const cells = await heatMap(page);
      for (const [i, row] of api.rows.entries()) {
        for (const [j, score] of row.scores.entries()) {
          const cell = cells[i]![j]!;
          expect(cell.score).toBe(score);
          expect(cell.status).toBe(row.statuses[j]);
          expect(cell.marked).toBe(row.statuses[j] === 'DRIFTED');
          expect(cell.label).toContain(`${api.batches[i]!.name} against ${i === j ? 'itself' : api.batches[j]!.name}`);
        }
      }
      return api;
    };

    await page.getByRole('heading', { name: 'Drift between batches: age' }).waitFor();
    const age = await expectMatrix('age', SEEDED_BATCHES);
    // The diagonal is 0; the drifting batches against the early ones are marked drifted.
    expect(age.rows.map((row, i) => row.scores[i])).toEqual(Array(SEEDED_BATCHES).fill(0));
    expect(age.rows.flatMap((row) => row.statuses)).toContain('DRIFTED');
    expect(await page.locator('.heatmap-threshold').textContent()).toBe('threshold 0.15');

    // The keyboard: one cell in the tab order, the arrows move it, the cell is read out below the grid.
    await page.locator('td[data-cell="0-0"]').focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-cell'))).toBe('1-1');
    await page.keyboard.press('ArrowRight');
    await poll(() => page.locator('.heatmap-readout').textContent()).toContain(`${batchName(2)} against ${batchName(3)}`);
    expect(await page.locator('table.heatmap-grid td[tabindex="0"]').count()).toBe(1);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDirectory(), 'data-drift-heatmap.png'), fullPage: true });

    // The target.
    await page.getByRole('combobox', { name: 'Feature' }).selectOption({ index: 2 });
    await page.getByRole('heading', { name: 'Drift between batches: the target (prediction)' }).waitFor();
    await expectMatrix(null, SEEDED_BATCHES);

    // Live: a new batch with predictions joins the matrix without a reload.
    const batch = await createBatch(server, seeded.deploymentId, batchName(SEEDED_BATCHES + 1), tenant.token);
    await server.op(
      ReportPredictionsDocument,
      { input: { deploymentId: seeded.deploymentId, batchId: batch.id, rows: scoredRows(SEEDED_BATCHES + 1, 200), executionTimeMs: 30 } },
      tenant.token,
    );
    await poll(async () => (await heatMap(page)).length).toBe(SEEDED_BATCHES + 1);
    await expectMatrix(null, SEEDED_BATCHES + 1);
    expectNoProblems(problems);
    await page.context().close();
  });

  it('draws at most 100 batches and says so when the selection is larger', async () => {
    const org = await createOrganization(server, null);
    const deploymentId = (
      await createDeployment(server, org.token, {
        label: 'Many batches',
        features: [
          { name: 'age', type: 'NUMERIC', importance: 0.8 },
          { name: 'city', type: 'CATEGORICAL', importance: 0.3 },
        ],
      })
    ).id;
    const baseline = await server.op(SetTrainingBaselineDocument, { input: { deploymentId, rows: scoredRows(100, 1000) } }, org.token);
    expect(baseline.setTrainingBaseline.__typename).toBe('SetTrainingBaselineSuccess');
    const names = Array.from({ length: 105 }, (_, i) => `run ${String(i + 1).padStart(3, '0')}`);
    for (const name of names) await createBatch(server, deploymentId, name, org.token);
    const { page, problems } = await openPage(browser, { token: org.token });
    await page.goto(`${server.url}/#/deployments/${deploymentId}/drift`);
    const selector = page.locator('section.batch-selector');
    const rowHeads = page.locator('table.heatmap-grid tbody th');
    const note = page.getByRole('note');

    // Ten batches: all of them, no note; empty batches are "no data" against each other.
    await poll(() => rowHeads.count()).toBe(10);
    expect(await note.count()).toBe(0);
    expect(new Set((await heatMap(page)).flat().map((cell) => cell.status))).toEqual(new Set(['NO_DATA']));
    await poll(async () => (await featureTable(page)).map((row) => row.status)).toEqual(['No data', 'No data', 'No data']);
    // (axe over a 100 × 100 grid takes most of a minute: checked here at 10 × 10, with unjudged rows in the table.)
    expect(await seriousAccessibilityViolations(page)).toEqual([]);

    // All 105: the newest 100 ("last 100"), said so.
    await selector.getByRole('button', { name: 'All batches' }).click();
    await poll(() => note.textContent()).toBe(
      'The selection holds 105 batches; the matrix compares at most 100, so it shows the newest 100.',
    );
    await poll(() => rowHeads.allTextContents()).toEqual(names.slice(5));
    expect((await heatMap(page)).map((row) => row.length)).toEqual(Array(100).fill(100));

    // 104 explicit picks (the newest removed): the newest 100 of them.
    await selector.getByRole('button', { name: /^Remove run 105/ }).click();
    await poll(() => note.textContent()).toContain('holds 104 batches');
    await poll(() => rowHeads.allTextContents()).toEqual(names.slice(4, 104));
    expectNoProblems(problems);
    await page.context().close();
  }, 120_000);
});
