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

const NUL_MESSAGE = 'must not contain the NUL character (\\u0000)';
const noNul = (value: string) => !value.includes('\u0000');

export const nameSchema = (max = 512) =>
  z
    .string({ error: typeMessage('a string') })
    .refine(noNul, NUL_MESSAGE)
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`);

/** "" clears an optional text field, like null. */
const emptyAsNull = (value: unknown) => (value === '' ? null : value);

export const descriptionSchema = z.preprocess(
  emptyAsNull,
  z.string({ error: typeMessage('a string') }).max(10_000, 'must be at most 10000 characters').nullable().optional(),
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

/** The dotted path of the first string (value or key) in `root` that contains U+0000, or null. */
export function findNulPath(root: unknown): string | null {
  const stack: [unknown, string][] = [[root, '']];
  const join = (path: string, key: string | number) => (path ? `${path}.${key}` : String(key));
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [value, path] = item;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return path || 'body';
    } else if (value !== null && typeof value === 'object') {
      const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
      for (let index = entries.length - 1; index >= 0; index--) {
        const [key, child] = entries[index]!;
        if (typeof key === 'string' && key.includes('\u0000')) return join(path, key.replaceAll('\u0000', '\\u0000'));
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
  return Number(year) >= 1 && realDay && !Number.isNaN(value.getTime()) ? value : null;
}
