import { describe, expect, it } from 'vitest';
import type { TargetShape } from '../../src/modules/rows/shape.js';
import { binary, binaryPositiveFirst, fieldError, multiclass, regression, row } from '../helpers/rows.js';

// normalizeRow reads the prediction as the deployment's target type says: a number (regression);
// p(positive) or one probability per class, as a list in classNames order or keyed by class
// (binary, multiclass), summing to 1 ± 1e-6; the predicted label by threshold or argmax.

describe('normalizeRow: regression target', () => {
  it('requires a finite prediction (numbers or decimal strings, as CSV cells are)', () => {
    expect(row(regression, { prediction: -3.25 }).prediction).toBe(-3.25);
    expect(row(regression, { prediction: '1.5' }).prediction).toBe(1.5);
    expect(row(regression, { prediction: -1e100 }).prediction).toBe(-1e100);
    // Beyond ±1e100 the batch's sums in float8 could overflow (PostgreSQL then fails the upload).
    for (const prediction of [1e300, -1.7e308, '1e101']) {
      expect(fieldError(regression, { prediction })).toEqual({ field: 'rows.3.prediction', message: 'must be between -1e+100 and 1e+100' });
    }
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
