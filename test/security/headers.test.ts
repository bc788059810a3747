import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { print } from 'graphql';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ViewerNameDocument } from '../generated/graphql.js';
import { launchBrowser, openPage } from '../helpers/browser.js';
import { createDeployment } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { CHROMIUM, systemPackage } from '../helpers/system-packages.js';

// Security headers on every response (pages, files, JSON, errors) and the CORS allowlist, over HTTP
// and, for CORS, in a real Chromium on an allowed and on an unlisted origin.

const chromiumCommand = systemPackage(CHROMIUM);

/** A page at another origin (its own port) for the browser's cross-origin requests. */
async function startOtherOrigin(): Promise<{ origin: string; close(): Promise<void> }> {
  const site = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>another site</title>');
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(site.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => site.close(() => resolve())),
  };
}

let server: TestServer;
let allowedSite: Awaited<ReturnType<typeof startOtherOrigin>>;
let unlistedSite: Awaited<ReturnType<typeof startOtherOrigin>>;
const LISTED_ORIGIN = 'https://app.example.com';
const UNLISTED_ORIGIN = 'https://evil.example.net';

beforeAll(async () => {
  allowedSite = await startOtherOrigin();
  unlistedSite = await startOtherOrigin();
  server = await startTestServer({ corsOrigins: [LISTED_ORIGIN, allowedSite.origin] });
});
afterAll(async () => {
  await server?.stop();
  await allowedSite?.close();
  await unlistedSite?.close();
});

const bearer = () => ({ authorization: `Bearer ${server.adminToken}` });
const VIEWER_NAME = print(ViewerNameDocument);

/** The headers every response carries, whatever it is. */
function expectBaseHeaders(response: Response): void {
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  expect(response.headers.get('x-frame-options')).toBe('DENY');
  expect(response.headers.get('cross-origin-opener-policy')).toBe('same-origin');
  expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
}

/** A page's policy: scripts only from the server itself, never inline, never eval. */
function expectPagePolicy(response: Response): void {
  expectBaseHeaders(response);
  const policy = response.headers.get('content-security-policy') ?? '';
  const directives = new Map(
    policy
      .split(';')
      .map((part) => part.trim().split(/\s+/) as [string, ...string[]])
      .map(([name, ...values]) => [name, values]),
  );
  expect(directives.get('script-src')).toEqual(["'self'"]);
  expect(directives.get('default-src')).toEqual(["'self'"]);
  expect(directives.get('object-src')).toEqual(["'none'"]);
  expect(directives.get('base-uri')).toEqual(["'none'"]);
  expect(policy).not.toContain('unsafe-eval');
  expect(policy).not.toContain('http');
}

/** Not a page: loads nothing at all. */
function expectResourcePolicy(response: Response): void {
  expectBaseHeaders(response);
  expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
}

