// The example model server (examples/model-server/server.mjs) as a real child process, over HTTP:
// both protocols (Open Inference Protocol v2 and MLflow's scoring server) for each target type,
// with the answers checked against the linear-model formulas computed here, bad input, unknown
// models, and the `behaviour` knobs that let tests play a slow, failing or malformed backend.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { ROOT } from '../helpers/processes.js';

const SERVER = path.join(ROOT, 'examples', 'model-server', 'server.mjs');
const READY_LINE = /^model-server listening on (http:\/\/[^ ]+) \(models: ([^)]*)\)$/m;

interface Started {
  child: ChildProcess;
  url: string;
  models: string[];
}

const children: ChildProcess[] = [];

/** Spawns `node server.mjs ...args` and resolves with its URL once it prints the ready line. */
function startServer(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, [SERVER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within 10 s:\n${stdout}\n${stderr}`)), 10_000);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = READY_LINE.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, models: match[2]!.split(', ') });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before it was ready:\n${stdout}\n${stderr}`));
    });
  });
}

/** Runs the server to its exit (for start-up failures). */
function runToExit(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [SERVER, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

/** The answer bodies these tests read: v2 metadata, inference and errors, MLflow predictions and errors. */
interface Answer {
  name?: string;
  platform?: string;
  inputs?: { name: string; datatype: string; shape: number[] }[];
  model_name?: string;
  id?: string;
  outputs?: { name: string; datatype: string; shape: number[]; data: unknown[] }[];
  error?: string;
  predictions?: unknown[];
  error_code?: string;
  message?: string;
}

async function call(
  url: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; text: string; json: Answer }> {
  const init: RequestInit =
    body === undefined
      ? {}
      : { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': contentType } };
  const response = await fetch(url, init);
  const text = await response.text();
  let json: Answer = {};
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON (an empty health answer, MLflow's text/plain 415)
  }
  return { status: response.status, text, json };
}

// --- the models, and the formulas they stand for ---------------------------------------------

type Value = number | string | null;
type Row = Record<string, Value>;

const FEATURES = [
  { name: 'a', type: 'NUMERIC' },
  { name: 'b', type: 'NUMERIC' },
  { name: 'c', type: 'CATEGORICAL' },
] as const;

interface Linear {
  intercept: number;
  coefficients: { a?: number; b?: number; c?: Record<string, number> };
}

const REG_OUTPUT: Linear = { intercept: 1.5, coefficients: { a: 2, b: -0.5, c: { red: 3, blue: -1 } } };
const BIN_OUTPUT: Linear = { intercept: -0.3, coefficients: { a: 0.7, c: { red: 1.1 } } };
const MULTI_OUTPUTS: Record<string, Linear> = {
  x: { intercept: 0.2, coefficients: { a: 1, b: 0.1 } },
  y: { intercept: 0, coefficients: { a: -0.5, c: { blue: 2 } } },
  z: { intercept: -1, coefficients: { b: 0.3, c: { red: 0.5, green: -0.5 } } },
};

const MODELS: Record<string, object> = {
  reg: { targetType: 'REGRESSION', features: FEATURES, outputs: { value: REG_OUTPUT } },
  bin: { targetType: 'BINARY', classNames: ['no', 'yes'], features: FEATURES, outputs: { yes: BIN_OUTPUT } },
  multi: { targetType: 'MULTICLASS', classNames: ['x', 'y', 'z'], features: FEATURES, outputs: MULTI_OUTPUTS },
  slow: { targetType: 'REGRESSION', features: FEATURES, outputs: { value: REG_OUTPUT }, behaviour: { delayMs: 300 } },
  flaky: { targetType: 'REGRESSION', features: FEATURES, outputs: { value: REG_OUTPUT }, behaviour: { failFirst: 2 } },
  broken: {
    targetType: 'BINARY',
    classNames: ['no', 'yes'],
    features: FEATURES,
    outputs: { yes: BIN_OUTPUT },
    behaviour: { malformed: true },
  },
};

/** Missing values, an unknown category, negatives and fractions. */
const ROWS: Row[] = [
  { a: 1, b: 2, c: 'red' },
  { a: null, b: 10, c: 'purple' },
  { a: -3.5, b: null, c: 'blue' },
  { a: 0.25, b: 4, c: null },
];

/** intercept + Σ coef·x; a missing numeric counts 0, a categorical adds its category's coefficient (0 if unknown). */
function linear(output: Linear, row: Row): number {
  let score = output.intercept;
  score += (output.coefficients.a ?? 0) * Number(row.a ?? 0);
  score += (output.coefficients.b ?? 0) * Number(row.b ?? 0);
  if (typeof row.c === 'string') score += output.coefficients.c?.[row.c] ?? 0;
  return score;
}
const regression = (row: Row) => linear(REG_OUTPUT, row);
const binary = (row: Row) => {
  const p = 1 / (1 + Math.exp(-linear(BIN_OUTPUT, row)));
  return [1 - p, p];
};
const multiclass = (row: Row) => {
  const exps = ['x', 'y', 'z'].map((k) => Math.exp(linear(MULTI_OUTPUTS[k]!, row)));
  const sum = exps.reduce((s, e) => s + e, 0);
  return exps.map((e) => e / sum);
};

/** A v2 request: one columnar input per feature, FP64 for numbers, BYTES for categories. */
const v2Request = (rows: Row[], id = 'request-1') => ({
  id,
  inputs: FEATURES.map((f) => ({
    name: f.name,
    shape: [rows.length],
    datatype: f.type === 'NUMERIC' ? 'FP64' : 'BYTES',
    data: rows.map((r) => r[f.name] ?? null),
  })),
});

/** An MLflow request in dataframe_split orientation (columns in another order than the model's). */
const mlflowRequest = (rows: Row[]) => ({
  dataframe_split: { columns: ['c', 'b', 'a'], data: rows.map((r) => [r.c ?? null, r.b ?? null, r.a ?? null]) },
});

function expectClose(actual: unknown, expected: number[]) {
  expect(actual).toHaveLength(expected.length);
  for (const [i, value] of (actual as number[]).entries()) expect(value, `value ${i}`).toBeCloseTo(expected[i]!, 10);
}

// --- the tests ---------------------------------------------------------------------------------

let modelsDir: string;
let server: Started;
let port: number;

beforeAll(async () => {
  modelsDir = mkdtempSync(path.join(os.tmpdir(), 'model-server-test-'));
  for (const [name, model] of Object.entries(MODELS)) writeFileSync(path.join(modelsDir, `${name}.json`), JSON.stringify(model));
  port = await freePort();
  server = await startServer(['--port', String(port), '--models', modelsDir]);
});

afterAll(async () => {
  await Promise.all(
    children.map((child) =>
      child.exitCode === null && child.signalCode === null
        ? new Promise((resolve) => child.once('exit', resolve).kill('SIGTERM'))
        : undefined,
    ),
  );
  if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
});

describe('starting', () => {
  it('prints the ready line with the port it was given and every model, sorted', () => {
    expect(server.url).toBe(`http://127.0.0.1:${port}`);
    expect(server.models).toEqual(['bin', 'broken', 'flaky', 'multi', 'reg', 'slow']);
  });

  it('serves the shipped models on the real port for --port 0, with --mlflow-model at the root', async () => {
    const shipped = await startServer(['--port', '0', '--mlflow-model', 'regression']);
    expect(shipped.url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
    expect(shipped.models).toEqual(['binary', 'binary20', 'multiclass', 'regression', 'seattle-weather']);
    const metadata = await call(`${shipped.url}/v2/models/binary20`);
    expect(metadata.json.inputs!.map((i: { name: string }) => i.name)).toEqual(Array.from({ length: 20 }, (_, j) => `f${j + 1}`));
    expect(metadata.json.outputs).toEqual([{ name: 'predict_proba', datatype: 'FP64', shape: [-1, 2] }]);
    const row = { sqft: 1000, bedrooms: 2, bathrooms: 1, age_years: 10, neighborhood: 'downtown' };
    const answer = await call(`${shipped.url}/invocations`, { dataframe_split: { columns: Object.keys(row), data: [Object.values(row)] } });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ predictions: [50000 + 150 * 1000 + 10000 * 2 + 15000 - 800 * 10 + 120000] });
  });

  it('refuses a bad model file, naming the file and what is wrong', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'model-server-bad-'));
    try {
      writeFileSync(
        path.join(dir, 'bad.json'),
        JSON.stringify({ targetType: 'BINARY', classNames: ['no', 'yes'], features: FEATURES, outputs: {} }),
      );
      const exit = await runToExit(['--port', '0', '--models', dir]);
      expect(exit.code).toBe(2);
      expect(exit.stderr).toContain('bad.json');
      expect(exit.stderr).toContain('positive class "yes"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Open Inference Protocol v2', () => {
  it('answers health and model readiness', async () => {
    expect((await call(`${server.url}/v2/health/live`)).status).toBe(200);
    expect((await call(`${server.url}/v2/health/ready`)).status).toBe(200);
    expect((await call(`${server.url}/v2/models/reg/ready`)).status).toBe(200);
  });

  it('describes each model: inputs by feature type, the output by target type', async () => {
    const inputs = [
      { name: 'a', datatype: 'FP64', shape: [-1] },
      { name: 'b', datatype: 'FP64', shape: [-1] },
      { name: 'c', datatype: 'BYTES', shape: [-1] },
    ];
    const expected = {
      reg: { name: 'predict', datatype: 'FP64', shape: [-1, 1] },
      bin: { name: 'predict_proba', datatype: 'FP64', shape: [-1, 2] },
      multi: { name: 'predict_proba', datatype: 'FP64', shape: [-1, 3] },
    };
    for (const [name, output] of Object.entries(expected)) {
      const { status, json } = await call(`${server.url}/v2/models/${name}`);
      expect(status).toBe(200);
      expect(json).toMatchObject({ name, inputs, outputs: [output] });
      expect(typeof json.platform).toBe('string');
    }
  });

  it('REGRESSION: predict, shape [n, 1], the linear formula', async () => {
    const { status, json } = await call(`${server.url}/v2/models/reg/infer`, v2Request(ROWS, 'reg-1'));
    expect(status).toBe(200);
    expect(json).toMatchObject({ model_name: 'reg', id: 'reg-1' });
    expect(json.outputs).toHaveLength(1);
    expect(json.outputs![0]!).toMatchObject({ name: 'predict', datatype: 'FP64', shape: [ROWS.length, 1] });
    expectClose(json.outputs![0]!.data, ROWS.map(regression));
  });

  it('BINARY: predict_proba, shape [n, 2], [p(no), p(yes)] with p = sigmoid(score)', async () => {
    const { status, json } = await call(`${server.url}/v2/models/bin/infer`, v2Request(ROWS));
    expect(status).toBe(200);
    expect(json.outputs![0]!).toMatchObject({ name: 'predict_proba', datatype: 'FP64', shape: [ROWS.length, 2] });
    expectClose(json.outputs![0]!.data, ROWS.flatMap(binary));
  });

  it('MULTICLASS: predict_proba, shape [n, K], softmax in classNames order', async () => {
    const { status, json } = await call(`${server.url}/v2/models/multi/infer`, v2Request(ROWS));
    expect(status).toBe(200);
    expect(json.outputs![0]!).toMatchObject({ name: 'predict_proba', datatype: 'FP64', shape: [ROWS.length, 3] });
    expectClose(json.outputs![0]!.data, ROWS.flatMap(multiclass));
  });

  it('answers an empty batch, and makes up an id when the request has none', async () => {
    const { id: _, ...request } = v2Request([]);
    const { status, json } = await call(`${server.url}/v2/models/bin/infer`, request);
    expect(status).toBe(200);
    expect(json.id).toEqual(expect.any(String));
    expect(json.outputs![0]!).toMatchObject({ shape: [0, 2], data: [] });
  });

  it('answers 404 {"error"} for an unknown model', async () => {
    for (const url of ['/v2/models/nope', '/v2/models/nope/ready']) {
      const { status, json } = await call(`${server.url}${url}`);
      expect(status).toBe(404);
      expect(json).toEqual({ error: 'Model nope not found' });
    }
    const infer = await call(`${server.url}/v2/models/nope/infer`, v2Request(ROWS));
    expect(infer.status).toBe(404);
    expect(infer.json).toEqual({ error: 'Model nope not found' });
  });

  it('answers 400 {"error"} naming what is wrong with the input', async () => {
    const request = v2Request(ROWS);
    const cases: [body: unknown, message: RegExp][] = [
      ['{"inputs": [', /not valid JSON/],
      [{ id: 'x' }, /inputs/],
      [{ inputs: request.inputs.filter((i) => i.name !== 'b') }, /missing inputs: b/],
      [{ inputs: request.inputs.map((i) => (i.name === 'a' ? { ...i, shape: [ROWS.length, 2] } : i)) }, /input a: shape/],
      [
        { inputs: request.inputs.map((i) => (i.name === 'b' ? { ...i, data: i.data.slice(1) } : i)) },
        /input b: shape \[4\] says 4 values, data has 3/,
      ],
      [
        { inputs: request.inputs.map((i) => (i.name === 'c' ? { ...i, shape: [3], data: i.data.slice(1) } : i)) },
        /input c has 3 rows, input a has 4/,
      ],
      [
        { inputs: request.inputs.map((i) => (i.name === 'a' ? { ...i, data: [1, 'two', 3, 4] } : i)) },
        /input a: data\[1\] is "two", not a number/,
      ],
      [{ inputs: request.inputs.map((i) => (i.name === 'a' ? { ...i, datatype: 'BYTES' } : i)) }, /input a: datatype BYTES/],
    ];
    for (const [body, message] of cases) {
      const { status, json } = await call(`${server.url}/v2/models/reg/infer`, body);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(json.error).toMatch(message);
    }
  });
});

describe('MLflow scoring server', () => {
  it('answers /ping per model and at the root', async () => {
    for (const url of ['/ping', '/mlflow/reg/ping', '/mlflow/multi/ping']) expect((await call(`${server.url}${url}`)).status).toBe(200);
  });

  it('REGRESSION: n numbers', async () => {
    const { status, json } = await call(`${server.url}/mlflow/reg/invocations`, mlflowRequest(ROWS));
    expect(status).toBe(200);
    expectClose(json.predictions, ROWS.map(regression));
  });

  it('BINARY and MULTICLASS: n arrays of probabilities in classNames order', async () => {
    const bin = await call(`${server.url}/mlflow/bin/invocations`, mlflowRequest(ROWS));
    expect(bin.status).toBe(200);
    expect(bin.json.predictions).toHaveLength(ROWS.length);
    for (const [i, row] of ROWS.entries()) expectClose(bin.json.predictions![i], binary(row));
    const multi = await call(`${server.url}/mlflow/multi/invocations`, mlflowRequest(ROWS));
    expect(multi.status).toBe(200);
    for (const [i, row] of ROWS.entries()) expectClose(multi.json.predictions![i], multiclass(row));
  });

  it('serves the first model in alphabetical order at the root /invocations', async () => {
    const { status, json } = await call(`${server.url}/invocations`, mlflowRequest(ROWS));
    expect(status).toBe(200);
    for (const [i, row] of ROWS.entries()) expectClose(json.predictions![i], binary(row));
  });

  it('reads number-like strings in numeric columns as numbers, and dataframe_records', async () => {
    const split = await call(`${server.url}/mlflow/reg/invocations`, {
      dataframe_split: { columns: ['a', 'b', 'c'], data: [['1', ' 2.5 ', 'red']] },
    });
    expect(split.status).toBe(200);
    expectClose(split.json.predictions, [regression({ a: 1, b: 2.5, c: 'red' })]);
    const records = await call(`${server.url}/mlflow/reg/invocations`, { dataframe_records: ROWS });
    expect(records.status).toBe(200);
    expectClose(records.json.predictions, ROWS.map(regression));
  });

  it('answers 404 for an unknown model', async () => {
    const { status, json } = await call(`${server.url}/mlflow/nope/invocations`, mlflowRequest(ROWS));
    expect(status).toBe(404);
    expect(json.message).toBe('Model nope not found');
  });

  it('answers 400 {"error_code": "BAD_REQUEST", "message"} naming what is wrong', async () => {
    const cases: [body: unknown, message: RegExp][] = [
      ['{"dataframe_split": ', /not valid JSON/],
      [{ rows: [] }, /exactly one of the input fields/],
      [{ dataframe_split: { columns: ['a', 'c'], data: [[1, 'red']] } }, /missing inputs \['b'\]/],
      [
        {
          dataframe_split: {
            columns: ['a', 'b', 'c'],
            data: [
              [1, 2, 'red'],
              [1, 2],
            ],
          },
        },
        /data\[1\] has 2 values, but there are 3 columns/,
      ],
      [{ dataframe_split: { columns: ['a', 'b', 'c'], data: [[1, 'lots', 'red']] } }, /column b: row 0 has "lots", not a number/],
    ];
    for (const [body, message] of cases) {
      const { status, json } = await call(`${server.url}/mlflow/reg/invocations`, body);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(json.error_code).toBe('BAD_REQUEST');
      expect(json.message).toMatch(message);
    }
  });

  it('answers 415 to a content type other than JSON, as MLflow does', async () => {
    const { status, text } = await call(`${server.url}/mlflow/reg/invocations`, 'a,b,c\n1,2,red\n', 'text/csv');
    expect(status).toBe(415);
    expect(text).toContain("Got 'text/csv'");
  });
});

describe('behaviour', () => {
  it('delayMs: answers after the delay', async () => {
    const started = performance.now();
    const { status, json } = await call(`${server.url}/v2/models/slow/infer`, v2Request(ROWS));
    expect(status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expectClose(json.outputs![0]!.data, ROWS.map(regression));
  });

  it('failFirst: the first N infer requests (either protocol) fail with failStatus (default 503), then it answers', async () => {
    const first = await call(`${server.url}/v2/models/flaky/infer`, v2Request(ROWS));
    expect(first.status).toBe(503);
    expect(first.json.error).toMatch(/flaky/);
    const second = await call(`${server.url}/mlflow/flaky/invocations`, mlflowRequest(ROWS));
    expect(second.status).toBe(503);
    expect(second.json).toMatchObject({ error_code: 'TEMPORARILY_UNAVAILABLE', message: expect.stringMatching(/flaky/) });
    const third = await call(`${server.url}/v2/models/flaky/infer`, v2Request(ROWS));
    expect(third.status).toBe(200);
    expectClose(third.json.outputs![0]!.data, ROWS.map(regression));
  });

  it('malformed: answers 200 with fewer values than the rows asked for', async () => {
    const v2 = await call(`${server.url}/v2/models/broken/infer`, v2Request(ROWS));
    expect(v2.status).toBe(200);
    expect(v2.json.outputs![0]!.shape).toEqual([ROWS.length, 2]);
    expect(v2.json.outputs![0]!.data.length).toBeLessThan(ROWS.length * 2);
    const mlflow = await call(`${server.url}/mlflow/broken/invocations`, mlflowRequest(ROWS));
    expect(mlflow.status).toBe(200);
    expect(mlflow.json.predictions!.length).toBeLessThan(ROWS.length);
  });
});
