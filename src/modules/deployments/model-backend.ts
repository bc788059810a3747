import { z } from 'zod';
import type { ModelBackend } from '../../db/tables.js';
import { nameSchema } from '../../validation.js';

// The model backend setting of a deployment (C10): where its model answers and how. Headers are
// write-only secrets: stored, sent to the backend, never returned (only their names) or logged.

/** Header names HTTP allows (RFC 9110 tokens); the ones fetch sets itself are refused. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const RESERVED_HEADERS = new Set(['content-length', 'content-type', 'host', 'connection', 'transfer-encoding']);

const headerSchema = z.object({
  name: z
    .string()
    .regex(HEADER_NAME, 'must be an HTTP header name')
    .refine((name) => !RESERVED_HEADERS.has(name.toLowerCase()), 'is set by batchlens itself'),
  value: z
    .string()
    .max(8192, 'must be at most 8192 characters')
    .refine((value) => ![...value].some((ch) => ch.charCodeAt(0) < 32 || ch.charCodeAt(0) === 127), 'must not contain control characters'),
});

/** One check, so a URL that is neither parseable nor http(s) gets one message, not two. */
function isHttpUrl(url: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(url).protocol);
  } catch {
    return false;
  }
}

export const modelBackendInput = z
  .object({
    protocol: z.enum(['OPEN_INFERENCE_V2', 'MLFLOW'], { error: 'must be OPEN_INFERENCE_V2 or MLFLOW' }),
    url: z.string({ error: 'must be a string' }).max(2048, 'must be at most 2048 characters').refine(isHttpUrl, 'must be an http(s) URL'),
    modelName: nameSchema(256).nullish(),
    /** Omitted: keep the headers stored before; [] clears them. */
    headers: z.array(headerSchema).max(20, 'must have at most 20 headers').nullish(),
    timeoutMs: z.number().int('must be an integer').min(10, 'must be at least 10').max(600_000, 'must be at most 600000').nullish(),
  })
  .superRefine((input, ctx) => {
    if (input.protocol === 'OPEN_INFERENCE_V2' && !input.modelName) {
      ctx.addIssue({ code: 'custom', path: ['modelName'], message: 'is required for the Open Inference Protocol v2' });
    }
    const names = (input.headers ?? []).map((h) => h.name.toLowerCase());
    names.forEach((name, index) => {
      if (names.indexOf(name) !== index)
        ctx.addIssue({ code: 'custom', path: ['headers', index, 'name'], message: 'repeats another header' });
    });
  });

export const DEFAULT_BACKEND_TIMEOUT_MS = 30_000;

/** The stored setting for a validated input; headers omitted keep the ones stored before. */
export function modelBackendSetting(input: z.output<typeof modelBackendInput>, before: ModelBackend | null): ModelBackend {
  return {
    protocol: input.protocol,
    url: input.url.replace(/\/+$/, ''),
    modelName: input.protocol === 'OPEN_INFERENCE_V2' ? (input.modelName ?? null) : null,
    headers:
      input.headers === undefined || input.headers === null
        ? (before?.headers ?? {})
        : Object.fromEntries(input.headers.map((h) => [h.name, h.value])),
    timeoutMs: input.timeoutMs ?? DEFAULT_BACKEND_TIMEOUT_MS,
  };
}
