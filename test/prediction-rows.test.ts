import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { FeatureDefinition } from '../src/db/tables.js';
import type { FieldError } from '../src/errors.js';
import type { ParsedItem } from '../src/formats/bytes.js';
import { parseNdjson } from '../src/formats/ndjson.js';
import { parseCsv } from '../src/modules/rows/csv.js';
import { MAX_UNKNOWN_FEATURES, normalizeRow, type PredictionRow, type RowContext } from '../src/modules/rows/normalize.js';
import type { TargetShape } from '../src/modules/rows/shape.js';

const feature = (name: string, type: FeatureDefinition['type']): FeatureDefinition => ({ name, type, importance: null });
const features = [feature('age', 'NUMERIC'), feature('city', 'CATEGORICAL'), feature('income', 'NUMERIC')];

const regression: TargetShape = { targetType: 'REGRESSION', classNames: null, positiveClass: null, predictionThreshold: 0.5, features };
const binary: TargetShape = { targetType: 'BINARY', classNames: ['no', 'yes'], positiveClass: 'yes', predictionThreshold: 0.7, features };
/** The positive class first, to show probabilities follow classNames order. */
const binaryPositiveFirst: TargetShape = { ...binary, classNames: ['yes', 'no'] };
const multiclass: TargetShape = {
  targetType: 'MULTICLASS',
  classNames: ['a', 'b', 'c'],
  positiveClass: null,
  predictionThreshold: 0.5,
  features,
};

const newContext = (): RowContext => ({ unknownFeatures: new Set() });

function row(shape: TargetShape, item: unknown, context = newContext()): PredictionRow {
  const result = normalizeRow(shape, item, 'rows.3', context);
  if (!('predictedLabel' in result)) throw new Error(`expected a row, got ${JSON.stringify(result)}`);
  return result;
}

function fieldError(shape: TargetShape, item: unknown, where = 'rows.3'): FieldError {
  const result = normalizeRow(shape, item, where, newContext());
  if ('predictedLabel' in result) throw new Error(`expected an error, got ${JSON.stringify(result)}`);
  return result;
}

const missing = { age: null, city: null, income: null };

describe('normalizeRow: the item and its features', () => {
  it('normalizes a full regression row', () => {
    expect(
      row(regression, {
        features: { age: 42, city: 'Paris', income: '5000.5' },
        prediction: 12.5,
        associationId: 'a-1',
        timestamp: '2024-05-01T12:00:00Z',
      }),
    ).toEqual({
      timestamp: new Date('2024-05-01T12:00:00Z'),
      features: { age: 42, city: 'Paris', income: 5000.5 },
      prediction: 12.5,
      probabilities: null,
      predictedLabel: null,
      associationId: 'a-1',
    });
  });

  it('lists every declared feature in declaration order, absent ones as null', () => {
    const result = row(regression, { features: { income: 1, city: 'x' }, prediction: 1 });
    expect(result.features).toEqual({ age: null, city: 'x', income: 1 });
    expect(Object.keys(result.features)).toEqual(['age', 'city', 'income']);
    expect(row(regression, { prediction: 1 }).features).toEqual(missing);
    expect(row(regression, { features: null, prediction: 1 }).features).toEqual(missing);
    expect(row(regression, { features: {}, prediction: 1 }).features).toEqual(missing);
  });

  it('refuses an item or features that are not objects', () => {
    for (const item of [null, undefined, 5, 'row', [], [{ prediction: 1 }]]) {
      expect(fieldError(regression, item)).toEqual({ field: 'rows.3', message: 'must be an object' });
    }
    for (const value of [[], [1, 2], 'age=3', 7, true]) {
      expect(fieldError(regression, { features: value, prediction: 1 })).toEqual({
        field: 'rows.3.features',
        message: 'must be an object mapping feature names to values',
      });
    }
  });

  it('reads numeric features from finite numbers and decimal strings', () => {
    const cases: [unknown, number | null][] = [
      [3.5, 3.5],
      [-0.25, -0.25],
      [0, 0],
      ['3.5', 3.5],
      [' 2 ', 2],
      ['-1e3', -1000],
      ['+.5', 0.5],
      ['007', 7],
      ['', null],
      ['   ', null],
      [null, null],
      [undefined, null],
    ];
    for (const [value, expected] of cases) {
      expect(row(regression, { features: { age: value }, prediction: 1 }).features.age, JSON.stringify(value)).toBe(expected);
    }
  });

  it('refuses numeric features that are not finite numbers', () => {
    const cases: [unknown, string][] = [
      ['abc', 'must be a finite number, got "abc"'],
      ['NaN', 'must be a finite number, got "NaN"'],
      ['Infinity', 'must be a finite number, got "Infinity"'],
      ['-Infinity', 'must be a finite number, got "-Infinity"'],
      ['1e400', 'must be a finite number, got "1e400"'],
      ['0x10', 'must be a finite number, got "0x10"'],
      ['0b1', 'must be a finite number, got "0b1"'],
      ['1,5', 'must be a finite number, got "1,5"'],
      ['x'.repeat(100), `must be a finite number, got "${'x'.repeat(40)}…"`],
      [NaN, 'must be a finite number'],
      [Infinity, 'must be a finite number'],
      [true, 'must be a finite number'],
      [false, 'must be a finite number'],
      [{}, 'must be a finite number'],
      [[1], 'must be a finite number'],
    ];
    for (const [value, message] of cases) {
      expect(fieldError(regression, { features: { city: 'x', age: value }, prediction: 1 }), String(value)).toEqual({
        field: 'rows.3.features.age',
        message,
      });
    }
  });

  it('reads categorical features from strings, numbers and booleans', () => {
    const cases: [unknown, string | null][] = [
      ['Paris', 'Paris'],
      [' Paris ', ' Paris '],
      [5, '5'],
      [2.5, '2.5'],
      [true, 'true'],
      [false, 'false'],
      ['', null],
      [null, null],
    ];
    for (const [value, expected] of cases) {
      expect(row(regression, { features: { city: value }, prediction: 1 }).features.city).toBe(expected);
    }
    for (const value of [{}, ['Paris'], { name: 'Paris' }]) {
      expect(fieldError(regression, { features: { city: value }, prediction: 1 })).toEqual({
        field: 'rows.3.features.city',
        message: 'must be a string, a number or a boolean',
      });
    }
    expect(fieldError(regression, { features: { city: 'Par\u0000is' }, prediction: 1 })).toEqual({
      field: 'rows.3.features.city',
      message: 'must not contain the NUL character (\\u0000)',
    });
  });

  it('reports the first bad feature in declaration order', () => {
    expect(fieldError(regression, { features: { income: 'x', age: 'y' }, prediction: 1 })).toEqual({
      field: 'rows.3.features.age',
      message: 'must be a finite number, got "y"',
    });
  });

  it('collects unknown feature names across rows and ignores their values', () => {
    const context = newContext();
    expect(row(regression, { features: { age: 1, colour: 'red', height: { nested: true } }, prediction: 1 }, context).features).toEqual({
      age: 1,
      city: null,
      income: null,
    });
    row(regression, { features: { weight: 3, colour: 'blue' }, prediction: 1 }, context);
    expect([...context.unknownFeatures]).toEqual(['colour', 'height', 'weight']);
  });

  it('keeps at most MAX_UNKNOWN_FEATURES unknown names, cut to 256 characters', () => {
    const context = newContext();
    for (let i = 0; i < 500; i++) row(regression, { features: { [`extra${i}`]: i }, prediction: 1 }, context);
    row(regression, { features: { ['k'.repeat(300)]: 1 }, prediction: 1 }, context);
    expect(context.unknownFeatures.size).toBe(MAX_UNKNOWN_FEATURES);
    const long = newContext();
    row(regression, { features: { ['k'.repeat(300)]: 1 }, prediction: 1 }, long);
    expect([...long.unknownFeatures]).toEqual([`${'k'.repeat(256)}…`]);
  });

  it('refuses an unknown feature name containing NUL', () => {
    expect(fieldError(regression, { features: { 'ag\u0000e': 1 }, prediction: 1 })).toEqual({
      field: 'rows.3.features.ag\\u0000e',
      message: 'is not a declared feature, and a feature name must not contain the NUL character (\\u0000)',
    });
  });

  it('does not read inherited properties as features, and handles a feature named __proto__', () => {
    const shape: TargetShape = { ...regression, features: [feature('constructor', 'CATEGORICAL'), feature('__proto__', 'NUMERIC')] };
    const empty = row(shape, { features: {}, prediction: 1 }).features;
    expect(Object.entries(empty)).toEqual([
      ['constructor', null],
      ['__proto__', null],
    ]);
    const parsed = JSON.parse('{"features": {"constructor": "c", "__proto__": "7"}, "prediction": 1}') as unknown;
    const result = row(shape, parsed);
    expect(Object.keys(result.features)).toEqual(['constructor', '__proto__']);
    expect(Object.getPrototypeOf(result.features)).toBe(Object.prototype);
    expect(result.features.constructor).toBe('c');
    expect(Object.getOwnPropertyDescriptor(result.features, '__proto__')?.value).toBe(7);
  });

  it('prefixes every field with `where`', () => {
    expect(normalizeRow(regression, { prediction: 1, timestamp: 'soon' }, 'line 7', newContext())).toEqual({
      field: 'line 7.timestamp',
      message: 'must be an ISO-8601 date-time',
    });
    expect(normalizeRow(regression, { prediction: 'x' }, 'data.12', newContext())).toEqual({
      field: 'data.12.prediction',
      message: 'must be a finite number, got "x"',
    });
  });
});

