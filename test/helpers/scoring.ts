import { expect } from 'vitest';
import type { CreateDeploymentInput, ModelBackendProtocol } from '../generated/graphql.js';
import { createDeployment } from './fixtures.js';
import type { Endpoint } from './graphql.js';
import type { FeatureValue, LinearOutput, ModelFile, ModelServer } from './model-server.js';
import { modelAnswer } from './model-server.js';
import { type PostOptions, post } from './rest.js';

// Real-time scoring: the models the example model server serves in these tests, deployments that
// match them, and requests to the prediction route.

export const FEATURES: ModelFile['features'] = [
  { name: 'a', type: 'NUMERIC' },
  { name: 'b', type: 'NUMERIC' },
  { name: 'c', type: 'CATEGORICAL' },
];

const REGRESSION: LinearOutput = { intercept: 1.5, coefficients: { a: 2, b: -0.5, c: { red: 3, blue: -1 } } };
const regression = (behaviour?: ModelFile['behaviour']): ModelFile => ({
  targetType: 'REGRESSION',
  features: FEATURES,
  outputs: { value: REGRESSION },
  ...(behaviour ? { behaviour } : {}),
});

/** Served by every test's model server; `slow`, `failing` and `malformed` play a bad backend. */
export const MODELS = {
  reg: regression(),
  bin: {
    targetType: 'BINARY',
    classNames: ['no', 'yes'],
    features: FEATURES,
    outputs: { yes: { intercept: -0.3, coefficients: { a: 0.7, c: { red: 1.1 } } } },
  },
  multi: {
    targetType: 'MULTICLASS',
    classNames: ['x', 'y', 'z'],
    features: FEATURES,
    outputs: {
      x: { intercept: 0.2, coefficients: { a: 1, b: 0.1 } },
      y: { intercept: 0, coefficients: { a: -0.5, c: { blue: 2 } } },
      z: { intercept: -1, coefficients: { b: 0.3, c: { red: 0.5, green: -0.5 } } },
    },
  },
  slow: regression({ delayMs: 1000 }),
  failing: regression({ failFirst: 1_000_000, failStatus: 503 }),
  malformed: regression({ malformed: true }),
} satisfies Record<string, ModelFile>;

export type ModelName = keyof typeof MODELS;

/** The deployment input that matches a model (target, classes, features a, b, c). */
function targetOf(model: ModelName): Partial<CreateDeploymentInput> {
  const file: ModelFile = MODELS[model];
  if (file.targetType === 'BINARY') return { targetType: 'BINARY', targetName: 'churn', classNames: file.classNames, positiveClass: 'yes' };
  if (file.targetType === 'MULTICLASS') return { targetType: 'MULTICLASS', targetName: 'kind', classNames: file.classNames };
  return { targetType: 'REGRESSION', targetName: 'price' };
}

/** The backend setting for `model` on `server` over `protocol` (MLflow serves each model under /mlflow/<name>). */
export function backendFor(server: ModelServer | string, model: string, protocol: ModelBackendProtocol = 'OPEN_INFERENCE_V2') {
  const url = typeof server === 'string' ? server : server.url;
  return protocol === 'MLFLOW' ? { protocol, url: `${url}/mlflow/${model}` } : { protocol, url, modelName: model };
}

/** A batch-enabled deployment whose backend is `model` (features a, b, c; its target), created by the server admin unless `token`. */
export function createScoredDeployment(
  endpoint: Endpoint,
  models: ModelServer | string,
  model: ModelName,
  options: { protocol?: ModelBackendProtocol; token?: string; input?: Partial<CreateDeploymentInput> } = {},
) {
  return createDeployment(endpoint, options.token, {
    ...targetOf(model),
    features: FEATURES.map((f) => ({ name: f.name, type: f.type })),
    modelBackend: backendFor(models, model, options.protocol),
    ...options.input,
  });
}

export const predictPath = (deploymentId: string, query = '', base: 'predApi' | 'api' = 'predApi') =>
  `${base === 'predApi' ? '/predApi/v1.0' : '/api/v2'}/deployments/${deploymentId}/predictions${query}`;

/** POST rows to the real-time route: JSON records (an array) or CSV text. */
export function predict(
  endpoint: Endpoint,
  deploymentId: string,
  rows: unknown[] | string,
  options: PostOptions & { query?: string } = {},
) {
  const csv = typeof rows === 'string';
  return post(endpoint, predictPath(deploymentId, options.query), csv ? rows : JSON.stringify(rows), {
    contentType: csv ? 'text/csv' : 'application/json',
    ...options,
  });
}

export interface PredictionJson {
  rowId: number;
  prediction: number | string;
  predictionValues: { label: string; value: number }[];
  predictionThreshold?: number;
  passthroughValues?: Record<string, unknown>;
}

/** The rows the tests score: a missing value, an unknown category, a column that is no feature. */
export const ROWS: Record<string, FeatureValue>[] = [
  { id: 'r1', a: 1, b: 2, c: 'red' },
  { id: 'r2', a: -3.5, b: null, c: 'blue' },
  { id: 'r3', a: 0.25, b: 4, c: 'green' },
];
export const ROWS_CSV = 'id,a,b,c\nr1,1,2,red\nr2,-3.5,,blue\nr3,0.25,4,green\n';

/** Checks a route's `data` against the model's formula, row by row, in input order. */
export function expectModelAnswers(data: PredictionJson[], model: ModelName, rows: Record<string, FeatureValue>[] = ROWS): void {
  const file: ModelFile = MODELS[model];
  expect(data.map((row) => row.rowId)).toEqual(rows.map((_, i) => i));
  rows.forEach((row, i) => {
    const got = data[i]!;
    const expected = modelAnswer(file, row);
    if (file.targetType === 'REGRESSION') {
      expect(got.predictionValues).toEqual([{ label: 'price', value: expect.closeTo(expected[0]!, 9) }]);
      expect(got.prediction).toBeCloseTo(expected[0]!, 9);
      expect(got).not.toHaveProperty('predictionThreshold');
      return;
    }
    const classes = file.classNames!;
    expect(got.predictionValues).toEqual(classes.map((label, k) => ({ label, value: expect.closeTo(expected[k]!, 9) })));
    if (file.targetType === 'BINARY') {
      expect(got.predictionThreshold).toBe(0.5);
      expect(got.prediction).toBe(expected[1]! >= 0.5 ? 'yes' : 'no');
    } else {
      expect(got).not.toHaveProperty('predictionThreshold');
      expect(got.prediction).toBe(classes[expected.indexOf(Math.max(...expected))]);
    }
  });
}
