import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/db/embedded.js';
import { ROOT } from './processes.js';

// The example model server (examples/model-server) as a child process, behind a recording proxy:
// tests see every request a backend received (to show a refused request never reached it, and that
// the deployment's headers were sent), and compute what its linear models must answer.

const SERVER = path.join(ROOT, 'examples', 'model-server', 'server.mjs');
const READY_LINE = /^model-server listening on (http:\/\/[^ ]+) /m;

export type FeatureValue = number | string | null;

/** One output of a model: `intercept + Σ coefficient · x` (a category adds its own coefficient). */
export interface LinearOutput {
  intercept: number;
  coefficients: Record<string, number | Record<string, number>>;
}

/** A model file of examples/model-server (see its README). */
export interface ModelFile {
  targetType: 'REGRESSION' | 'BINARY' | 'MULTICLASS';
  classNames?: string[];
  features: { name: string; type: 'NUMERIC' | 'CATEGORICAL' }[];
  outputs: Record<string, LinearOutput>;
  behaviour?: { delayMs?: number; failFirst?: number; failStatus?: number; malformed?: boolean };
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

export interface ModelServer {
  /** The proxy's URL: use it as a backend URL (`${url}/mlflow/<model>` for MLflow). */
  url: string;
  /** Every request the proxy forwarded, in arrival order. */
  received: ReceivedRequest[];
  stop(): Promise<void>;
}

function spawnServer(modelsDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [SERVER, '--port', '0', '--models', modelsDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`model server: no ready line within 10 s:\n${output}`)), 10_000);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const match = READY_LINE.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]! });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`model server exited (${code}) before it was ready:\n${output}`));
    });
  });
}

/** Starts the example model server serving `models` (name → file), behind a recording proxy. */
export async function startModelServer(models: Record<string, ModelFile>): Promise<ModelServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'batchlens-models-'));
  for (const [name, model] of Object.entries(models)) writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(model));
  const { child, url: target } = await spawnServer(dir);
  const received: ReceivedRequest[] = [];
  const proxy = http.createServer((req, res) => {
    received.push({ method: req.method!, path: req.url!, headers: req.headers });
    const forward = http.request(new URL(req.url!, target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    async stop() {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A URL where nothing listens (a backend that is down). */
export async function closedPortUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}

function score(output: LinearOutput, row: Record<string, FeatureValue>): number {
  let sum = output.intercept;
  for (const [name, coefficient] of Object.entries(output.coefficients)) {
    const value = row[name];
    if (typeof coefficient === 'number') sum += typeof value === 'number' ? coefficient * value : 0;
    else if (typeof value === 'string') sum += coefficient[value] ?? 0;
  }
  return sum;
}

/** What the model answers for a row: regression the value; classification one probability per class (classNames order). */
export function modelAnswer(model: ModelFile, row: Record<string, FeatureValue>): number[] {
  if (model.targetType === 'REGRESSION') return [score(Object.values(model.outputs)[0]!, row)];
  const classes = model.classNames!;
  if (model.targetType === 'BINARY') {
    const p = 1 / (1 + Math.exp(-score(model.outputs[classes[1]!]!, row)));
    return [1 - p, p];
  }
  const scores = classes.map((name) => score(model.outputs[name]!, row));
  const top = Math.max(...scores);
  const exps = scores.map((s) => Math.exp(s - top));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}
