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

export const nameSchema = (max = 512) =>
  z
    .string({ error: typeMessage('a string') })
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
