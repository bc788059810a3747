import type { PredictionRowInput } from '../generated/graphql.js';
import type { ColumnStats } from './db.js';
import { random } from './random.js';

// Prediction rows for the ingest routes, generated deterministically from a seed, and what the
// database must hold for them. The REST generators (regressionRows, binaryRows, multiclassRows) use
// multiples of powers of two, exact in binary floating point, so sums over their rows are exact and
// compare with toEqual; the others are rounded decimals, compared with toBeCloseTo.

export type FeatureValue = number | string | null;
export type Target = 'regression' | 'binary' | 'multiclass';

export interface Row {
  features: Record<string, FeatureValue>;
  prediction?: number;
  probabilities?: number[] | Record<string, number>;
  associationId?: string;
  timestamp?: string;
}

export const NDJSON = 'application/x-ndjson';
export const CSV = 'text/csv';

const BASE_TIME = Date.UTC(2026, 2, 1);
/** City names, one with a comma and quotes (CSV quoting). */
export const CITIES = ['Paris', 'Oslo', 'São Paulo, "SP"', 'Lima'];
/** The classes of the multiclass deployment these rows are for. */
export const CLASSES = ['cat', 'dog', 'fox'];

function features(next: () => number, i: number, cities = CITIES): Record<string, FeatureValue> {
  return {
    age: i % 7 === 3 ? null : Math.floor(next() * 400) / 4,
    city: i % 5 === 4 ? null : cities[Math.floor(next() * cities.length)]!,
  };
}

function timestampOf(next: () => number): string {
  return new Date(BASE_TIME + Math.floor(next() * 86_400) * 1000).toISOString();
}

/** Regression rows (features age, city) on 2026-03-01, with association ids `${idPrefix}${i}` if given. */
export function regressionRows(n: number, seed: number, idPrefix: string | null = null, cities = CITIES): Row[] {
  const next = random(seed);
  return Array.from({ length: n }, (_, i) => ({
    features: features(next, i, cities),
    prediction: Math.floor(next() * 8000 - 2000) / 8,
    ...(idPrefix === null ? {} : { associationId: `${idPrefix}${i}` }),
    timestamp: timestampOf(next),
  }));
}

/** Binary (classes no / yes, positive yes): p(yes) in 1/1024 steps, given as prediction, list or object. */
export function binaryRows(n: number, seed: number): Row[] {
  const next = random(seed);
  return Array.from({ length: n }, (_, i) => {
    const p = Math.floor(next() * 1025) / 1024;
    const target = i % 3 === 0 ? { prediction: p } : i % 3 === 1 ? { probabilities: [1 - p, p] } : { probabilities: { yes: p, no: 1 - p } };
    return { features: features(next, i), ...target, associationId: `b-${seed}-${i}`, timestamp: timestampOf(next) };
  });
}

/** Multiclass (CLASSES): probabilities in 1/64 steps, as a list or keyed by class. */
export function multiclassRows(n: number, seed: number): Row[] {
  const next = random(seed);
  return Array.from({ length: n }, (_, i) => {
    const a = Math.floor(next() * 65);
    const b = Math.floor(next() * (65 - a));
    const values = [a / 64, b / 64, (64 - a - b) / 64];
    const probabilities = i % 2 ? values : { cat: values[0]!, dog: values[1]!, fox: values[2]! };
    return { features: features(next, i), probabilities, associationId: `m-${seed}-${i}`, timestamp: timestampOf(next) };
  });
}

/** Rows one minute apart from 2026-01-01, some ages missing, association ids r-<seed>-<i> (GraphQL input). */
export function minuteRows(n: number, seed = 1): PredictionRowInput[] {
  const next = random(seed);
  return Array.from({ length: n }, (_, i) => ({
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
    features: { age: i % 7 === 0 ? null : Math.round(next() * 800) / 10, city: ['Paris', 'Oslo', 'Lima'][i % 3] },
    prediction: Math.round(next() * 10_000) / 100,
    associationId: `r-${seed}-${i}`,
  }));
}

/** Rows one second apart from 2026-01-01 00:00:`offset`, prediction i: for following a batch's counters live. */
export function secondRows(n: number, offset = 0): PredictionRowInput[] {
  return Array.from({ length: n }, (_, i) => ({
    features: { age: i % 90 },
    prediction: i,
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, offset + i)).toISOString(),
  }));
}

export interface ScoredRow {
  features: { age: number | null; city: string | null };
  prediction: number;
  associationId: string;
}

/** Rows of batch number `batch` (seeded by it); `shift` moves ages and predictions up and narrows cities, to drift. */
export function scoredRows(batch: number, n: number, shift = 0): ScoredRow[] {
  const next = random(1000 + batch);
  return Array.from({ length: n }, (_, i) => ({
    features: {
      age: i % 9 === 0 ? null : Math.round((next() * 60 + 20 + shift) * 10) / 10,
      city: ['Oslo', 'Lima', 'Pune', 'Kyiv'][Math.floor(next() * (shift ? 2 : 4))]!,
    },
    prediction: Math.round((next() * 100 + shift) * 100) / 100,
    associationId: `b${batch}-r${i}`,
  }));
}

