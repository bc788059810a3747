import type postgres from 'postgres';
import type { Config } from './config.js';
import type { Db } from './db/client.js';
import type { LiveHub } from './events/hub.js';
import type { RateLimits } from './limits/rate-limits.js';
import type { Logger } from './observability/log.js';
import type { RequestScope } from './observability/request-context.js';

// What every request handler is given, GraphQL and REST alike.

/** Who is calling: resolved from the bearer token on every request. */
export interface Viewer {
  userId: string;
  organizationId: string;
  role: 'ADMIN' | 'MEMBER';
  isServerAdmin: boolean;
  tokenId: string;
}

/** What the server hands every request (GraphQL and REST). */
export interface AppServices {
  db: Db;
  /** The same pool through postgres.js, for COPY, LISTEN and temporary tables (drizzle for everything else). */
  pg: postgres.Sql;
  config: Config;
  /** Called after a batch is deleted, so its rows get purged soon. */
  schedulePurge(): void;
  /** Called after a training baseline changes, so stored batches get re-binned soon. */
  scheduleRebin(): void;
  /** Subscriptions: state topics and events fed by PostgreSQL LISTEN/NOTIFY. */
  live: LiveHub;
  /** Asks a worker (of any process) to work on a batch prediction job; repeats collapse. */
  wakeJob(jobId: string): Promise<void>;
  /** Asks this process's export worker to look for data exports to write. */
  wakeExports(): void;
  /** The app's logger; components log through a child (`logger.child({ component })`). */
  logger: Logger;
  /** Rate limits per token and organization, charged by the transports (and ingest routes for rows). */
  limits: RateLimits;
}

export interface RequestContext {
  app: AppServices;
  viewer: Viewer;
  /** The request's scope (id, organization, operation) for its log line; absent in in-process calls. */
  scope?: RequestScope;
}
