import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchLiveDocument } from '../generated/graphql.js';
import { createBatch, createDeployment } from '../helpers/fixtures.js';
import { closeSockets, connect, runOnce, watch } from '../helpers/graphql-ws.js';
import { jsonLines, LogCapture, type LogLine } from '../helpers/logs.js';
import { ServerProcess, stopProcesses } from '../helpers/processes.js';
import { batchesPath } from '../helpers/rest.js';
import { createTestDatabase, startTestServer, type TestServer } from '../helpers/server.js';
import { sleep } from '../helpers/time.js';

// Structured logs: a request id taken from (or returned as) X-Request-Id on every answer, one JSON
// line per HTTP request and per graphql-ws operation, the log level, and a real process's stdout.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let server: TestServer;
const logs = new LogCapture();
let organizationId: string;

beforeAll(async () => {
  server = await startTestServer({ logLevel: 'debug' }, { logDestination: logs.destination });
  const viewer = await server.graphql<{ viewer: { organization: { id: string } } }>('query Me { viewer { organization { id } } }');
  organizationId = viewer.data!.viewer.organization.id;
});
afterAll(async () => {
  await closeSockets();
  await server?.stop();
  await stopProcesses();
});

/** Waits (up to 5 s) for log lines that match: a line is written when its answer has ended. */
async function waitForLines(capture: LogCapture, pick: (lines: LogLine[]) => LogLine[], count = 1): Promise<LogLine[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = pick(capture.lines());
    if (found.length >= count || Date.now() > deadline) return found;
    await sleep(20);
  }
}

const requestLine = async (requestId: string) =>
  (await waitForLines(logs, (lines) => lines.filter((l) => l.msg === 'request' && l.requestId === requestId)))[0];