describe('normalizeRow: regression target', () => {
  it('requires a finite prediction (numbers or decimal strings, as CSV cells are)', () => {
    expect(row(regression, { prediction: -3.25 }).prediction).toBe(-3.25);
    expect(row(regression, { prediction: '1.5' }).prediction).toBe(1.5);
    expect(row(regression, { prediction: 1e300 }).prediction).toBe(1e300);
    for (const prediction of [undefined, null, '', ' ']) {
      expect(fieldError(regression, { prediction })).toEqual({ field: 'rows.3.prediction', message: 'is required' });
    }
    for (const prediction of [Infinity, NaN, true, [1], { value: 1 }]) {
      expect(fieldError(regression, { prediction })).toEqual({ field: 'rows.3.prediction', message: 'must be a finite number' });
    }
    expect(fieldError(regression, { prediction: 'high' })).toEqual({
      field: 'rows.3.prediction',
      message: 'must be a finite number, got "high"',
    });
  });

  it('refuses probabilities', () => {
    expect(row(regression, { prediction: 1, probabilities: null }).probabilities).toBeNull();
    for (const probabilities of [[0.5, 0.5], {}, []]) {
      expect(fieldError(regression, { prediction: 1, probabilities })).toEqual({
        field: 'rows.3.probabilities',
        message: 'must be absent for a regression deployment',
      });
    }
  });
});

