/**
 * Validation of one prediction row, shared by every ingest path (GraphQL, the agent JSON route, the
 * bulk NDJSON/CSV route, training-baseline uploads). Pure and synchronous; it runs once per row of a
 * bulk request (millions of times), so it uses no zod, no exceptions and no per-row closures, and it
 * caches what it derives from a TargetShape (treat a shape as immutable once rows use it).
 */

import type { FieldError } from '../../errors.js';
import { parseTimestamp, UNSTORABLE_NUL, unstorableText } from '../../validation.js';
import type { TargetShape } from './shape.js';

export interface PredictionRow {
  /** null: the caller uses the request time. */
  timestamp: Date | null;
  /** Every declared feature, in declaration order; NUMERIC → number | null, CATEGORICAL → string | null; null = missing. */
  features: Record<string, number | string | null>;
  /** Regression: the value; binary: probability of positiveClass; multiclass: null. */
  prediction: number | null;
  /** Classification: one per classNames entry, in classNames order; regression: null. */
  probabilities: number[] | null;
  /** Classification: binary by threshold, multiclass argmax (first on ties); regression: null. */
  predictedLabel: string | null;
  associationId: string | null;
}

/** The caller collects unknown feature names across rows (at most MAX_UNKNOWN_FEATURES of them). */
export interface RowContext {
  unknownFeatures: Set<string>;
}

/** Unknown feature names recorded per context at most; names are cut to 256 characters. */
export const MAX_UNKNOWN_FEATURES = 100;
/** Rows one JSON report (GraphQL or the agent route) may carry; larger sets go through the streamed uploads. */
export const MAX_ROWS_PER_REPORT = 10_000;
/** Class probabilities must sum to 1 within this (plus 1e-12 of floating-point slack); the messages say 1e-6. */
export const PROBABILITY_SUM_TOLERANCE = 1e-6;
export const MAX_ASSOCIATION_ID_LENGTH = 256;
/**
 * Numeric features, regression predictions and actuals beyond this are refused: their per-batch
 * sums (and sums of squares) are float8 columns added in SQL, and PostgreSQL fails an addition that
 * overflows instead of giving Infinity (two rows of -1.7e308 made the second upload a 500).
 */
export const MAX_ABS_ROW_NUMBER = 1e100;
export const ROW_NUMBER_RANGE_MESSAGE = `must be between -${MAX_ABS_ROW_NUMBER} and ${MAX_ABS_ROW_NUMBER}`;

const NUMBER_MESSAGE = 'must be a finite number';
const TIMESTAMP_MESSAGE = 'must be an ISO-8601 date-time';
const SUM_SLACK = PROBABILITY_SUM_TOLERANCE + 1e-12;

const REGRESSION = 0;
const BINARY = 1;
const MULTICLASS = 2;

/** What normalizeRow derives once per shape. */
interface Compiled {
  target: 0 | 1 | 2;
  names: string[];
  numeric: boolean[];
  /** The name is also a property of Object.prototype (e.g. `constructor`): read it with hasOwn. */
  inherited: boolean[];
  index: Map<string, number>;
  /**
   * Every feature as null, in declaration order: each row's features start as a copy of it, so all
   * rows share one object layout and no assignment adds a property (much faster than building each
   * record key by key). Made with fromEntries, so a feature named `__proto__` is an own property.
   */
  template: Record<string, null>;
  classes: string[];
  classIndex: Map<string, number>;
  positive: number;
  threshold: number;
  /** "a, b, c" for messages (cut after 10 names). */
  classList: string;
}

const compiledShapes = new WeakMap<TargetShape, Compiled>();