describe('X-Request-Id', () => {
  const answers = (headers: Record<string, string>) => ({
    graphql: () =>
      fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}`, ...headers },
        body: JSON.stringify({ query: '{ viewer { id } }' }),
      }),
    rest: () =>
      fetch(`${server.url}/api/v2/deployments/nope/monitoringBatches/`, {
        headers: { authorization: `Bearer ${server.adminToken}`, ...headers },
      }),
    unauthenticated: () => fetch(`${server.url}/api/v2/deployments/nope/monitoringBatches/`, { headers }),
    dashboard: () => fetch(`${server.url}/`, { headers }),
    notFound: () => fetch(`${server.url}/no/such/page`, { headers }),
    health: () => fetch(`${server.url}/healthz`, { headers }),
    metrics: () => fetch(`${server.url}/metrics`, { headers }),
  });

  it('is the client’s when sane (≤ 128 of [A-Za-z0-9._:-]), on every kind of answer', async () => {
    for (const [kind, send] of Object.entries(answers({ 'x-request-id': 'client.id:42_a-B' }))) {
      const response = await send();
      await response.arrayBuffer();
      expect(response.headers.get('x-request-id'), kind).toBe('client.id:42_a-B');
    }
    const longest = 'a'.repeat(128);
    const response = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': longest } });
    expect(response.headers.get('x-request-id')).toBe(longest);
  });

  it('is generated (a UUID) when absent or not sane, and differs per request', async () => {
    for (const bad of ['', 'has space', 'a'.repeat(129), 'semi;colon', 'ünicode', '<script>']) {
      for (const [kind, send] of Object.entries(answers(bad ? { 'x-request-id': bad } : {}))) {
        const response = await send();
        await response.arrayBuffer();
        expect(response.headers.get('x-request-id'), `${kind} with ${JSON.stringify(bad)}`).toMatch(UUID);
      }
    }
    const [a, b] = await Promise.all([fetch(`${server.url}/healthz`), fetch(`${server.url}/healthz`)]);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });
});

describe('one JSON line per HTTP request', () => {
  it('GraphQL: request id, method, path, organization, operation name, status and duration', async () => {
    const response = await fetch(`${server.url}/graphql?ignored=query-string`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}`, 'x-request-id': 'log-graphql-1' },
      body: JSON.stringify({ query: 'query LoggedViewer { viewer { id } }', operationName: 'LoggedViewer' }),
    });
    expect(response.status).toBe(200);
    const line = await requestLine('log-graphql-1');
    expect(line).toMatchObject({
      level: 'info',
      component: 'http',
      requestId: 'log-graphql-1',
      method: 'POST',
      path: '/graphql',
      organizationId,
      operation: 'LoggedViewer',
      status: 200,
    });
    expect(typeof line!.durationMs).toBe('number');
    expect(line!.durationMs as number).toBeGreaterThanOrEqual(0);
    expect(Date.parse(line!.time)).not.toBeNaN();
    // Without an operationName, the document's operation names the line.
    await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}`, 'x-request-id': 'log-graphql-2' },
      body: JSON.stringify({ query: 'query NamedInDocument { viewer { id } }' }),
    });
    expect(await requestLine('log-graphql-2')).toMatchObject({ operation: 'NamedInDocument', status: 200 });
  });

  it('REST: the route pattern is the operation; the query string is never logged', async () => {
    const deployment = await createDeployment(server);
    const response = await fetch(`${server.url}${batchesPath(deployment.id)}?limit=5&secret=in-query`, {
      headers: { authorization: `Bearer ${server.adminToken}`, 'x-request-id': 'log-rest-1' },
    });
    expect(response.status).toBe(200);
    expect(await requestLine('log-rest-1')).toMatchObject({
      requestId: 'log-rest-1',
      method: 'GET',
      path: batchesPath(deployment.id),
      organizationId,
      operation: 'GET /api/v2/deployments/:deploymentId/monitoringBatches/',
      status: 200,
    });
    expect(logs.text).not.toContain('in-query');
  });

  it('refusals and unmatched paths: their status, no organization without a valid token', async () => {
    await fetch(`${server.url}/api/v2/deployments/x/monitoringBatches/`, {
      headers: { authorization: 'Bearer wrong', 'x-request-id': 'log-401' },
    });
    await fetch(`${server.url}/nothing/here`, { headers: { 'x-request-id': 'log-404' } });
    const unauthorized = await requestLine('log-401');
    expect(unauthorized).toMatchObject({ status: 401, operation: 'GET /api/v2/deployments/:deploymentId/monitoringBatches/' });
    expect(unauthorized).not.toHaveProperty('organizationId');
    expect(await requestLine('log-404')).toMatchObject({ status: 404, path: '/nothing/here', method: 'GET' });
  });

  it('every line is JSON with a level and a time; background work logs as its component', async () => {
    const lines = logs.lines();
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).toContain(line.level);
      expect(typeof line.msg).toBe('string');
      expect(typeof line.component).toBe('string');
    }
  });
});

describe('graphql-ws', () => {
  it('one line per operation with an id of its own; the connection opening and closing at debug', async () => {
    const client = connect(server);
    const first = await runOnce(client, 'query WsViewer { viewer { id } }');
    const second = await runOnce(client, 'query WsViewer { viewer { id } }');
    const invalid = await runOnce(client, 'query WsBroken { viewer { noSuchField } }');
    expect(first.data).toBeTruthy();
    expect(second.data).toBeTruthy();
    expect(invalid.refused).toBeTruthy();
    const operations = await waitForLines(
      logs,
      (lines) => lines.filter((l) => l.msg === 'graphql-ws operation' && String(l.operation).startsWith('Ws')),
      3,
    );
    const viewers = operations.filter((l) => l.operation === 'WsViewer');
    expect(viewers).toHaveLength(2);
    for (const line of viewers) expect(line).toMatchObject({ level: 'info', organizationId, type: 'query', outcome: 'ok' });
    expect(viewers[0]!.requestId).toMatch(UUID);
    expect(viewers[0]!.requestId).not.toBe(viewers[1]!.requestId);
    expect(viewers[0]!.connectionId).toBe(viewers[1]!.connectionId);
    expect(operations.find((l) => l.operation === 'WsBroken')).toMatchObject({ outcome: 'invalid' });

    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const live = watch(client, BatchLiveDocument, { id: batch.id });
    await live.until((data) => data.monitoringBatch?.id === batch.id);
    await live.stop();
    const [subscription] = await waitForLines(logs, (lines) =>
      lines.filter((l) => l.msg === 'graphql-ws operation' && l.operation === 'BatchLive'),
    );
    expect(subscription).toMatchObject({ type: 'subscription', outcome: 'ended', organizationId });

    await client.dispose();
    const connection = await waitForLines(
      logs,
      (lines) => lines.filter((l) => l.connectionId === viewers[0]!.connectionId && l.level === 'debug'),
      2,
    );
    expect(connection.map((l) => l.msg)).toEqual(['graphql-ws connection opened', 'graphql-ws connection closed']);
  });
});

describe('log level', () => {
  it('at warn, no request line is built or written', async () => {
    const quiet = new LogCapture();
    const warnServer = await startTestServer({ logLevel: 'warn' }, { logDestination: quiet.destination });
    try {
      await warnServer.graphql('query Quiet { viewer { id } }');
      await fetch(`${warnServer.url}/healthz`);
      await fetch(`${warnServer.url}/nowhere`);
      await sleep(100);
      expect(quiet.lines().filter((line) => ['info', 'debug', 'trace'].includes(line.level))).toEqual([]);
    } finally {
      await warnServer.stop();
    }
  });
});

describe('a real server process', () => {
  it('writes JSON lines on stdout (request lines with their id) and prints the bootstrap token apart, readable', {
    timeout: 120_000,
  }, async () => {
    const process = await (await ServerProcess.spawn({ databaseUrl: await createTestDatabase(), token: undefined })).ready();
    const token = /^ {4}(bl_[A-Za-z0-9_-]{20,})$/m.exec(process.stdout)?.[1];
    expect(token, process.output()).toBeTruthy();
    expect(process.stdout).toContain('Admin API token (shown once, store it now)');
    await fetch(`${process.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': 'process-request-1' },
      body: JSON.stringify({ query: 'query FromProcess { viewer { id } }' }),
    });
    const deadline = Date.now() + 5000;
    while (!process.stdout.includes('process-request-1') && Date.now() < deadline) await sleep(20);
    const lines = jsonLines(process.stdout);
    expect(lines.find((line) => line.msg.startsWith('batchlens listening on'))).toMatchObject({ level: 'info', component: 'app' });
    expect(lines.find((line) => line.requestId === 'process-request-1')).toMatchObject({
      msg: 'request',
      operation: 'FromProcess',
      status: 200,
      path: '/graphql',
    });
    // The token is shown once for a person, never inside a log line.
    for (const line of lines) expect(JSON.stringify(line)).not.toContain(token);
    expect((await process.terminate()).code).toBe(0);
    expect(process.stdout).toContain('SIGTERM received');
  });
});
