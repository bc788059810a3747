import { randomBytes } from 'node:crypto';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import postgres from 'postgres';
import { inject } from 'vitest';
import { type RunningApp, startApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { DestinationStream } from '../../src/observability/log.js';
import { type Endpoint, type GraphQLResponse, requestGraphQL, runOperation } from './graphql.js';

/**
 * A fresh database cloned from the migrated template (or, with `empty`, one with nothing in it, not
 * even the migrations); dropped with the test run.
 */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<string> {
  const adminUrl = inject('adminDatabaseUrl');
  const name = `${inject('databasePrefix')}${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}${options.empty ? '' : ` template ${inject('templateDatabase')}`}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A monitoring batch as the REST routes answer it (DataRobot field names). */
export interface RestBatch {
  id: string;
  deploymentId: string;
  batchName: string;
  description: string | null;
  externalContextUrl: string | null;
  createdAt: string;
  createdBy: { id: string; name: string };
  isLocked: boolean;
  earliestPredictionTimestamp: string | null;
  latestPredictionTimestamp: string | null;
  predictionsCount: number;
  /** batchlens' own: the seal of a locked batch, null otherwise. */
  fingerprint: string | null;
  sealedAt: string | null;
}

/**
 * The fields of this API's REST answers; each route answers with some of them (an error, a batch, a
 * page of batches, the quota, an ingest or actuals summary, a baseline). Tests read the fields their
 * route must answer with. A body that is not a JSON object (the empty body of a 204, plain text) is
 * null or the text: compare it whole (toBeNull, toEqual).
 */
export interface RestBody extends Partial<RestBatch> {
  /** Errors: what is wrong, and for invalid input the message per field (or line of an upload). */
  message?: string;
  errors?: Record<string, string>;
  /** A page of batches. */
  count?: number;
  totalCount?: number;
  next?: string | null;
  previous?: string | null;
  data?: RestBatch[];
  /** The daily batch quota (also in a 429). */
  limit?: number | null;
  used?: number;
  remaining?: number | null;
  resetAt?: string;
  /** An ingest. */
  batchId?: string;
  rowCount?: number;
  unknownFeatures?: string[];
  actualsJoined?: number;
  /** Actuals. */
  acceptedCount?: number;
  matchedCount?: number;
  unmatchedAssociationIds?: string[];
  /** A training baseline. */
  version?: number;
  columns?: { features: { name: string; counts: number[] }[] };
  /** PATCH /settings/. */
  batchMonitoring?: { enabled: boolean };
}

export interface RestAnswer {
  status: number;
  headers: Headers;
  /** Parsed JSON (or the raw text, or null for an empty body). */
  json: RestBody;
}

export class TestServer implements Endpoint {
  /**
   * Every SQL statement the server sent, for statement-count assertions; except the catalog query
   * postgres.js sends once per pooled connection to learn the array types, which depends on which
   * connection serves a request, not on the request.
   */
  readonly statements: string[] = [];
  /** The statements of the requests `statementsOf` is measuring, by request id. */
  private readonly measured = new Map<string, string[]>();
  app!: RunningApp;
  /** Direct connection to the same database, for checks behind the API. */
  sql!: postgres.Sql;
  readonly adminToken = `bl_test_${randomBytes(16).toString('hex')}`;

  get url(): string {
    return this.app.url;
  }

  /**
   * Where the server's log lines go (test/helpers/logs.ts captures them), at level info unless the
   * overrides say otherwise; without one, errors only, on stdout.
   */
  logDestination: DestinationStream | undefined;

  constructor(logDestination?: DestinationStream) {
    this.logDestination = logDestination;
  }

  /** With `overrides.databaseUrl`, a second server on another server's database (several instances). */
  async start(overrides: Partial<Config> = {}): Promise<this> {
    const databaseUrl = overrides.databaseUrl ?? (await createTestDatabase());
    const config: Config = {
      ...loadConfig({}),
      port: 0,
      databaseUrl,
      bootstrapToken: this.adminToken,
      // Quiet unless a test reads the logs.
      logLevel: this.logDestination ? 'info' : 'error',
      ...overrides,
    };
    this.app = await startApp(config, {
      logDestination: this.logDestination,
      onQuery: (query, request) => {
        if (query.includes('from pg_catalog.pg_type')) return;
        this.statements.push(query);
        if (request) this.measured.get(request.id)?.push(query);
      },
    });
    this.sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
    return this;
  }

  async stop(): Promise<void> {
    await this.sql?.end();
    await this.app?.stop();
  }

  /**
   * The SQL statements sent while serving the requests `send` makes with the headers it is handed (an
   * X-Request-Id of their own): neither background work (ticks, purge, re-binning, live fan-out) nor
   * what earlier requests left running (such as the work after their commits) is counted.
   */
  async statementsOf<T>(send: (headers: Record<string, string>) => Promise<T>): Promise<{ answer: T; statements: string[] }> {
    const id = `measured-${randomBytes(8).toString('hex')}`;
    const statements: string[] = [];
    this.measured.set(id, statements);
    try {
      return { answer: await send({ 'x-request-id': id }), statements };
    } finally {
      this.measured.delete(id);
    }
  }

  /** Any GraphQL request; nothing is asserted (see requestGraphQL). */
  graphql<R = unknown, V = Record<string, unknown>>(
    query: TypedDocumentNode<R, V> | string,
    variables?: V,
    token: string | null = this.adminToken,
    headers: Record<string, string> = {},
  ): Promise<GraphQLResponse<R>> {
    return requestGraphQL(this, query, variables, token, headers);
  }

  /** A typed operation from test/generated that must succeed without GraphQL errors. */
  op<R, V>(
    document: TypedDocumentNode<R, V>,
    variables: V,
    token: string = this.adminToken,
    headers: Record<string, string> = {},
  ): Promise<R> {
    return runOperation(this, document, variables, token, headers);
  }

  async rest(
    method: string,
    path: string,
    options: { token?: string | null; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<RestAnswer> {
    const token = options.token === undefined ? this.adminToken : options.token;
    const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...options.headers };
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${this.url}${path}`, { method, headers, body });
    const text = await response.text();
    return { status: response.status, headers: response.headers, json: parseBody(text) };
  }
}

export async function startTestServer(
  overrides: Partial<Config> = {},
  options: { logDestination?: DestinationStream } = {},
): Promise<TestServer> {
  return new TestServer(options.logDestination).start(overrides);
}

/** A response body as RestAnswer.json holds it: parsed JSON, else the text itself; null when empty. */
export function parseBody(text: string): RestBody {
  try {
    return (text ? JSON.parse(text) : null) as RestBody;
  } catch {
    return text as unknown as RestBody;
  }
}
