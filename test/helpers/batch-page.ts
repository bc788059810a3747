import type { Browser, Page } from 'playwright-core';
import { type BatchOrder, DeploymentBatchesDocument, type DeploymentBatchesQueryVariables } from '../generated/graphql.js';
import { openPage, type PageProblems } from './browser.js';
import type { TestServer } from './server.js';

// The Batch Management tab in Chromium: opening it, reading its table, and recording what it shows
// over time (in the page, so nothing between two polls is missed).

export const batchesUrl = (server: TestServer, deploymentId: string, batchId?: string) =>
  `${server.url}/#/deployments/${deploymentId}/batches${batchId ? `/${batchId}` : ''}`;

/** The tab open on the deployment's batches, the table (or its empty state) shown and the quota subscription answering. */
export async function openBatches(
  browser: Browser,
  server: TestServer,
  token: string,
  deploymentId: string,
): Promise<{ page: Page; problems: PageProblems }> {
  const opened = await openPage(browser, { token });
  await opened.page.goto(batchesUrl(server, deploymentId));
  await waitForList(opened.page);
  return opened;
}

/**
 * The table or its empty state, and the live quota: its subscription is sent on the same socket as
 * the batch events', just after it, so once the quota answered the events are followed too.
 */
export async function waitForList(page: Page): Promise<void> {
  await page.locator('table.batch-table tbody tr, .batch-table-empty').first().waitFor();
  await page.locator('.quota[data-live="on"]').waitFor();
}

/** The batch ids of the table's rows, top to bottom. */
export function rowIds(page: Page): Promise<string[]> {
  return page.locator('table.batch-table tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-batch-id') ?? ''));
}

/** The ids of a page of the same list, read over GraphQL (the order the table must show). */
export async function apiIds(
  server: TestServer,
  token: string,
  deploymentId: string,
  variables: Omit<DeploymentBatchesQueryVariables, 'deploymentId'> & { orderBy?: BatchOrder },
): Promise<string[]> {
  const data = await server.op(DeploymentBatchesDocument, { deploymentId, first: 50, ...variables }, token);
  return data.deployment!.batches.edges.map((edge) => edge.node.id);
}

/**
 * Starts recording, in the page, every distinct text of a batch row's prediction count (the row may
 * not be there yet); `read` returns them in the order they were shown.
 */
export async function recordCounts(page: Page, batchId: string): Promise<{ read: () => Promise<string[]> }> {
  await page.evaluate((id) => {
    const seen: string[] = [];
    (window as unknown as { recordedCounts: string[] }).recordedCounts = seen;
    const look = () => {
      const text = document.querySelector(`tr[data-batch-id="${id}"] .prediction-count`)?.textContent;
      if (text != null && seen.at(-1) !== text) seen.push(text);
    };
    look();
    new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true });
  }, batchId);
  return { read: () => page.evaluate(() => (window as unknown as { recordedCounts: string[] }).recordedCounts) };
}

/** Starts watching, in the page, for a table row naming `name`; `seenAt` is its Date.now() when it appeared. */
export async function watchForRow(page: Page, name: string): Promise<{ seenAt: () => Promise<number | null> }> {
  await page.evaluate((wanted) => {
    const state = window as unknown as { rowSeenAt: number | null };
    state.rowSeenAt = null;
    const observer = new MutationObserver(() => {
      const rows = document.querySelectorAll('table.batch-table tbody tr th a');
      if ([...rows].some((link) => link.textContent === wanted)) {
        state.rowSeenAt = Date.now();
        observer.disconnect();
      }
    });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
  }, name);
  return { seenAt: () => page.evaluate(() => (window as unknown as { rowSeenAt: number | null }).rowSeenAt) };
}

/** Parses a grouped count as the page shows it ("25,000" in en-US). */
export const parseCount = (text: string) => Number(text.replace(/[^0-9]/g, ''));
