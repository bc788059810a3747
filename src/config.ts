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
  logRequests: boolean;
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
    logRequests: env.BATCHLENS_LOG_REQUESTS === '1',
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

/** on / off (also 1 / 0, true / false). */
function switchFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['on', '1', 'true'].includes(raw)) return true;
  if (['off', '0', 'false'].includes(raw)) return false;
  throw new Error(`${name} must be on or off, got "${env[name]}"`);
}

/** BATCHLENS_RATE_LIMIT_<what>_PER_TOKEN and …_PER_ORGANIZATION (default: twice the token's). */
function budgetFromEnv(env: NodeJS.ProcessEnv, what: string, perToken: number): RateLimitBudget {
  const token = intFromEnv(env, `BATCHLENS_RATE_LIMIT_${what}_PER_TOKEN`, perToken, 1);
  return { perToken: token, perOrganization: intFromEnv(env, `BATCHLENS_RATE_LIMIT_${what}_PER_ORGANIZATION`, 2 * token, 1) };
}
