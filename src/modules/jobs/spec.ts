import { z } from 'zod';
import type { JobSpec } from '../../db/tables.js';
import { type Result, ValidationError } from '../../errors.js';
import { nameSchema, parseInput } from '../../validation.js';

// A batch prediction job's settings, named as DataRobot's Batch Prediction API names them
// (POST /api/v2/batchPredictions/). Omitted settings take DataRobot's defaults; a setting batchlens
// does not support is refused by name rather than ignored.

/** Rows per chunk at most, whatever chunkSize says (one ingest of a chunk stays a JSON-sized report). */
export const MAX_CHUNK_ROWS = 10_000;
/** Bytes of input per chunk for chunkSize auto / fixed / dynamic. */
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;
const MAX_PASSTHROUGH_COLUMNS = 100;

const intakeSchema = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('localFile') }).strict(),
    z
      .object({
        type: z.literal('url'),
        url: z
          .string({ error: 'must be a string' })
          .max(4096, 'must be at most 4096 characters')
          .url('must be an http(s) URL')
          .refine((url) => /^https?:\/\//i.test(url), 'must be an http(s) URL'),
      })
      .strict(),
  ],
  { error: 'type must be localFile or url (other intake types are not supported by batchlens)' },
);

const outputSchema = z.object({ type: z.literal('localFile', { error: 'must be localFile (the only output batchlens writes)' }) }).strict();

const csvSettingsSchema = z
  .object({
    delimiter: z.literal(',', { error: 'must be "," (the only delimiter batchlens reads)' }).default(','),
    quotechar: z.literal('"', { error: "must be '\"'" }).default('"'),
    encoding: z
      .string()
      .refine((e) => /^utf-?8$/i.test(e), 'must be utf-8')
      .default('utf-8'),
  })
  .strict();

const remappingSchema = z.union([
  z.record(z.string(), nameSchema(256).nullable()),
  z
    .array(z.object({ inputName: z.string(), outputName: nameSchema(256).nullable() }).strict())
    .transform((list) => Object.fromEntries(list.map((e) => [e.inputName, e.outputName]))),
]);

export const jobSpecInput = z
  .object({
    deploymentId: z.string({ error: 'is required' }).min(1, 'must not be empty'),
    intakeSettings: intakeSchema.default({ type: 'localFile' }),
    outputSettings: outputSchema.default({ type: 'localFile' }),
    csvSettings: csvSettingsSchema.default({ delimiter: ',', quotechar: '"', encoding: 'utf-8' }),
    passthroughColumns: z
      .array(nameSchema(256))
      .max(MAX_PASSTHROUGH_COLUMNS, `must have at most ${MAX_PASSTHROUGH_COLUMNS} columns`)
      .nullish(),
    passthroughColumnsSet: z.literal('all', { error: 'must be "all"' }).nullish(),
    includeProbabilities: z.boolean({ error: 'must be true or false' }).default(true),
    includePredictionStatus: z.boolean({ error: 'must be true or false' }).default(false),
    chunkSize: z
      .union([
        z.enum(['auto', 'fixed', 'dynamic']),
        z.number().int('must be an integer').min(20, 'must be at least 20 bytes').max(41_943_040, 'must be at most 41943040 bytes'),
      ])
      .default('auto'),
    numConcurrent: z.number().int('must be an integer').min(1, 'must be at least 1').max(32, 'must be at most 32').default(4),
    abortOnError: z.boolean({ error: 'must be true or false' }).default(true),
    columnNamesRemapping: remappingSchema.nullish(),
    skipDriftTracking: z.boolean({ error: 'must be true or false' }).default(false),
    monitoringBatchPrefix: nameSchema(480).nullish(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.passthroughColumns?.length && spec.passthroughColumnsSet) {
      ctx.addIssue({
        code: 'custom',
        path: ['passthroughColumnsSet'],
        message: 'give either passthroughColumns or passthroughColumnsSet, not both',
      });
    }
  });

export type JobSpecInput = z.input<typeof jobSpecInput>;

/** The spec as stored and answered, every setting filled in. */
export function parseJobSpec(input: unknown): Result<JobSpec> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return ValidationError.of('body', 'must be a JSON object');
  const parsed = parseInput(jobSpecInput, input);
  if (parsed instanceof ValidationError) return unknownKeysNamed(parsed);
  return {
    deploymentId: parsed.deploymentId,
    intakeSettings: parsed.intakeSettings,
    outputSettings: parsed.outputSettings,
    csvSettings: parsed.csvSettings,
    passthroughColumns: parsed.passthroughColumns ?? null,
    passthroughColumnsSet: parsed.passthroughColumnsSet ?? null,
    includeProbabilities: parsed.includeProbabilities,
    includePredictionStatus: parsed.includePredictionStatus,
    chunkSize: parsed.chunkSize,
    numConcurrent: parsed.numConcurrent,
    abortOnError: parsed.abortOnError,
    columnNamesRemapping: parsed.columnNamesRemapping ?? {},
    skipDriftTracking: parsed.skipDriftTracking,
    monitoringBatchPrefix: parsed.monitoringBatchPrefix ?? null,
  };
}

/** zod names unknown keys in one message on the parent; name each key as its own field instead. */
function unknownKeysNamed(error: ValidationError): ValidationError {
  return new ValidationError(
    error.fieldErrors.flatMap((e) => {
      const keys = /^Unrecognized keys?: (.*)$/.exec(e.message)?.[1];
      if (!keys) return [e];
      return keys.split(', ').map((key) => ({
        field: [e.field === 'input' ? '' : e.field, key.replace(/^"|"$/g, '')].filter(Boolean).join('.'),
        message: 'is not a setting batchlens supports',
      }));
    }),
  );
}

/** Target bytes of one input chunk. */
export function chunkBytes(spec: JobSpec): number {
  return typeof spec.chunkSize === 'number' ? spec.chunkSize : DEFAULT_CHUNK_BYTES;
}
