import type { Deployment, ModelBackend } from '../../db/tables.js';
import { ModelBackendError, type Result } from '../../errors.js';
import type { TargetShape } from '../rows/shape.js';

// A deployment's model backend over HTTP (C10): the Open Inference Protocol v2 (KServe, MLServer,
// Triton) and MLflow's scoring server. Features go out as columns, in the deployment's feature
// order; the answer comes back as one number per row (regression) or one probability per class
// per row, ordered as the deployment's classNames (classification). Anything else is a
// ModelBackendError naming the backend and what was wrong. Header values never appear in errors.

/** What the backend said for one row. */
export interface BackendAnswer {
  /** Regression: the value; classification: null. */
  value: number | null;
  /** Classification: one per class, in classNames order; regression: null. */
  probabilities: number[] | null;
}

export type FeatureValue = number | string | null;

/** `OPEN_INFERENCE_V2 http://host/v2/models/m` — how errors and logs name a backend. */
export function describeBackend(backend: ModelBackend): string {
  return backend.protocol === 'OPEN_INFERENCE_V2'
    ? `OPEN_INFERENCE_V2 ${backend.url}/v2/models/${backend.modelName}`
    : `MLFLOW ${backend.url}`;
}

export function backendOf(deployment: Deployment): ModelBackend | ModelBackendError {
  return (
    deployment.modelBackend ??
    new ModelBackendError(
      'NOT_CONFIGURED',
      null,
      `Deployment ${deployment.id} has no model backend; set one with updateDeploymentSettings(modelBackend)`,
    )
  );
}

interface CallOptions {
  /** Aborts the request (a job aborted mid-chunk); a timeout of the backend's timeoutMs applies anyway. */
  signal?: AbortSignal | undefined;
  /** Only the status matters (readiness: MLflow's /ping answers "\n", others "OK"): the answer is null. */
  ignoreBody?: boolean;
}

