import type { FeatureDefinition } from '../../src/db/tables.js';
import type { FieldError } from '../../src/errors.js';
import type { ParsedItem } from '../../src/formats/bytes.js';
import { normalizeRow, type PredictionRow, type RowContext } from '../../src/modules/rows/normalize.js';
import type { TargetShape } from '../../src/modules/rows/shape.js';

// Unit tests of the row parser and normalizer (no server): deployment shapes, and shortcuts that
// expect a normalized row or a field error.

export const feature = (name: string, type: FeatureDefinition['type']): FeatureDefinition => ({ name, type, importance: null });
const features = [feature('age', 'NUMERIC'), feature('city', 'CATEGORICAL'), feature('income', 'NUMERIC')];

export const regression: TargetShape = {
  targetType: 'REGRESSION',
  classNames: null,
  positiveClass: null,
  predictionThreshold: 0.5,
  features,
};
export const binary: TargetShape = {
  targetType: 'BINARY',
  classNames: ['no', 'yes'],
  positiveClass: 'yes',
  predictionThreshold: 0.7,
  features,
};
/** The positive class first, to show probabilities follow classNames order. */
export const binaryPositiveFirst: TargetShape = { ...binary, classNames: ['yes', 'no'] };
export const multiclass: TargetShape = {
  targetType: 'MULTICLASS',
  classNames: ['a', 'b', 'c'],
  positiveClass: null,
  predictionThreshold: 0.5,
  features,
};

/** Every declared feature of the shapes above, absent. */
export const missing = { age: null, city: null, income: null };

export const newContext = (): RowContext => ({ unknownFeatures: new Set() });

/** normalizeRow of an item at `rows.3`, which must be a row. */
export function row(shape: TargetShape, item: unknown, context = newContext()): PredictionRow {
  const result = normalizeRow(shape, item, 'rows.3', context);
  if (!('predictedLabel' in result)) throw new Error(`expected a row, got ${JSON.stringify(result)}`);
  return result;
}

/** normalizeRow of an item at `where`, which must be refused. */
export function fieldError(shape: TargetShape, item: unknown, where = 'rows.3'): FieldError {
  const result = normalizeRow(shape, item, where, newContext());
  if ('predictedLabel' in result) throw new Error(`expected an error, got ${JSON.stringify(result)}`);
  return result;
}

// Streams for the parsers

export async function* chunks(...parts: (Buffer | string)[]): AsyncGenerator<Buffer | string> {
  yield* parts;
}

/** Every byte its own chunk: splits every line, cell and multi-byte character. */
export async function* byteByByte(text: string | Buffer): AsyncGenerator<Buffer> {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
}

export async function collect(items: AsyncIterable<ParsedItem>): Promise<ParsedItem[]> {
  const out: ParsedItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}