describe('normalizeRow: binary target', () => {
  const binaryRow = (item: Record<string, unknown>, shape = binary) => {
    const { prediction, probabilities, predictedLabel } = row(shape, item);
    return { prediction, probabilities, predictedLabel };
  };

  it('takes probabilities as a list in classNames order', () => {
    expect(binaryRow({ probabilities: [0.2, 0.8] })).toEqual({ prediction: 0.8, probabilities: [0.2, 0.8], predictedLabel: 'yes' });
    expect(binaryRow({ probabilities: [0.8, 0.2] })).toEqual({ prediction: 0.2, probabilities: [0.8, 0.2], predictedLabel: 'no' });
    expect(binaryRow({ probabilities: [0.8, 0.2] }, binaryPositiveFirst)).toEqual({
      prediction: 0.8,
      probabilities: [0.8, 0.2],
      predictedLabel: 'yes',
    });
  });

  it('takes probabilities as an object keyed by class name, in any key order', () => {
    expect(binaryRow({ probabilities: { yes: 0.9, no: 0.1 } })).toEqual({
      prediction: 0.9,
      probabilities: [0.1, 0.9],
      predictedLabel: 'yes',
    });
    expect(binaryRow({ probabilities: { no: '0.6', yes: '0.4' } })).toEqual({
      prediction: 0.4,
      probabilities: [0.6, 0.4],
      predictedLabel: 'no',
    });
    expect(binaryRow({ probabilities: { yes: 0.9, no: 0.1 } }, binaryPositiveFirst)).toEqual({
      prediction: 0.9,
      probabilities: [0.9, 0.1],
      predictedLabel: 'yes',
    });
  });

  it('takes prediction as the probability of the positive class', () => {
    expect(binaryRow({ prediction: 0.25 })).toEqual({ prediction: 0.25, probabilities: [0.75, 0.25], predictedLabel: 'no' });
    expect(binaryRow({ prediction: '0.75' })).toEqual({ prediction: 0.75, probabilities: [0.25, 0.75], predictedLabel: 'yes' });
    expect(binaryRow({ prediction: 0.25 }, binaryPositiveFirst)).toEqual({
      prediction: 0.25,
      probabilities: [0.25, 0.75],
      predictedLabel: 'no',
    });
    expect(binaryRow({ prediction: 0 })).toEqual({ prediction: 0, probabilities: [1, 0], predictedLabel: 'no' });
    expect(binaryRow({ prediction: 1 })).toEqual({ prediction: 1, probabilities: [0, 1], predictedLabel: 'yes' });
  });

  it('labels by threshold: a probability exactly at the threshold is positive', () => {
    expect(binaryRow({ prediction: 0.7 }).predictedLabel).toBe('yes');
    expect(binaryRow({ probabilities: [0.3, 0.7] }).predictedLabel).toBe('yes');
    expect(binaryRow({ prediction: 0.6999999 }).predictedLabel).toBe('no');
    expect(binaryRow({ prediction: 0.5 }, { ...binary, predictionThreshold: 0.5 }).predictedLabel).toBe('yes');
    expect(binaryRow({ prediction: 0 }, { ...binary, predictionThreshold: 0 }).predictedLabel).toBe('yes');
    expect(binaryRow({ prediction: 0.99 }, { ...binary, predictionThreshold: 1 }).predictedLabel).toBe('no');
  });

  it('accepts both prediction and probabilities when they agree', () => {
    expect(binaryRow({ prediction: 0.8, probabilities: [0.2, 0.8] })).toEqual({
      prediction: 0.8,
      probabilities: [0.2, 0.8],
      predictedLabel: 'yes',
    });
    expect(fieldError(binary, { prediction: 0.5, probabilities: [0.2, 0.8] })).toEqual({
      field: 'rows.3.prediction',
      message: 'must equal the probability of "yes" in probabilities (0.8), or be left out',
    });
  });

  it('requires probabilities or prediction', () => {
    for (const item of [{}, { prediction: null, probabilities: null }, { prediction: '' }]) {
      expect(fieldError(binary, item)).toEqual({
        field: 'rows.3.probabilities',
        message: 'is required: give probabilities, one per class (no, yes), or prediction, the probability of "yes"',
      });
    }
  });

  it('refuses probabilities outside [0, 1] and non-numbers', () => {
    expect(fieldError(binary, { prediction: 1.5 })).toEqual({
      field: 'rows.3.prediction',
      message: 'must be a probability between 0 and 1, got 1.5',
    });
    expect(fieldError(binary, { prediction: -0.1 })).toEqual({
      field: 'rows.3.prediction',
      message: 'must be a probability between 0 and 1, got -0.1',
    });
    expect(fieldError(binary, { prediction: 'p' })).toEqual({ field: 'rows.3.prediction', message: 'must be a finite number, got "p"' });
    expect(fieldError(binary, { probabilities: [-0.2, 1.2] })).toEqual({
      field: 'rows.3.probabilities.0',
      message: 'must be between 0 and 1, got -0.2',
    });
    expect(fieldError(binary, { probabilities: [0.5, NaN] })).toEqual({
      field: 'rows.3.probabilities.1',
      message: 'must be a finite number',
    });
    expect(fieldError(binary, { probabilities: [0.5, null] })).toEqual({ field: 'rows.3.probabilities.1', message: 'is required' });
    expect(fieldError(binary, { probabilities: { no: 0.5, yes: 'half' } })).toEqual({
      field: 'rows.3.probabilities.yes',
      message: 'must be a finite number, got "half"',
    });
  });

  it('refuses a list of the wrong length, unknown and missing class keys, and other shapes', () => {
    expect(fieldError(binary, { probabilities: [1] })).toEqual({
      field: 'rows.3.probabilities',
      message: 'must have 2 values, one per class (no, yes), got 1',
    });
    expect(fieldError(binary, { probabilities: { no: 0.5, yes: 0.3, maybe: 0.2 } })).toEqual({
      field: 'rows.3.probabilities.maybe',
      message: 'is not a class of this deployment (no, yes)',
    });
    expect(fieldError(binary, { probabilities: { yes: 1 } })).toEqual({ field: 'rows.3.probabilities.no', message: 'is required' });
    expect(fieldError(binary, { probabilities: { yes: 1, no: null } })).toEqual({
      field: 'rows.3.probabilities.no',
      message: 'is required',
    });
    expect(fieldError(binary, { probabilities: 0.5 })).toEqual({
      field: 'rows.3.probabilities',
      message: 'must be a list of 2 numbers, one per class (no, yes), or an object keyed by class name',
    });
  });

  it('requires probabilities to sum to 1 ± 1e-6', () => {
    expect(binaryRow({ probabilities: [0.5, 0.500001] }).probabilities).toEqual([0.5, 0.500001]);
    expect(binaryRow({ probabilities: [0.5, 0.499999] }).probabilities).toEqual([0.5, 0.499999]);
    expect(fieldError(binary, { probabilities: [0.5, 0.5000011] })).toEqual({
      field: 'rows.3.probabilities',
      message: 'must sum to 1 (±1e-6), got 1.0000011',
    });
    expect(fieldError(binary, { probabilities: [0.5, 0.4999989] })).toEqual({
      field: 'rows.3.probabilities',
      message: 'must sum to 1 (±1e-6), got 0.9999989',
    });
    expect(fieldError(binary, { probabilities: [0.3, 0.6] })).toEqual({
      field: 'rows.3.probabilities',
      message: 'must sum to 1 (±1e-6), got 0.9',
    });
  });
});

