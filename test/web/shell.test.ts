import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoProblems, launchBrowser, openPage, seriousAccessibilityViolations } from '../helpers/browser.js';
import { createDeployment, createOrganization } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { CHROMIUM, systemPackage } from '../helpers/system-packages.js';

// Sign-in, the deployments inventory and the deployment page's frame, in a real Chromium.

const chromiumCommand = systemPackage(CHROMIUM);

describe.runIf(chromiumCommand)('the dashboard shell in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let tenant: { token: string };
  let other: { token: string };
  let deploymentId: string;
  let foreignDeploymentId: string;

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser(chromiumCommand!);
    tenant = await createOrganization(server);
    other = await createOrganization(server);
    deploymentId = (await createDeployment(server, tenant.token, { label: 'Churn scoring (nightly)' })).id;
    await createDeployment(server, tenant.token, { label: 'Realtime fraud', batchMonitoringEnabled: false });
    foreignDeploymentId = (await createDeployment(server, other.token, { label: 'Another tenant’s model' })).id;
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('signs in with a token after refusing a wrong one, and signs out (clearing the token)', async () => {
    const { page, problems } = await openPage(browser);
    await page.goto(`${server.url}/`);
    await page.getByLabel('API token').fill('bl_not_a_real_token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not valid');
    expect(await page.evaluate(() => sessionStorage.getItem('batchlens.token'))).toBeNull();

    await page.getByLabel('API token').fill(tenant.token);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Deployments' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('batchlens.token'))).toBe(tenant.token);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API token').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('batchlens.token'))).toBeNull();
    // The 401 of the wrong token is logged by Chromium as a failed resource; nothing else may be.
    expect(problems.errors.filter((error) => !error.includes('401'))).toEqual([]);
    await page.context().close();
  });

  it('lists only the organization’s deployments, with the BATCH badge, health and activity, and searches them', async () => {
    const { page, problems } = await openPage(browser, { token: tenant.token });
    await page.goto(`${server.url}/`);
    const rows = page.locator('table tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    const churn = rows.filter({ hasText: 'Churn scoring (nightly)' });
    expect(await churn.locator('.badge').textContent()).toBe('BATCH');
    expect(await rows.filter({ hasText: 'Realtime fraud' }).locator('.badge').count()).toBe(0);
    expect(await churn.locator('.health').count()).toBe(3);
    expect(await churn.locator('.health').first().getAttribute('title')).toMatch(/^Service health: Unknown — /);
    expect(await churn.locator('svg.sparkline').getAttribute('aria-label')).toContain('Predictions per day');
    expect(await page.content()).not.toContain('Another tenant’s model');

    await page.getByLabel('Search').fill('fraud');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('Realtime fraud');
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    expectNoProblems(problems);
    await page.context().close();
  });

  it('opens a deployment with its tabs, moves between them with the keyboard, and treats a foreign id as missing', async () => {
    const { page, problems } = await openPage(browser, { token: tenant.token });
    await page.goto(`${server.url}/#/deployments/${deploymentId}/batches`);
    await page.getByRole('heading', { name: /Churn scoring \(nightly\)/ }).waitFor();
    const tabs = page.getByRole('tab');
    expect(await tabs.allTextContents()).toEqual([
      'Batch Management',
      'Service Health',
      'Data Drift',
      'Accuracy',
      'Custom Metrics',
      'Data Export',
      'Jobs',
      'Settings',
    ]);
    await page.getByRole('tab', { name: 'Batch Management' }).focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.evaluate(() => location.hash)).toBe(`#/deployments/${deploymentId}/service`);
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Service Health');
    await page.keyboard.press('End');
    await expect.poll(() => page.evaluate(() => location.hash)).toBe(`#/deployments/${deploymentId}/settings`);

    await page.goto(`${server.url}/#/deployments/${foreignDeploymentId}/batches`);
    await page.getByRole('heading', { name: 'Deployment not found' }).waitFor();
    await page.goto(`${server.url}/#/deployments/dep_000000000000000000000000/batches`);
    await page.reload();
    await page.getByRole('heading', { name: 'Deployment not found' }).waitFor();
    expectNoProblems(problems);
    await page.context().close();
  });
});
