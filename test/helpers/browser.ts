import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';

// The dashboard in a real Chromium (Debian's, driven by playwright-core) against a real server.
// Files call `systemPackage(CHROMIUM)` first and run their tests only when it is installed.

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function launchBrowser(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath: executablePath.startsWith('/') ? executablePath : undefined,
    channel: undefined,
    args: FLAGS,
    headless: true,
  });
}

/** What went wrong in the page: console errors and uncaught exceptions, collected from its start. */
export interface PageProblems {
  errors: string[];
}

/**
 * A new page (1400×900, a fixed time zone) whose console errors are collected, signed in with
 * `token` (put in session storage before the page's scripts run, as the sign-in form does).
 */
export async function openPage(
  browser: Browser,
  options: { token?: string; timezoneId?: string } = {},
): Promise<{ page: Page; problems: PageProblems }> {
  const context = await browser.newContext({
    viewport: { width: 1400, height: 900 },
    timezoneId: options.timezoneId ?? 'Europe/Berlin',
    locale: 'en-US',
  });
  if (options.token) {
    await context.addInitScript((token: string) => sessionStorage.setItem('batchlens.token', token), options.token);
  }
  const page = await context.newPage();
  const problems: PageProblems = { errors: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') problems.errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.errors.push(`page error: ${error.message}`));
  return { page, problems };
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = require.resolve('axe-core/axe.min.js');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** axe-core's serious and critical violations on the page as it is now (WCAG 2 A/AA rules). */
export async function seriousAccessibilityViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated over the DevTools protocol, not as a <script>: the page's CSP allows no inline script.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(readFileSync(AXE_SOURCE, 'utf8'));
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<{ violations: AxeViolation[] }> } })
      .axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.slice(0, 5).map((node) => ({ target: node.target, failureSummary: node.failureSummary })),
    }));
  });
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}

export function expectNoProblems(problems: PageProblems): void {
  expect(problems.errors).toEqual([]);
}

/**
 * Where screenshots go: docs/screenshots (the README shows them) when BATCHLENS_UPDATE_SCREENSHOTS=1,
 * else a temporary directory (they are still taken, and must not be empty).
 */
export function screenshotDirectory(): string {
  const directory =
    process.env.BATCHLENS_UPDATE_SCREENSHOTS === '1'
      ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))
      : path.join(os.tmpdir(), 'batchlens-screenshots');
  mkdirSync(directory, { recursive: true });
  return directory;
}
