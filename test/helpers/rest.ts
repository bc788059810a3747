import http from 'node:http';
import { expect } from 'vitest';
import { deploymentSnapshot } from './db.js';
import { createBatch, createDeployment } from './fixtures.js';
import type { Endpoint } from './graphql.js';
import { NDJSON, ndjson, regressionRows } from './ingest-data.js';
import { parseBody, type RestAnswer, type RestBatch, type TestServer } from './server.js';

// The DataRobot-compatible REST API: its routes, and requests to them over node:http.

const api = (deploymentId: string) => `/api/v2/deployments/${deploymentId}`;
export const batchesPath = (deploymentId: string) => `${api(deploymentId)}/monitoringBatches/`;
export const batchPath = (deploymentId: string, batchId: string) => `${batchesPath(deploymentId)}${batchId}/`;
export const limitsPath = (deploymentId: string) => `${api(deploymentId)}/monitoringBatchLimits/`;
export const settingsPath = (deploymentId: string) => `${api(deploymentId)}/settings/`;
/** The agent's routes: rows (batch id in the body or the header), request statistics, actuals. */
export const inputsPath = (deploymentId: string) => `${api(deploymentId)}/predictionInputs/fromJSON/`;
export const requestsPath = (deploymentId: string) => `${api(deploymentId)}/predictionRequests/fromJSON/`;
export const actualsPath = (deploymentId: string) => `${api(deploymentId)}/actuals/fromJSON/`;
/** The streamed bulk upload (NDJSON or CSV) into one batch. */
export const bulkPath = (deploymentId: string, batchId: string, query = '') => `${batchesPath(deploymentId)}${batchId}/predictions${query}`;

export const BATCH_HEADER = 'X-DataRobot-Model-Monitoring-Batch-Id';
export const LOCKED_MESSAGE = 'Monitoring batch is locked and accepts no new predictions';

type Body = string | Buffer | AsyncIterable<string | Buffer>;

export interface PostOptions {
  /** Default NDJSON; null: no Content-Type header at all. */
  contentType?: string | null;
  /** Default the server admin's; null: no Authorization header. */
  token?: string | null;
  headers?: Record<string, string>;
  /** Declared length of a streamed body (otherwise it is sent chunked). */
  contentLength?: number;
  /**
   * When the server answers before the body is complete: stop sending and close the connection
   * (a client giving up). By default the rest of the body is still sent, as most clients do.
   */
  hangUp?: boolean;
}

/**
 * A POST over node:http, so nothing is added behind our back (fetch sets a Content-Type for string
 * bodies). A streamed body is written chunk by chunk with backpressure. Resolves once the answer
 * is read and the body is sent (or, with hangUp, as soon as the answer is read).
 */
export function post(target: Endpoint, path: string, body: Body, options: PostOptions = {}): Promise<RestAnswer & { sentBytes: number }> {
  const token = options.token === undefined ? target.adminToken : options.token;
  const headers: Record<string, string | number> = { ...options.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.contentType !== null) headers['content-type'] = options.contentType ?? NDJSON;
  const fixed = typeof body === 'string' || Buffer.isBuffer(body);
  if (fixed) headers['content-length'] = Buffer.byteLength(body);
  else if (options.contentLength !== undefined) headers['content-length'] = options.contentLength;
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, target.url), { method: 'POST', headers, agent: false });
    let sentBytes = 0;
    let answered = false;
    let sending: Promise<void> = Promise.resolve();
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const json = parseBody(Buffer.concat(chunks).toString('utf8'));
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        const answer = { status: res.statusCode!, headers: responseHeaders, json, sentBytes };
        if (options.hangUp) {
          req.destroy();
          resolve(answer);
        } else void sending.then(() => resolve({ ...answer, sentBytes }));
      });
    });
    // Once answered, a connection cut while we were still sending is the server's right.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    if (fixed) {
      sentBytes = Buffer.byteLength(body);
      req.end(body);
      return;
    }
    sending = (async () => {
      for await (const chunk of body) {
        if (req.destroyed || (answered && options.hangUp)) return;
        sentBytes += Buffer.byteLength(chunk);
        if (!req.write(chunk)) {
          await new Promise<void>((done) => {
            const finish = () => {
              req.off('drain', finish);
              req.off('close', finish);
              done();
            };
            req.on('drain', finish);
            req.on('close', finish);
          });
        }
      }
      if (!req.destroyed) req.end();
    })().catch((error: unknown) => {
      if (!answered) reject(error);
    });
  });
}

