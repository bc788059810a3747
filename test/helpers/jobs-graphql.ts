import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatchPredictionJobDocument, type BatchPredictionJobStatus } from '../generated/graphql.js';
import { createDeployment } from './fixtures.js';
import type { Endpoint } from './graphql.js';
import { runOperation } from './graphql.js';
import { type ModelFile, startModelServer as startSharedModelServer } from './model-server.js';
import { sleep } from './time.js';

// What the GraphQL job tests run against: the example model server (test/helpers/model-server.ts),
// a CSV file server for URL intakes, and deployments whose model backend is that server.

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

/** The example model server serving `models` (the shared helper, behind its recording proxy). */
export function startModelServer(models: Record<string, object>): Promise<Running> {
  return startSharedModelServer(models as Record<string, ModelFile>);
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