describe('normalizeRow: multiclass target', () => {
  it('takes probabilities as a list or an object and labels by argmax', () => {
    expect(row(multiclass, { probabilities: [0.2, 0.5, 0.3] })).toMatchObject({
      prediction: null,
      probabilities: [0.2, 0.5, 0.3],
      predictedLabel: 'b',
    });
    expect(row(multiclass, { probabilities: { c: 0.6, a: 0.1, b: 0.3 } })).toMatchObject({
      prediction: null,
      probabilities: [0.1, 0.3, 0.6],
      predictedLabel: 'c',
    });
  });

  it('breaks ties by the first class', () => {
    expect(row(multiclass, { probabilities: [0.4, 0.4, 0.2] }).predictedLabel).toBe('a');
    expect(row(multiclass, { probabilities: [0.2, 0.4, 0.4] }).predictedLabel).toBe('b');
    expect(row(multiclass, { probabilities: { c: 0.5, b: 0.5, a: 0 } }).predictedLabel).toBe('b');
  });

  it('requires probabilities and refuses prediction', () => {
    expect(fieldError(multiclass, { prediction: 0.5 })).toEqual({
      field: 'rows.3.prediction',
      message: 'must be absent for a multiclass deployment (give probabilities, one per class)',
    });
    expect(fieldError(multiclass, { prediction: 'x', probabilities: [0.2, 0.5, 0.3] }).field).toBe('rows.3.prediction');
    expect(row(multiclass, { prediction: null, probabilities: [0.2, 0.5, 0.3] }).prediction).toBeNull();
    expect(fieldError(multiclass, { probabilities: null })).toEqual({
      field: 'rows.3.probabilities',
      message: 'is required for a multiclass deployment, one per class (a, b, c)',
    });
  });

  it('names the problem with the list or object', () => {
    expect(fieldError(multiclass, { probabilities: [0.5, 0.5] })).toEqual({
      field: 'rows.3.probabilities',
      message: 'must have 3 values, one per class (a, b, c), got 2',
    });
    expect(fieldError(multiclass, { probabilities: { a: 0.5, b: 0.5, d: 0 } })).toEqual({
      field: 'rows.3.probabilities.d',
      message: 'is not a class of this deployment (a, b, c)',
    });
    expect(fieldError(multiclass, { probabilities: { a: 0.5, b: 0.5 } })).toEqual({
      field: 'rows.3.probabilities.c',
      message: 'is required',
    });
    expect(fieldError(multiclass, { probabilities: [0.5, 0.5, 0.5] })).toEqual({
      field: 'rows.3.probabilities',
      message: 'must sum to 1 (±1e-6), got 1.5',
    });
    expect(fieldError(multiclass, { probabilities: { a: 0.5, b: 0.5, 'c\u0000': 0 } })).toEqual({
      field: 'rows.3.probabilities.c\\u0000',
      message: 'is not a class of this deployment (a, b, c)',
    });
  });

  it('accepts sums at 1 ± 1e-6 across many classes', () => {
    const classNames = Array.from({ length: 12 }, (_, i) => `class${i}`);
    const shape: TargetShape = { ...multiclass, classNames };
    const even = Array.from({ length: 12 }, () => 1 / 12);
    expect(row(shape, { probabilities: even }).predictedLabel).toBe('class0');
    expect(row(shape, { probabilities: [...even.slice(0, 11), 1 / 12 + 1e-6] }).predictedLabel).toBe('class11');
    expect(fieldError(shape, { probabilities: [...even.slice(0, 11), 1 / 12 + 2e-6] })).toEqual({
      field: 'rows.3.probabilities',
      message: 'must sum to 1 (±1e-6), got 1.000002',
    });
    expect(fieldError(shape, { probabilities: [1] }).message).toBe(
      'must have 12 values, one per class (class0, class1, class2, class3, class4, class5, class6, class7, class8, class9, … (12 classes)), got 1',
    );
  });
});

