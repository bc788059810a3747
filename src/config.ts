import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Everything batchlens reads from the environment, parsed and validated once. */
export interface Config {
  host: string;
  port: number;
  /** When unset, an embedded PostgreSQL is started in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Port for the embedded PostgreSQL; undefined picks a free one. */
  embeddedPgPort: number | undefined;
  /** The embedded PostgreSQL's shared_buffers, in PostgreSQL's units (e.g. `512MB`). */
  embeddedPgSharedBuffers: string;
  bootstrapToken: string | undefined;
  /** Largest JSON / GraphQL request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Largest streamed upload (bulk predictions, training baseline), in bytes. */
  maxUploadBytes: number;
  maxQueryDepth: number;
  maxQueryCost: number;
  maxAliases: number;
  /** Connections in the postgres.js pool. */
  dbPoolSize: number;
  /** Most updates a second one subscription receives (coalescing). */
  liveMaxUpdatesPerSecond: number;
  /** Redis pub/sub for live views instead of PostgreSQL LISTEN/NOTIFY. */
  redisUrl: string | undefined;
  /** Batch prediction jobs: runs one process works on at once. */
  jobWorkers: number;
  /**
   * How long a worker's claim on a job chunk lasts, in seconds; a run whose server died is taken
   * over by another within a few leases (pg-boss expires its work after 4 leases).
   */
  jobLeaseSeconds: number;
  /** Tries of one chunk against a failing backend (with exponential backoff from jobRetryBaseMs). */
  jobBackendAttempts: number;
  jobRetryBaseMs: number;
  /** How often each process looks for due schedules and runs nobody works on. */
  jobSchedulerIntervalMs: number;
  /** Input and output files of a finished job are deleted after this many hours. */
  jobRetentionHours: number;
  /** Where data export files are written (shared by every process that serves downloads). */
  exportDir: string;
  /** The built dashboard (web/dist), served at `/`. */
  webDir: string;
  /** An export's file is removed this many hours after it is written. */
  exportRetentionHours: number;
  /** Rows per Parquet row group of an export. */
  exportRowGroupRows: number;

  // Security: production mode, GraphiQL, introspection, CORS
  /** `production` turns GraphiQL and introspection off unless they are set explicitly. */
  mode: 'development' | 'production';
  /** GraphiQL at GET /graphql for browsers (its files under /graphiql/). */
  graphiql: boolean;
  /** Introspection queries (`__schema`, `__type`); `__typename` always works. */
  introspection: boolean;
  /** Origins (`https://host[:port]`) allowed to call /graphql, /api/ and /predApi/ from a browser; `*` allows any. Empty: same origin only. */
  corsOrigins: string[];

  // Observability: logs and metrics
  /** Least severe log level written (pino): fatal, error, warn, info, debug, trace or silent. */
  logLevel: LogLevel;
  /** Bearer token that opens GET /metrics on the main port; unset: not served there. */
  metricsToken: string | undefined;
  /** A second listen address (`host:port`) serving only GET /metrics, without a token; unset: none. */
  metricsListen: { host: string; port: number } | undefined;

  // Rate limits (src/limits/): per token and per organization, counted in PostgreSQL (or Redis).
  rateLimits: RateLimitSettings;
}

/** A budget per window: for each token, and for all tokens of an organization together. */
export interface RateLimitBudget {
  perToken: number;
  perOrganization: number;
}

export interface RateLimitSettings {
  /** BATCHLENS_RATE_LIMITS=off switches every limit off (on by default). */
  enabled: boolean;
  /** The window every budget below is counted over, in seconds (fixed windows). */
  windowSeconds: number;
  /** GraphQL operations, weighted by their query cost (graphql-armor's, as BATCHLENS_MAX_QUERY_COST). */
  graphqlCost: RateLimitBudget;
  /** REST requests other than ingest: reads, batch and settings changes, jobs, exports, scoring. */
  restRequests: RateLimitBudget;
  /** Ingest requests: bulk predictions, predictionInputs / predictionRequests / actuals / custom metric fromJSON. */
  ingestRequests: RateLimitBudget;
  /** Rows of those requests (prediction rows, actuals, custom metric buckets). */
  ingestRows: RateLimitBudget;
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  }
  return value;
}

const MEMORY_UNITS = { kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 } as const;
/** PostgreSQL's own floor for shared_buffers is 16 buffers (128kB); below its 128MB default is rarely meant. */
const MIN_SHARED_BUFFERS = 128 * 1024;

