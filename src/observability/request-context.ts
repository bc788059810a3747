import { AsyncLocalStorage } from 'node:async_hooks';

// The request being served, for whatever runs on its behalf (SQL statements, log lines) without
// being handed it: an AsyncLocalStorage entered once per HTTP request.

export interface RequestScope {
  /** The request id: the client's `X-Request-Id` when it sent a usable one, else generated. */
  id: string;
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