function compile(shape: TargetShape): Compiled {
  const names = shape.features.map((f) => f.name);
  const classes = shape.targetType === 'REGRESSION' ? [] : (shape.classNames ?? []);
  if (shape.targetType === 'BINARY' && (classes.length !== 2 || !classes.includes(shape.positiveClass ?? '\u0000'))) {
    throw new Error('A binary TargetShape needs 2 classNames and a positiveClass among them');
  }
  if (shape.targetType === 'MULTICLASS' && classes.length < 2) throw new Error('A multiclass TargetShape needs ≥ 2 classNames');
  const compiled: Compiled = {
    target: shape.targetType === 'REGRESSION' ? REGRESSION : shape.targetType === 'BINARY' ? BINARY : MULTICLASS,
    names,
    numeric: shape.features.map((f) => f.type === 'NUMERIC'),
    inherited: names.map((name) => name in Object.prototype),
    index: new Map(names.map((name, i) => [name, i])),
    template: Object.fromEntries(names.map((name) => [name, null])),
    classes,
    classIndex: new Map(classes.map((name, i) => [name, i])),
    positive: shape.positiveClass === null ? -1 : classes.indexOf(shape.positiveClass),
    threshold: shape.predictionThreshold,
    classList: classes.length > 10 ? `${classes.slice(0, 10).join(', ')}, … (${classes.length} classes)` : classes.join(', '),
  };
  compiledShapes.set(shape, compiled);
  return compiled;
}

const fieldError = (field: string, message: string): FieldError => ({ field, message });
const refuse = (refusal: { error: FieldError | null }, error: FieldError): null => {
  refusal.error = error;
  return null;
};

/** A key as it appears in an error's field path: NUL escaped, very long keys cut. */
function pathKey(key: string): string {
  const escaped = key.includes('\u0000') ? key.replaceAll('\u0000', '\\u0000') : key;
  return escaped.length > 100 ? `${escaped.slice(0, 100)}…` : escaped;
}

/** A string value quoted for a message, cut when long. */
function quoted(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

function gotNumber(value: unknown): string {
  return typeof value === 'string' ? `${NUMBER_MESSAGE}, got ${quoted(value)}` : NUMBER_MESSAGE;
}

/** Formats a computed number for a message: 0.8999999999999999 → 0.9. */
function shown(value: number): string {
  return String(Number(value.toPrecision(12)));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Powers of ten that are exact doubles. */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * A number from a number or a decimal string (surrounding whitespace allowed). undefined: missing
 * (undefined, null, or a blank string). NaN: anything else that is not a finite number, including
 * "NaN", "Infinity", "0x10" and booleans.
 */
function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : NaN;
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'string') return NaN;
  // Fast path for plain decimals ("-12.345"): with at most 15 digits and 22 decimals, the digits and
  // the power of ten are exact doubles, so one division rounds exactly as Number() does.
  const length = value.length;
  let i = 0;
  let code = value.charCodeAt(0);
  const negative = code === 45; /* - */
  if (negative || code === 43 /* + */) i = 1;
  let mantissa = 0;
  let digits = 0;
  let decimals = -1;
  for (; i < length; i++) {
    code = value.charCodeAt(i);
    if (code >= 48 && code <= 57) {
      mantissa = mantissa * 10 + (code - 48);
      digits++;
    } else if (code === 46 /* . */ && decimals === -1) {
      decimals = digits;
    } else break;
  }
  if (i === length && digits > 0 && digits <= 15) {
    const scale = decimals === -1 ? 0 : digits - decimals;
    if (scale <= 22) {
      const magnitude = scale ? mantissa / POWERS_OF_TEN[scale]! : mantissa;
      return negative ? -magnitude : magnitude;
    }
  }
  return numberOfText(value);
}

/** The general case of numberOf for strings: exponents, long digit strings, whitespace, junk. */
function numberOfText(value: string): number | undefined {
  const text = value.trim();
  if (text === '') return undefined;
  // Number() also reads 0x…, 0b…, 0o…; only decimal notation is a number here.
  if (text.length > 1 && text.charCodeAt(0) === 48 /* 0 */) {
    const second = text.charCodeAt(1) | 0x20;
    if (second === 120 /* x */ || second === 98 /* b */ || second === 111 /* o */) return NaN;
  }
  const parsed = Number(text);
  return Number.isFinite(parsed) ? parsed : NaN;
}