describe('normalizeRow: association id and timestamp', () => {
  it('reads association ids from strings and integers', () => {
    expect(row(regression, { prediction: 1, associationId: 'abc' }).associationId).toBe('abc');
    expect(row(regression, { prediction: 1, associationId: 42 }).associationId).toBe('42');
    expect(row(regression, { prediction: 1, associationId: -7 }).associationId).toBe('-7');
    expect(row(regression, { prediction: 1, associationId: 2 ** 53 - 1 }).associationId).toBe('9007199254740991');
    expect(row(regression, { prediction: 1, associationId: 'x'.repeat(256) }).associationId).toBe('x'.repeat(256));
    expect(row(regression, { prediction: 1, associationId: null }).associationId).toBeNull();
    expect(row(regression, { prediction: 1 }).associationId).toBeNull();
  });

  it('refuses other association ids', () => {
    const cases: [unknown, string][] = [
      ['', 'must not be empty'],
      ['x'.repeat(257), 'must be at most 256 characters'],
      ['a\u0000b', 'must not contain the NUL character (\\u0000)'],
      [1.5, 'must be a string or an integer'],
      [2 ** 53, 'must be a string or an integer'],
      [Infinity, 'must be a string or an integer'],
      [true, 'must be a string or an integer'],
      [{ id: 1 }, 'must be a string or an integer'],
    ];
    for (const [associationId, message] of cases) {
      expect(fieldError(regression, { prediction: 1, associationId })).toEqual({ field: 'rows.3.associationId', message });
    }
  });

  it('reads ISO-8601 timestamps and refuses anything else', () => {
    expect(row(regression, { prediction: 1, timestamp: '2024-05-01T12:00:00.250+02:00' }).timestamp).toEqual(
      new Date('2024-05-01T10:00:00.250Z'),
    );
    expect(row(regression, { prediction: 1, timestamp: '2024-05-01' }).timestamp).toEqual(new Date('2024-05-01T00:00:00Z'));
    expect(row(regression, { prediction: 1, timestamp: null }).timestamp).toBeNull();
    for (const timestamp of ['2024-02-30T00:00:00Z', 'yesterday', '', '05/01/2024', 1714564800000, true, {}]) {
      expect(fieldError(regression, { prediction: 1, timestamp })).toEqual({
        field: 'rows.3.timestamp',
        message: 'must be an ISO-8601 date-time',
      });
    }
    expect(fieldError(regression, { prediction: 1, timestamp: '2024-05-01T00:00:00Z\u0000' })).toEqual({
      field: 'rows.3.timestamp',
      message: 'must not contain the NUL character (\\u0000)',
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Streaming parsers

async function* chunks(...parts: (Buffer | string)[]): AsyncGenerator<Buffer | string> {
  yield* parts;
}

/** Every byte its own chunk: splits every line, cell and multi-byte character. */
async function* byteByByte(text: string | Buffer): AsyncGenerator<Buffer> {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
}

async function collect(items: AsyncIterable<ParsedItem>): Promise<ParsedItem[]> {
  const out: ParsedItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const jsonError = (text: string) => {
  try {
    JSON.parse(text);
  } catch (error) {
    return `is not valid JSON: ${(error as Error).message}`;
  }
  throw new Error('valid JSON');
};

describe('parseNdjson', () => {
  const text = '{"a":1}\r\n\r\n   \n{"a":2}\n{oops\n{"a":"é🚀"}';
  const expected: ParsedItem[] = [
    { line: 1, item: { a: 1 } },
    { line: 4, item: { a: 2 } },
    { line: 5, error: jsonError('{oops') },
    { line: 6, item: { a: 'é🚀' } },
  ];

  it('yields one item per line, skipping blank lines, with CRLF, a bad line in the middle and no final newline', async () => {
    expect(await collect(parseNdjson(chunks(text)))).toEqual(expected);
    expect(expected[2]).toEqual({ line: 5, error: expect.stringMatching(/^is not valid JSON: /) });
  });

  it('gives the same answer however the input is cut into chunks', async () => {
    expect(await collect(parseNdjson(byteByByte(text)))).toEqual(expected);
    const bytes = Buffer.from(text);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(await collect(parseNdjson(chunks(bytes.subarray(0, cut), bytes.subarray(cut))))).toEqual(expected);
    }
  });

  it('decodes a multi-byte character split between chunks', async () => {
    const bytes = Buffer.from('{"city":"Zürich 🚀"}\n');
    const rocket = bytes.indexOf(Buffer.from('🚀'));
    for (const cut of [bytes.indexOf(Buffer.from('ü')) + 1, rocket + 1, rocket + 2, rocket + 3]) {
      expect(await collect(parseNdjson(chunks(bytes.subarray(0, cut), bytes.subarray(cut))))).toEqual([
        { line: 1, item: { city: 'Zürich 🚀' } },
      ]);
    }
  });

  it('accepts string chunks and a UTF-8 byte order mark, even split', async () => {
    expect(await collect(parseNdjson(chunks('{"a":', '1}\n', '{"b":2}\n')))).toEqual([
      { line: 1, item: { a: 1 } },
      { line: 2, item: { b: 2 } },
    ]);
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(
      await collect(parseNdjson(chunks(bom.subarray(0, 1), bom.subarray(1, 2), Buffer.concat([bom.subarray(2), Buffer.from('{"a":1}')])))),
    ).toEqual([{ line: 1, item: { a: 1 } }]);
  });

  it('reports invalid UTF-8 on its line', async () => {
    const bytes = Buffer.concat([Buffer.from('{"a":1}\n{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n{"a":3}\n')]);
    const expectedItems = [
      { line: 1, item: { a: 1 } },
      { line: 2, error: 'is not valid UTF-8' },
      { line: 3, item: { a: 3 } },
    ];
    expect(await collect(parseNdjson(chunks(bytes)))).toEqual(expectedItems);
    expect(await collect(parseNdjson(byteByByte(bytes)))).toEqual(expectedItems);
  });

  it('yields other JSON values as they are, for normalizeRow to refuse', async () => {
    expect(await collect(parseNdjson(chunks('[1]\n"x"\nnull\n')))).toEqual([
      { line: 1, item: [1] },
      { line: 2, item: 'x' },
      { line: 3, item: null },
    ]);
  });

  it('holds lines up to maxLineBytes (CR not counted) and refuses longer ones', async () => {
    const ten = '{"a":"12"}';
    const input = `${ten}\r\n${ten}\n{"a":"123"}\n${ten}`;
    const expectedItems = [
      { line: 1, item: { a: '12' } },
      { line: 2, item: { a: '12' } },
      { line: 3, error: 'is longer than 10 bytes' },
      { line: 4, item: { a: '12' } },
    ];
    expect(await collect(parseNdjson(chunks(input), { maxLineBytes: 10 }))).toEqual(expectedItems);
    expect(await collect(parseNdjson(byteByByte(input), { maxLineBytes: 10 }))).toEqual(expectedItems);
  });

  it('refuses a 2 MiB line under a 1 MiB limit without buffering the rest of it', async () => {
    const chunkSize = 64 * 1024;
    let produced = 0;
    async function* input() {
      yield '{"a":1}\n{"blob":"';
      for (let i = 0; i < 32; i++) {
        produced++;
        yield 'x'.repeat(chunkSize);
      }
      yield '"}\n{"a":3}\n';
    }
    const seen: { item: ParsedItem; produced: number }[] = [];
    for await (const item of parseNdjson(input(), { maxLineBytes: 1024 * 1024 })) seen.push({ item, produced });
    expect(seen.map((s) => s.item)).toEqual([
      { line: 1, item: { a: 1 } },
      { line: 2, error: 'is longer than 1048576 bytes' },
      { line: 3, item: { a: 3 } },
    ]);
    // The error comes as soon as the line passes 1 MiB (16 chunks of 64 KiB), not at its end.
    expect(seen[1]!.produced).toBe(16);
    // The default limit is 1 MiB too, and a long line inside a single chunk is refused the same way.
    expect(await collect(parseNdjson(chunks(`{"blob":"${'x'.repeat(2 * 1024 * 1024)}"}\n{"a":3}`)))).toEqual([
      { line: 1, error: 'is longer than 1048576 bytes' },
      { line: 2, item: { a: 3 } },
    ]);
  });

  it('stops reading its input when the consumer stops', async () => {
    let finished = false;
    async function* input() {
      try {
        for (let i = 0; ; i++) yield `{"i":${i}}\n`;
      } finally {
        finished = true;
      }
    }
    for await (const item of parseNdjson(input())) if ('item' in item && item.line === 3) break;
    expect(finished).toBe(true);
  });
});

describe('parseCsv', () => {
  it('reads quoted cells, escaped quotes, quoted newlines, CRLF and a BOM', async () => {
    const text =
      '\ufeffprediction,age,city,income,associationId,timestamp\r\n' +
      '1.5,42,"Paris, ""the"" city",100,a-1,2024-05-01T12:00:00Z\r\n' +
      '2,7,"two\r\nlines",,a-2,\r\n' +
      '3,,,,,\r\n';
    const expected: ParsedItem[] = [
      {
        line: 2,
        item: {
          features: { age: '42', city: 'Paris, "the" city', income: '100' },
          prediction: '1.5',
          associationId: 'a-1',
          timestamp: '2024-05-01T12:00:00Z',
        },
      },
      {
        line: 3,
        item: { features: { age: '7', city: 'two\r\nlines', income: null }, prediction: '2', associationId: 'a-2', timestamp: null },
      },
      { line: 5, item: { features: { age: null, city: null, income: null }, prediction: '3', associationId: null, timestamp: null } },
    ];
    expect(await collect(parseCsv(chunks(text), regression))).toEqual(expected);
    expect(await collect(parseCsv(byteByByte(text), regression))).toEqual(expected);
    const bytes = Buffer.from(text);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(await collect(parseCsv(chunks(bytes.subarray(0, cut), bytes.subarray(cut)), regression))).toEqual(expected);
    }
  });

  it('feeds normalizeRow, which does the validation', async () => {
    const context = newContext();
    const text = 'age,city,prediction,colour\n42,Paris,1.5,red\nold,x,2,blue\n';
    const rows = [];
    for await (const parsed of parseCsv(chunks(text), regression)) {
      if ('item' in parsed) rows.push(normalizeRow(regression, parsed.item, `line ${parsed.line}`, context));
    }
    expect(rows).toEqual([
      {
        timestamp: null,
        features: { age: 42, city: 'Paris', income: null },
        prediction: 1.5,
        probabilities: null,
        predictedLabel: null,
        associationId: null,
      },
      { field: 'line 3.features.age', message: 'must be a finite number, got "old"' },
    ]);
    expect([...context.unknownFeatures]).toEqual(['colour']);
  });

  it('reads one probability column per class; a row with every class cell empty has null probabilities', async () => {
    const text = 'c,age,a,b\n0.2,1,0.5,0.3\n,2,,\n0.1,3,,0.9\n';
    expect(await collect(parseCsv(chunks(text), multiclass))).toEqual([
      { line: 2, item: { features: { age: '1' }, probabilities: { a: '0.5', b: '0.3', c: '0.2' } } },
      { line: 3, item: { features: { age: '2' }, probabilities: null } },
      { line: 4, item: { features: { age: '3' }, probabilities: { a: null, b: '0.9', c: '0.1' } } },
    ]);
    const rows = [];
    for await (const parsed of parseCsv(chunks(text), multiclass)) {
      if ('item' in parsed) rows.push(normalizeRow(multiclass, parsed.item, `line ${parsed.line}`, newContext()));
    }
    expect(rows).toEqual([
      expect.objectContaining({ probabilities: [0.5, 0.3, 0.2], predictedLabel: 'a' }),
      { field: 'line 3.probabilities', message: 'is required for a multiclass deployment, one per class (a, b, c)' },
      { field: 'line 4.probabilities.a', message: 'is required' },
    ]);
  });

  it('reads a binary file by prediction column or by class columns', async () => {
    const byPrediction = await collect(parseCsv(chunks('age,prediction\n1,0.8\n'), binary));
    expect(byPrediction).toEqual([{ line: 2, item: { features: { age: '1' }, prediction: '0.8' } }]);
    const byClasses = await collect(parseCsv(chunks('yes,no,age\n0.8,0.2,1\n'), binary));
    expect(byClasses).toEqual([{ line: 2, item: { features: { age: '1' }, probabilities: { no: '0.2', yes: '0.8' } } }]);
    for (const parsed of [...byPrediction, ...byClasses]) {
      if (!('item' in parsed)) throw new Error('expected an item');
      expect(normalizeRow(binary, parsed.item, 'line 2', newContext())).toMatchObject({
        prediction: 0.8,
        probabilities: [parsed === byPrediction[0] ? 1 - 0.8 : 0.2, 0.8],
        predictedLabel: 'yes',
      });
    }
  });

  it('keeps a column named __proto__ as a plain feature key', async () => {
    const [parsed] = await collect(parseCsv(chunks('__proto__,prediction\n5,1\n'), regression));
    if (!parsed || !('item' in parsed)) throw new Error('expected an item');
    const features = (parsed.item as { features: object }).features;
    expect(Object.getPrototypeOf(features)).toBe(Object.prototype);
    expect(Object.entries(features)).toEqual([['__proto__', '5']]);
  });

  it('lets a declared feature named like a reserved column win', async () => {
    const shape: TargetShape = { ...regression, features: [feature('timestamp', 'NUMERIC')] };
    expect(await collect(parseCsv(chunks('timestamp,prediction\n5,1\n'), shape))).toEqual([
      { line: 2, item: { features: { timestamp: '5' }, prediction: '1' } },
    ]);
  });

  it('refuses a row with a different number of cells and goes on', async () => {
    const text = 'age,prediction\n1,2\n1,2,3\n4\n\n5,6\n7,8,\n';
    expect(await collect(parseCsv(chunks(text), regression))).toEqual([
      { line: 2, item: { features: { age: '1' }, prediction: '2' } },
      { line: 3, error: 'has 3 cells, but the header has 2 columns' },
      { line: 4, error: 'has 1 cells, but the header has 2 columns' },
      { line: 6, item: { features: { age: '5' }, prediction: '6' } },
      { line: 7, error: 'has 3 cells, but the header has 2 columns' },
    ]);
  });

  it('refuses a bad header on line 1 and reads nothing more', async () => {
    const cases: [string, TargetShape, string][] = [
      ['age,prediction,age\n1,2,3\n', regression, 'column "age" appears more than once in the header'],
      ['age, prediction ,prediction\n', regression, 'column "prediction" appears more than once in the header'],
      ['age,,prediction\n1,2,3\n', regression, 'column 2 of the header is empty'],
      ['""\n1\n', regression, 'the header row is empty'],
      ['age,city\n1,x\n', regression, 'the header has no "prediction" column'],
      ['age,a,b\n1,0.5,0.5\n', multiclass, 'the header needs one probability column per class; missing: "c"'],
      ['age,yes\n1,0.5\n', binary, 'the header needs one probability column per class; missing: "no"'],
      [
        'age\n1\n',
        binary,
        'the header needs a "prediction" column (the probability of "yes") or one probability column per class ("no", "yes")',
      ],
      ['age,"pre\u0000d"\n', regression, 'column 2 of the header must not contain the NUL character (\\u0000)'],
      ['', regression, 'the CSV has no header row'],
      ['\n\n', regression, 'the CSV has no header row'],
    ];
    for (const [text, shape, error] of cases) {
      expect(await collect(parseCsv(chunks(text), shape)), text).toEqual([{ line: 1, error }]);
    }
  });

  it('reads the last row without a final newline and handles a trailing empty cell', async () => {
    expect(await collect(parseCsv(chunks('age,city,prediction\n1,,2\n3,x,'), regression))).toEqual([
      { line: 2, item: { features: { age: '1', city: null }, prediction: '2' } },
      { line: 3, item: { features: { age: '3', city: 'x' }, prediction: null } },
    ]);
  });

  it('reports malformed quoting on the row it starts on', async () => {
    expect(await collect(parseCsv(chunks('city,prediction\n"Paris"x,1\nRome,2\n"never closed,3\n'), regression))).toEqual([
      { line: 2, error: 'has a character after the closing quote of cell 1' },
      { line: 3, item: { features: { city: 'Rome' }, prediction: '2' } },
      { line: 4, error: 'has a quoted cell that is never closed (cell 1)' },
    ]);
    // A quote inside an unquoted cell is kept as it is.
    expect(await collect(parseCsv(chunks('city,prediction\nab"c,1\n'), regression))).toEqual([
      { line: 2, item: { features: { city: 'ab"c' }, prediction: '1' } },
    ]);
  });

  it('decodes multi-byte characters split across chunks and reports invalid UTF-8', async () => {
    const text = 'city,prediction\n"Zürich 🚀",1\nÅre,2\n';
    const expected = [
      { line: 2, item: { features: { city: 'Zürich 🚀' }, prediction: '1' } },
      { line: 3, item: { features: { city: 'Åre' }, prediction: '2' } },
    ];
    expect(await collect(parseCsv(byteByByte(text), regression))).toEqual(expected);
    const bad = Buffer.concat([Buffer.from('city,prediction\nab'), Buffer.from([0xc3]), Buffer.from(',1\nx,2\n')]);
    expect(await collect(parseCsv(chunks(bad), regression))).toEqual([
      { line: 2, error: 'cell 1 is not valid UTF-8' },
      { line: 3, item: { features: { city: 'x' }, prediction: '2' } },
    ]);
  });

  it('refuses a record longer than maxLineBytes without holding it, and goes on', async () => {
    const chunkSize = 64 * 1024;
    let produced = 0;
    async function* input() {
      yield 'city,prediction\n"';
      for (let i = 0; i < 32; i++) {
        produced++;
        yield `${'x'.repeat(chunkSize - 1)}\n`; // quoted newlines: one record over many lines
      }
      yield '",1\nRome,2\n';
    }
    const seen: { item: ParsedItem; produced: number }[] = [];
    for await (const item of parseCsv(input(), regression)) seen.push({ item, produced });
    expect(seen.map((s) => s.item)).toEqual([
      { line: 2, error: 'is longer than 1048576 bytes' },
      { line: 35, item: { features: { city: 'Rome' }, prediction: '2' } },
    ]);
    expect(seen[0]!.produced).toBe(16);
    expect(
      await collect(parseCsv(chunks('city,prediction\nabcdefghijklmnop,1\nabcdefghijklmn,1\r\n'), regression, { maxLineBytes: 16 })),
    ).toEqual([
      { line: 2, error: 'is longer than 16 bytes' },
      { line: 3, item: { features: { city: 'abcdefghijklmn' }, prediction: '1' } },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Large inputs

const ROWS = 200_000;
const wideFeatures: FeatureDefinition[] = [
  ...Array.from({ length: 15 }, (_, i) => feature(`num${i}`, 'NUMERIC')),
  ...Array.from({ length: 5 }, (_, i) => feature(`cat${i}`, 'CATEGORICAL')),
];
const wideBinary: TargetShape = { ...binary, features: wideFeatures };
const CATEGORIES = ['red', 'green', 'blue', 'cyan', 'magenta', 'yellow'];

function ndjsonLine(i: number): string {
  const features: Record<string, number | string> = {};
  for (let f = 0; f < 15; f++) features[`num${f}`] = Math.round(((i * 7919 + f * 104729) % 100_000) * 1.37) / 100;
  for (let f = 0; f < 5; f++) features[`cat${f}`] = CATEGORIES[(i + f) % CATEGORIES.length]!;
  const p = ((i * 31) % 1000) / 1000;
  return `${JSON.stringify({ features, probabilities: { no: 1 - p, yes: p }, associationId: `id-${i}`, timestamp: '2024-05-01T12:00:00Z' })}\n`;
}

const CSV_HEADER = `${wideFeatures.map((f) => f.name).join(',')},no,yes,associationId,timestamp\n`;
function csvLine(i: number): string {
  const cells: string[] = [];
  for (let f = 0; f < 15; f++) cells.push(String(Math.round(((i * 7919 + f * 104729) % 100_000) * 1.37) / 100));
  for (let f = 0; f < 5; f++)
    cells.push(i % 10 === 0 ? `"${CATEGORIES[(i + f) % CATEGORIES.length]}, quoted"` : CATEGORIES[(i + f) % CATEGORIES.length]!);
  const p = ((i * 31) % 1000) / 1000;
  cells.push(String(1 - p), String(p), `id-${i}`, '2024-05-01T12:00:00Z');
  return `${cells.join(',')}\n`;
}

/**
 * Generates `rows` lines on the fly in chunks of about chunkSize bytes (cut anywhere, even inside a
 * character), recording where each line ends so a test can see how far ahead of its output the
 * parser reads.
 */
function generated(header: string, line: (i: number) => string, chunkSize: number) {
  const lineEnds = new Float64Array(ROWS + 2);
  const state = { bytesProduced: 0, done: false };
  async function* input(): AsyncGenerator<Buffer> {
    let pending = Buffer.from(header);
    let offset = pending.length;
    lineEnds[1] = offset;
    const parts: Buffer[] = [pending];
    let size = pending.length;
    for (let i = 0; i < ROWS; i++) {
      const bytes = Buffer.from(line(i));
      offset += bytes.length;
      lineEnds[header ? i + 2 : i + 1] = offset;
      parts.push(bytes);
      size += bytes.length;
      while (size >= chunkSize) {
        pending = Buffer.concat(parts);
        parts.length = 0;
        state.bytesProduced += chunkSize;
        yield pending.subarray(0, chunkSize);
        parts.push(pending.subarray(chunkSize));
        size -= chunkSize;
      }
    }
    state.bytesProduced += size;
    yield Buffer.concat(parts);
    state.done = true;
  }
  return { input, lineEnds, state };
}

/**
 * A full garbage collection, so heapUsed counts live objects only. Vitest gives no --expose-gc, but
 * V8 can still be asked for its gc function at run time; without it, sampled heapUsed also counts
 * garbage not yet collected (tens of MB), and the bound below is only a loose one.
 */
const collectGarbage: (() => void) | null = (() => {
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
})();

describe('large inputs', () => {
  for (const format of ['NDJSON', 'CSV'] as const) {
    it(`parses ${ROWS} ${format} rows × 20 features streamed in small chunks, reading at most a chunk ahead`, async () => {
      const chunkSize = 4096;
      const { input, lineEnds, state } =
        format === 'NDJSON' ? generated('', ndjsonLine, chunkSize) : generated(CSV_HEADER, csvLine, chunkSize);
      const parsed = format === 'NDJSON' ? parseNdjson(input()) : parseCsv(input(), wideBinary);
      const context = newContext();
      collectGarbage?.();
      const heapBefore = process.memoryUsage().heapUsed;
      let heapPeak = heapBefore;
      let rows = 0;
      let maxLead = 0;
      let firstItemBeforeInputDone = false;
      for await (const item of parsed) {
        if (!('item' in item)) throw new Error(`line ${item.line}: ${item.error}`);
        if (rows === 0) firstItemBeforeInputDone = !state.done;
        const normalized = normalizeRow(wideBinary, item.item, `line ${item.line}`, context);
        if (!('predictedLabel' in normalized)) throw new Error(`${normalized.field}: ${normalized.message}`);
        maxLead = Math.max(maxLead, state.bytesProduced - lineEnds[item.line]!);
        if (++rows % 20_000 === 0) {
          collectGarbage?.();
          heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
        }
      }
      expect(rows).toBe(ROWS);
      expect(firstItemBeforeInputDone).toBe(true);
      // When a row comes out, the parser has read no more than the chunk that ends it.
      expect(maxLead).toBeLessThan(chunkSize);
      expect(context.unknownFeatures.size).toBe(0);
      const growth = heapPeak - heapBefore;
      expect(growth).toBeLessThan(collectGarbage ? 10 * 1024 * 1024 : 50 * 1024 * 1024);
      console.log(
        `${format}: ${ROWS} rows; live heap growth at most ${(growth / 1024 / 1024).toFixed(2)} MB${collectGarbage ? '' : ' (no gc: includes garbage)'}`,
      );
    });
  }

  it('measures normalizeRow + parseNdjson throughput (printed, not asserted)', async () => {
    /** ROWS lines from a pool of 1000 prepared ones, in 64 KiB chunks, so generating costs next to nothing. */
    function pooled(header: string, line: (i: number) => string) {
      const pool = Array.from({ length: 1000 }, (_, i) => Buffer.from(line(i)));
      return async function* input(): AsyncGenerator<Buffer> {
        const parts: Buffer[] = [Buffer.from(header)];
        let size = parts[0]!.length;
        for (let i = 0; i < ROWS; i++) {
          const bytes = pool[i % pool.length]!;
          parts.push(bytes);
          size += bytes.length;
          if (size >= 64 * 1024) {
            yield Buffer.concat(parts, size);
            parts.length = 0;
            size = 0;
          }
        }
        if (size) yield Buffer.concat(parts, size);
      };
    }
    for (const format of ['NDJSON', 'CSV'] as const) {
      const context = newContext();
      const parsed = format === 'NDJSON' ? parseNdjson(pooled('', ndjsonLine)()) : parseCsv(pooled(CSV_HEADER, csvLine)(), wideBinary);
      const started = performance.now();
      let rows = 0;
      for await (const item of parsed) {
        if (!('item' in item)) throw new Error(item.error);
        const normalized = normalizeRow(wideBinary, item.item, `line ${item.line}`, context);
        if ('predictedLabel' in normalized) rows++;
      }
      const seconds = (performance.now() - started) / 1000;
      expect(rows).toBe(ROWS);
      console.log(
        `normalizeRow + parse${format === 'NDJSON' ? 'Ndjson' : 'Csv'}: ${ROWS} rows × 20 features in ${seconds.toFixed(2)} s = ${Math.round(ROWS / seconds).toLocaleString('en-US')} rows/s`,
      );
    }
  });
});