/** The scripts a page names: every one a same-origin file, none inline. */
function scriptsOf(html: string): string[] {
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
  for (const [, attributes, body] of scripts) {
    expect(attributes).toMatch(/\bsrc="\//);
    expect(body!.trim()).toBe('');
  }
  expect(html).not.toMatch(/\son[a-z]+="/i); // no inline event handlers either
  return scripts.map(([, attributes]) => /src="([^"]+)"/.exec(attributes!)![1]!);
}

describe('security headers', () => {
  it('the dashboard at / has the page policy, and names only its own scripts', async () => {
    const response = await fetch(`${server.url}/`);
    expect(response.status).toBe(200);
    expectPagePolicy(response);
    expect(scriptsOf(await response.text()).every((src) => src.startsWith('/assets/'))).toBe(true);
  });

  it('GraphiQL at /graphql (a browser asking for HTML) has the page policy, no inline script and nothing from a CDN', async () => {
    const response = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expectPagePolicy(response);
    const html = await response.text();
    const scripts = scriptsOf(html);
    expect(scripts).toHaveLength(2);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/<style/i);
    // Every file it names is served, cacheable forever, with nosniff (and, for workers, the page policy).
    const files = [...html.matchAll(/(?:src|href)="(\/graphiql\/[^"]+)"/g)].map((match) => match[1]!);
    const workers = Object.values(JSON.parse(/data-workers="([^"]+)"/.exec(html)![1]!.replace(/&quot;/g, '"')) as Record<string, string>);
    expect(workers).toHaveLength(3);
    for (const file of [...files, ...workers]) {
      const asset = await fetch(`${server.url}${file}`);
      expect(asset.status, file).toBe(200);
      expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expectPagePolicy(asset);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
    expect(files.some((file) => file.endsWith('.css'))).toBe(true);
  });

  it('JSON answers and every error answer carry nosniff and a policy that loads nothing', async () => {
    const answers: [string, Promise<Response>, number][] = [
      ['/healthz', fetch(`${server.url}/healthz`), 200],
      [
        'GraphQL',
        fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...bearer() },
          body: JSON.stringify({ query: VIEWER_NAME }),
        }),
        200,
      ],
      [
        'GraphQL without a token',
        fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
        401,
      ],
      [
        'GraphQL with bad JSON',
        fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer() }, body: '{' }),
        400,
      ],
      ['REST', fetch(`${server.url}/api/v2/deployments/dep_000000000000000000000000/monitoringBatches/`, { headers: bearer() }), 404],
      ['REST without a token', fetch(`${server.url}/api/v2/deployments/dep_x/monitoringBatches/`), 401],
      ['an unknown path', fetch(`${server.url}/nothing/here`, { headers: { accept: 'text/html' } }), 404],
      ['a missing dashboard file', fetch(`${server.url}/assets/missing.js`), 404],
      ['a missing GraphiQL file', fetch(`${server.url}/graphiql/missing.js`), 404],
      ['a POST to the dashboard', fetch(`${server.url}/`, { method: 'POST', body: 'x' }), 405],
    ];
    for (const [what, answer, status] of answers) {
      const response = await answer;
      expect(response.status, what).toBe(status);
      expect(response.headers.get('content-type') ?? '', what).not.toMatch(/html/);
      expectResourcePolicy(response);
      await response.arrayBuffer();
    }
  });
});

