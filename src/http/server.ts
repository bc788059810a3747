import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { sql } from 'drizzle-orm';
import type { AppServices } from '../context.js';
import { type DatabaseFailure, databaseFailure } from '../db/errors.js';
import { actualRoutes } from '../modules/actuals/rest.js';
import { baselineRoutes } from '../modules/baselines/rest.js';
import { batchRoutes } from '../modules/batches/rest.js';
import { customMetricRoutes } from '../modules/custom-metrics/rest.js';
import { deploymentRoutes } from '../modules/deployments/rest.js';
import { exportRoutes } from '../modules/exports/rest.js';
import { definitionRoutes } from '../modules/jobs/definitions-rest.js';
import { jobRoutes } from '../modules/jobs/rest.js';
import { predictionRoutes } from '../modules/predictions/rest.js';
import { scoringRoutes } from '../modules/scoring/rest.js';
import { observeHttpRequest, operationLabel, type RouteClass } from '../observability/metrics.js';
import { attachScope, type RequestScope, requestIdFrom, runInRequest } from '../observability/request-context.js';
import { discardBody } from '../rest/body.js';
import { LiveConnections } from './auth.js';
import { Dashboard } from './dashboard.js';
import { isGraphiQLAsset, serveGraphiQLAsset } from './graphiql.js';
import { handleGraphQL } from './graphql-http.js';
import { serveMetrics } from './metrics.js';
import { handleRest, RestRouter, sendJson } from './router.js';
import { applySecurityHeaders, Cors, isCorsPath } from './security.js';
import { attachGraphQLWebSocket } from './websocket.js';
import { createGraphQL } from './yoga.js';

// The HTTP server: /healthz, GraphQL at /graphql (HTTP, SSE and graphql-ws), REST under /api/.

export interface BatchlensServer {
  httpServer: http.Server;
  listen(port: number, host: string): Promise<number>;
  /** Stops accepting, lets requests in flight finish (up to `graceMs`), closes sockets. */
  close(graceMs?: number): Promise<void>;
}

/** A client that hung up mid-request is not a server fault. */
function clientWentAway(req: IncomingMessage, res: ServerResponse, error: unknown): boolean {
  const code = (error as { code?: string }).code;
  // (req.destroyed alone is also true once a body was read in full.)
  return (
    (req.destroyed && !req.complete) ||
    res.destroyed ||
    code === 'ECONNRESET' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    (error as Error).message === 'aborted'
  );
}

/** A database failure as REST (DataRobot's `{message}`) or, at /graphql, as a GraphQL error with its code. */
function answerDatabaseFailure(req: IncomingMessage, res: ServerResponse, failure: DatabaseFailure): void {
  discardBody(req);
  const body = (req.url ?? '').startsWith('/graphql')
    ? { errors: [{ message: failure.message, extensions: { code: failure.code } }] }
    : { message: failure.message };
  const headers: Record<string, string> = failure.retryAfter ? { 'retry-after': String(failure.retryAfter) } : {};
  sendJson(res, failure.status, body, headers);
}

async function healthz(app: AppServices, res: ServerResponse): Promise<void> {
  try {
    await app.db.execute(sql`select 1`);
    sendJson(res, 200, { status: 'ok' });
  } catch (error) {
    sendJson(res, 503, { status: 'unavailable', message: `database unreachable: ${(error as Error).message}` });
  }
}

/** The path of a request target, without its query (which may carry anything), at most 512 characters. */
function pathOf(target: string | undefined): string {
  const raw = target ?? '/';
  const query = raw.indexOf('?');
  const path = query === -1 ? raw : raw.slice(0, query);
  return path.length > 512 ? `${path.slice(0, 512)}…` : path;
}

function routeClass(path: string, status: number): RouteClass {
  if (path === '/graphql') return 'graphql';
  if (path.startsWith('/api/') || path.startsWith('/predApi/')) return 'rest';
  if (path === '/healthz') return 'health';
  if (path === '/metrics') return 'metrics';
  return status === 404 ? 'unmatched' : 'dashboard';
}