/** `count` NDJSON rows (from row `offset`, one millisecond apart from 2026-02-01) in chunks of 10,000 rows, made as they are sent. */
export async function* ndjsonChunks(count: number, offset = 0): AsyncGenerator<string> {
  const base = Date.UTC(2026, 1, 1);
  for (let sent = 0; sent < count; ) {
    const n = Math.min(10_000, count - sent);
    let chunk = '';
    for (let i = sent; i < sent + n; i++) {
      const row = offset + i;
      chunk += `{"features":{"age":${row % 90},"city":"c${row % 7}"},"prediction":${(row % 1000) / 10},"timestamp":"${new Date(base + row).toISOString()}"}\n`;
    }
    sent += n;
    yield chunk;
  }
}

export const ndjson = (rows: Row[]) => `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`;

function csvCell(value: FeatureValue | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** CSV with header age, city, then the target columns, associationId, timestamp. */
export function csv(rows: Row[], target: Target): string {
  const targetColumns = target === 'regression' ? ['prediction'] : target === 'binary' ? ['no', 'yes'] : CLASSES;
  const lines = [['age', 'city', ...targetColumns, 'associationId', 'timestamp'].join(',')];
  for (const row of rows) {
    const values = target === 'regression' ? [row.prediction!] : probabilityList(row, target === 'binary' ? ['no', 'yes'] : CLASSES);
    lines.push(
      [
        csvCell(row.features.age),
        csvCell(row.features.city),
        ...values.map(csvCell),
        csvCell(row.associationId),
        csvCell(row.timestamp),
      ].join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

function probabilityList(row: Row, classes: string[]): number[] {
  if (row.probabilities === undefined) return [1 - row.prediction!, row.prediction!];
  if (Array.isArray(row.probabilities)) return row.probabilities;
  const keyed = row.probabilities;
  return classes.map((name) => keyed[name]!);
}

/** What a stored row must show through the prediction_rows view (see storedPredictions). */
export function storedRow(row: Row, target: Target, modelId: string) {
  let prediction: number | null = null;
  let probabilities: number[] | null = null;
  let predictedLabel: string | null = null;
  if (target === 'regression') prediction = row.prediction!;
  else if (target === 'binary') {
    probabilities = probabilityList(row, ['no', 'yes']);
    prediction = probabilities[1]!;
    predictedLabel = prediction >= 0.5 ? 'yes' : 'no';
  } else {
    probabilities = probabilityList(row, CLASSES);
    let best = 0;
    for (let i = 1; i < probabilities.length; i++) if (probabilities[i]! > probabilities[best]!) best = i;
    predictedLabel = CLASSES[best]!;
  }
  return {
    model_id: modelId,
    timestamp: new Date(row.timestamp!),
    features: { age: row.features.age ?? null, city: row.features.city ?? null },
    prediction,
    probabilities,
    predicted_label: predictedLabel,
    association_id: row.associationId ?? null,
  };
}

/** batch_column_stats as the raw rows say they must be (features, then the prediction column). */
export function expectedColumnStats(rows: Row[], target: Target, modelId: string): ColumnStats[] {
  const numeric = (values: FeatureValue[]) => {
    const present = values.filter((v): v is number => typeof v === 'number');
    return {
      row_count: values.length,
      missing_count: values.length - present.length,
      sum: present.reduce((a, b) => a + b, 0),
      sum_of_squares: present.reduce((a, b) => a + b * b, 0),
    };
  };
  const ages = rows.map((r) => r.features.age ?? null);
  const cities = rows.map((r) => r.features.city ?? null);
  const predictions = rows.map((r) => storedRow(r, target, modelId));
  return [
    { column_name: 'age', is_prediction: false, model_id: modelId, ...numeric(ages) },
    {
      column_name: 'city',
      is_prediction: false,
      model_id: modelId,
      row_count: rows.length,
      missing_count: cities.filter((c) => c === null).length,
      sum: 0,
      sum_of_squares: 0,
    },
    {
      column_name: '',
      is_prediction: true,
      model_id: modelId,
      ...(target === 'multiclass'
        ? { row_count: rows.length, missing_count: 0, sum: 0, sum_of_squares: 0 }
        : numeric(predictions.map((p) => p.prediction))),
    },
  ];
}

/** The earliest and latest timestamp of the rows. */
export function timeRange(rows: Row[]) {
  const times = rows.map((r) => Date.parse(r.timestamp!));
  return { earliest: new Date(Math.min(...times)), latest: new Date(Math.max(...times)) };
}
