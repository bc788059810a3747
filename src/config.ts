import path from 'node:path';

/** Everything batchlens reads from the environment, parsed and validated once. */
export interface Config {
  host: string;
  port: number;
  /** When unset, an embedded PostgreSQL is started in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Port for the embedded PostgreSQL; undefined picks a free one. */
  embeddedPgPort: number | undefined;
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

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const embeddedPgPort = env.BATCHLENS_PG_PORT ? intFromEnv(env, 'BATCHLENS_PG_PORT', 0, 1) : undefined;
  return {
    host: env.HOST || '127.0.0.1',
    port: intFromEnv(env, 'PORT', 4000),
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: path.resolve(env.BATCHLENS_DATA_DIR || '.batchlens'),
    embeddedPgPort,
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
  };
}