/** A POST of a JSON body (the fromJSON routes). */
export const postJson = (target: Endpoint, path: string, body: unknown, options: PostOptions = {}) =>
  post(target, path, JSON.stringify(body), { contentType: 'application/json', ...options });

/** PATCH {isLocked: true} over REST. */
export function lockBatch(server: TestServer, deploymentId: string, batchId: string, token = server.adminToken) {
  return server.rest('PATCH', batchPath(deploymentId, batchId), { token, body: { isLocked: true } });
}

/** One request of each ingest route that names a batch (both bulk formats), ready to send. */
export function everyIngestRoute(server: TestServer, deploymentId: string, batchId: string, token: string | null = server.adminToken) {
  const row = { features: { age: 1, city: 'Oslo' }, prediction: 1 };
  return {
    inputsBody: () => postJson(server, inputsPath(deploymentId), { batchId, data: [row] }, { token }),
    inputsHeader: () => postJson(server, inputsPath(deploymentId), { data: [row] }, { token, headers: { [BATCH_HEADER]: batchId } }),
    requests: () => postJson(server, requestsPath(deploymentId), { batchId, numPredictions: 1 }, { token }),
    requestsHeader: () =>
      postJson(server, requestsPath(deploymentId), { numPredictions: 1 }, { token, headers: { [BATCH_HEADER]: batchId } }),
    bulkNdjson: () => post(server, bulkPath(deploymentId, batchId), ndjson([row]), { token }),
    bulkCsv: () => post(server, bulkPath(deploymentId, batchId), 'age,city,prediction\n1,Oslo,1\n', { token, contentType: 'text/csv' }),
  };
}

/** Sends the requests one after the other; their statuses and bodies by name. */
export async function answersOf(routes: Record<string, () => Promise<RestAnswer>>) {
  const out: Record<string, { status: number; json: unknown }> = {};
  for (const [name, send] of Object.entries(routes)) {
    const { status, json } = await send();
    out[name] = { status, json };
  }
  return out;
}

/** POST /monitoringBatches/ with a JSON body. */
export function postBatch(server: TestServer, deploymentId: string, token: string, body: unknown): Promise<RestAnswer> {
  return server.rest('POST', batchesPath(deploymentId), { token, body });
}

/** Creates a batch over REST (asserting the 201) and returns its JSON. */
export async function createRestBatch(server: TestServer, deploymentId: string, token: string, body: Record<string, unknown>) {
  const answer = await postBatch(server, deploymentId, token, body);
  expect(answer.status, JSON.stringify(answer.json)).toBe(201);
  return answer.json as RestBatch;
}

/** `used` of GET /monitoringBatchLimits/ (asserting the 200). */
export async function quotaUsed(server: TestServer, deploymentId: string, token: string): Promise<number> {
  const answer = await server.rest('GET', limitsPath(deploymentId), { token });
  expect(answer.status).toBe(200);
  return answer.json.used!;
}

/**
 * A new batch that already holds 10 predictions (association ids seed-0 … seed-9), and a snapshot
 * of its deployment: for tests that show a refused upload changed nothing ("unchanged" then means
 * more than "empty").
 */
export async function seededBatch(server: TestServer) {
  const deployment = await createDeployment(server);
  const batch = await createBatch(server, deployment.id);
  const seeded = await post(server, bulkPath(deployment.id, batch.id, '?executionTimeMs=5'), ndjson(regressionRows(10, 31, 'seed-')));
  expect(seeded.status).toBe(200);
  return { deployment, batch, before: await deploymentSnapshot(server, deployment.id) };
}

/** The request a `next` / `previous` link of a REST list names, relative to the server. */
export function relativeLink(server: TestServer, link: string): string {
  expect(link.startsWith(server.url)).toBe(true);
  const url = new URL(link);
  return `${url.pathname}${url.search}`;
}
