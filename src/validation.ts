import { z } from 'zod';
import { ValidationError } from './errors.js';

/** Validates at the edge of a service; every issue names its field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> | ValidationError {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  return new ValidationError(
    parsed.error.issues.map((issue) => ({
      field: issue.path.length ? issue.path.join('.') : 'input',
      message: issue.message,
    })),
  );
}

/** GraphQL and JSON clients may send null for any optional field; services accept it and validate. */
export type Loose<T> = { [K in keyof T]?: T[K] | null };

const typeMessage = (expected: string) => (issue: { input: unknown }) =>
  issue.input === undefined ? 'is required' : issue.input === null ? 'must not be null' : `must be ${expected}`;

/**
 * Text PostgreSQL cannot store: U+0000, and lone UTF-16 surrogates (not valid Unicode: refused by
 * the database, or silently replaced so that different ids collide). Returns the reason, or null.
 */
export function unstorableText(value: string): string | null {
  if (!SUSPECT.test(value)) return null; // the fast path: no NUL and no surrogate at all
  if (value.includes('\u0000')) return UNSTORABLE_NUL;
  return LONE_SURROGATE.test(value) ? UNSTORABLE_SURROGATE : null;
}
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL (which PostgreSQL text refuses) is the point
const SUSPECT = /[\u0000\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
export const UNSTORABLE_NUL = 'must not contain the NUL character (\\u0000)';
export const UNSTORABLE_SURROGATE = 'must be valid Unicode (it contains a lone surrogate)';
const refuseUnstorable = (value: string, ctx: z.RefinementCtx) => {
  const message = unstorableText(value);
  if (message) ctx.addIssue({ code: 'custom', message });
};

export const nameSchema = (max = 512) =>
  z
    .string({ error: typeMessage('a string') })
    .superRefine(refuseUnstorable)
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`);

/** "" clears an optional text field, like null. */
const emptyAsNull = (value: unknown) => (value === '' ? null : value);

export const descriptionSchema = z.preprocess(
  emptyAsNull,
  z
    .string({ error: typeMessage('a string') })
    .max(10_000, 'must be at most 10000 characters')
    .nullable()
    .optional(),
);

export const externalUrlSchema = z.preprocess(
  emptyAsNull,
  z
    .string({ error: typeMessage('a string') })
    .trim()
    .max(2048, 'must be at most 2048 characters')
    .refine((value) => {
      try {
        const url = new URL(value);
        return url.protocol === 'http:' || url.protocol === 'https:';
      } catch {
        return false;
      }
    }, 'must be an absolute http:// or https:// URL')
    .nullable()
    .optional(),
);

export const booleanSchema = z.boolean({ error: typeMessage('true or false') });

/** The first string (value or key) in `root` that PostgreSQL cannot store: its dotted path and why, or null. */
export function findUnstorableText(root: unknown): { path: string; message: string } | null {
  const stack: [unknown, string][] = [[root, '']];
  const join = (path: string, key: string | number) => (path ? `${path}.${key}` : String(key));
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [value, path] = item;
    if (typeof value === 'string') {
      const message = unstorableText(value);
      if (message) return { path: path || 'body', message };
    } else if (value !== null && typeof value === 'object') {
      const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
      for (let index = entries.length - 1; index >= 0; index--) {
        const [key, child] = entries[index]!;
        const message = typeof key === 'string' ? unstorableText(key) : null;
        if (message) return { path: join(path, JSON.stringify(key).slice(1, -1)), message: `(a key) ${message}` };
        stack.push([child, join(path, key)]);
      }
    }
  }
  return null;
}

/**
 * A strict ISO-8601 date-time: `Date` alone rolls 2024-02-30 over to March and accepts year 0000,
 * which PostgreSQL refuses. Returns null for anything else.
 */
export function parseTimestamp(raw: string): Date | null {
  const [, year, month, day] = /^(\d{4})-(\d{2})-(\d{2})(?:$|T)/.exec(raw) ?? [];
  if (!year) return null;
  const value = new Date(raw);
  const calendar = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  const realDay = calendar.getUTCMonth() === Number(month) - 1 && calendar.getUTCDate() === Number(day);
  // The instant too: 0001-01-01T00:00:00+01:00 is in year 0, which PostgreSQL refuses.
  const instantYear = value.getUTCFullYear();
  return Number(year) >= 1 && realDay && !Number.isNaN(value.getTime()) && instantYear >= 1 && instantYear <= 9999 ? value : null;
}

/** The keys whose value is not undefined: a partial update changes only what was given. */
export function definedOnly<T extends object>(value: T | null | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}