/** parseTimestamp, remembering the last answer: rows of one upload often share their timestamp. */
let lastTimestampText = '';
let lastTimestampMs = 0;
function timestampOf(text: string): Date | null {
  if (text === lastTimestampText) return new Date(lastTimestampMs);
  const parsed = parseTimestamp(text);
  if (parsed) {
    lastTimestampText = text;
    lastTimestampMs = parsed.getTime();
  }
  return parsed;
}

function noteUnknownFeature(context: RowContext, name: string): void {
  const set = context.unknownFeatures;
  if (set.size >= MAX_UNKNOWN_FEATURES) return;
  set.add(name.length > 256 ? `${name.slice(0, 256)}…` : name);
}

/**
 * The declared features of a row, validated (see PredictionRow.features); null when one is bad,
 * with the error in `refusal`. (A record could have features named `field` and `message`.)
 */
export function normalizeFeatures(
  shape: TargetShape,
  rawFeatures: unknown,
  where: string,
  context: RowContext,
  refusal: { error: FieldError | null },
): Record<string, number | string | null> | null {
  return featuresOf(compiledShapes.get(shape) ?? compile(shape), rawFeatures, where, context, refusal);
}

/** The validated features, or null with the error in `refusal` (a feature may be named `field`). */
function featuresOf(
  c: Compiled,
  rawFeatures: unknown,
  where: string,
  context: RowContext,
  refusal: { error: FieldError | null },
): Record<string, number | string | null> | null {
  const features: Record<string, number | string | null> = { ...c.template };
  if (rawFeatures !== undefined && rawFeatures !== null && !isObject(rawFeatures)) {
    return refuse(refusal, fieldError(`${where}.features`, 'must be an object mapping feature names to values'));
  }
  const names = c.names;
  const count = names.length;
  let found = 0;
  for (let i = 0; i < count; i++) {
    const name = names[i]!;
    let value: unknown;
    if (rawFeatures) {
      value = c.inherited[i] ? (Object.hasOwn(rawFeatures, name) ? rawFeatures[name] : undefined) : rawFeatures[name];
      if (value !== undefined) found++;
    }
    let normalized: number | string | null;
    if (c.numeric[i]) {
      const number = numberOf(value);
      if (number === undefined) normalized = null;
      else if (Number.isNaN(number)) return refuse(refusal, fieldError(`${where}.features.${name}`, gotNumber(value)));
      else if (Math.abs(number) > MAX_ABS_ROW_NUMBER)
        return refuse(refusal, fieldError(`${where}.features.${name}`, ROW_NUMBER_RANGE_MESSAGE));
      else normalized = number;
    } else if (typeof value === 'string') {
      if (value === '') normalized = null;
      else {
        const unstorable = unstorableText(value);
        if (unstorable) return refuse(refusal, fieldError(`${where}.features.${name}`, unstorable));
        normalized = value;
      }
    } else if (value === null || value === undefined) {
      normalized = null;
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return refuse(refusal, fieldError(`${where}.features.${name}`, 'must be a string or a finite number'));
      normalized = String(value);
    } else if (typeof value === 'boolean') {
      normalized = value ? 'true' : 'false';
    } else {
      return refuse(refusal, fieldError(`${where}.features.${name}`, 'must be a string, a number or a boolean'));
    }
    if (normalized !== null) features[name] = normalized;
  }
  if (rawFeatures) {
    // Any key beyond the declared ones found? Only then look them up one by one.
    // (Inherited enumerable keys only add to the count, which the lookup below then sorts out.)
    let keys = 0;
    for (const _key in rawFeatures) keys++;
    if (keys !== found) {
      for (const key in rawFeatures) {
        if (!Object.hasOwn(rawFeatures, key) || c.index.has(key)) continue;
        if (key.includes('\u0000'))
          return refuse(
            refusal,
            fieldError(`${where}.features.${pathKey(key)}`, `is not a declared feature, and a feature name ${UNSTORABLE_NUL}`),
          );
        noteUnknownFeature(context, key);
      }
    }
  }

  return features;
}

