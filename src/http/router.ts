import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppServices } from '../context.js';
import { RateLimitedError } from '../limits/rate-limits.js';
import type { Logger } from '../observability/log.js';
import { scopeOf } from '../observability/request-context.js';
import { BodyTooLargeError, discardBody, readBody } from '../rest/body.js';
import { HttpError, type Route } from '../rest/kit.js';
import { findUnstorableText } from '../validation.js';
import { UNAUTHENTICATED, viewerOf } from './auth.js';

// REST dispatch: the modules' DataRobot-compatible routes (see each modules/*/rest.ts), matched by
// path and method, authenticated, and answered as JSON.

interface CompiledRoute extends Route {
  pattern: RegExp;
  keys: string[];
}

export class RestRouter {
  private routes: CompiledRoute[] = [];

  constructor(routes: Route[]) {
    for (const route of routes) {
      const keys: string[] = [];
      const source = route.path
        .replace(/\/$/, '')
        .split('/')
        .map((segment) => {
          if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          keys.push(segment.slice(1));
          return '([^/]+)';
        })
        .join('/');
      this.routes.push({ ...route, keys, pattern: new RegExp(`^${source}/?$`) });
    }
  }

  /** The route for a path, or the methods the path allows (for 405), or null. */
  match(method: string, pathname: string): { route: CompiledRoute; params: Record<string, string> } | { allowed: string[] } | null {
    const allowed: string[] = [];
    for (const route of this.routes) {
      const found = route.pattern.exec(pathname);
      if (!found) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      route.keys.forEach((key, index) => {
        params[key] = decodeParam(found[index + 1]!);
      });
      return { route, params };
    }
    return allowed.length ? { allowed } : null;
  }
}

/**
 * A path segment, percent-decoded. A segment that is not valid percent-encoding (`%E0%A4%A`), or
 * that decodes to a NUL (which PostgreSQL text cannot hold), is passed on undecoded: no id contains
 * `%`, so the handler answers its ordinary 404 instead of the database failing with a 500.
 */
function decodeParam(segment: string): string {
  try {
    const decoded = decodeURIComponent(segment);
    return decoded.includes('\u0000') ? segment : decoded;
  } catch {
    return segment;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

/** Writes chunks as they come, waiting for the socket to drain; stops when the client goes away. */
async function sendStream(
  log: Logger,
  res: ServerResponse,
  status: number,
  chunks: AsyncIterable<string | Buffer>,
  headers: Record<string, string> = {},
): Promise<void> {
  res.writeHead(status, headers);
  let closed = false;
  res.once('close', () => (closed = true));
  // Each wait listens for 'close' only while it lasts. (Racing every wait against one promise that
  // settles at 'close' kept every chunk reachable from it until the response ended: a 4 GB download
  // held its 4 GB.)
  const unlessClosed = <T>(waiting: Promise<T>): Promise<T | null> =>
    new Promise<T | null>((resolve, reject) => {
      if (closed) return resolve(null);
      const onClose = () => resolve(null);
      res.once('close', onClose);
      waiting.then(
        (value) => {
          res.off('close', onClose);
          resolve(value);
        },
        (error: unknown) => {
          res.off('close', onClose);
          reject(error);
        },
      );
    });
  const iterator = chunks[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await unlessClosed(iterator.next());
      if (next === null || next.done || res.destroyed) break;
      if (!res.write(next.value)) await unlessClosed(new Promise((resolve) => res.once('drain', resolve)));
    }
  } catch (error) {
    // Headers are gone: the only way left to say "incomplete" is to cut the connection.
    log.error({ component: 'http', err: error, requestId: scopeOf(res.req)?.id }, 'streamed response failed');
    res.destroy();
    return;
  } finally {
    void iterator.return?.();
  }
  res.end();
}

export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  const raw = await readBody(req, limit).catch((error: unknown) => {
    if (error instanceof BodyTooLargeError) throw new HttpError(413, error.message);
    throw error;
  });
  if (raw.length === 0) return {};
  if (type && !/^application\/(.+\+)?json\b/i.test(type)) {
    throw new HttpError(415, `Content-Type must be application/json, got ${type}`);
  }
  const text = raw.toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `Request body is not valid JSON: ${(error as Error).message}`);
  }
  // Text PostgreSQL cannot store (NUL, lone surrogates) is refused here, naming the field, rather
  // than failing the insert with a 500. Valid JSON carries either only as a \u escape.
  const unstorable = /\\u/i.test(text) ? findUnstorableText(body) : null;
  if (unstorable) {
    throw new HttpError(422, `Invalid input: ${unstorable.path}: ${unstorable.message}`, {
      errors: { [unstorable.path]: unstorable.message },
    });
  }
  return body;
}

/** 429 for a used-up rate limit, naming it, with Retry-After. */
function sendRateLimited(res: ServerResponse, error: RateLimitedError): void {
  sendJson(
    res,
    429,
    {
      message: error.message,
      rateLimit: error.limit,
      allowed: error.allowed,
      windowSeconds: error.windowSeconds,
      retryAfterSeconds: error.retryAfterSeconds,
      resetAt: error.resetsAt.toISOString(),
    },
    { 'retry-after': String(error.retryAfterSeconds) },
  );
}

/** Answers a request under /api/ with the route that matches it (404, 405 or 401 otherwise). */
export async function handleRest(app: AppServices, router: RestRouter, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const found = router.match(req.method ?? 'GET', url.pathname);
  if (!found) {
    discardBody(req);
    sendJson(res, 404, { message: `No route ${req.method} ${url.pathname}` });
    return;
  }
  if ('allowed' in found) {
    discardBody(req);
    sendJson(
      res,
      405,
      { message: `Method ${req.method} is not allowed here; use ${found.allowed.join(', ')}` },
      { allow: found.allowed.join(', ') },
    );
    return;
  }
  const scope = scopeOf(req);
  if (scope) scope.operation = `${found.route.method} ${found.route.path}`;
  const viewer = await viewerOf(app.db, req);
  if (!viewer) {
    discardBody(req);
    sendJson(res, 401, { message: UNAUTHENTICATED }, { 'www-authenticate': 'Bearer' });
    return;
  }
  const limited = await app.limits.consume(viewer, found.route.ingest ? 'ingestRequests' : 'restRequests', 1);
  if (limited) {
    discardBody(req);
    sendRateLimited(res, limited);
    return;
  }
  try {
    const answer = await found.route.handler({
      params: found.params,
      query: url.searchParams,
      url,
      json: () => readJson(req, app.config.maxBodyBytes),
      ctx: { app, viewer },
      raw: req,
      rows: app.limits.rowBudget(viewer),
    });
    // A handler may answer before reading the whole body (a bad row early in a large upload).
    discardBody(req);
    if (answer.stream) await sendStream(app.logger, res, answer.status, answer.stream, answer.headers);
    else sendJson(res, answer.status, answer.body, answer.headers);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      discardBody(req);
      sendJson(res, 413, { message: error.message });
      return;
    }
    if (error instanceof RateLimitedError) {
      // An ingest's rows ran out of budget: its transaction rolled back, nothing is stored.
      discardBody(req);
      sendRateLimited(res, error);
      return;
    }
    if (!(error instanceof HttpError)) throw error;
    discardBody(req);
    sendJson(res, error.status, { message: error.message, ...error.extra });
  }
}
