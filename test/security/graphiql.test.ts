import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage, type PageProblems } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { CHROMIUM, systemPackage } from '../helpers/system-packages.js';

// GraphiQL in a real Chromium under the strict page CSP (no inline script): it loads with no
// policy violation, asks nothing of another origin (its files and Monaco's workers come from
// /graphiql/), and runs a query with a token typed into its Headers editor.

const chromiumCommand = systemPackage(CHROMIUM);

/** What the page did: CSP violations (reported by the browser as events) and every URL it requested. */
interface Watch {
  violations: string[];
  requests: string[];
}

async function watch(page: Page): Promise<Watch> {
  const seen: Watch = { violations: [], requests: [] };
  // Exposed before any of the page's scripts run (DevTools protocol, not subject to the page's CSP).
  await page.exposeFunction('reportViolation', (text: string) => seen.violations.push(text));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      (window as unknown as { reportViolation(text: string): void }).reportViolation(
        `${event.violatedDirective} blocked ${event.blockedURI} (${event.sourceFile}:${event.lineNumber})`,
      );
    });
  });
  page.context().on('request', (request) => seen.requests.push(request.url()));
  return seen;
}

/** Replaces the text of one of GraphiQL's Monaco editors (`query`, `variables`, `headers`). */
async function replaceEditorText(page: Page, editor: string, text: string): Promise<void> {
  await page.locator(`.monaco-editor[data-uri*="-${editor}."]`).click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  // Inserted as text (not typed key by key), so the editor does not auto-close brackets.
  await page.keyboard.insertText(text);
}

/** Console errors other than the 401s GraphiQL's first schema fetch gets before a token is entered. */
function unexpectedErrors(problems: PageProblems): string[] {
  return problems.errors.filter((error) => !error.includes('status of 401'));
}

describe.runIf(chromiumCommand)('GraphiQL in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser(chromiumCommand!);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('loads without a CSP violation or a request to another origin, and runs a query with a token', async () => {
    const { page, problems } = await openPage(browser);
    const seen = await watch(page);
    await page.goto(`${server.url}/graphql`);
    await page.locator('.graphiql-query-editor .monaco-editor').waitFor();

    await page.getByRole('button', { name: 'Headers' }).click();
    await replaceEditorText(page, 'headers', JSON.stringify({ Authorization: `Bearer ${server.adminToken}` }));
    await replaceEditorText(page, 'operation', '{ viewer { name } __typename }');
    await page.locator('.graphiql-execute-button').click();
    await expect.poll(() => page.locator('.graphiql-response').textContent(), { timeout: 15_000 }).toContain('"admin"');
    const response = (await page.locator('.graphiql-response').textContent()) ?? '';
    expect(response).toContain('"__typename"');
    expect(response).toContain('"Query"');
    expect(response).not.toContain('UNAUTHENTICATED');

    const origin = new URL(server.url).origin;
    const foreign = seen.requests.filter((url) => !url.startsWith('data:') && new URL(url).origin !== origin);
    expect(foreign).toEqual([]);
    // The bundle, its stylesheet, the start script and Monaco's workers, all from /graphiql/.
    const files = seen.requests.filter((url) => url.startsWith(`${origin}/graphiql/`)).map((url) => new URL(url).pathname);
    expect(files).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/graphiql\/graphiql-[0-9a-f]{16}\.js$/),
        expect.stringMatching(/^\/graphiql\/graphiql-[0-9a-f]{16}\.css$/),
        expect.stringMatching(/^\/graphiql\/start-[0-9a-f]{16}\.js$/),
        expect.stringMatching(/^\/graphiql\/editor\.worker-[0-9a-f]{16}\.js$/),
      ]),
    );
    expect(seen.violations).toEqual([]);
    expect(unexpectedErrors(problems)).toEqual([]);
    await page.context().close();
  });
});
