import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestContext } from '../context.js';
import {
  BatchLockedError,
  BatchMonitoringDisabledError,
  BatchNotSealedError,
  BatchQuotaExceededError,
  ConflictError,
  type DomainError,
  ForbiddenError,
  JobStateError,
  ModelBackendError,
  NotFoundError,
  ValidationError,
} from '../errors.js';
import type { RowBudget } from '../limits/rate-limits.js';

/** A JSON answer (`body: undefined` sends no body), or a streamed one (`stream`, with its content-type in `headers`). */
export interface RestResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Sent as it is produced, with backpressure; the client going away ends the iteration. */
  stream?: AsyncIterable<string | Buffer>;
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
  /** An ingest route charges its rows here (ingest rows per token and organization). */
  rows: RowBudget;
}

export type RestHandler = (req: RestRequest) => Promise<RestResponse>;

export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Path with `:name` segments; a trailing slash is optional, as DataRobot clients send it. */
  path: string;
  handler: RestHandler;
  /** An ingest route: rate-limited as ingest requests (others as REST requests), its rows charged through `req.rows`. */
  ingest?: true;
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
  if (error instanceof BatchLockedError) {
    const errors = error.field ? { errors: { [error.field]: error.message } } : {};
    return { status: 409, body: { message: error.message, batchId: error.batchId, ...errors } };
  }
  if (error instanceof BatchNotSealedError) return { status: 409, body: { message: error.message, batchId: error.batchId } };
  if (error instanceof BatchMonitoringDisabledError) return { status: 422, body: { message: error.message } };
  if (error instanceof ForbiddenError) return { status: 403, body: { message: error.message } };
  if (error instanceof ConflictError) {
    const field = error.field.split('.');
    return {
      status: 409,
      body: { message: error.message, errors: { [[fieldNames[field[0]!] ?? field[0], ...field.slice(1)].join('.')]: error.message } },
    };
  }
  if (error instanceof ModelBackendError) {
    const status = error.failure === 'NOT_CONFIGURED' ? 422 : error.failure === 'TIMEOUT' ? 504 : 502;
    return { status, body: { message: error.message, failure: error.failure, backendStatus: error.status } };
  }
  if (error instanceof JobStateError) return { status: 422, body: { message: error.message, status: error.status } };
  return { status: 400, body: { message: error.message } };
}

/** A JSON body that must be an object (DataRobot routes take objects): anything else is named as `body`. */
export function objectBody(body: unknown): Record<string, unknown> | ValidationError {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return ValidationError.of('body', 'must be a JSON object');
  return body as Record<string, unknown>;
}

/** DataRobot's answer to a list route: `{count, totalCount, next, previous, data}` for one offset / limit page. */
export function offsetPageAnswer(
  req: RestRequest,
  page: { offset: number; limit: number },
  totalCount: number,
  data: unknown[],
): RestResponse {
  const at = (offset: number) => {
    const url = new URL(req.url);
    url.searchParams.set('offset', String(offset));
    return url.toString();
  };
  return {
    status: 200,
    body: {
      count: data.length,
      totalCount,
      next: page.offset + data.length < totalCount ? at(page.offset + page.limit) : null,
      previous: page.offset > 0 ? at(Math.max(0, page.offset - page.limit)) : null,
      data,
    },
  };
}

/**
 * `offset` (0–1,000,000,000, default 0) and `limit` (1–1000, default 100; 0 means the default) of a
 * list route's query; a bad value is added to `errors`, naming the parameter.
 */
export function offsetLimit(query: URLSearchParams, errors: { field: string; message: string }[]): { offset: number; limit: number } {
  const int = (name: string, fallback: number, max: number) => {
    const raw = query.get(name);
    if (raw === null || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0 || value > max) errors.push({ field: name, message: `must be an integer from 0 to ${max}` });
    return value;
  };
  return { offset: int('offset', 0, 1_000_000_000), limit: int('limit', 100, 1000) || 100 };
}

/** Prefix of the status ids of requests that DataRobot runs asynchronously and batchlens finishes before answering. */
export const COMPLETED_STATUS_PREFIX = 'done_';

/**
 * 202 with a `Location` to `/api/v2/status/{id}/`, as DataRobot answers an asynchronous request
 * (its clients poll that address). batchlens has already done the work when it answers, so the
 * status always reads COMPLETED.
 */
export function acceptedAndDone(body: unknown): RestResponse {
  const id = `${COMPLETED_STATUS_PREFIX}${randomUUID().replaceAll('-', '')}`;
  return { status: 202, headers: { location: `/api/v2/status/${id}/` }, body };
}
