import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContext } from '../context.js';
import {
  BatchLockedError,
  BatchMonitoringDisabledError,
  BatchQuotaExceededError,
  type DomainError,
  ForbiddenError,
  NotFoundError,
  ValidationError,
} from '../errors.js';
import { findUnstorableText } from '../validation.js';
import { BodyTooLargeError, readBody } from './body.js';

/** A JSON answer. `body: undefined` sends no body (204). */
export interface RestResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RestRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  /** Absolute URL of this request, for `next` / `previous` links. */
  url: URL;
  /** The JSON body; answers 400/413/415 itself when it cannot be read. */
  json(): Promise<unknown>;
  ctx: RequestContext;
  raw: IncomingMessage;
}

export type RestHandler = (req: RestRequest) => Promise<RestResponse>;

export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Path with `:name` segments; a trailing slash is optional, as DataRobot clients send it. */
  path: string;
  handler: RestHandler;
}

/** Thrown inside handlers for protocol-level refusals (bad JSON, wrong content type). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

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

/**
 * DomainError → HTTP, in DataRobot's manner: `{message}` plus details. `fieldNames` renames our
 * field names to the wire's (name → batchName).
 */
export function errorResponse(error: DomainError, fieldNames: Record<string, string> = {}): RestResponse {
  if (error instanceof NotFoundError) return { status: 404, body: { message: error.message } };
  if (error instanceof ValidationError) {
    const errors: Record<string, string> = {};
    for (const { field, message } of error.fieldErrors) {
      const [head, ...rest] = field.split('.');
      errors[[fieldNames[head!] ?? head, ...rest].join('.')] = message;
    }
    const summary = Object.entries(errors)
      .map(([field, message]) => `${field}: ${message}`)
      .join('; ');
    return { status: 422, body: { message: `Invalid input: ${summary}`, errors } };
  }
  if (error instanceof BatchQuotaExceededError) {
    const retryAfter = Math.max(1, Math.ceil((error.resetsAt.getTime() - Date.now()) / 1000));
    return {
      status: 429,
      headers: { 'retry-after': String(retryAfter) },
      body: { message: error.message, limit: error.quota.limit, used: error.quota.used, resetAt: error.resetsAt.toISOString() },
    };
  }
  if (error instanceof BatchLockedError) return { status: 409, body: { message: error.message, batchId: error.batchId } };
  if (error instanceof BatchMonitoringDisabledError) return { status: 422, body: { message: error.message } };
  if (error instanceof ForbiddenError) return { status: 403, body: { message: error.message } };
  return { status: 400, body: { message: error.message } };
}

/** A JSON body that must be an object (DataRobot routes take objects): anything else is named as `body`. */
export function objectBody(body: unknown): Record<string, unknown> | ValidationError {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return ValidationError.of('body', 'must be a JSON object');
  return body as Record<string, unknown>;
}