/** One HTTP request to the backend; the JSON answer, or the failure named. */
async function call(
  backend: ModelBackend,
  method: 'GET' | 'POST',
  path: string,
  body: unknown,
  options: CallOptions = {},
): Promise<Result<unknown>> {
  const name = describeBackend(backend);
  const timeout = AbortSignal.timeout(backend.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  let response: Response;
  try {
    response = await fetch(`${backend.url}${path}`, {
      method,
      headers: { ...backend.headers, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (timeout.aborted) return new ModelBackendError('TIMEOUT', name, `no answer within ${backend.timeoutMs} ms`);
    if (options.signal?.aborted) throw options.signal.reason ?? error;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return new ModelBackendError('UNREACHABLE', name, `could not connect (${cause?.code ?? cause?.message ?? (error as Error).message})`);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    if (timeout.aborted) return new ModelBackendError('TIMEOUT', name, `no answer within ${backend.timeoutMs} ms`);
    if (options.signal?.aborted) throw options.signal.reason ?? error;
    return new ModelBackendError('UNREACHABLE', name, `the connection broke while reading the answer`);
  }
  if (!response.ok) {
    return new ModelBackendError('HTTP_ERROR', name, `${method} ${path} answered ${response.status}: ${errorText(text)}`, response.status);
  }
  if (options.ignoreBody || (method === 'GET' && text === '')) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return new ModelBackendError('MALFORMED_ANSWER', name, `${method} ${path} answered ${response.status} with a body that is not JSON`);
  }
}

/** The backend's own message from an error body, cut short. */
function errorText(text: string): string {
  let message = text;
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown; detail?: unknown };
    const found = body.message ?? body.error ?? body.detail;
    if (typeof found === 'string') message = found;
  } catch {
    // not JSON: the text itself
  }
  message = message.trim() || '(empty body)';
  return message.length > 300 ? `${message.slice(0, 300)}…` : message;
}

const malformed = (backend: ModelBackend, what: string) => new ModelBackendError('MALFORMED_ANSWER', describeBackend(backend), what);

/**
 * Scores rows given as columns: `columns[i]` holds feature i (deployment order) for every row.
 * Answers one BackendAnswer per row, in row order.
 */
export async function score(
  backend: ModelBackend,
  shape: TargetShape,
  columns: FeatureValue[][],
  rowCount: number,
  options: CallOptions = {},
): Promise<Result<BackendAnswer[]>> {
  const classes = shape.targetType === 'REGRESSION' ? 0 : (shape.classNames ?? []).length;
  if (backend.protocol === 'OPEN_INFERENCE_V2') {
    const body = {
      inputs: shape.features.map((feature, i) => ({
        name: feature.name,
        shape: [rowCount],
        datatype: feature.type === 'NUMERIC' ? 'FP64' : 'BYTES',
        data: columns[i],
      })),
    };
    const answer = await call(backend, 'POST', `/v2/models/${encodeURIComponent(backend.modelName ?? '')}/infer`, body, options);
    if (answer instanceof ModelBackendError) return answer;
    return readV2Answer(backend, answer, rowCount, classes);
  }
  const names = shape.features.map((f) => f.name);
  const data: FeatureValue[][] = new Array(rowCount);
  for (let r = 0; r < rowCount; r++) {
    const row: FeatureValue[] = new Array(names.length);
    for (let i = 0; i < names.length; i++) row[i] = columns[i]![r]!;
    data[r] = row;
  }
  const answer = await call(backend, 'POST', '/invocations', { dataframe_split: { columns: names, data } }, options);
  if (answer instanceof ModelBackendError) return answer;
  return readMlflowAnswer(backend, answer, rowCount, classes);
}

function finiteNumbers(values: unknown[]): values is number[] {
  for (const value of values) if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  return true;
}

/** The n × k probabilities as answers; each row must be probabilities (0–1, summing to 1 within 1e-6). */
function probabilityAnswers(backend: ModelBackend, flat: number[], rowCount: number, classes: number): Result<BackendAnswer[]> {
  const answers: BackendAnswer[] = new Array(rowCount);
  for (let r = 0; r < rowCount; r++) {
    const probabilities = flat.slice(r * classes, (r + 1) * classes);
    let sum = 0;
    for (const p of probabilities) {
      if (p < 0 || p > 1) return malformed(backend, `row ${r}: ${p} is not a probability between 0 and 1`);
      sum += p;
    }
    if (Math.abs(sum - 1) > 1e-6) return malformed(backend, `row ${r}: the class probabilities sum to ${sum}, not 1`);
    answers[r] = { value: null, probabilities };
  }
  return answers;
}

function valueAnswers(values: number[]): BackendAnswer[] {
  return values.map((value) => ({ value, probabilities: null }));
}

function readV2Answer(backend: ModelBackend, answer: unknown, rowCount: number, classes: number): Result<BackendAnswer[]> {
  const outputs = (answer as { outputs?: unknown })?.outputs;
  if (!Array.isArray(outputs) || outputs.length === 0) return malformed(backend, 'the answer has no `outputs` list');
  const output = outputs[0] as { name?: unknown; shape?: unknown; data?: unknown };
  const data = output?.data;
  if (!Array.isArray(data) || !finiteNumbers(data)) return malformed(backend, 'outputs[0].data must be a list of finite numbers');
  const width = classes || 1;
  if (data.length !== rowCount * width) {
    return malformed(
      backend,
      `outputs[0] has ${data.length} values; ${rowCount} rows need ${rowCount * width}${classes ? ` (${classes} class probabilities each)` : ''}`,
    );
  }
  const shape = output.shape;
  if (Array.isArray(shape) && shape.length > 0 && Number(shape[0]) !== rowCount) {
    return malformed(backend, `outputs[0].shape is [${shape.join(', ')}]; expected ${rowCount} rows`);
  }
  return classes ? probabilityAnswers(backend, data, rowCount, classes) : valueAnswers(data);
}

function readMlflowAnswer(backend: ModelBackend, answer: unknown, rowCount: number, classes: number): Result<BackendAnswer[]> {
  // MLflow answers {"predictions": [...]}; older servers a bare list.
  const predictions = Array.isArray(answer) ? answer : (answer as { predictions?: unknown })?.predictions;
  if (!Array.isArray(predictions)) return malformed(backend, 'the answer has no `predictions` list');
  if (predictions.length !== rowCount) return malformed(backend, `the answer has ${predictions.length} predictions for ${rowCount} rows`);
  if (!classes) {
    const values = predictions.map((p) => (Array.isArray(p) && p.length === 1 ? p[0] : p));
    if (!finiteNumbers(values)) return malformed(backend, 'a regression prediction must be one finite number per row');
    return valueAnswers(values);
  }
  const flat: number[] = [];
  for (let r = 0; r < rowCount; r++) {
    const row = predictions[r];
    if (!Array.isArray(row) || row.length !== classes || !finiteNumbers(row)) {
      return malformed(backend, `row ${r}: expected a list of ${classes} class probabilities`);
    }
    for (const p of row) flat.push(p);
  }
  return probabilityAnswers(backend, flat, rowCount, classes);
}

/** What a backend check found: ready or not, and for v2 how its metadata compares with the deployment. */
export interface BackendCheck {
  backend: string;
  ready: boolean;
  /** Problems found (missing inputs, wrong output width); empty when all is well. */
  problems: string[];
  latencyMs: number;
}

/** Readiness (`GET /v2/models/{m}/ready` or `GET /ping`) and, for v2, the model's metadata against the deployment's features. */
export async function checkBackend(backend: ModelBackend, shape: TargetShape): Promise<BackendCheck> {
  const started = performance.now();
  const name = describeBackend(backend);
  const problems: string[] = [];
  const model = encodeURIComponent(backend.modelName ?? '');
  const readyPath = backend.protocol === 'OPEN_INFERENCE_V2' ? `/v2/models/${model}/ready` : '/ping';
  const ready = await call(backend, 'GET', readyPath, undefined, { ignoreBody: true });
  if (ready instanceof ModelBackendError) problems.push(ready.message);
  if (backend.protocol === 'OPEN_INFERENCE_V2' && !(ready instanceof ModelBackendError)) {
    const metadata = await call(backend, 'GET', `/v2/models/${model}`, undefined);
    if (metadata instanceof ModelBackendError) problems.push(metadata.message);
    else problems.push(...metadataProblems(metadata, shape));
  }
  return { backend: name, ready: !(ready instanceof ModelBackendError), problems, latencyMs: performance.now() - started };
}

function metadataProblems(metadata: unknown, shape: TargetShape): string[] {
  const problems: string[] = [];
  const inputs = (metadata as { inputs?: unknown })?.inputs;
  if (!Array.isArray(inputs)) return ['the model metadata has no `inputs` list'];
  const declared = new Map(inputs.map((input) => [String((input as { name?: unknown }).name), input as { datatype?: unknown }]));
  for (const feature of shape.features) {
    const input = declared.get(feature.name);
    if (!input) problems.push(`the model has no input for feature "${feature.name}"`);
    else if (feature.type === 'NUMERIC' && input.datatype === 'BYTES')
      problems.push(`input "${feature.name}" takes BYTES but the feature is NUMERIC`);
    else if (feature.type === 'CATEGORICAL' && input.datatype !== 'BYTES') {
      problems.push(`input "${feature.name}" takes ${String(input.datatype)} but the feature is CATEGORICAL (BYTES)`);
    }
  }
  const featureNames = new Set(shape.features.map((f) => f.name));
  for (const name of declared.keys())
    if (!featureNames.has(name)) problems.push(`the model's input "${name}" is not a feature of the deployment`);
  const outputs = (metadata as { outputs?: unknown })?.outputs;
  const classes = shape.targetType === 'REGRESSION' ? 0 : (shape.classNames ?? []).length;
  const outShape = Array.isArray(outputs) ? (outputs[0] as { shape?: unknown })?.shape : undefined;
  if (classes && Array.isArray(outShape) && outShape.length === 2 && Number(outShape[1]) !== classes && Number(outShape[1]) !== -1) {
    problems.push(`the model answers ${String(outShape[1])} values per row; the deployment has ${classes} classes`);
  }
  return problems;
}
