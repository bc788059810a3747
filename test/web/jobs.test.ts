import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchPredictionJobDocument,
  type CreateBatchPredictionJobDefinitionInput,
  CreateJobDefinitionDocument,
  JobDefinitionDocument,
  RunJobDefinitionDocument,
} from '../generated/graphql.js';
import { expectNoProblems, launchBrowser, openPage, screenshotDirectory, seriousAccessibilityViolations } from '../helpers/browser.js';
import { readCsv } from '../helpers/exports.js';
import { createDeployment } from '../helpers/fixtures.js';
import { type CsvServer, createScoringTenant, startCsvServer } from '../helpers/job-definitions.js';
import { type ModelFile, type ModelServer, startModelServer } from '../helpers/model-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { CHROMIUM, systemPackage } from '../helpers/system-packages.js';

// The Jobs tab in Chromium: a job definition whose input a local HTTP server serves, scored by the
// example model server; "Run now" in the page, the run followed live to COMPLETED, its batch
// opened; the schedule in words and cron; enabling and disabling; one run's page; tenancy.

const chromiumCommand = systemPackage(CHROMIUM);

/** createDeployment's regression of price on age and city; 150 ms a request, so that a run is seen running. */
const PRICE_MODEL: ModelFile = {
  targetType: 'REGRESSION',
  features: [
    { name: 'age', type: 'NUMERIC' },
    { name: 'city', type: 'CATEGORICAL' },
  ],
  outputs: { price: { intercept: 10, coefficients: { age: 2, city: { paris: 5 } } } },
  behaviour: { delayMs: 150 },
};

const ROWS = 60;
const INPUT = `age,city\n${Array.from({ length: ROWS }, (_, i) => `${20 + (i % 50)},${i % 2 ? 'paris' : 'lyon'}`).join('\n')}\n`;

async function createDefinition(server: TestServer, token: string, input: CreateBatchPredictionJobDefinitionInput) {
  const { createBatchPredictionJobDefinition: result } = await server.op(CreateJobDefinitionDocument, { input }, token);
  if (result.__typename !== 'CreateBatchPredictionJobDefinitionSuccess') throw new Error(JSON.stringify(result));
  return result.definition;
}

