import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDeployment, createOrganization } from './fixtures.js';
import type { Endpoint } from './graphql.js';
import { type ModelFile, type ModelServer, startModelServer as startModels } from './model-server.js';
import type { RestAnswer, TestServer } from './server.js';
import { sleep } from './time.js';

// Batch prediction job definitions: their REST routes and answers, a deployment scored by the
// example model server, and a CSV served over HTTP for a definition's url intake.

export const DEFINITIONS = '/api/v2/batchPredictionJobDefinitions/';
export const definitionPath = (id: string) => `${DEFINITIONS}${id}/`;
export const FROM_DEFINITION = '/api/v2/batchPredictions/fromJobDefinition/';
export const jobPath = (id: string) => `/api/v2/batchPredictions/${id}/`;
export const MISSING_DEFINITION = 'jobdef_000000000000000000000000';
export const DEFINITION_NOT_FOUND = { message: 'Batch prediction job definition not found' };

/** A definition as the REST routes answer it (DataRobot's names). */
export interface RestDefinition {
  id: string;
  name: string;
  enabled: boolean;
  schedule: Record<string, (number | '*')[]> | null;
  batchPredictionJob: Record<string, unknown> & { deploymentId: string; intakeSettings: { type: string; url?: string } };
  deploymentId: string;
  created: string;
  updated: string;
  createdBy: { userId: string; username: string | null; fullName: string | null };
  updatedBy: { userId: string; username: string | null; fullName: string | null };
  nextScheduledRunTime: string | null;
  lastScheduledRunTime: string | null;
  lastStartedJobStatus: string | null;
  lastStartedJobTime: string | null;
  lastSuccessfulRunTime: string | null;
  lastFailedRunTime: string | null;
}

/** A batch prediction job as REST answers it (the fields these tests read). */
export interface RestJob {
  id: string;
  status: string;
  statusDetails: string;
  scoredRows: number;
  monitoringBatchId: string | null;
  batchPredictionJobDefinition: { id: string } | null;
  source: string;
  links: { csvUpload?: string };
}

export const definitionOf = (answer: RestAnswer) => answer.json as unknown as RestDefinition;
export const jobOf = (answer: RestAnswer) => answer.json as unknown as RestJob;

/** Every schedule field "every value": runs each minute. */
export const EVERY_MINUTE = { minute: ['*'], hour: ['*'], dayOfMonth: ['*'], month: ['*'], dayOfWeek: ['*'] };

/** The features of test/helpers/fixtures createDeployment (regression of price on age and city). */
const PRICE_MODEL: ModelFile = {
  targetType: 'REGRESSION',
  features: [
    { name: 'age', type: 'NUMERIC' },
    { name: 'city', type: 'CATEGORICAL' },
  ],
  outputs: { price: { intercept: 10, coefficients: { age: 2, city: { paris: 5 } } } },
};

export type Backend = Pick<ModelServer, 'url' | 'stop'>;

/** examples/model-server serving the model `price`, which fits createDeployment's deployments. */
export function startModelServer(): Promise<Backend> {
  return startModels({ price: PRICE_MODEL });
}

export interface CsvServer {
  /** URL of the CSV file. */
  url: string;
  /** How many times it was read. */
  reads(): number;
  stop(): Promise<void>;
}

/** A node:http server answering every GET with `csv` (a definition's url intake). */
export async function startCsvServer(csv = 'age,city\n30,paris\n40,lyon\n'): Promise<CsvServer> {
  let reads = 0;
  const server = http.createServer((_req, res) => {
    reads++;
    res.writeHead(200, { 'content-type': 'text/csv' });
    res.end(csv);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/input.csv`,
    reads: () => reads,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A new organization with a batch-enabled deployment scored by `backend` (or none). */
export async function createScoringTenant(server: Endpoint, backend: Backend | null) {
  const org = await createOrganization(server, null);
  const deployment = await createDeployment(
    server,
    org.token,
    backend ? { modelBackend: { protocol: 'OPEN_INFERENCE_V2', url: backend.url, modelName: 'price' } } : {},
  );
  return { ...org, deploymentId: deployment.id };
}

/** DataRobot's request body: job settings at the top level, beside name, enabled and schedule. */
export function definitionBody(deploymentId: string, csvUrl: string | null, extra: Record<string, unknown> = {}) {
  return {
    deploymentId,
    intakeSettings: csvUrl ? { type: 'url', url: csvUrl } : { type: 'localFile' },
    ...extra,
  };
}

/** Polls `read` until `done` says yes (or fails after `timeoutMs`). */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`not reached within ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await sleep(100);
  }
}

/** The jobs of a definition as stored, oldest first. */
export function jobsOfDefinition(server: TestServer, definitionId: string) {
  return server.sql<{ id: string; status: string; status_details: string; created_by_id: string }[]>`
    select id, status, status_details, created_by_id from batch_prediction_jobs where definition_id = ${definitionId} order by created_at, id`;
}

/** Makes a definition due now (as if its next slot had just come), returning the slot set. */
export async function makeDue(server: TestServer, definitionId: string, ago = '1 second'): Promise<Date> {
  const [row] = await server.sql<{ next: Date }[]>`
    update batch_prediction_job_definitions set next_scheduled_run_at = date_trunc('second', now()) - ${ago}::interval
     where id = ${definitionId} returning next_scheduled_run_at as next`;
  return row!.next;
}
