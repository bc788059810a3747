import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

// The request being served, for whatever runs on its behalf (SQL statements, log lines) without
// being handed it: an AsyncLocalStorage entered once per HTTP request (and per graphql-ws operation).

export interface RequestScope {
  /** The request id: the client's `X-Request-Id` when it sent a usable one, else generated. */
  id: string;
  /** The caller's organization, once its token is known. */
  organizationId?: string | undefined;
  /** What was asked: the GraphQL operation name, or the REST route (`GET /api/v2/deployments/:deploymentId/`). */
  operation?: string | undefined;
}

const storage = new AsyncLocalStorage<RequestScope>();

/** Runs `work` (and everything it starts) as part of the request `scope`. */
export function runInRequest<T>(scope: RequestScope, work: () => T): T {
  return storage.run(scope, work);
}

/** The request this code runs for; undefined in background work (ticks, workers, live fan-out). */
export function currentRequest(): RequestScope | undefined {
  return storage.getStore();
}

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The id of a request: the client's `X-Request-Id` when it is sane (≤ 128 of [A-Za-z0-9._:-]), else a new UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}