/** Validates one input item. `where` prefixes every error field, e.g. 'rows.12' (GraphQL), 'data.12' (JSON), 'line 13' (NDJSON/CSV). */
export function normalizeRow(shape: TargetShape, item: unknown, where: string, context: RowContext): PredictionRow | FieldError {
  const c = compiledShapes.get(shape) ?? compile(shape);
  if (!isObject(item)) return fieldError(where, 'must be an object');

  // Features
  const refusal: { error: FieldError | null } = { error: null };
  const features = featuresOf(c, item.features, where, context, refusal);
  if (features === null) return refusal.error!;

  // Target
  let prediction: number | null = null;
  let probabilities: number[] | null = null;
  let predictedLabel: string | null = null;
  const rawPrediction = item.prediction;
  const rawProbabilities = item.probabilities;
  const hasProbabilities = rawProbabilities !== undefined && rawProbabilities !== null;
  if (c.target === REGRESSION) {
    const number = numberOf(rawPrediction);
    if (number === undefined) return fieldError(`${where}.prediction`, 'is required');
    if (Number.isNaN(number)) return fieldError(`${where}.prediction`, gotNumber(rawPrediction));
    if (Math.abs(number) > MAX_ABS_ROW_NUMBER) return fieldError(`${where}.prediction`, ROW_NUMBER_RANGE_MESSAGE);
    if (hasProbabilities) return fieldError(`${where}.probabilities`, 'must be absent for a regression deployment');
    prediction = number;
  } else {
    const predictionNumber = numberOf(rawPrediction);
    if (c.target === MULTICLASS) {
      if (predictionNumber !== undefined) {
        return fieldError(`${where}.prediction`, 'must be absent for a multiclass deployment (give probabilities, one per class)');
      }
      if (!hasProbabilities)
        return fieldError(`${where}.probabilities`, `is required for a multiclass deployment, one per class (${c.classList})`);
    }
    if (hasProbabilities) {
      const parsed = readProbabilities(c, rawProbabilities, where);
      if (!Array.isArray(parsed)) return parsed;
      probabilities = parsed;
    }
    if (c.target === BINARY) {
      const positiveName = c.classes[c.positive]!;
      if (predictionNumber !== undefined) {
        if (Number.isNaN(predictionNumber)) return fieldError(`${where}.prediction`, gotNumber(rawPrediction));
        if (predictionNumber < 0 || predictionNumber > 1) {
          return fieldError(`${where}.prediction`, `must be a probability between 0 and 1, got ${predictionNumber}`);
        }
        if (probabilities) {
          const given = probabilities[c.positive]!;
          if (Math.abs(given - predictionNumber) > SUM_SLACK) {
            return fieldError(
              `${where}.prediction`,
              `must equal the probability of ${quoted(positiveName)} in probabilities (${given}), or be left out`,
            );
          }
        } else {
          probabilities = c.positive === 0 ? [predictionNumber, 1 - predictionNumber] : [1 - predictionNumber, predictionNumber];
        }
      } else if (!probabilities) {
        return fieldError(
          `${where}.probabilities`,
          `is required: give probabilities, one per class (${c.classList}), or prediction, the probability of ${quoted(positiveName)}`,
        );
      }
      prediction = probabilities[c.positive]!;
      predictedLabel = prediction >= c.threshold ? positiveName : c.classes[1 - c.positive]!;
    } else {
      const values = probabilities!;
      let best = 0;
      for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
      predictedLabel = c.classes[best]!;
    }
  }

  // Association id
  let associationId: string | null = null;
  const rawId = item.associationId;
  if (typeof rawId === 'string') {
    if (rawId === '') return fieldError(`${where}.associationId`, 'must not be empty');
    if (rawId.length > MAX_ASSOCIATION_ID_LENGTH) {
      return fieldError(`${where}.associationId`, `must be at most ${MAX_ASSOCIATION_ID_LENGTH} characters`);
    }
    const unstorable = unstorableText(rawId);
    if (unstorable) return fieldError(`${where}.associationId`, unstorable);
    associationId = rawId;
  } else if (typeof rawId === 'number') {
    if (!Number.isSafeInteger(rawId)) return fieldError(`${where}.associationId`, 'must be a string or an integer');
    associationId = String(rawId);
  } else if (rawId !== undefined && rawId !== null) {
    return fieldError(`${where}.associationId`, 'must be a string or an integer');
  }

  // Timestamp
  let timestamp: Date | null = null;
  const rawTimestamp = item.timestamp;
  if (rawTimestamp !== undefined && rawTimestamp !== null) {
    if (typeof rawTimestamp !== 'string') return fieldError(`${where}.timestamp`, TIMESTAMP_MESSAGE);
    if (rawTimestamp.includes('\u0000')) return fieldError(`${where}.timestamp`, UNSTORABLE_NUL);
    timestamp = timestampOf(rawTimestamp);
    if (timestamp === null) return fieldError(`${where}.timestamp`, TIMESTAMP_MESSAGE);
  }

  return { timestamp, features, prediction, probabilities, predictedLabel, associationId };
}

