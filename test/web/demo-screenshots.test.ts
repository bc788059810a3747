import { statSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoProblems, launchBrowser, openPage, screenshotDirectory, seriousAccessibilityViolations } from '../helpers/browser.js';
import { type FilledDemo, startFilledDemo } from '../helpers/demo.js';
import { CHROMIUM, systemPackage } from '../helpers/system-packages.js';

// The README's pictures: a server filled by the demo (a year of Seattle's weather), each view of
// the dashboard in Chromium once its content is in, without console errors or serious axe-core
// violations, saved as
// demo-<view>.png (into docs/screenshots with BATCHLENS_UPDATE_SCREENSHOTS=1).

const chromiumCommand = systemPackage(CHROMIUM);
const MONTHS = 12;
const TABS = ['batches', 'service', 'drift', 'accuracy', 'custom-metrics', 'export', 'jobs', 'settings'];

/** Nothing on the page is still loading, and `selector` has text. */
function settled(page: Page, selector: string): Promise<boolean> {
  return page.evaluate((selector) => {
    const content = document.querySelector(selector);
    return !!content?.textContent?.trim() && !document.querySelector('.loading') && !(document.body.textContent ?? '').includes('Loading…');
  }, selector);
}

async function screenshot(page: Page, name: string): Promise<void> {
  const file = path.join(screenshotDirectory(), `demo-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  expect(statSync(file).size).toBeGreaterThan(10_000);
}

describe.runIf(chromiumCommand)('the demo in Chromium (README screenshots)', () => {
  let filled: FilledDemo;
  let browser: Browser;

  beforeAll(async () => {
    [filled, browser] = await Promise.all([startFilledDemo(MONTHS), launchBrowser(chromiumCommand!)]);
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await filled?.stop();
  });

  it('the inventory lists the demo deployment', async () => {
    const { page, problems } = await openPage(browser, { token: filled.server.adminToken });
    await page.goto(`${filled.server.url}/#/`);
    await page.locator('table tbody tr', { hasText: 'Seattle weather (daily)' }).waitFor();
    await expect.poll(() => settled(page, 'table tbody'), { timeout: 30_000 }).toBe(true);
    await screenshot(page, 'inventory');
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    expectNoProblems(problems);
    await page.context().close();
  });

  it.each(TABS)('the %s tab shows the demo deployment', async (tab) => {
    const { page, problems } = await openPage(browser, { token: filled.server.adminToken });
    await page.goto(`${filled.server.url}/#/deployments/${filled.demo.deploymentId}/${tab}`);
    await page.getByRole('heading', { name: /Seattle weather \(daily\)/ }).waitFor();
    await expect.poll(() => settled(page, '#tab-panel'), { timeout: 30_000 }).toBe(true);
    // Charts draw after their data: let the page finish its requests before the picture.
    await page.waitForLoadState('networkidle');
    expect(await page.locator('#tab-panel .error[role="alert"]').allTextContents()).toEqual([]);
    await screenshot(page, tab);
    // On real data too: no serious accessibility violations on any tab.
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    expectNoProblems(problems);
    await page.context().close();
  });
});
