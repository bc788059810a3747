import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DashboardSettingsReadBackDocument } from '../generated/graphql.js';
import { expectNoProblems, launchBrowser, openPage, screenshotDirectory, seriousAccessibilityViolations } from '../helpers/browser.js';
import { createBinaryDeployment, createOrganization } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { CHROMIUM, systemPackage } from '../helpers/system-packages.js';

// The Settings tab in Chromium: batch monitoring off and on (the BATCH badge follows), label and
// threshold, the health rules changed and read back through GraphQL, and the API's refusals shown
// under the field they name.

const chromiumCommand = systemPackage(CHROMIUM);

describe.runIf(chromiumCommand)('the Settings tab in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let tenant: { token: string };
  let deploymentId: string;

  const readBack = async () => (await server.op(DashboardSettingsReadBackDocument, { id: deploymentId }, tenant.token)).deployment!;

  /** Saves a form with the keyboard: focus on its button, Enter. */
  async function save(page: Page, button: string) {
    await page.getByRole('button', { name: button }).focus();
    await page.keyboard.press('Enter');
  }

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser(chromiumCommand!);
    tenant = await createOrganization(server);
    deploymentId = (await createBinaryDeployment(server, tenant.token, { label: 'Churn model' })).id;
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('switches batch monitoring off and on: the BATCH badge disappears and comes back', async () => {
    const { page, problems } = await openPage(browser, { token: tenant.token });
    await page.goto(`${server.url}/#/deployments/${deploymentId}/settings`);
    const badge = page.locator('.deployment-header .badge');
    const checkbox = page.getByLabel('Batch monitoring');
    await checkbox.waitFor();
    expect(await badge.textContent()).toBe('BATCH');
    expect(await checkbox.isChecked()).toBe(true);

    await checkbox.focus();
    await page.keyboard.press('Space');
    await save(page, 'Save deployment settings');
    await expect
      .poll(() => page.getByRole('status').filter({ hasText: 'Settings saved' }).textContent())
      .toBe('Settings saved. Batch monitoring is off.');
    await expect.poll(() => badge.count()).toBe(0);
    expect((await readBack()).batchMonitoringEnabled).toBe(false);

    await checkbox.focus();
    await page.keyboard.press('Space');
    await save(page, 'Save deployment settings');
    await expect.poll(() => badge.count()).toBe(1);
    expect(await page.getByRole('status').filter({ hasText: 'Settings saved' }).textContent()).toBe(
      'Settings saved. Batch monitoring is on.',
    );
    expect((await readBack()).batchMonitoringEnabled).toBe(true);
    expectNoProblems(problems);
    await page.context().close();
  });

  it('changes the label, description, threshold and association id column; an invalid threshold is shown under its field', async () => {
    const { page, problems } = await openPage(browser, { token: tenant.token });
    await page.goto(`${server.url}/#/deployments/${deploymentId}/settings`);
    const threshold = page.getByLabel('Prediction threshold');
    await threshold.fill('1.5');
    await save(page, 'Save deployment settings');
    const error = page.locator('#settings-predictionThreshold-error');
    await expect.poll(() => error.textContent()).toBe('must be between 0 and 1');
    expect(await threshold.getAttribute('aria-invalid')).toBe('true');
    expect(await threshold.getAttribute('aria-describedby')).toContain('settings-predictionThreshold-error');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('settings-predictionThreshold');
    expect((await readBack()).predictionThreshold).toBe(0.5);

    await threshold.fill('0.35');
    await page.getByLabel('Label').fill('Churn model (v2)');
    await page.getByLabel('Description').fill('Scores every customer nightly.');
    await page.getByLabel('Association id column').fill('customer_id');
    await save(page, 'Save deployment settings');
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toContain('Churn model (v2)');
    expect(await error.count()).toBe(0);
    expect(await readBack()).toMatchObject({
      label: 'Churn model (v2)',
      description: 'Scores every customer nightly.',
      predictionThreshold: 0.35,
      associationIdColumn: 'customer_id',
    });
    // Emptied, the column is cleared.
    await page.getByLabel('Association id column').fill('');
    await save(page, 'Save deployment settings');
    await expect.poll(async () => (await readBack()).associationIdColumn).toBeNull();
    expectNoProblems(problems);
    await page.context().close();
  });

  it('changes the health rules and reads them back; the API’s refusal names the field', async () => {
    const { page, problems } = await openPage(browser, { token: tenant.token });
    await page.goto(`${server.url}/#/deployments/${deploymentId}/settings`);
    const atRisk = page.getByLabel('At risk from error rate');
    await atRisk.waitFor();
    expect(await atRisk.inputValue()).toBe('0.01');

    await page.getByRole('group', { name: 'Service health' }).getByLabel('Batches').selectOption('50');
    await atRisk.fill('0.02');
    await page.getByLabel('Failing from error rate').fill('0.1');
    await page.getByRole('group', { name: 'Data drift' }).getByLabel('Batches').selectOption('5');
    await page.getByLabel('Drift threshold').fill('0.2');
    await page.getByLabel('Importance threshold').fill('0.6');
    await page.getByLabel('Significance level').fill('0.01');
    await page.getByLabel('Minimum sample size').fill('500');
    await page.getByLabel('At risk from drifted high-importance features').fill('1');
    await page.getByLabel('Failing from drifted high-importance features').fill('2');
    await page.getByLabel('At risk from drifted low-importance features').fill('');
    const city = page.getByRole('group', { name: 'Excluded features' }).getByRole('checkbox', { name: /^city/ });
    await city.focus();
    await page.keyboard.press('Space');
    await page.getByLabel('Metric').selectOption('AUC');
    await page.getByRole('group', { name: 'Accuracy' }).getByLabel('Batches').selectOption('100');
    await page.getByLabel('At risk threshold').fill('0.7');
    await page.getByLabel('Failing threshold').fill('0.6');
    await save(page, 'Save health settings');
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Health settings saved.' }).count()).toBe(1);

    const expected = {
      service: { batchCount: 50, errorRateAtRisk: 0.02, errorRateFailing: 0.1 },
      dataDrift: {
        batchCount: 5,
        driftThreshold: 0.2,
        importanceThreshold: 0.6,
        significanceLevel: 0.01,
        minSampleSize: 500,
        highImportanceAtRiskCount: 1,
        highImportanceFailingCount: 2,
        lowImportanceAtRiskCount: null,
        excludedFeatures: ['city'],
      },
      accuracy: { metric: 'AUC', batchCount: 100, atRiskThreshold: 0.7, failingThreshold: 0.6 },
    };
    expect((await readBack()).healthSettings).toMatchObject(expected);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDirectory(), 'settings.png'), fullPage: true });

    // The API refuses a rate above 1: its message under that field, the field focused, nothing stored.
    await atRisk.fill('1.5');
    await save(page, 'Save health settings');
    const error = page.locator('#settings-service-errorRateAtRisk-error');
    await expect.poll(() => error.textContent()).toBe('must be between 0 and 1');
    expect(await atRisk.getAttribute('aria-invalid')).toBe('true');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('settings-service-errorRateAtRisk');
    expect(await page.getByRole('status').filter({ hasText: 'Health settings saved.' }).count()).toBe(0);
    // A count that is not a whole number is refused in the page (GraphQL's Int would refuse the whole request).
    await page.getByLabel('At risk from drifted high-importance features').fill('1.5');
    await save(page, 'Save health settings');
    await expect
      .poll(() => page.locator('#settings-dataDrift-highImportanceAtRiskCount-error').textContent())
      .toBe('Enter a whole number.');
    await page.getByLabel('At risk from drifted high-importance features').fill('1');
    // The significance level must lie strictly between 0 and 1 (the API's rule); the minimum sample size is a whole number.
    await atRisk.fill('0.02');
    const significance = page.getByLabel('Significance level');
    await significance.fill('1');
    await save(page, 'Save health settings');
    await expect
      .poll(() => page.locator('#settings-dataDrift-significanceLevel-error').textContent())
      .toBe('must be greater than 0 and less than 1');
    expect(await significance.getAttribute('aria-invalid')).toBe('true');
    await significance.fill('0.01');
    await page.getByLabel('Minimum sample size').fill('12.5');
    await save(page, 'Save health settings');
    await expect.poll(() => page.locator('#settings-dataDrift-minSampleSize-error').textContent()).toBe('Enter a whole number.');
    expect((await readBack()).healthSettings).toMatchObject(expected);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);

    // The page again: the stored rules.
    await page.reload();
    await atRisk.waitFor();
    expect(await atRisk.inputValue()).toBe('0.02');
    expect(await page.getByLabel('Metric').inputValue()).toBe('AUC');
    expect(await page.getByLabel('Significance level').inputValue()).toBe('0.01');
    expect(await page.getByLabel('Minimum sample size').inputValue()).toBe('500');
    expect(await page.getByRole('group', { name: 'Excluded features' }).getByRole('checkbox', { name: /^city/ }).isChecked()).toBe(true);
    expectNoProblems(problems);
    await page.context().close();
  });
});