/** Class probabilities in classNames order from a list or an object keyed by class name; checks range and sum. */
function readProbabilities(c: Compiled, raw: unknown, where: string): number[] | FieldError {
  const k = c.classes.length;
  const values = new Array<number>(k);
  if (Array.isArray(raw)) {
    if (raw.length !== k) {
      return fieldError(`${where}.probabilities`, `must have ${k} values, one per class (${c.classList}), got ${raw.length}`);
    }
    for (let i = 0; i < k; i++) {
      const value = checkProbability(raw[i], `${i}`, where);
      if (typeof value !== 'number') return value;
      values[i] = value;
    }
  } else if (isObject(raw)) {
    let seen = 0;
    for (const key in raw) {
      if (!Object.hasOwn(raw, key)) continue;
      const index = c.classIndex.get(key);
      if (index === undefined) {
        return fieldError(`${where}.probabilities.${pathKey(key)}`, `is not a class of this deployment (${c.classList})`);
      }
      const value = checkProbability(raw[key], key, where);
      if (typeof value !== 'number') return value;
      values[index] = value;
      seen++;
    }
    if (seen !== k) {
      for (let i = 0; i < k; i++) {
        if (values[i] === undefined) return fieldError(`${where}.probabilities.${c.classes[i]!}`, 'is required');
      }
    }
  } else {
    return fieldError(
      `${where}.probabilities`,
      `must be a list of ${k} numbers, one per class (${c.classList}), or an object keyed by class name`,
    );
  }
  let sum = 0;
  for (let i = 0; i < k; i++) sum += values[i]!;
  if (!(Math.abs(sum - 1) <= SUM_SLACK)) {
    return fieldError(`${where}.probabilities`, `must sum to 1 (±1e-6), got ${shown(sum)}`);
  }
  return values;
}

function checkProbability(raw: unknown, key: string, where: string): number | FieldError {
  const value = numberOf(raw);
  if (value === undefined) return fieldError(`${where}.probabilities.${key}`, 'is required');
  if (Number.isNaN(value)) return fieldError(`${where}.probabilities.${key}`, gotNumber(raw));
  if (value < 0 || value > 1) return fieldError(`${where}.probabilities.${key}`, `must be between 0 and 1, got ${value}`);
  return value;
}