/**
 * Default shared_buffers of the embedded PostgreSQL: a quarter of the memory (the container's limit
 * when there is one), between PostgreSQL's default 128MB and 1GB. At 128MB the 10M-row ingest slows
 * once the association-id index (random keys) outgrows the buffers; a larger server should set it.
 */
export function defaultSharedBuffers(totalBytes: number = Math.min(os.totalmem(), process.constrainedMemory() || Infinity)): string {
  const mb = Math.floor(totalBytes / 4 / MEMORY_UNITS.MB);
  return `${Math.min(1024, Math.max(128, mb))}MB`;
}

/** A PostgreSQL memory setting: an integer and one of its units (kB, MB, GB, TB), at least 128kB. */
function memoryFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: () => string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback();
  const match = /^([0-9]+)\s*(kB|MB|GB|TB)$/.exec(raw.trim());
  const bytes = match ? Number(match[1]) * MEMORY_UNITS[match[2] as keyof typeof MEMORY_UNITS] : NaN;
  if (!match || !Number.isSafeInteger(bytes) || bytes < MIN_SHARED_BUFFERS) {
    throw new Error(`${name} must be a size with a unit of kB, MB, GB or TB (e.g. 512MB), at least 128kB, got "${raw}"`);
  }
  return `${match[1]}${match[2]}`;
}

// Observability: logs and metrics
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

function logLevelFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: LogLevel): LogLevel {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const level = raw.trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new Error(`${name} must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
  return level as LogLevel;
}

/** `host:port` (an IPv6 host in brackets: `[::1]:9464`), or just a port (then 127.0.0.1). */
function listenAddressFromEnv(env: NodeJS.ProcessEnv, name: string): { host: string; port: number } | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?([0-9]{1,5})$/.exec(raw);
  const port = Number(match?.[2]);
  if (!match || port > 65535) throw new Error(`${name} must be host:port (e.g. 127.0.0.1:9464) or a port, got "${raw}"`);
  return { host: match[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1', port };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const embeddedPgPort = env.BATCHLENS_PG_PORT ? intFromEnv(env, 'BATCHLENS_PG_PORT', 0, 1) : undefined;
  return {
    host: env.HOST || '127.0.0.1',
    port: intFromEnv(env, 'PORT', 4000),
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: path.resolve(env.BATCHLENS_DATA_DIR || '.batchlens'),
    embeddedPgPort,
    embeddedPgSharedBuffers: memoryFromEnv(env, 'BATCHLENS_PG_SHARED_BUFFERS', () => defaultSharedBuffers()),
    bootstrapToken: env.BATCHLENS_BOOTSTRAP_TOKEN || undefined,
    maxBodyBytes: intFromEnv(env, 'BATCHLENS_MAX_BODY_BYTES', 10 * 1024 * 1024, 1),
    maxUploadBytes: intFromEnv(env, 'BATCHLENS_MAX_UPLOAD_BYTES', 20 * 1024 ** 3, 1),
    maxQueryDepth: intFromEnv(env, 'BATCHLENS_MAX_QUERY_DEPTH', 12, 1),
    // graphql-armor's cost: a page of 100 batches with every field costs ≈ 18,000; two nested pages
    // of 100 (10,000 nodes) ≈ 435,000.
    maxQueryCost: intFromEnv(env, 'BATCHLENS_MAX_QUERY_COST', 50_000, 1),
    maxAliases: intFromEnv(env, 'BATCHLENS_MAX_ALIASES', 30, 0),
    dbPoolSize: intFromEnv(env, 'BATCHLENS_DB_POOL_SIZE', 10, 1),
    liveMaxUpdatesPerSecond: intFromEnv(env, 'BATCHLENS_LIVE_MAX_UPDATES_PER_SECOND', 10, 1),
    redisUrl: env.REDIS_URL || undefined,
    jobWorkers: intFromEnv(env, 'BATCHLENS_JOB_WORKERS', 2, 0),
    jobLeaseSeconds: intFromEnv(env, 'BATCHLENS_JOB_LEASE_SECONDS', 15, 1),
    jobBackendAttempts: intFromEnv(env, 'BATCHLENS_JOB_BACKEND_ATTEMPTS', 4, 1),
    jobRetryBaseMs: intFromEnv(env, 'BATCHLENS_JOB_RETRY_BASE_MS', 500, 0),
    jobSchedulerIntervalMs: intFromEnv(env, 'BATCHLENS_JOB_SCHEDULER_INTERVAL_MS', 5000, 50),
    jobRetentionHours: intFromEnv(env, 'BATCHLENS_JOB_RETENTION_HOURS', 48, 1),
    exportDir: path.resolve(env.BATCHLENS_EXPORT_DIR || path.join(env.BATCHLENS_DATA_DIR || '.batchlens', 'exports')),
    webDir: path.resolve(env.BATCHLENS_WEB_DIR || fileURLToPath(new URL('../web/dist', import.meta.url))),
    exportRetentionHours: intFromEnv(env, 'BATCHLENS_EXPORT_RETENTION_HOURS', 24, 1),
    exportRowGroupRows: intFromEnv(env, 'BATCHLENS_EXPORT_ROW_GROUP_ROWS', 10_000, 1000),

    // Security: production mode, GraphiQL, introspection, CORS
    mode: modeFromEnv(env),
    graphiql: switchFromEnv(env, 'BATCHLENS_GRAPHIQL', modeFromEnv(env) === 'development'),
    introspection: switchFromEnv(env, 'BATCHLENS_INTROSPECTION', modeFromEnv(env) === 'development'),
    corsOrigins: originsFromEnv(env, 'BATCHLENS_CORS_ORIGINS'),

    // Observability: logs and metrics
    logLevel: logLevelFromEnv(env, 'BATCHLENS_LOG_LEVEL', 'info'),
    metricsToken: env.BATCHLENS_METRICS_TOKEN || undefined,
    metricsListen: listenAddressFromEnv(env, 'BATCHLENS_METRICS_LISTEN'),

    // Rate limits: defaults (a minute's budget) far above what bench/*.ts sends from one token; an
    // organization's budget is twice a token's.
    rateLimits: {
      enabled: switchFromEnv(env, 'BATCHLENS_RATE_LIMITS', true),
      windowSeconds: intFromEnv(env, 'BATCHLENS_RATE_LIMIT_WINDOW_SECONDS', 60, 1),
      graphqlCost: budgetFromEnv(env, 'GRAPHQL_COST', 3_000_000),
      restRequests: budgetFromEnv(env, 'REST_REQUESTS', 120_000),
      ingestRequests: budgetFromEnv(env, 'INGEST_REQUESTS', 60_000),
      ingestRows: budgetFromEnv(env, 'INGEST_ROWS', 30_000_000),
    },
  };
}

/** BATCHLENS_RATE_LIMIT_<what>_PER_TOKEN and …_PER_ORGANIZATION (default: twice the token's). */
function budgetFromEnv(env: NodeJS.ProcessEnv, what: string, perToken: number): RateLimitBudget {
  const token = intFromEnv(env, `BATCHLENS_RATE_LIMIT_${what}_PER_TOKEN`, perToken, 1);
  return { perToken: token, perOrganization: intFromEnv(env, `BATCHLENS_RATE_LIMIT_${what}_PER_ORGANIZATION`, 2 * token, 1) };
}

// Security: production mode, GraphiQL, introspection, CORS

function modeFromEnv(env: NodeJS.ProcessEnv): Config['mode'] {
  const raw = env.BATCHLENS_MODE;
  if (raw === undefined || raw === '') return 'development';
  if (raw === 'development' || raw === 'production') return raw;
  throw new Error(`BATCHLENS_MODE must be development or production, got "${raw}"`);
}

/** on / off (also true / false, 1 / 0, yes / no). */
function switchFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = raw.trim().toLowerCase();
  if (['on', 'true', '1', 'yes'].includes(value)) return true;
  if (['off', 'false', '0', 'no'].includes(value)) return false;
  throw new Error(`${name} must be on or off, got "${raw}"`);
}

/** Comma-separated origins, each `scheme://host[:port]` with nothing after it, or `*`. */
function originsFromEnv(env: NodeJS.ProcessEnv, name: string): string[] {
  const origins: string[] = [];
  for (const entry of (env[name] ?? '').split(',')) {
    const raw = entry.trim();
    if (raw === '') continue;
    if (raw === '*') {
      origins.push(raw);
      continue;
    }
    let url: URL | undefined;
    try {
      url = new URL(raw);
    } catch {}
    // An origin has no path, query or credentials (a trailing slash is tolerated); browsers send it
    // normalized (lowercase host, no default port), and so is what is kept.
    const bare = url && url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password && !raw.endsWith('#');
    if (!url || !/^https?:$/.test(url.protocol) || !bare || /[?]/.test(raw)) {
      throw new Error(
        `${name}: "${raw}" is not an origin; write scheme://host[:port] (e.g. https://app.example.com), comma-separated, or *`,
      );
    }
    origins.push(url.origin);
  }
  return origins;
}