describe('CORS allowlist', () => {
  const preflight = (path: string, origin: string) =>
    fetch(`${server.url}${path}`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, x-request-id',
      },
    });

  it('answers a listed origin’s preflight for GraphQL, REST and real-time predictions (no token needed)', async () => {
    for (const path of ['/graphql', '/api/v2/deployments/dep_x/monitoringBatches/', '/predApi/v1.0/deployments/dep_x/predictions']) {
      const response = await preflight(path, LISTED_ORIGIN);
      expect(response.status, path).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(LISTED_ORIGIN);
      expect(response.headers.get('vary')).toBe('Origin');
      expect(response.headers.get('access-control-allow-methods')).toContain('POST');
      const allowedHeaders = response.headers.get('access-control-allow-headers')?.toLowerCase().split(/,\s*/);
      expect(allowedHeaders).toEqual(expect.arrayContaining(['authorization', 'content-type', 'x-request-id']));
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('gives a listed origin’s requests Access-Control-Allow-Origin; the request still needs its token', async () => {
    const graphql = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { origin: LISTED_ORIGIN, 'content-type': 'application/json', ...bearer() },
      body: JSON.stringify({ query: VIEWER_NAME }),
    });
    expect(graphql.status).toBe(200);
    expect(graphql.headers.get('access-control-allow-origin')).toBe(LISTED_ORIGIN);
    expect(graphql.headers.get('vary')).toContain('Origin');
    expect(await graphql.json()).toEqual({ data: { viewer: { name: 'admin' } } });

    const deployment = await createDeployment(server);
    const rest = await fetch(`${server.url}/api/v2/deployments/${deployment.id}/monitoringBatches/`, {
      headers: { origin: LISTED_ORIGIN, ...bearer() },
    });
    expect(rest.status).toBe(200);
    expect(rest.headers.get('access-control-allow-origin')).toBe(LISTED_ORIGIN);
    expect(rest.headers.get('access-control-expose-headers')).toContain('X-Request-Id');

    const withoutToken = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { origin: LISTED_ORIGIN, 'content-type': 'application/json' },
      body: JSON.stringify({ query: VIEWER_NAME }),
    });
    expect(withoutToken.status).toBe(401);
    expect(withoutToken.headers.get('access-control-allow-origin')).toBe(LISTED_ORIGIN);
  });

  it('gives an unlisted origin no CORS header: its preflight is refused (403, naming the setting), its requests carry none', async () => {
    for (const path of ['/graphql', '/api/v2/deployments/dep_x/monitoringBatches/', '/predApi/v1.0/deployments/dep_x/predictions']) {
      const response = await preflight(path, UNLISTED_ORIGIN);
      expect(response.status, path).toBe(403);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(response.headers.get('access-control-allow-methods')).toBeNull();
      expect(((await response.json()) as { message: string }).message).toContain('BATCHLENS_CORS_ORIGINS');
    }
    // A listed origin with another port or scheme is another origin.
    expect((await preflight('/graphql', 'http://app.example.com')).status).toBe(403);
    expect((await preflight('/graphql', 'https://app.example.com:8443')).status).toBe(403);

    const graphql = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { origin: UNLISTED_ORIGIN, 'content-type': 'application/json', ...bearer() },
      body: JSON.stringify({ query: VIEWER_NAME }),
    });
    expect(graphql.status).toBe(200);
    expect(graphql.headers.get('access-control-allow-origin')).toBeNull();
    expect(graphql.headers.get('vary')).toContain('Origin');
  });

  it('answers an OPTIONS request that is no preflight (no Origin) like any other method it does not serve', async () => {
    const graphql = await fetch(`${server.url}/graphql`, { method: 'OPTIONS' });
    expect(graphql.status).toBe(405);
    expect(graphql.headers.get('allow')).toBe('GET, POST');
    expect(graphql.headers.get('access-control-allow-origin')).toBeNull();
    expectResourcePolicy(graphql);
    await graphql.arrayBuffer();
    const rest = await fetch(`${server.url}/api/v2/deployments/dep_x/monitoringBatches/`, { method: 'OPTIONS' });
    expect(rest.status).toBe(405);
    expect(((await rest.json()) as { message: string }).message).toBe('Method OPTIONS is not allowed here; use POST, GET');
  });

  it('leaves the dashboard’s and GraphiQL’s own files alone (same origin only)', async () => {
    const page = await fetch(`${server.url}/`, { headers: { origin: LISTED_ORIGIN } });
    expect(page.headers.get('access-control-allow-origin')).toBeNull();
  });

  describe.runIf(chromiumCommand)('in Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchBrowser(chromiumCommand!);
    });
    afterAll(() => browser?.close());

    /** A page at `origin` runs a GraphQL request against the server with a token; what it got, or the error. */
    async function crossOriginQuery(origin: string): Promise<string> {
      const { page } = await openPage(browser);
      await page.goto(`${origin}/`);
      const outcome = await page.evaluate(
        async ({ url, token, query }) => {
          try {
            const response = await fetch(url, {
              method: 'POST',
              headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
              body: JSON.stringify({ query }),
            });
            return `${response.status} ${await response.text()}`;
          } catch (error) {
            return `failed: ${(error as Error).message}`;
          }
        },
        { url: `${server.url}/graphql`, token: server.adminToken, query: VIEWER_NAME },
      );
      await page.context().close();
      return outcome;
    }

    it('lets a page on a listed origin call the API, and keeps the answer from a page on an unlisted one', async () => {
      expect(await crossOriginQuery(allowedSite.origin)).toBe('200 {"data":{"viewer":{"name":"admin"}}}');
      expect(await crossOriginQuery(unlistedSite.origin)).toBe('failed: Failed to fetch');
    });
  });
});
