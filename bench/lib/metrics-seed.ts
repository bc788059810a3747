import http from 'node:http';
import { createBatch, createDeployment, type FeatureSpec } from './api.js';
import { TargetOutputs, type TargetSpec } from './metrics-targets.js';
import { AsciiChunk, FEATURES, PredictionRowSource } from './predictions-data.js';
import { Prng } from './prng.js';
import { postStream } from './upload.js';

/**
 * Seeds one deployment (REGRESSION, BINARY or MULTICLASS: bench/lib/metrics-targets.ts) for
 * bench/metrics through the public routes only, so every aggregate is written by the one ingest
 * service (ingestPredictions, submitActuals):
 *
 * 1. createDeployment (the first `featureCount` of the 20 features of bench/lib/predictions-data.ts,
 *    with importances);
 * 2. a training baseline of `baselineRows` rows, streamed to POST …/trainingBaseline (set first, so
 *    every batch is binned at ingest and nothing is re-binned later);
 * 3. `batches` batches (createMonitoringBatch), each filled by ONE bulk request
 *    (POST …/monitoringBatches/{id}/predictions, NDJSON, ?executionTimeMs= drawn log-normally);
 *    `concurrency` uploads in flight;
 * 4. actuals for `actualsFraction` of the rows, through POST …/actuals/fromJSON in requests of
 *    10,000 (the route's maximum), each sent after the predictions it names were committed.
 *
 * Rows come from one PredictionRowSource per deployment (each batch a different draw from its
 * pool), so batches differ. The prediction drifts slowly with the batch index (regression: +0…+5
 * over the batches; classification: see metrics-targets.ts), so target drift is not zero.
 */

export interface SeedOptions {
  url: string;
  token: string;
  label: string;
  batches: number;
  rowsPerBatch: number;
  actualsFraction: number;
  baselineRows: number;
  seed: number;
  concurrency: number;
  target: TargetSpec;
  /** The first N features of FEATURES (default all 20). */
  featureCount?: number;
  onProgress?: (line: string) => void;
}

export interface SeededDataset {
  label: string;
  target: TargetSpec;
  deploymentId: string;
  modelId: string;
  /** Oldest first, as created. */
  batchIds: string[];
  rows: number;
  actuals: number;
  requests: number;
  seconds: { baseline: number; predictions: number; actuals: number; total: number };
}

export const ACTUALS_PER_REQUEST = 10_000;
const CHUNK_ROWS = 1000;

/** Importance per feature (what a model's feature impact would give): decreasing with the index. */
export const BENCH_FEATURES: FeatureSpec[] = FEATURES.map(
  (feature, i) => ({ ...feature, importance: Math.round((1 / (1 + i * 0.35)) * 1000) / 1000 }) as FeatureSpec,
);

/** A body of pre-built Buffers, streamed. */
async function* buffers(list: Buffer[]): AsyncGenerator<Buffer> {
  yield* list;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

/**
 * A JSON POST (keep-alive); returns status and parsed body. A request on a reused socket that the
 * server closed meanwhile (its keep-alive timeout, on a busy machine) fails with ECONNRESET before
 * the server saw it: that one is sent again, on a new socket (Node's documented pattern).
 */
export async function postJson(url: string, token: string, body: unknown, attempt = 1): Promise<{ status: number; body: unknown }> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      agent,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': payload.length },
    });
    req.once('error', (error: NodeJS.ErrnoException) => {
      if (req.reusedSocket && error.code === 'ECONNRESET' && attempt === 1) resolve(postJson(url, token, body, 2));
      else reject(error);
    });
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('error', reject);
      res.once('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // keep the text
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.end(payload);
  });
}

