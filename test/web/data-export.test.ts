import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateDataExportDocument, DataExportDocument } from '../generated/graphql.js';
import { expectNoProblems, launchBrowser, openPage, screenshotDirectory, seriousAccessibilityViolations } from '../helpers/browser.js';
import { readCsv } from '../helpers/exports.js';
import { createBatch, createDeployment, createOrganization } from '../helpers/fixtures.js';
import { NDJSON, ndjson, regressionRows } from '../helpers/ingest-data.js';
import { bulkPath, post } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { CHROMIUM, systemPackage } from '../helpers/system-packages.js';

// The Data Export tab in Chromium: an export of a batch selection started in the page, followed
// live to SUCCEEDED, downloaded through the page (the token-authenticated fetch and a blob URL) and
// read back; typed refusals; the list of recent exports (expired ones say so); tenancy.

const chromiumCommand = systemPackage(CHROMIUM);

const HEADER = ['batch_id', 'batch_name', 'model_id', 'timestamp', 'association_id', 'age', 'city', 'prediction'];
const ACTUAL_HEADER = ['actual_value', 'actual_timestamp', 'was_acted_on'];

describe.runIf(chromiumCommand)('the Data Export tab in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let tenant: { token: string };
  let deploymentId: string;
  let emptyDeploymentId: string;
  let foreignExportId: string;
  const batchIds: string[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser(chromiumCommand!);
    tenant = await createOrganization(server);
    deploymentId = (await createDeployment(server, tenant.token, { label: 'Churn scoring — nightly' })).id;
    emptyDeploymentId = (await createDeployment(server, tenant.token, { label: 'Nothing yet' })).id;
    // Two batches of 7 and 5 rows: the tab's default selection (the last 10 batches) takes both.
    for (const [index, count] of [7, 5].entries()) {
      const batch = await createBatch(server, deploymentId, `nightly ${index + 1}`, tenant.token);
      const answer = await post(server, bulkPath(deploymentId, batch.id), ndjson(regressionRows(count, index + 1, `b${index}-`)), {
        token: tenant.token,
        contentType: NDJSON,
      });
      expect(answer.status, JSON.stringify(answer.json)).toBeLessThan(300);
      batchIds.push(batch.id);
    }

    const other = await createOrganization(server);
    const otherDeployment = await createDeployment(server, other.token);
    const otherBatch = await createBatch(server, otherDeployment.id, 'theirs', other.token);
    const created = await server.op(
      CreateDataExportDocument,
      { input: { deploymentId: otherDeployment.id, selection: { batchIds: [otherBatch.id] } } },
      other.token,
    );
    if (created.createDataExport.__typename !== 'CreateDataExportSuccess') throw new Error(JSON.stringify(created));
    foreignExportId = created.createDataExport.export.id;
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('starts an export of two batches, follows it to SUCCEEDED and downloads the CSV through the page', async () => {
    const { page, problems } = await openPage(browser, { token: tenant.token });
    await page.goto(`${server.url}/#/deployments/${deploymentId}/export`);
    await page.getByRole('heading', { name: 'Export predictions' }).waitFor();
    await expect.poll(() => page.getByText('No exports yet.').count()).toBe(1);

    // Keyboard only: the actuals checkbox and the start button.
    await page.getByLabel('Include actuals').focus();
    await page.keyboard.press('Space');
    expect(await page.getByLabel('Include actuals').isChecked()).toBe(true);
    expect(await page.getByLabel('CSV').isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Start export' }).focus();
    await page.keyboard.press('Enter');

    await expect.poll(() => page.evaluate(() => location.hash)).toMatch(new RegExp(`^#/deployments/${deploymentId}/export/\\w+$`));
    const exportId = (await page.evaluate(() => location.hash)).split('/').at(-1)!;
    const current = page.locator('section.current-export');
    await expect.poll(() => current.locator('.export-status').textContent(), { timeout: 20_000 }).toBe('Succeeded');
    expect(await current.textContent()).toContain('12 of 12 rows written');
    const progress = current.locator('progress');
    expect(await progress.getAttribute('value')).toBe(await progress.getAttribute('max'));
    expect(await current.textContent()).toContain('2 batches · with actuals');

    const stored = (await server.op(DataExportDocument, { id: exportId }, tenant.token)).dataExport!;
    expect(stored).toMatchObject({ status: 'SUCCEEDED', rowCount: 12, batchIds, includeActuals: true, format: 'CSV' });

    const downloadButton = current.getByRole('button', { name: /^Download CSV/ });
    await downloadButton.focus();
    const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    expect(download.suggestedFilename()).toBe(`Churn-scoring-nightly-${exportId}.csv`);
    const { header, rows } = readCsv(readFileSync((await download.path())!));
    expect(header).toEqual([...HEADER, ...ACTUAL_HEADER]);
    expect(rows).toHaveLength(12);
    expect(rows.filter((row) => row[0] === batchIds[0])).toHaveLength(7);
    expect(rows.filter((row) => row[0] === batchIds[1])).toHaveLength(5);
    await expect
      .poll(() => page.getByRole('status').filter({ hasText: 'Downloaded' }).textContent())
      .toBe(`Downloaded Churn-scoring-nightly-${exportId}.csv.`);

    // The list of recent exports shows it with its size and expiry, and a download of its own.
    const listed = page.locator('table.export-list tbody tr');
    await expect.poll(() => listed.count()).toBe(1);
    const cells = await listed.first().locator('td').allTextContents();
    expect(cells[1]).toBe('Succeeded');
    expect(cells[2]).toBe('CSV + actuals');
    expect(cells[3]).toBe('2');
    expect(cells[4]).toBe('12');
    expect(cells[5]).toMatch(/^\d+(\.\d)? (B|KB)$/);
    expect(cells[6]).not.toBe('Expired');

    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDirectory(), 'data-export.png'), fullPage: true });

    // Once its expiry has passed, the list says so and offers no download.
    await server.sql`update data_exports set expires_at = now() - interval '1 minute' where id = ${exportId}`;
    await page.goto(`${server.url}/#/deployments/${deploymentId}/export`);
    await page.reload();
    await expect.poll(() => listed.first().locator('td').nth(6).textContent()).toBe('Expired');
    expect(
      await listed
        .first()
        .getByRole('button', { name: /^Download/ })
        .count(),
    ).toBe(0);
    expectNoProblems(problems);
    await page.context().close();
  });

  it('shows a typed refusal: a selection with no batch', async () => {
    const { page, problems } = await openPage(browser, { token: tenant.token });
    await page.goto(`${server.url}/#/deployments/${emptyDeploymentId}/export`);
    await page.getByRole('button', { name: 'Start export' }).click();
    const alert = page.locator('section.export-form [role="alert"]');
    await expect.poll(() => alert.textContent()).toContain('selects no live batch of this deployment');
    expect(await alert.textContent()).toContain('selection');
    expect(await page.evaluate(() => location.hash)).toBe(`#/deployments/${emptyDeploymentId}/export`);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    expectNoProblems(problems);
    await page.context().close();
  });

  it('treats another organization’s export, and another deployment’s, as missing', async () => {
    const { page, problems } = await openPage(browser, { token: tenant.token });
    await page.goto(`${server.url}/#/deployments/${deploymentId}/export/${foreignExportId}`);
    await page.getByRole('heading', { name: 'Export not found' }).waitFor();
    expect(await page.content()).not.toContain('theirs');

    // An export of this organization, opened under another of its deployments.
    const [mine] = await server.sql<{ id: string }[]>`select id from data_exports where deployment_id = ${deploymentId}`;
    await page.goto(`${server.url}/#/deployments/${emptyDeploymentId}/export/${mine!.id}`);
    await page.getByRole('heading', { name: 'Export not found' }).waitFor();
    expectNoProblems(problems);
    await page.context().close();
  });
});
