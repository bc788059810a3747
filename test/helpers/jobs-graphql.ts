import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BatchPredictionJobDocument, type BatchPredictionJobStatus } from '../generated/graphql.js';
import { createDeployment } from './fixtures.js';
import type { Endpoint } from './graphql.js';
import { runOperation } from './graphql.js';
import { ROOT } from './processes.js';
import { sleep } from './time.js';

// What the GraphQL job tests run against: the example model server as a child process (a minimal
// start; test/helpers/model-server.ts of the real-time tests does more), a CSV file server for URL
// intakes, and deployments whose model backend is that server.

const MODEL_SERVER = path.join(ROOT, 'examples', 'model-server', 'server.mjs');
const READY_LINE = /^model-server listening on (http:\/\/[^ ]+) /m;

/** A linear regression over the fixtures' deployment features (age, city): price = 1000 + 10·age + city. */
export const PRICE_MODEL = {
  targetType: 'REGRESSION',
  features: [
    { name: 'age', type: 'NUMERIC' },
    { name: 'city', type: 'CATEGORICAL' },
  ],
  outputs: { price: { intercept: 1000, coefficients: { age: 10, city: { paris: 500, lyon: 200 } } } },
};

export interface Running {
  url: string;
  stop(): Promise<void>;
}

/** `node examples/model-server/server.mjs --port 0` serving `models` (name → model file); resolves at its ready line. */
export async function startModelServer(models: Record<string, object>): Promise<Running> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'batchlens-job-models-'));
  for (const [name, model] of Object.entries(models)) writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(model));
  const child: ChildProcess = spawn(process.execPath, [MODEL_SERVER, '--port', '0', '--models', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`model server: no ready line within 10 s:\n${output}`)), 10_000);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const match = READY_LINE.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`model server exited (${code}) before it was ready:\n${output}`));
    });
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `rows` input rows for the fixtures' deployment: header `age,city`, then ages 0, 1, … and alternating cities. */
export function inputCsv(rows: number): string {
  let text = 'age,city\n';
  for (let i = 0; i < rows; i++) text += `${i % 90},${i % 2 ? 'paris' : 'lyon'}\n`;
  return text;
}

/** Serves `GET /rows/<n>.csv` (inputCsv(n)); anything else is a 404. */
export async function startCsvServer(): Promise<Running> {
  const server = http.createServer((req, res) => {
    const match = /^\/rows\/([0-9]+)\.csv$/.exec(req.url ?? '');
    if (!match) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/csv' }).end(inputCsv(Number(match[1])));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A fixtures deployment (regression over age and city) scored by model `modelName` of the model server. */
export function createScoredDeployment(server: Endpoint, modelServerUrl: string, modelName: string, token = server.adminToken) {
  return createDeployment(server, token, {
    modelBackend: { protocol: 'OPEN_INFERENCE_V2', url: modelServerUrl, modelName },
  });
}

/** Polls the job (as `token`) until its status is one of `statuses`; returns it. */
export async function jobReaching(
  server: Endpoint,
  id: string,
  statuses: BatchPredictionJobStatus[],
  timeoutMs = 20_000,
  token = server.adminToken,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { batchPredictionJob: job } = await runOperation(server, BatchPredictionJobDocument, { id }, token);
    if (job && statuses.includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} did not reach ${statuses.join('/')} in ${timeoutMs} ms: ${JSON.stringify(job)}`);
    await sleep(50);
  }
}