export async function seedDataset(options: SeedOptions): Promise<SeededDataset> {
  const log = options.onProgress ?? (() => {});
  const started = performance.now();
  const { url, token } = options;
  const featureCount = options.featureCount ?? FEATURES.length;
  const { target } = options;
  const outputs = new TargetOutputs(target);
  const deployment = await createDeployment(url, token, {
    features: BENCH_FEATURES.slice(0, featureCount),
    targetType: target.type,
    ...(target.classNames ? { classNames: target.classNames } : {}),
    ...(target.positiveClass ? { positiveClass: target.positiveClass } : {}),
    label: `bench metrics ${options.label}`,
  });
  const api = `${url}/api/v2/deployments/${deployment.id}`;

  // --- Training baseline --------------------------------------------------------------------
  const baselineStarted = performance.now();
  {
    const source = new PredictionRowSource(options.seed + 7919, `${options.label}-baseline`, featureCount);
    const chunks: Buffer[] = [];
    const out = new AsciiChunk();
    for (let i = 0; i < options.baselineRows; i++) {
      const row = source.next();
      out.write('{"features":');
      out.write(row.features);
      out.write(',');
      out.write(target.type === 'REGRESSION' ? `"prediction":${row.prediction}` : outputs.output(row.prediction, 0, 1).json);
      out.write('}\n');
      if ((i + 1) % CHUNK_ROWS === 0) chunks.push(out.take());
    }
    if (out.size) chunks.push(out.take());
    const result = await postStream(`${api}/trainingBaseline`, { token, contentType: 'application/x-ndjson', body: buffers(chunks) });
    if (result.status !== 201)
      throw new Error(`training baseline failed: HTTP ${result.status} ${JSON.stringify(result.body).slice(0, 1000)}`);
  }
  const baselineSeconds = (performance.now() - baselineStarted) / 1000;
  log(`${options.label}: training baseline of ${options.baselineRows.toLocaleString('en')} rows set in ${baselineSeconds.toFixed(1)} s`);

  // --- Batches, predictions, actuals ---------------------------------------------------------
  const source = new PredictionRowSource(options.seed, `${options.label}-rows`, featureCount);
  const actualsRng = new Prng(options.seed ^ 0x5bd1e995);
  const timeRng = new Prng(options.seed ^ 0x27d4eb2d);
  const batchIds: string[] = new Array(options.batches);
  const pendingActuals: { associationId: string; actualValue: number | string }[] = [];
  let actualsSent = 0;
  let actualsSeconds = 0;
  let requests = 0;
  let rowsDone = 0;
  let next = 0;
  const predictionsStarted = performance.now();
  let lastLog = predictionsStarted;

  /** Sends full requests of actuals (and, with `all`, the rest). One at a time: they serialize on the deployment anyway. */
  let sending: Promise<void> = Promise.resolve();
  const flushActuals = (all: boolean) => {
    sending = sending.then(async () => {
      while (pendingActuals.length >= ACTUALS_PER_REQUEST || (all && pendingActuals.length > 0)) {
        const data = pendingActuals.splice(0, ACTUALS_PER_REQUEST);
        const t0 = performance.now();
        const result = await postJson(`${api}/actuals/fromJSON`, token, { data });
        actualsSeconds += (performance.now() - t0) / 1000;
        const body = result.body as { acceptedCount?: number; matchedCount?: number };
        if (result.status !== 202 || body.matchedCount !== data.length) {
          throw new Error(`actuals failed: HTTP ${result.status} ${JSON.stringify(result.body).slice(0, 1000)}`);
        }
        actualsSent += data.length;
        requests++;
      }
    });
    return sending;
  };

  const worker = async () => {
    for (;;) {
      const b = next++;
      if (b >= options.batches) return;
      const batch = await createBatch(url, token, deployment.id, `${options.label} batch ${String(b).padStart(5, '0')}`);
      batchIds[b] = batch.id;
      // Built synchronously right after taking the index: batch b always gets the same rows.
      const chunks: Buffer[] = [];
      const out = new AsciiChunk();
      const actuals: { associationId: string; actualValue: number | string }[] = [];
      for (let i = 0; i < options.rowsPerBatch; i++) {
        const row = source.next();
        const output = outputs.output(row.prediction, b, options.batches);
        out.write('{"features":');
        out.write(row.features);
        out.write(',');
        out.write(output.json);
        out.write(',"associationId":"');
        out.write(row.associationId);
        out.write('","timestamp":"');
        out.write(row.timestamp);
        out.write('"}\n');
        if (actualsRng.next() < options.actualsFraction) {
          actuals.push({ associationId: row.associationId, actualValue: outputs.actual(output, actualsRng) });
        }
        if ((i + 1) % CHUNK_ROWS === 0) chunks.push(out.take());
      }
      if (out.size) chunks.push(out.take());
      const executionTimeMs = Math.round(Math.exp(4 + 0.7 * timeRng.normal()) * 100) / 100;
      const result = await postStream(`${api}/monitoringBatches/${batch.id}/predictions?executionTimeMs=${executionTimeMs}`, {
        token,
        contentType: 'application/x-ndjson',
        body: buffers(chunks),
      });
      const body = result.body as { rowCount?: number };
      if (result.status !== 200 || body.rowCount !== options.rowsPerBatch) {
        throw new Error(`bulk upload of batch ${b} failed: HTTP ${result.status} ${JSON.stringify(result.body).slice(0, 1000)}`);
      }
      requests++;
      rowsDone += options.rowsPerBatch;
      pendingActuals.push(...actuals);
      if (pendingActuals.length >= ACTUALS_PER_REQUEST) await flushActuals(false);
      const now = performance.now();
      if (now - lastLog > 15_000) {
        lastLog = now;
        const rate = rowsDone / ((now - predictionsStarted) / 1000);
        log(
          `${options.label}: ${b + 1}/${options.batches} batches, ${rowsDone.toLocaleString('en')} rows (${Math.round(rate).toLocaleString('en')} rows/s incl. actuals), ${actualsSent.toLocaleString('en')} actuals`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  await flushActuals(true);
  const predictionsSeconds = (performance.now() - predictionsStarted) / 1000 - actualsSeconds;
  const total = (performance.now() - started) / 1000;
  log(
    `${options.label}: ${options.batches} batches × ${options.rowsPerBatch.toLocaleString('en')} rows and ${actualsSent.toLocaleString('en')} actuals in ${total.toFixed(1)} s ` +
      `(bulk ≈ ${predictionsSeconds.toFixed(1)} s, actuals ≈ ${actualsSeconds.toFixed(1)} s)`,
  );
  return {
    label: options.label,
    target,
    deploymentId: deployment.id,
    modelId: deployment.modelId,
    batchIds,
    rows: rowsDone,
    actuals: actualsSent,
    requests,
    seconds: { baseline: baselineSeconds, predictions: predictionsSeconds, actuals: actualsSeconds, total },
  };
}