describe.runIf(chromiumCommand)('the Jobs tab in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let models: ModelServer;
  let input: CsvServer;
  let tenant: { token: string; deploymentId: string };
  let definitionId: string;
  let foreignJobId: string;

  beforeAll(async () => {
    [server, models, input] = await Promise.all([
      startTestServer(),
      // `slow`: a second a request, so that a run is still running when the page aborts it.
      startModelServer({ price: PRICE_MODEL, slow: { ...PRICE_MODEL, behaviour: { delayMs: 1000 } } }),
      startCsvServer(INPUT),
    ]);
    browser = await launchBrowser(chromiumCommand!);
    tenant = await createScoringTenant(server, models);
    definitionId = (
      await createDefinition(server, tenant.token, {
        name: 'Nightly rescoring',
        enabled: true,
        schedule: { minute: [30], hour: [2] },
        batchPredictionJob: {
          deploymentId: tenant.deploymentId,
          intakeSettings: { type: 'URL', url: input.url },
          // Chunks of about 100 bytes scored one at a time: several requests, each 150 ms.
          chunkSize: '100',
          numConcurrent: 1,
          monitoringBatchPrefix: 'Nightly',
        },
      })
    ).id;

    const other = await createScoringTenant(server, models);
    const foreign = await createDefinition(server, other.token, {
      name: 'Another tenant’s definition',
      batchPredictionJob: { deploymentId: other.deploymentId, intakeSettings: { type: 'URL', url: input.url } },
    });
    const run = await server.op(RunJobDefinitionDocument, { id: foreign.id }, other.token);
    if (run.runBatchPredictionJobDefinition.__typename !== 'RunBatchPredictionJobDefinitionSuccess') throw new Error(JSON.stringify(run));
    foreignJobId = run.runBatchPredictionJobDefinition.jobId;
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([server?.stop(), models?.stop(), input?.stop()]);
  });

  it('lists the definition with its schedule, runs it now and follows the run live to COMPLETED; its batch link opens the batch', async () => {
    const { page, problems } = await openPage(browser, { token: tenant.token });
    await page.goto(`${server.url}/#/deployments/${tenant.deploymentId}/jobs`);
    const definitionRow = page.locator(`tr[data-definition-id="${definitionId}"]`);
    await definitionRow.waitFor();
    const definitionText = await definitionRow.textContent();
    expect(definitionText).toContain('Nightly rescoring');
    expect(definitionText).toContain('At 02:30 UTC, every day');
    expect(definitionText).toContain('30 2 * * *');
    expect(definitionText).toContain('never');
    expect(await definitionRow.getByLabel('Enabled: Nightly rescoring').isChecked()).toBe(true);
    expect(await page.getByText('No batch prediction job has run for this deployment yet.').count()).toBe(1);
    expect(await page.content()).not.toContain('Another tenant’s definition');

    await page.getByRole('button', { name: 'Run now: Nightly rescoring' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Started a run' }).count()).toBe(1);
    const jobRow = page.locator('table.jobs-list tbody tr').first();
    await jobRow.waitFor();
    const jobId = (await jobRow.getAttribute('data-job-id'))!;
    expect(await page.getByRole('status').filter({ hasText: 'Started a run' }).textContent()).toBe(
      `Started a run of Nightly rescoring: job ${jobId}.`,
    );

    // Followed live (the page is never reloaded): statuses and row counts as they come.
    const seen = new Set<string>();
    const status = jobRow.locator('.job-status');
    await expect
      .poll(
        async () => {
          const text = (await status.textContent()) ?? '';
          seen.add(text);
          return text;
        },
        { timeout: 30_000, interval: 50 },
      )
      .toBe('Completed');
    expect(seen.has('Running')).toBe(true);
    expect(await jobRow.locator('.job-progress').textContent()).toContain(`${ROWS} / ${ROWS} rows`);
    const progress = jobRow.locator('progress');
    expect(await progress.getAttribute('value')).toBe(String(ROWS));
    expect(await progress.getAttribute('max')).toBe(String(ROWS));

    const job = (await server.op(BatchPredictionJobDocument, { id: jobId }, tenant.token)).batchPredictionJob!;
    expect(job).toMatchObject({ status: 'COMPLETED', scoredRows: ROWS, inputRows: ROWS, definitionId });
    const batch = job.monitoringBatch!;
    expect(batch.predictionCount).toBe(ROWS);
    // The definition's last run, refreshed when the run ended.
    await expect.poll(() => definitionRow.locator('.job-status').textContent()).toBe('Completed');

    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDirectory(), 'jobs.png'), fullPage: true });

    const batchLink = jobRow.getByRole('link', { name: batch.name });
    await batchLink.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate(() => location.hash)).toBe(`#/deployments/${tenant.deploymentId}/batches/${batch.id}`);
    expect(await page.getByRole('tab', { name: 'Batch Management' }).getAttribute('aria-selected')).toBe('true');
    expectNoProblems(problems);
    await page.context().close();
  });

  it('opens one run at #/deployments/<id>/jobs/<jobId>; another organization’s run is missing', async () => {
    const { page, problems } = await openPage(browser, { token: tenant.token });
    await page.goto(`${server.url}/#/deployments/${tenant.deploymentId}/jobs`);
    const jobLink = page.locator('table.jobs-list tbody tr').first().getByRole('link').first();
    await jobLink.waitFor();
    const jobId = (await jobLink.textContent())!;
    await jobLink.click();
    const detail = page.locator('section.job-detail');
    await detail.getByRole('heading', { name: `Job ${jobId}` }).waitFor();
    const text = await detail.textContent();
    expect(text).toContain('Completed');
    expect(text).toContain('definition Nightly rescoring');
    expect(text).toContain(input.url);
    expect(await detail.getByRole('link', { name: /^Nightly - / }).count()).toBe(1);
    // Its output, fetched with the token and saved through the page.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      detail.getByRole('button', { name: `Download the output of job ${jobId}` }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`job-${jobId}-output.csv`);
    const output = readCsv(readFileSync((await download.path())!));
    expect(output.rows).toHaveLength(ROWS);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);

    await page.goto(`${server.url}/#/deployments/${tenant.deploymentId}/jobs/${foreignJobId}`);
    await page.getByRole('heading', { name: 'Job not found' }).waitFor();
    await page.goto(`${server.url}/#/deployments/${tenant.deploymentId}/jobs/job_000000000000000000000000`);
    await page.reload();
    await page.getByRole('heading', { name: 'Job not found' }).waitFor();
    expectNoProblems(problems);
    await page.context().close();
  });

  it('disables and enables the definition with the keyboard', async () => {
    const { page, problems } = await openPage(browser, { token: tenant.token });
    await page.goto(`${server.url}/#/deployments/${tenant.deploymentId}/jobs`);
    const enabled = page.getByLabel('Enabled: Nightly rescoring');
    await enabled.waitFor();
    await enabled.focus();
    await page.keyboard.press('Space');
    await expect
      .poll(async () => (await server.op(JobDefinitionDocument, { id: definitionId }, tenant.token)).batchPredictionJobDefinition?.enabled)
      .toBe(false);
    const row = page.locator(`tr[data-definition-id="${definitionId}"]`);
    await expect.poll(() => row.locator('td').nth(2).textContent()).toBe('—');
    expect(await enabled.isChecked()).toBe(false);

    await page.keyboard.press('Space');
    await expect
      .poll(async () => (await server.op(JobDefinitionDocument, { id: definitionId }, tenant.token)).batchPredictionJobDefinition?.enabled)
      .toBe(true);
    await expect.poll(() => row.locator('td').nth(2).textContent()).not.toBe('—');
    expectNoProblems(problems);
    await page.context().close();
  });

  it('aborts a running job after confirming, and the run says so', async () => {
    const deployment = await createDeployment(server, tenant.token, {
      label: 'Slow scoring',
      modelBackend: { protocol: 'OPEN_INFERENCE_V2', url: models.url, modelName: 'slow' },
    });
    const definition = await createDefinition(server, tenant.token, {
      name: 'Slow rescoring',
      batchPredictionJob: {
        deploymentId: deployment.id,
        intakeSettings: { type: 'URL', url: input.url },
        chunkSize: '100',
        numConcurrent: 1,
      },
    });
    const { page, problems } = await openPage(browser, { token: tenant.token });
    await page.goto(`${server.url}/#/deployments/${deployment.id}/jobs`);
    await page.getByRole('button', { name: 'Run now: Slow rescoring' }).click();
    const jobRow = page.locator('table.jobs-list tbody tr').first();
    await expect.poll(() => jobRow.locator('.job-status').textContent(), { timeout: 15_000 }).toBe('Running');
    const jobId = (await jobRow.getAttribute('data-job-id'))!;

    await jobRow.getByRole('button', { name: `Abort job ${jobId}` }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Abort this job?' });
    await dialog.waitFor();
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    // Escape keeps it running; the dialog's button aborts.
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect(await jobRow.locator('.job-status').textContent()).toBe('Running');
    await jobRow.getByRole('button', { name: `Abort job ${jobId}` }).click();
    await dialog.getByRole('button', { name: 'Abort job' }).click();

    await expect.poll(() => jobRow.locator('.job-status').textContent()).toBe('Aborted');
    expect(await jobRow.getByRole('button', { name: `Abort job ${jobId}` }).count()).toBe(0);
    const job = (await server.op(BatchPredictionJobDocument, { id: jobId }, tenant.token)).batchPredictionJob!;
    expect(job.status).toBe('ABORTED');
    expect(job.definitionId).toBe(definition.id);
    expect(job.scoredRows).toBeLessThan(ROWS);
    expectNoProblems(problems);
    await page.context().close();
  });
});
