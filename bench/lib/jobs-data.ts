import { CARDINALITIES, FEATURES, type RowFormat } from './predictions-data.js';

/**
 * The model of the job benchmark (bench/jobs.ts) and the shapes its rows take on each path.
 *
 * The model is a REGRESSION model for the 20 features of predictions-data.ts (n0…n14 numeric,
 * c0…c4 categorical), served by the example model server from a JSON file the benchmark writes:
 * prediction = intercept + Σ coefficient · value (numeric; missing adds 0) + the category's
 * coefficient (categorical; missing or unlisted adds 0). The benchmark computes the same sum, in
 * the same order (the model's feature order, as examples/model-server/server.mjs does), so the rows
 * it sends to the bulk route carry exactly the prediction the model server answers for the job.
 *
 * Rows come from PredictionRowSource, whose features are drawn from a pool of 16,384 JSON strings:
 * each distinct string is parsed once (prepare) and its CSV line, prediction and backend input kept.
 */

export const MODEL_NAME = 'bench20';
const INTERCEPT = 100;
/** Categories of each categorical feature with a coefficient (the most frequent ones: values are skewed to the first). */
const CATEGORIES_WITH_COEFFICIENTS = 10;

const numericCoefficient = (i: number) => (i % 2 ? -1 : 1) * (0.02 + 0.015 * i);
const categoryCoefficient = (f: number, k: number) => ((f + k) % 3 === 0 ? -1 : 1) * (0.5 + 0.25 * k);

/** The model file (examples/model-server/README.md, "Model file format"). */
export function benchModelJson(): unknown {
  const coefficients: Record<string, number | Record<string, number>> = {};
  let f = 0;
  FEATURES.forEach((feature, i) => {
    if (feature.type === 'NUMERIC') coefficients[feature.name] = numericCoefficient(i);
    else {
      const categories: Record<string, number> = {};
      for (let k = 0; k < Math.min(CARDINALITIES[f]!, CATEGORIES_WITH_COEFFICIENTS); k++)
        categories[`c${f}_v${k}`] = categoryCoefficient(f, k);
      coefficients[feature.name] = categories;
      f++;
    }
  });
  return { targetType: 'REGRESSION', features: FEATURES, outputs: { value: { intercept: INTERCEPT, coefficients } } };
}

/** One distinct feature vector in the shapes the benchmark sends. */
export interface PreparedRow {
  /** The CSV cells of the job input, FEATURES order, without newline (null → empty cell). */
  csv: string;
  /** What the model answers for it. */
  prediction: number;
  /** Its text in the NDJSON the bulk route takes (String(prediction): what JSON carries back). */
  predictionText: string;
  /** Values in FEATURES order, as batchlens sends them to the backend (numbers, strings, null). */
  values: (number | string | null)[];
}

const numericCoefficients = FEATURES.map((feature, i) => (feature.type === 'NUMERIC' ? numericCoefficient(i) : 0));
const categoryTables = (() => {
  let f = 0;
  return FEATURES.map((feature) => {
    if (feature.type === 'NUMERIC') return null;
    const table = new Map<string, number>();
    for (let k = 0; k < Math.min(CARDINALITIES[f]!, CATEGORIES_WITH_COEFFICIENTS); k++) table.set(`c${f}_v${k}`, categoryCoefficient(f, k));
    f++;
    return table;
  });
})();

/** The model's answer, summed as the example model server sums it (Float64, intercept first, features in order). */
export function predict(values: (number | string | null)[]): number {
  let score = INTERCEPT;
  for (let j = 0; j < FEATURES.length; j++) {
    const value = values[j];
    if (value === null || value === undefined) continue;
    const table = categoryTables[j];
    if (table) {
      const c = table.get(value as string);
      if (c !== undefined) score += c;
    } else score += numericCoefficients[j]! * (value as number);
  }
  return score;
}

const prepared = new Map<string, PreparedRow>();

/** The row for a features JSON string of PredictionRowSource (memoized: the pool has 16,384 of them). */
export function prepare(features: string): PreparedRow {
  let row = prepared.get(features);
  if (row) return row;
  const object = JSON.parse(features) as Record<string, number | string | null>;
  const values = FEATURES.map((feature) => object[feature.name] ?? null);
  const prediction = predict(values);
  row = { csv: values.map((v) => (v === null ? '' : String(v))).join(','), prediction, predictionText: String(prediction), values };
  prepared.set(features, row);
  return row;
}

/** The header line of the job's CSV input. */
export const CSV_HEADER = `${FEATURES.map((f) => f.name).join(',')}\n`;

/** A CSV line of the job input: the features only (the job scores them). */
export const jobCsvFormat: RowFormat = (row, out) => {
  out.write(prepare(row.features).csv);
  out.write('\n');
};

/**
 * The same row for the bulk route, as the job stores it: features and the model's prediction; no
 * association id and no timestamp (the job has neither: both paths store the time of ingest).
 */
export const bulkNdjsonFormat: RowFormat = (row, out) => {
  out.write('{"features":');
  out.write(row.features);
  out.write(',"prediction":');
  out.write(prepare(row.features).predictionText);
  out.write('}\n');
};

/** The Open Inference v2 request batchlens sends for these rows (backend.ts `score`: one input per feature, columnar). */
export function v2InferBody(rows: PreparedRow[]): string {
  return JSON.stringify({
    inputs: FEATURES.map((feature, i) => ({
      name: feature.name,
      shape: [rows.length],
      datatype: feature.type === 'NUMERIC' ? 'FP64' : 'BYTES',
      data: rows.map((row) => row.values[i]),
    })),
  });
}
