import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';

/** A running batchlens server, in this process (TestServer) or another one (a ServerProcess). */
export interface Endpoint {
  /** Base URL, such as http://127.0.0.1:4000 (no trailing slash). */
  readonly url: string;
  /** The server admin's token: the default credential of every request. */
  readonly adminToken: string;
}

export interface GraphQLResponse<T> {
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/**
 * POST /graphql with a typed operation from test/generated, or with hand-written text (only for
 * tests of bad input: such text cannot be in test/operations, which codegen validates). Nothing is
 * asserted; `token: null` sends no Authorization header.
 */
export async function requestGraphQL<R, V>(
  endpoint: Endpoint,
  query: TypedDocumentNode<R, V> | string,
  variables?: V,
  token: string | null = endpoint.adminToken,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<R>> {
  const response = await fetch(`${endpoint.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify({ query: typeof query === 'string' ? query : print(query), variables }),
  });
  const text = await response.text();
  try {
    return { ...(JSON.parse(text) as GraphQLResponse<R>), status: response.status };
  } catch {
    throw new Error(`/graphql answered ${response.status} with non-JSON: ${text.slice(0, 500)}`);
  }
}

/** A typed operation that must succeed: 200, data, and no GraphQL errors. */
export async function runOperation<R, V>(
  endpoint: Endpoint,
  document: TypedDocumentNode<R, V>,
  variables: V,
  token: string = endpoint.adminToken,
  headers: Record<string, string> = {},
): Promise<R> {
  const result = await requestGraphQL(endpoint, document, variables, token, headers);
  if (result.status !== 200 || result.errors?.length || !result.data) {
    throw new Error(`GraphQL errors (${result.status}): ${JSON.stringify(result.errors ?? result)}`);
  }
  return result.data;
}

export interface GraphQLAnswer<R> {
  status: number;
  contentType: string | null;
  body: { data?: R | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

/**
 * POST /graphql as the server admin, accepting only `accept`: by default the GraphQL-over-HTTP media
 * type, so a request that cannot execute is a 4xx (with application/json it is a 200 with errors).
 * Answered as is: status, Content-Type and body.
 */
export async function postGraphQL<R = Record<string, unknown>, V = Record<string, unknown>>(
  endpoint: Endpoint,
  query: TypedDocumentNode<R, V> | string,
  variables?: V,
  accept = 'application/graphql-response+json',
): Promise<GraphQLAnswer<R>> {
  const response = await fetch(`${endpoint.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${endpoint.adminToken}` },
    body: JSON.stringify({ query: typeof query === 'string' ? query : print(query), variables }),
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: (await response.json()) as GraphQLAnswer<R>['body'],
  };
}
