import client from 'prom-client';

// Every metric batchlens exports, in Prometheus' text format at GET /metrics (prom-client). One
// registry per process: the counters are the process's since it started. The hot paths observe
// at most once per request, per operation, per COPY or per ingest — never per row.

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

/** Seconds: 5 ms … 60 s. Uploads of millions of rows land in the top buckets; dashboards' reads in the low ones. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Distinct client-chosen operation names kept as labels per process; later new ones count as "other". */
export const MAX_OPERATION_NAMES = 200;
/** Distinct error codes kept as labels. */
const MAX_ERROR_CODES = 100;

class CappedLabel {
  private readonly seen = new Set<string>();
  constructor(
    private readonly max: number,
    private readonly maxLength = 100,
  ) {}

  of(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.max || value.length > this.maxLength) return 'other';
    this.seen.add(value);
    return value;
  }
}

const operationNames = new CappedLabel(MAX_OPERATION_NAMES);
const errorCodes = new CappedLabel(MAX_ERROR_CODES);

/** The label of a GraphQL operation name (anonymous operations are "anonymous"), capped in cardinality. */
export function operationLabel(name: string | null | undefined): string {
  return name ? operationNames.of(name) : 'anonymous';
}

/** Which part of the server answered an HTTP request. */
export type RouteClass = 'graphql' | 'rest' | 'dashboard' | 'health' | 'metrics' | 'unmatched';

