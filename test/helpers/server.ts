import { randomBytes } from 'node:crypto';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import postgres from 'postgres';
import { inject } from 'vitest';
import { type RunningApp, startApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';

/** A fresh database cloned from the migrated template; dropped with the test run. */
export async function createTestDatabase(): Promise<string> {
  const adminUrl = inject('adminDatabaseUrl');
  const name = `${inject('databasePrefix')}${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name} template ${inject('templateDatabase')}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

export interface RestAnswer {
  status: number;
  headers: Headers;
  /** Parsed JSON (or the raw text); tests check it field by field. */
  // biome-ignore lint: JSON of any shape
  json: any;
}

export class TestServer {
  /** Every SQL statement the server sent, for statement-count assertions. */
  readonly statements: string[] = [];
  app!: RunningApp;
  /** Direct connection to the same database, for checks behind the API. */
  sql!: postgres.Sql;
  readonly adminToken = `bl_test_${randomBytes(16).toString('hex')}`;

  get url(): string {
    return this.app.url;
  }

  /** With `overrides.databaseUrl`, a second server on another server's database (several instances). */
  async start(overrides: Partial<Config> = {}): Promise<this> {
    const databaseUrl = overrides.databaseUrl ?? (await createTestDatabase());
    const config: Config = {
      ...loadConfig({}),
      port: 0,
      databaseUrl,
      bootstrapToken: this.adminToken,
      ...overrides,
    };
    this.app = await startApp(config, () => {}, { onQuery: (query) => this.statements.push(query) });
    this.sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
    return this;
  }

  async stop(): Promise<void> {
    await this.sql?.end();
    await this.app?.stop();
  }

  /** Any GraphQL request; nothing is asserted. */
  async graphql<T = Record<string, unknown>>(
    query: string | TypedDocumentNode<T, never>,
    variables?: unknown,
    token: string | null = this.adminToken,
  ): Promise<GraphQLResponse<T>> {
    const response = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query: typeof query === 'string' ? query : print(query), variables }),
    });
    const body = (await response.json()) as GraphQLResponse<T>;
    return { ...body, status: response.status };
  }

  /** A typed operation from test/generated that must succeed without GraphQL errors. */
  async op<R, V>(document: TypedDocumentNode<R, V>, variables: V, token: string = this.adminToken): Promise<R> {
    const result = await this.graphql<R>(document as TypedDocumentNode<R, never>, variables, token);
    if (result.errors?.length || !result.data) {
      throw new Error(`GraphQL errors (${result.status}): ${JSON.stringify(result.errors)}`);
    }
    return result.data;
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
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: response.status, headers: response.headers, json };
  }
}

export async function startTestServer(overrides: Partial<Config> = {}): Promise<TestServer> {
  return new TestServer().start(overrides);
}
