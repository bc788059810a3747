import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

// The request being served: its id, organization and operation for its log line and metrics. The
// HTTP server attaches a scope to each request (`attachScope`, read back with `scopeOf(req)`); GraphQL
// finds it in its context (`scope`).
//
// What runs on a request's behalf without being handed it (SQL statements, for the tests' statement
// counts) can find it too, through an AsyncLocalStorage, but only when `trackRequestsAcrossAwaits()`
// was called: on Node 20 an AsyncLocalStorage turns on promise hooks for the whole process, which cost
// ~15% of bulk-ingest throughput (bench/ingest.ts --baseline-root, measured). So production runs
// without it.

export interface RequestScope {
  /** The request id: the client's `X-Request-Id` when it sent a usable one, else generated. */
  id: string;
  /** The caller's organization, once its token is known. */
  organizationId?: string | undefined;
  /** What was asked: the GraphQL operation name, or the REST route (`GET /api/v2/deployments/:deploymentId/`). */
  operation?: string | undefined;
}

const scopes = new WeakMap<object, RequestScope>();

/** Attaches `scope` to what carries a request through the server (its IncomingMessage). */
export function attachScope(carrier: object, scope: RequestScope): void {
  scopes.set(carrier, scope);
}

/** The scope attached to a request's carrier, if any. */
export function scopeOf(carrier: object): RequestScope | undefined {
  return scopes.get(carrier);
}

let storage: AsyncLocalStorage<RequestScope> | undefined;

/** From now on, `currentRequest()` finds the request that code runs for (costly: see above). */
export function trackRequestsAcrossAwaits(): void {
  storage ??= new AsyncLocalStorage<RequestScope>();
}

/** Runs `work` (and, when tracked, everything it starts) as part of the request `scope`. */
export function runInRequest<T>(scope: RequestScope, work: () => T): T {
  return storage ? storage.run(scope, work) : work();
}

/**
 * The request this code runs for, when requests are tracked (`trackRequestsAcrossAwaits`); undefined
 * in background work (ticks, workers, live fan-out) and whenever they are not.
 */
export function currentRequest(): RequestScope | undefined {
  return storage?.getStore();
}

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The id of a request: the client's `X-Request-Id` when it is sane (≤ 128 of [A-Za-z0-9._:-]), else a new UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}