const httpDuration = new client.Histogram({
  name: 'batchlens_http_request_duration_seconds',
  help: 'HTTP requests: time from arrival to the end of the answer, by route class, operation (REST route pattern or GraphQL operation name) and outcome (status class, or "aborted" when the client went away)',
  labelNames: ['route', 'operation', 'outcome'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

const graphqlDuration = new client.Histogram({
  name: 'batchlens_graphql_operation_duration_seconds',
  help: 'GraphQL operations (HTTP, SSE and graphql-ws): execution time by operation name, type and outcome (ok, error: the result has errors, invalid: parse or validation failed); a subscription is timed to its first answer',
  labelNames: ['operation', 'type', 'outcome'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

const errors = new client.Counter({
  name: 'batchlens_errors_total',
  help: 'Errors answered: kind "http" by HTTP status (≥ 400, every route), kind "graphql" by GraphQL error extension code',
  labelNames: ['kind', 'code'] as const,
  registers: [registry],
});

const ingestRows = new client.Counter({
  name: 'batchlens_ingest_rows_total',
  help: 'Prediction rows stored (committed), by source: "upload" (streamed NDJSON/CSV) or "json" (GraphQL, JSON routes, real-time scoring, batch prediction jobs)',
  labelNames: ['source'] as const,
  registers: [registry],
});

const ingestBytes = new client.Counter({
  name: 'batchlens_ingest_bytes_total',
  help: 'Bytes read from streamed uploads (bulk predictions and training baselines, NDJSON or CSV)',
  registers: [registry],
});

const copyDuration = new client.Histogram({
  name: 'batchlens_copy_duration_seconds',
  help: 'COPY … FROM STDIN into PostgreSQL: time from opening to PostgreSQL accepting the rows (or refusing them)',
  labelNames: ['outcome'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

const openSubscriptions = new client.Gauge({
  name: 'batchlens_open_subscriptions',
  help: 'Subscriptions open now, by transport (ws: graphql-ws, sse: GraphQL over SSE)',
  labelNames: ['transport'] as const,
  registers: [registry],
});

const subscriptionMessages = new client.Counter({
  name: 'batchlens_subscription_messages_total',
  help: 'Subscription results sent, by transport',
  labelNames: ['transport'] as const,
  registers: [registry],
});

export type Transport = 'ws' | 'sse';

/** What the app reads from its database when /metrics is scraped. */
export interface ScrapeSources {
  /** Batch prediction jobs by state. */
  jobs(): Promise<{ queued: number; running: number; failed: number }>;
  /** This process's database connections as PostgreSQL sees them. */
  pool(): Promise<{ active: number; idle: number; idleInTransaction: number; max: number }>;
}

const sources: ScrapeSources[] = [];

/** The app's sources for the gauges read on scrape (the last registered answers); returns what unregisters them. */
export function registerScrapeSources(source: ScrapeSources): () => void {
  sources.push(source);
  return () => {
    const index = sources.indexOf(source);
    if (index >= 0) sources.splice(index, 1);
  };
}

/** The current source's answer; none (the gauge keeps its last values) while the database cannot answer. */
async function readSource<T>(read: (source: ScrapeSources) => Promise<T>): Promise<T | undefined> {
  const source = sources[sources.length - 1];
  if (!source) return undefined;
  try {
    return await read(source);
  } catch {
    return undefined;
  }
}

new client.Gauge({
  name: 'batchlens_jobs',
  help: 'Batch prediction jobs by state, read from the database at scrape time: queued (INITIALIZING: waiting for input or to start), running, failed (all kept FAILED jobs)',
  labelNames: ['state'] as const,
  registers: [registry],
  async collect() {
    const counts = await readSource((source) => source.jobs());
    if (!counts) return;
    this.set({ state: 'queued' }, counts.queued);
    this.set({ state: 'running' }, counts.running);
    this.set({ state: 'failed' }, counts.failed);
  },
});

new client.Gauge({
  name: 'batchlens_db_pool_connections',
  help: "This process's database pool, read from pg_stat_activity at scrape time (the scrape's own connection left out): connections by state (active: running a statement, idle_in_transaction, idle), and max: the pool size",
  labelNames: ['state'] as const,
  registers: [registry],
  async collect() {
    const pool = await readSource((source) => source.pool());
    if (!pool) return;
    this.set({ state: 'active' }, pool.active);
    this.set({ state: 'idle_in_transaction' }, pool.idleInTransaction);
    this.set({ state: 'idle' }, pool.idle);
    this.set({ state: 'max' }, pool.max);
  },
});

function statusOutcome(status: number, aborted: boolean): string {
  if (aborted) return 'aborted';
  return status >= 500 ? '5xx' : status >= 400 ? '4xx' : status >= 300 ? '3xx' : status >= 200 ? '2xx' : '1xx';
}

/** One HTTP request answered (one observation, and its error status counted). */
export function observeHttpRequest(route: RouteClass, operation: string, status: number, aborted: boolean, seconds: number): void {
  httpDuration.observe({ route, operation, outcome: statusOutcome(status, aborted) }, seconds);
  if (status >= 400 && !aborted) errors.inc({ kind: 'http', code: String(status) });
}

export type OperationOutcome = 'ok' | 'error' | 'invalid';

/** One GraphQL operation executed (or refused before execution). `operation` is a label from operationLabel. */
export function observeGraphQLOperation(operation: string, type: string, outcome: OperationOutcome, seconds: number): void {
  graphqlDuration.observe({ operation, type, outcome }, seconds);
}

/** The errors of a GraphQL result, by extension code ("UNSPECIFIED" for errors without one). */
export function countGraphQLErrors(list: readonly { extensions?: { code?: unknown } | undefined }[] | undefined): void {
  if (!list) return;
  for (const error of list) {
    const code = error.extensions?.code;
    errors.inc({ kind: 'graphql', code: typeof code === 'string' ? errorCodes.of(code) : 'UNSPECIFIED' });
  }
}

export function countIngestRows(source: 'upload' | 'json', rows: number): void {
  if (rows > 0) ingestRows.inc({ source }, rows);
}

export function countIngestBytes(bytes: number): void {
  if (bytes > 0) ingestBytes.inc(bytes);
}

export function observeCopy(outcome: 'ok' | 'failed', seconds: number): void {
  copyDuration.observe({ outcome }, seconds);
}

/** A subscription opened; the returned function closes it (once, however often it is called). */
export function subscriptionOpened(transport: Transport): () => void {
  openSubscriptions.inc({ transport });
  let open = true;
  return () => {
    if (!open) return;
    open = false;
    openSubscriptions.dec({ transport });
  };
}

export function countSubscriptionMessage(transport: Transport): void {
  subscriptionMessages.inc({ transport });
}

/** The exposition: content type and text. */
export async function metricsExposition(): Promise<{ contentType: string; text: string }> {
  return { contentType: registry.contentType, text: await registry.metrics() };
}