export function createServer(app: AppServices): BatchlensServer {
  const { config } = app;
  const yoga = createGraphQL(app);
  const router = new RestRouter([
    ...batchRoutes,
    ...deploymentRoutes,
    ...predictionRoutes,
    ...actualRoutes,
    ...baselineRoutes,
    ...customMetricRoutes,
    ...scoringRoutes,
    ...jobRoutes,
    ...definitionRoutes,
    ...exportRoutes,
  ]);
  const live = new LiveConnections(app.db);
  const dashboard = new Dashboard(config.webDir);
  const cors = new Cors(config.corsOrigins);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    applySecurityHeaders(res);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://${req.headers.host || `${config.host}:${config.port}`}`);
    } catch {
      discardBody(req);
      sendJson(res, 400, { message: 'Malformed Host header or request target' }, { connection: 'close' });
      return;
    }
    if (isCorsPath(url.pathname) && cors.handle(req, res)) return;
    if (url.pathname === '/healthz') return healthz(app, res);
    if (url.pathname === '/metrics') return serveMetrics(config, req, res);
    if (url.pathname === '/graphql') return handleGraphQL(app, yoga, live, req, res, url);
    if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/predApi/')) return handleRest(app, router, req, res, url);
    discardBody(req);
    if (dashboard.handles(url.pathname)) return dashboard.serve(req, res, url.pathname);
    if (config.graphiql && isGraphiQLAsset(url.pathname)) return serveGraphiQLAsset(req, res, url.pathname);
    sendJson(res, 404, { message: `Not found: ${url.pathname}. The dashboard is at /, GraphQL at /graphql, REST under /api/v2/.` });
  }

  const log = app.logger.child({ component: 'http' });
  // Decided once: at level warn and above the info line of a request is never built.
  const logRequests = log.isLevelEnabled('info');

  /** The request's one log line and one latency observation, once its answer ended (or was cut). */
  function finished(req: IncomingMessage, res: ServerResponse, scope: RequestScope, path: string, started: number): void {
    const durationMs = performance.now() - started;
    const status = res.statusCode;
    const aborted = !res.writableFinished;
    const route = routeClass(path, status);
    const operation = route === 'graphql' ? operationLabel(scope.operation) : route === 'rest' ? (scope.operation ?? 'unmatched') : '';
    observeHttpRequest(route, operation, status, aborted, durationMs / 1000);
    if (!logRequests && status < 500) return;
    const line = {
      requestId: scope.id,
      method: req.method,
      path,
      organizationId: scope.organizationId,
      operation: scope.operation,
      status,
      durationMs: Math.round(durationMs * 10) / 10,
      ...(aborted ? { aborted } : {}),
    };
    if (status >= 500) log.error(line, 'request');
    else log.info(line, 'request');
  }

  const httpServer = http.createServer((req, res) => {
    const started = performance.now();
    const scope: RequestScope = { id: requestIdFrom(req.headers['x-request-id']) };
    attachScope(req, scope);
    // Every answer carries the id (REST, GraphQL, the dashboard, errors): headers set here join writeHead's.
    res.setHeader('x-request-id', scope.id);
    const path = pathOf(req.url);
    res.once('close', () => finished(req, res, scope, path, started));
    runInRequest(scope, () => handle(req, res)).catch((error: unknown) => {
      if (clientWentAway(req, res, error)) {
        res.destroy();
        return;
      }
      const failure = databaseFailure(error);
      if (failure) {
        // The database is away or its disk is full: 503 (Retry-After) or 507, never a bare 500.
        log.warn(
          { err: error, requestId: scope.id, method: req.method, path, status: failure.status, code: failure.code },
          'database failure',
        );
        if (res.headersSent) res.destroy();
        else answerDatabaseFailure(req, res, failure);
        return;
      }
      log.error({ err: error, requestId: scope.id, method: req.method, path }, 'unexpected error');
      if (!res.headersSent) sendJson(res, 500, { message: 'Internal server error' });
      else res.destroy();
    });
  });
  // Streamed uploads of millions of rows take minutes: no overall request deadline (Node's default is 5 min).
  httpServer.requestTimeout = 0;

  const webSocket = attachGraphQLWebSocket(httpServer, app, yoga, live);

  return {
    httpServer,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          const address = httpServer.address();
          resolve(typeof address === 'object' && address ? address.port : port);
        });
      }),
    close: async (graceMs = 10_000) => {
      live.stop();
      await webSocket.close();
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      httpServer.closeIdleConnections();
      const timer = setTimeout(() => httpServer.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}
