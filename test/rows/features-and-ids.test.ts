import { describe, expect, it } from 'vitest';
import { MAX_UNKNOWN_FEATURES, normalizeRow } from '../../src/modules/rows/normalize.js';
import type { TargetShape } from '../../src/modules/rows/shape.js';
import { feature, fieldError, missing, newContext, regression, row } from '../helpers/rows.js';

// normalizeRow (src/modules/predictions/rows.ts) turns one item of any ingest route into a stored
// row: every declared feature in declaration order, typed; unknown features listed and ignored; the
// association id and timestamp checked. Anything else is a field error naming the field.

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
