import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { BatchLiveDocument } from '../generated/graphql.js';
import { createBatch, createDeployment } from '../helpers/fixtures.js';
import { closeSockets, connect, watch } from '../helpers/graphql-ws.js';
import { ndjson, regressionRows } from '../helpers/ingest-data.js';
import { LogCapture, sample } from '../helpers/logs.js';
import { batchesPath, bulkPath, post } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { sleep } from '../helpers/time.js';

// GET /metrics: who may read it (a token, or a separate listen address; neither: 404 naming both
// settings) and what it says after known traffic.

const METRICS_TOKEN = `mt_${'7'.repeat(8)}_metrics_token`;
let server: TestServer;
const logs = new LogCapture();

beforeAll(async () => {
  server = await startTestServer(
    { metricsToken: METRICS_TOKEN, metricsListen: { host: '127.0.0.1', port: 0 } },
    { logDestination: logs.destination },
  );
});
afterAll(async () => {
  await closeSockets();
  await server?.stop();
});

async function scrape(target = server): Promise<string> {
  const response = await fetch(`${target.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(response.status).toBe(200);
  return response.text();
}

/** A metric's change across `work`. */
async function change(name: string, labels: Record<string, string>, work: () => Promise<unknown>): Promise<number> {
  const before = sample(await scrape(), name, labels);
  await work();
  // The request's own observation is made once its answer ended: give it a moment.
  await sleep(50);
  return sample(await scrape(), name, labels) - before;
}

describe('access', () => {
  it('with the metrics token: Prometheus text; without it or with a wrong one: 401, and the wrong token is never logged', async () => {
    const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    for (const name of [
      'batchlens_http_request_duration_seconds',
      'batchlens_graphql_operation_duration_seconds',
      'batchlens_errors_total',
      'batchlens_ingest_rows_total',
      'batchlens_ingest_bytes_total',
      'batchlens_copy_duration_seconds',
      'batchlens_open_subscriptions',
      'batchlens_subscription_messages_total',
      'batchlens_jobs',
      'batchlens_db_pool_connections',
      'process_cpu_seconds_total',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(text, name).toContain(`# TYPE ${name} `);
    }

    const wrong = 'mt_wrong_token_that_must_not_be_logged';
    const attempts: Record<string, string>[] = [
      {},
      { authorization: `Bearer ${wrong}` },
      { authorization: wrong },
      { authorization: `Bearer ${server.adminToken}` },
    ];
    for (const headers of attempts) {
      const refused = await fetch(`${server.url}/metrics`, { headers });
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { message: string }).message).toContain('BATCHLENS_METRICS_TOKEN');
    }
    await sleep(50);
    expect(logs.requests({ path: '/metrics', status: 401 }).length).toBeGreaterThanOrEqual(4);
    expect(logs.text).not.toContain(wrong);
    expect(logs.text).not.toContain(METRICS_TOKEN);
  });

  it('on the separate listen address: /metrics without a token, nothing else', async () => {
    const url = server.app.metricsUrl!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('# TYPE batchlens_http_request_duration_seconds histogram');
    const other = await fetch(url.replace('/metrics', '/graphql'));
    expect(other.status).toBe(404);
    expect((await fetch(url, { method: 'POST' })).status).toBe(405);
  });

  it('with neither setting: 404 naming both; with only the listen address: 404 on the main port', async () => {
    const plain = await startTestServer();
    const separate = await startTestServer({ metricsListen: { host: '127.0.0.1', port: 0 } });
    try {
      for (const target of [plain, separate]) {
        const response = await fetch(`${target.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
        expect(response.status).toBe(404);
        const { message } = (await response.json()) as { message: string };
        expect(message).toContain('BATCHLENS_METRICS_TOKEN');
        expect(message).toContain('BATCHLENS_METRICS_LISTEN');
      }
      expect(plain.app.metricsUrl).toBeUndefined();
      expect((await fetch(separate.app.metricsUrl!)).status).toBe(200);
    } finally {
      await Promise.all([plain.stop(), separate.stop()]);
    }
  });
});

describe('values after known traffic', () => {
  it('an upload of N rows adds N rows, its bytes and one COPY', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const body = ndjson(regressionRows(37, 5));
    const before = await scrape();
    const answer = await post(server, bulkPath(deployment.id, batch.id), body);
    expect(answer.status).toBe(200);
    await sleep(50);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('batchlens_ingest_rows_total', { source: 'upload' })).toBe(37);
    expect(delta('batchlens_ingest_bytes_total')).toBe(Buffer.byteLength(body));
    expect(delta('batchlens_copy_duration_seconds_count', { outcome: 'ok' })).toBe(1);
    expect(delta('batchlens_http_request_duration_seconds_count', { route: 'rest', outcome: '2xx' })).toBeGreaterThanOrEqual(1);
  });

  it('a refused upload stores nothing and counts no rows', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const rows = `${ndjson(regressionRows(3, 6))}{"features":{"age":"not a number"}}\n`;
    expect(
      await change('batchlens_ingest_rows_total', {}, async () =>
        expect((await post(server, bulkPath(deployment.id, batch.id), rows)).status).toBe(422),
      ),
    ).toBe(0);
  });

  it('a GraphQL operation is observed by name and outcome, over HTTP and the request histogram alike', async () => {
    const query = { query: 'query MetricsProbe { viewer { id } }' };
    const send = () =>
      fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}` },
        body: JSON.stringify(query),
      }).then((r) => r.text());
    expect(
      await change('batchlens_graphql_operation_duration_seconds_count', { operation: 'MetricsProbe', type: 'query', outcome: 'ok' }, send),
    ).toBe(1);
    expect(
      await change('batchlens_http_request_duration_seconds_count', { route: 'graphql', operation: 'MetricsProbe', outcome: '2xx' }, send),
    ).toBe(1);
  });

  it('errors are counted by code: GraphQL validation, REST statuses', async () => {
    const invalid = () => server.graphql('query MetricsBroken { viewer { noSuchField } }');
    expect(
      await change('batchlens_graphql_operation_duration_seconds_count', { operation: 'MetricsBroken', outcome: 'invalid' }, invalid),
    ).toBe(1);
    expect(await change('batchlens_errors_total', { kind: 'graphql', code: 'GRAPHQL_VALIDATION_FAILED' }, invalid)).toBe(1);
    const missing = () => server.rest('GET', batchesPath('dep_000000000000000000000000'));
    expect(await change('batchlens_errors_total', { kind: 'http', code: '404' }, missing)).toBe(1);
    expect(
      await change(
        'batchlens_http_request_duration_seconds_count',
        { route: 'rest', operation: 'GET /api/v2/deployments/:deploymentId/monitoringBatches/', outcome: '4xx' },
        missing,
      ),
    ).toBe(1);
    expect(
      await change('batchlens_errors_total', { kind: 'http', code: '401' }, () => server.rest('GET', batchesPath('x'), { token: 'nope' })),
    ).toBe(1);
  });

  it('open subscriptions (graphql-ws and SSE) are counted while open, and their messages', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const open = async (transport: string) => sample(await scrape(), 'batchlens_open_subscriptions', { transport });
    const sent = async (transport: string) => sample(await scrape(), 'batchlens_subscription_messages_total', { transport });

    const [wsBefore, wsSentBefore] = [await open('ws'), await sent('ws')];
    const client = connect(server);
    const live = watch(client, BatchLiveDocument, { id: batch.id });
    await live.until((data) => data.monitoringBatch?.id === batch.id);
    expect(await open('ws')).toBe(wsBefore + 1);
    expect(await sent('ws')).toBeGreaterThanOrEqual(wsSentBefore + 1);
    await live.stop();
    await client.dispose();
    await expect.poll(() => open('ws')).toBe(wsBefore);

    const [sseBefore, sseSentBefore] = [await open('sse'), await sent('sse')];
    const controller = new AbortController();
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${server.adminToken}` },
      body: JSON.stringify({ query: print(BatchLiveDocument), variables: { id: batch.id } }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('predictionCount')) text += new TextDecoder().decode((await reader.read()).value);
    expect(await open('sse')).toBe(sseBefore + 1);
    expect(await sent('sse')).toBe(sseSentBefore + 1);
    controller.abort();
    await expect.poll(() => open('sse')).toBe(sseBefore);
  });

  it('jobs and the database pool are read at scrape time', async () => {
    const text = await scrape();
    for (const state of ['queued', 'running', 'failed'])
      expect(text).toMatch(new RegExp(`^batchlens_jobs\\{state="${state}"\\} \\d+$`, 'm'));
    expect(sample(text, 'batchlens_db_pool_connections', { state: 'max' })).toBe(10); // BATCHLENS_DB_POOL_SIZE's default
    expect(
      sample(text, 'batchlens_db_pool_connections', { state: 'idle' }) + sample(text, 'batchlens_db_pool_connections', { state: 'active' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('client-chosen operation names beyond the cap become "other"', async () => {
    const names = Array.from({ length: 220 }, (_, i) => `CapName${i}`);
    for (let i = 0; i < names.length; i += 55) {
      await Promise.all(names.slice(i, i + 55).map((name) => server.graphql(`query ${name} { viewer { id } }`)));
    }
    const text = await scrape();
    const distinct = new Set(
      [...text.matchAll(/batchlens_graphql_operation_duration_seconds_count\{operation="([^"]+)"/g)].map((m) => m[1]),
    );
    expect(distinct.size).toBeLessThanOrEqual(201);
    expect(sample(text, 'batchlens_graphql_operation_duration_seconds_count', { operation: 'other' })).toBeGreaterThanOrEqual(20);
  });
});

describe('settings', () => {
  it('BATCHLENS_METRICS_LISTEN is host:port or a port; BATCHLENS_LOG_LEVEL one of pino’s levels; bad values name the variable', () => {
    expect(loadConfig({ BATCHLENS_METRICS_LISTEN: '127.0.0.1:9464' }).metricsListen).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(loadConfig({ BATCHLENS_METRICS_LISTEN: '[::1]:9464' }).metricsListen).toEqual({ host: '::1', port: 9464 });
    expect(loadConfig({ BATCHLENS_METRICS_LISTEN: '9464' }).metricsListen).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(loadConfig({}).metricsListen).toBeUndefined();
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({}).logLevel).toBe('info');
    expect(loadConfig({ BATCHLENS_LOG_LEVEL: 'WARN' }).logLevel).toBe('warn');
    for (const bad of ['localhost', 'host:99999', 'host:port', ':']) {
      expect(() => loadConfig({ BATCHLENS_METRICS_LISTEN: bad })).toThrow(/BATCHLENS_METRICS_LISTEN/);
    }
    expect(() => loadConfig({ BATCHLENS_LOG_LEVEL: 'verbose' })).toThrow(
      /BATCHLENS_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/,
    );
  });
});
