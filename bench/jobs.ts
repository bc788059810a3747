/**
 * Issue 10 benchmark: batch prediction jobs against bulk ingest, the server's memory during a job,
 * and the overhead of real-time scoring over calling the model backend directly.
 *
 *   npx tsx bench/jobs.ts [--rows 1000000] [--repeat 1] [--realtime-requests 2000]
 *                         [--realtime-warmup 200] [--num-concurrent 4] [--quiet-wait 120] [--seed 1]
 *                         [--skip-realtime] [--root DIR]
 *
 * 1. Starts PostgreSQL (DATABASE_URL, or an embedded one in a temporary directory), the example
 *    model server (examples/model-server/server.mjs) as its own process serving a REGRESSION model
 *    of the 20 benchmark features (bench/lib/jobs-data.ts, written to a temporary directory), and
 *    batchlens as its own process (`node --import tsx src/main.ts`). One organization, one REGRESSION deployment with those 20 features and
 *    `modelBackend: {protocol: OPEN_INFERENCE_V2, url, modelName}`.
 * 2. Check: a small job and the same rows through the bulk route store the same rows (features and
 *    prediction), and the job's output file holds the model's prediction for every input row.
 * 3. Throughput, `--repeat` times, alternating job then bulk; before each timed run the
 *    predictions and job chunk tables are truncated, a CHECKPOINT taken, and the machine given up
 *    to --quiet-wait s to go quiet (other processes < 0.25 cores).
 *    - job: `POST /api/v2/batchPredictions/` {deploymentId, numConcurrent, monitoringBatchPrefix},
 *      then the clock starts: `PUT …/{id}/csvUpload/` streams `--rows` rows of CSV generated on the
 *      fly; then `GET …/{id}/` is polled (every 200 ms) until COMPLETED while `GET …/{id}/download/`
 *      streams the output in parallel (started as soon as it stops answering 404), its lines
 *      counted. rows/s = rows / (upload start → COMPLETED seen and download ended). Checked:
 *      scoredRows = rows, no failed row, output lines = rows + header, rows in the job's batch = rows.
 *    - bulk: the same rows (same features, the model's prediction for each) as NDJSON in one
 *      `POST /api/v2/deployments/{id}/monitoringBatches/{batchId}/predictions`, as bench/ingest.ts
 *      sends them; rows/s = rows / (first byte → response).
 *    ratio = best job rows/s ÷ best bulk rows/s (goal ≥ 0.5), from uncontended runs when both kinds
 *    have one.
 * 4. Server RSS: the batchlens process's VmRSS sampled every 100 ms during each job run (upload,
 *    scoring, download); the figure is the highest sample (goal ≤ 300 MB).
 * 5. Real-time overhead: `--realtime-warmup` then `--realtime-requests` sequential 1-row requests of
 *    each kind, interleaved (a, b, c, d; the order rotates each round), each kind on its own keep-alive
 *    connection: (a) the backend directly, `POST {model}/v2/models/{m}/infer` with the body
 *    batchlens sends; (b) batchlens `POST /predApi/v1.0/deployments/{id}/predictions`, a 1-row
 *    JSON body (stored in the deployment's unassigned batch of the day); (c) the same with
 *    `X-DataRobot-Model-Monitoring-Batch-Id` (stored in a batch created for it); and, for reference
 *    (no goal), (d) the row already scored as 1-row NDJSON to the bulk ingest route (ingest alone,
 *    no backend call). Every answer's prediction is checked, and the rows stored in (c)'s and (d)'s
 *    batches counted. Overhead = p50(b) − p50(a) and p50(c) − p50(a) (goal ≤ 5 ms). When the
 *    route answers 404 (not on this checkout yet) the section is skipped, loudly.
 *
 * --root runs the batchlens server from another checkout. The last line is the JSON of the figures.
 */

import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createBatch, createDeployment, createOrganization } from './lib/api.js';
import { Flags } from './lib/args.js';
import { waitForQuiet } from './lib/cpu.js';
import { type BenchDatabase, startDatabase } from './lib/database.js';
import { freeBytes, gb } from './lib/disk.js';
import {
  benchModelJson,
  bulkNdjsonFormat,
  CSV_HEADER,
  jobCsvFormat,
  MODEL_NAME,
  type PreparedRow,
  prepare,
  v2InferBody,
} from './lib/jobs-data.js';
import { postmasterPid, TreeCpuMeter } from './lib/metrics-cpu.js';
import { type BenchModelServer, startModelServer } from './lib/model-server.js';
import { FEATURES, PredictionRowSource, rowChunks } from './lib/predictions-data.js';
import { median, onShutdown, printResult, progress, round, runBenchmark } from './lib/report.js';
import { mb, RssSampler, readMemory } from './lib/rss.js';
import { type BenchServer, startServer } from './lib/server.js';
import { postStream } from './lib/upload.js';

const flags = new Flags().allow([
  'rows',
  'repeat',
  'realtime-requests',
  'realtime-warmup',
  'num-concurrent',
  'quiet-wait',
  'seed',
  'skip-realtime',
  'root',
  'cpu-prof',
]);
const ROWS = flags.int('rows', 1_000_000, 1);
const REPEAT = flags.int('repeat', 1, 1);
const REALTIME_REQUESTS = flags.int('realtime-requests', 2000, 1);
const REALTIME_WARMUP = flags.int('realtime-warmup', 200, 0);
const NUM_CONCURRENT = flags.int('num-concurrent', 4, 1);
/** Seconds to wait, before each timed phase, for other processes to leave the cores alone (0: don't). */
const QUIET_WAIT_S = flags.int('quiet-wait', 120);
const SEED = flags.int('seed', 1);
const SKIP_REALTIME = flags.bool('skip-realtime');
const ROOT = flags.string('root');
/** Writes a CPU profile of the batchlens server (node --cpu-prof) into this directory. */
const CPU_PROF_DIR = flags.string('cpu-prof');

/** Other processes' load (in cores) above which the machine counts as busy, before and during a run. */
const QUIET_CORES = 0.25;
const RATIO_GOAL = 0.5;
const RSS_GOAL_MB = 300;
const OVERHEAD_GOAL_MS = 5;
const CHECK_ROWS = Math.min(2000, ROWS);
const POLL_MS = 200;
/** Disk per row, generous: job input and output chunks, the predictions table with its indexes, WAL. */
const DISK_BYTES_PER_ROW = 3000;
const TARGET_NAME = 'target'; // api.ts createDeployment's targetName
const BATCH_ID_HEADER = 'x-datarobot-model-monitoring-batch-id';

let db: BenchDatabase | undefined;
let server: BenchServer | undefined;
let modelServer: BenchModelServer | undefined;
let modelsDir: string | undefined;
const cleanup = onShutdown(async () => {
  await server?.stop();
  await modelServer?.stop();
  await db?.stop();
  if (modelsDir) fs.rmSync(modelsDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (n: number) => Math.round(n).toLocaleString('en');

async function* withHeader(header: string, chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield Buffer.from(header, 'latin1');
  yield* chunks;
}

interface JobJson {
  id: string;
  status: string;
  statusDetails: string;
  logs: string[];
  scoredRows: number;
  failedRows: number;
  jobIntakeSize: number | null;
  percentageCompleted: number;
  monitoringBatchId: string | null;
}

/** A streamed GET whose lines are counted (and the text kept when `keep`); a non-200 answer's body is read whole. */
function download(url: string, token: string, keep: boolean): Promise<{ status: number; lines: number; bytes: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let lines = 0;
      let bytes = 0;
      const parts: Buffer[] = [];
      const ok = res.statusCode === 200;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
        if (keep || !ok) parts.push(chunk);
      });
      res.once('error', reject);
      res.once('end', () => resolve({ status: res.statusCode ?? 0, lines, bytes, text: Buffer.concat(parts).toString('utf8') }));
    });
    req.once('error', reject);
  });
}

/** One request on a keep-alive agent; ms from the request's start to the last byte of the answer. */
function timedPost(
  agent: http.Agent,
  url: URL,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; ms: number; text: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.once('error', reject);
        res.once('end', () =>
          resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, text: Buffer.concat(parts).toString('utf8') }),
        );
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

/** Nearest-rank percentile. */
function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  return [line(cells[0]!), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...cells.slice(1).map(line)].join('\n');
}

async function main() {
  const tmpFree = freeBytes();
  const needed = ROWS * DISK_BYTES_PER_ROW;
  progress(
    `rows ${fmt(ROWS)} × ${FEATURES.length} features, repeat ${REPEAT}, numConcurrent ${NUM_CONCURRENT}, real-time ${SKIP_REALTIME ? 'skipped' : `${fmt(REALTIME_REQUESTS)} requests (+${REALTIME_WARMUP} warm-up)`}; free disk ${gb(tmpFree)} GB (need ~${gb(needed)} GB)`,
  );
  if (!process.env.DATABASE_URL && tmpFree < needed) {
    throw new Error(`not enough free disk in ${process.env.TMPDIR ?? '/tmp'}: ${gb(tmpFree)} GB free, ~${gb(needed)} GB needed`);
  }

  db = await startDatabase({ log: progress });
  const sql = db.sql;
  progress(`PostgreSQL: ${db.version.split(' ').slice(0, 2).join(' ')}`);
  const postmaster = await postmasterPid(sql);

  modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'batchlens-bench-models-'));
  fs.writeFileSync(path.join(modelsDir, `${MODEL_NAME}.json`), JSON.stringify(benchModelJson(), null, 2));
  modelServer = await startModelServer({ modelsDir });
  progress(`model server pid ${modelServer.pid} at ${modelServer.url} (models: ${modelServer.models.join(', ')})`);

  server = await startServer({
    databaseUrl: db.url,
    root: ROOT,
    nodeArgs: CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : [],
  });
  const serverStartMb = mb(readMemory(server.pid)!.rss);
  progress(`batchlens server pid ${server.pid} at ${server.url}${ROOT ? ` (from ${ROOT})` : ''}, RSS ${serverStartMb} MB`);
  const url = server.url;

  const org = await createOrganization(url, server.adminToken);
  const token = org.token;
  const deployment = await createDeployment(url, token, {
    features: FEATURES,
    modelBackend: { protocol: 'OPEN_INFERENCE_V2', url: modelServer.url, modelName: MODEL_NAME },
  });
  const pids = { server: server.pid, model: modelServer.pid };

  async function rest<T>(method: string, route: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${url}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as T };
  }

  const countRows = async (batchId: string) =>
    Number(
      (
        (await sql`select count(*)::bigint as n from predictions where batch_key = (select key from monitoring_batches where id = ${batchId})`) as unknown as [
          { n: string },
        ]
      )[0].n,
    );

  /** A job over `rows` generated rows, timed from the upload's first byte to COMPLETED seen and the output downloaded. */
  async function runJob(rows: number, idTag: string, options: { keepOutput?: boolean; label: string; onTick?: () => string }) {
    const created = await rest<JobJson>('POST', '/api/v2/batchPredictions/', {
      deploymentId: deployment.id,
      numConcurrent: NUM_CONCURRENT,
      monitoringBatchPrefix: `bench ${idTag}`,
    });
    if (created.status !== 202) throw new Error(`creating the job failed: HTTP ${created.status} ${JSON.stringify(created.body)}`);
    const id = created.body.id;
    const base = `${url}/api/v2/batchPredictions/${id}`;
    const started = performance.now();
    const upload = await postStream(`${base}/csvUpload/`, {
      method: 'PUT',
      token,
      contentType: 'text/csv',
      body: withHeader(CSV_HEADER, rowChunks({ rows, seed: SEED, idTag, chunkRows: 1000 }, jobCsvFormat)),
    });
    const uploaded = upload.body as JobJson;
    if (upload.status !== 202 || uploaded.jobIntakeSize !== rows) {
      throw new Error(`job upload failed: HTTP ${upload.status} ${JSON.stringify(upload.body).slice(0, 2000)}\n${server!.output()}`);
    }
    const uploadMs = performance.now() - started;
    // Generous: far slower than any run seen means something is stuck.
    const deadline = Date.now() + 600_000 + rows;

    const poll = async () => {
      let lastTick = performance.now();
      for (;;) {
        const { status, body: job } = await rest<JobJson>('GET', `/api/v2/batchPredictions/${id}/`);
        if (status !== 200) throw new Error(`GET job: HTTP ${status} ${JSON.stringify(job)}`);
        if (job.status === 'COMPLETED') return { job, ms: performance.now() - started };
        if (job.status === 'FAILED' || job.status === 'ABORTED') {
          throw new Error(`job ${id} ${job.status}: ${job.statusDetails}\n${job.logs.join('\n')}\n${server!.output()}`);
        }
        if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status} (${job.percentageCompleted}%) at the deadline`);
        const now = performance.now();
        if (now - lastTick >= 10_000) {
          lastTick = now;
          const s = (now - started) / 1000;
          progress(
            `  ${options.label}: ${job.status} ${job.percentageCompleted}% (${fmt(job.scoredRows)} rows scored; ${s.toFixed(0)} s since the upload began)${options.onTick?.() ?? ''}`,
          );
        }
        await sleep(POLL_MS);
      }
    };
    const fetchOutput = async () => {
      for (;;) {
        const result = await download(`${base}/download/`, token, options.keepOutput ?? false);
        if (result.status === 200) return { ...result, ms: performance.now() - started };
        if (result.status !== 404 || Date.now() > deadline) throw new Error(`download: HTTP ${result.status} ${result.text.slice(0, 500)}`);
        await sleep(100); // no output before a worker starts the job
      }
    };
    const [completed, output] = await Promise.all([poll(), fetchOutput()]);
    const ms = Math.max(completed.ms, output.ms);
    const job = completed.job;
    if (job.scoredRows !== rows || job.failedRows !== 0)
      throw new Error(`job ${id}: ${job.scoredRows} scored, ${job.failedRows} failed of ${rows}`);
    if (output.lines !== rows + 1) throw new Error(`job ${id}: the output has ${output.lines} lines; expected ${rows} rows and a header`);
    const stored = await countRows(job.monitoringBatchId!);
    if (stored !== rows) throw new Error(`job ${id}: ${stored} rows in its batch, expected ${rows}`);
    return {
      id,
      batchId: job.monitoringBatchId!,
      ms,
      uploadMs,
      completedMs: completed.ms,
      downloadMs: output.ms,
      uploadBytes: upload.bytes,
      outputBytes: output.bytes,
      output: output.text,
    };
  }

  async function runBulk(rows: number, idTag: string) {
    const batch = await createBatch(url, token, deployment.id, `bench ${idTag}`);
    const result = await postStream(`${url}/api/v2/deployments/${deployment.id}/monitoringBatches/${batch.id}/predictions`, {
      token,
      contentType: 'application/x-ndjson',
      body: rowChunks({ rows, seed: SEED, idTag, chunkRows: 1000 }, bulkNdjsonFormat),
    });
    const body = result.body as { rowCount?: number };
    if (result.status !== 200 || body.rowCount !== rows) {
      throw new Error(`bulk upload failed: HTTP ${result.status} ${JSON.stringify(result.body).slice(0, 2000)}\n${server!.output()}`);
    }
    const stored = await countRows(batch.id);
    if (stored !== rows) throw new Error(`bulk: ${stored} rows in its batch, expected ${rows}`);
    return { batchId: batch.id, ms: result.ms, bytes: result.bytes };
  }

  const quiet = async () => {
    if (QUIET_WAIT_S === 0) return;
    const load = await waitForQuiet({
      maxCores: QUIET_CORES,
      timeoutMs: QUIET_WAIT_S * 1000,
      onWait: (cores) => progress(`  other processes use ${cores} cores: waiting up to ${QUIET_WAIT_S} s for a quiet machine`),
    });
    if (!load.quiet) progress(`  still ${load.cores} cores busy elsewhere: measuring anyway (this run is contended)`);
  };

  // --- Same rows both ways? ---------------------------------------------------------------------
  {
    const viaJob = await runJob(CHECK_ROWS, 'check', { keepOutput: true, label: 'check job' });
    const viaBulk = await runBulk(CHECK_ROWS, 'check');
    const lines = viaJob.output.split('\n');
    if (lines[0] !== `${TARGET_NAME}_PREDICTION`) throw new Error(`unexpected output header ${JSON.stringify(lines[0])}`);
    const source = new PredictionRowSource(SEED, 'check');
    for (let i = 0; i < CHECK_ROWS; i++) {
      const expected = prepare(source.next().features).prediction;
      if (Number(lines[i + 1]) !== expected) {
        throw new Error(`output line ${i + 2}: ${lines[i + 1]}, but the model gives ${expected} for input line ${i + 2}`);
      }
    }
    const stored = (batchId: string) =>
      sql<{ features: string; prediction: number; association_id: string | null }[]>`
        select features::text as features, prediction, association_id from prediction_rows where batch_id = ${batchId}
        order by features::text, prediction`;
    const a = await stored(viaJob.batchId);
    const b = await stored(viaBulk.batchId);
    if (a.length !== CHECK_ROWS || JSON.stringify(a) !== JSON.stringify(b)) {
      throw new Error(
        `the job and the bulk route stored different rows (${a.length} vs ${b.length}); first: ${JSON.stringify(a[0])} vs ${JSON.stringify(b[0])}`,
      );
    }
    progress(
      `check: ${CHECK_ROWS} rows stored identically by a job and by the bulk route (features, prediction); the job's output holds the model's prediction for every row`,
    );
  }

  // --- Throughput: job vs bulk, alternating; server RSS during the job runs ----------------------
  interface Run {
    kind: 'job' | 'bulk';
    ms: number;
    rowsPerS: number;
    cpu: Record<string, number>;
    otherCores: number;
    job?: {
      uploadS: number;
      completedS: number;
      downloadS: number;
      uploadMb: number;
      outputMb: number;
      rssPeakMb: number;
      rssStartMb: number;
    };
  }
  const runs: Run[] = [];
  for (let r = 1; r <= REPEAT; r++) {
    for (const kind of ['job', 'bulk'] as const) {
      await sql`truncate predictions`;
      await sql`truncate batch_prediction_job_chunks`;
      await sql`checkpoint`;
      const idTag = `${kind}-${r}`;
      await quiet();
      const meter = new TreeCpuMeter(postmaster, pids);
      let run: Run;
      if (kind === 'job') {
        const sampler = new RssSampler(server.pid, 100);
        const result = await runJob(ROWS, idTag, {
          label: `job ${r}`,
          onTick: () => `, server RSS peak so far ${mb(sampler.currentPeak)} MB`,
        });
        const rss = sampler.stop();
        const cpu = meter.stop();
        run = {
          kind,
          ms: round(result.ms),
          rowsPerS: round((ROWS / result.ms) * 1000),
          cpu,
          otherCores: cpu.other_cores!,
          job: {
            uploadS: round(result.uploadMs / 1000, 2),
            completedS: round(result.completedMs / 1000, 2),
            downloadS: round(result.downloadMs / 1000, 2),
            uploadMb: mb(result.uploadBytes),
            outputMb: mb(result.outputBytes),
            rssPeakMb: mb(rss.peakSampled),
            rssStartMb: mb(rss.first),
          },
        };
        progress(
          `job ${r}: ${fmt(ROWS)} rows in ${(result.ms / 1000).toFixed(2)} s = ${fmt(run.rowsPerS)} rows/s (upload ${run.job!.uploadS} s, ${run.job!.uploadMb} MB; COMPLETED seen at ${run.job!.completedS} s; download ended at ${run.job!.downloadS} s, ${run.job!.outputMb} MB); server RSS ${run.job!.rssStartMb} → peak ${run.job!.rssPeakMb} MB; CPU s: ${JSON.stringify(cpu)}${run.otherCores > QUIET_CORES ? ' (CONTENDED)' : ''}`,
        );
      } else {
        const result = await runBulk(ROWS, idTag);
        const cpu = meter.stop();
        run = { kind, ms: round(result.ms), rowsPerS: round((ROWS / result.ms) * 1000), cpu, otherCores: cpu.other_cores! };
        progress(
          `bulk ${r}: ${fmt(ROWS)} rows in ${(result.ms / 1000).toFixed(2)} s = ${fmt(run.rowsPerS)} rows/s (${mb(result.bytes)} MB NDJSON); CPU s: ${JSON.stringify(cpu)}${run.otherCores > QUIET_CORES ? ' (CONTENDED)' : ''}`,
        );
      }
      runs.push(run);
    }
  }
  const uncontended = (kind: string) => runs.some((run) => run.kind === kind && run.otherCores <= QUIET_CORES);
  const trusted = uncontended('job') && uncontended('bulk');
  const counted = trusted ? runs.filter((run) => run.otherCores <= QUIET_CORES) : runs;
  const contended = runs.filter((run) => run.otherCores > QUIET_CORES).length;
  const rates = (kind: string) => counted.filter((run) => run.kind === kind).map((run) => run.rowsPerS);
  const jobBest = Math.max(...rates('job'));
  const bulkBest = Math.max(...rates('bulk'));
  const ratio = round(jobBest / bulkBest, 3);
  const ratioOfMedians = round(median(rates('job')) / median(rates('bulk')), 3);
  const jobRuns = runs.filter((run) => run.kind === 'job');
  const rssPeakMb = Math.max(...jobRuns.map((run) => run.job!.rssPeakMb));
  if (!trusted) {
    progress(
      `WARNING: ${contended} of ${runs.length} runs shared the cores with other processes (> ${QUIET_CORES} cores) and some kind has no other run: the ratio is not trustworthy`,
    );
  }

  // --- Real-time overhead -----------------------------------------------------------------------
  interface Latency {
    p50: number;
    p90: number;
    mean: number;
  }
  let realtime: {
    available: boolean;
    skipped_reason?: string;
    direct?: Latency;
    batchlens?: Latency;
    batchlens_batch?: Latency;
    ingest_only?: Latency;
    overhead_p50_ms?: number;
    overhead_batch_p50_ms?: number;
    overhead_p90_ms?: number;
    overhead_batch_p90_ms?: number;
    cpu_s?: Record<string, number>;
    other_cores?: number;
  } = { available: false, skipped_reason: 'skipped (--skip-realtime)' };
  if (!SKIP_REALTIME) {
    const source = new PredictionRowSource(SEED, 'realtime');
    const total = REALTIME_WARMUP + REALTIME_REQUESTS;
    const rows: { row: PreparedRow; json: string; backend: string; ndjson: string }[] = [];
    for (let i = 0; i < total; i++) {
      const features = source.next().features;
      const row = prepare(features);
      rows.push({
        row,
        json: `[${features}]`,
        backend: v2InferBody([row]),
        ndjson: `{"features":${features},"prediction":${row.predictionText}}\n`,
      });
    }
    const agents = [0, 1, 2, 3].map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
    const directUrl = new URL(`${modelServer.url}/v2/models/${MODEL_NAME}/infer`);
    const predApiUrl = new URL(`${url}/predApi/v1.0/deployments/${deployment.id}/predictions`);
    const jsonHeaders = { 'content-type': 'application/json', accept: 'application/json' };
    const batchlensHeaders = { ...jsonHeaders, authorization: `Bearer ${token}` };
    const batch = await createBatch(url, token, deployment.id, 'bench realtime');
    const ingestBatch = await createBatch(url, token, deployment.id, 'bench realtime ingest only');
    const kinds = [
      { name: 'direct', agent: agents[0]!, url: directUrl, headers: jsonHeaders, body: (i: number) => rows[i]!.backend },
      { name: 'batchlens', agent: agents[1]!, url: predApiUrl, headers: batchlensHeaders, body: (i: number) => rows[i]!.json },
      {
        name: 'batchlens_batch',
        agent: agents[2]!,
        url: predApiUrl,
        headers: { ...batchlensHeaders, [BATCH_ID_HEADER]: batch.id },
        body: (i: number) => rows[i]!.json,
      },
      // For reference, not a goal: the row already scored, through the bulk ingest route (ingest alone, no backend call).
      {
        name: 'ingest_only',
        agent: agents[3]!,
        url: new URL(`${url}/api/v2/deployments/${deployment.id}/monitoringBatches/${ingestBatch.id}/predictions`),
        headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}` },
        body: (i: number) => rows[i]!.ndjson,
      },
    ] as const;
    const predictionOf = (kind: string, text: string): number =>
      kind === 'direct'
        ? (JSON.parse(text) as { outputs: { data: number[] }[] }).outputs[0]!.data[0]!
        : (JSON.parse(text) as { data: { prediction: number }[] }).data[0]!.prediction;
    const send = async (k: number, i: number) => {
      const kind = kinds[k]!;
      const answer = await timedPost(kind.agent, kind.url, kind.headers, kind.body(i));
      if (answer.status !== 200) return answer;
      if (kind.name === 'ingest_only') {
        if ((JSON.parse(answer.text) as { rowCount?: number }).rowCount !== 1) throw new Error(`ingest_only request ${i}: ${answer.text}`);
        return answer;
      }
      const prediction = predictionOf(kind.name, answer.text);
      if (prediction !== rows[i]!.row.prediction) {
        throw new Error(`${kind.name} request ${i}: prediction ${prediction}, the model gives ${rows[i]!.row.prediction}`);
      }
      return answer;
    };

    const probe = await timedPost(kinds[1].agent, kinds[1].url, kinds[1].headers, rows[0]!.json);
    if (probe.status === 404) {
      const reason = `POST /predApi/v1.0/deployments/{id}/predictions answered 404 (${probe.text.slice(0, 200)}): the real-time route is not in this checkout`;
      progress('');
      progress('!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
      progress(`!!! REAL-TIME OVERHEAD SKIPPED: ${reason}`);
      progress('!!! (merge main once it has the route, or run with --root pointing at a checkout that has it)');
      progress('!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
      progress('');
      realtime = { available: false, skipped_reason: reason };
    } else if (probe.status !== 200) {
      throw new Error(`real-time probe: HTTP ${probe.status} ${probe.text.slice(0, 2000)}\n${server.output()}`);
    } else {
      const before = { batch: await countRows(batch.id), ingest: await countRows(ingestBatch.id) };
      progress(`real-time: ${REALTIME_WARMUP} warm-up + ${REALTIME_REQUESTS} timed sequential 1-row requests of each kind, interleaved`);
      for (let i = 0; i < REALTIME_WARMUP; i++) {
        for (let k = 0; k < kinds.length; k++) {
          const answer = await send(k, i);
          if (answer.status !== 200) throw new Error(`${kinds[k]!.name} warm-up: HTTP ${answer.status} ${answer.text.slice(0, 2000)}`);
        }
      }
      await quiet();
      const times: number[][] = kinds.map(() => []);
      const meter = new TreeCpuMeter(postmaster, pids);
      for (let i = REALTIME_WARMUP; i < total; i++) {
        for (let j = 0; j < kinds.length; j++) {
          const k = (i + j) % kinds.length;
          const answer = await send(k, i);
          if (answer.status !== 200) throw new Error(`${kinds[k]!.name} request ${i}: HTTP ${answer.status} ${answer.text.slice(0, 2000)}`);
          times[k]!.push(answer.ms);
        }
      }
      const cpu = meter.stop();
      for (const agent of agents) agent.destroy();
      const stored = (await countRows(batch.id)) - before.batch;
      if (stored !== total) throw new Error(`real-time with the batch header: ${stored} rows in the batch, expected ${total}`);
      const ingested = (await countRows(ingestBatch.id)) - before.ingest;
      if (ingested !== total) throw new Error(`ingest only: ${ingested} rows in the batch, expected ${total}`);
      const latency = (values: number[]): Latency => ({
        p50: round(percentile(values, 0.5), 2),
        p90: round(percentile(values, 0.9), 2),
        mean: round(values.reduce((a, b) => a + b, 0) / values.length, 2),
      });
      const [direct, batchlens, batchlensBatch, ingestOnly] = times.map(latency) as [Latency, Latency, Latency, Latency];
      realtime = {
        available: true,
        direct,
        batchlens,
        batchlens_batch: batchlensBatch,
        ingest_only: ingestOnly,
        overhead_p50_ms: round(batchlens.p50 - direct.p50, 2),
        overhead_batch_p50_ms: round(batchlensBatch.p50 - direct.p50, 2),
        overhead_p90_ms: round(batchlens.p90 - direct.p90, 2),
        overhead_batch_p90_ms: round(batchlensBatch.p90 - direct.p90, 2),
        cpu_s: cpu,
        other_cores: cpu.other_cores!,
      };
      progress(
        `real-time p50 / p90 ms: direct ${direct.p50} / ${direct.p90}, batchlens ${batchlens.p50} / ${batchlens.p90}, with batch header ${batchlensBatch.p50} / ${batchlensBatch.p90}; for reference, 1-row bulk ingest (no backend) ${ingestOnly.p50} / ${ingestOnly.p90}; CPU s: ${JSON.stringify(cpu)}${cpu.other_cores! > QUIET_CORES ? ' (CONTENDED)' : ''}`,
      );
    }
  }

  const serverHwmMb = mb(readMemory(server.pid)!.hwm);
  await server.stop();
  server = undefined;

  // --- Report -----------------------------------------------------------------------------------
  const ratioMet = ratio >= RATIO_GOAL;
  const rssMet = rssPeakMb <= RSS_GOAL_MB;
  const overheadMet = realtime.available
    ? realtime.overhead_p50_ms! <= OVERHEAD_GOAL_MS && realtime.overhead_batch_p50_ms! <= OVERHEAD_GOAL_MS
    : null;
  const mark = (met: boolean | null) => (met === null ? 'not measured' : met ? 'met' : 'NOT MET');
  const rt = realtime;
  console.log();
  console.log(
    table(
      ['figure', 'value', 'goal'],
      [
        ...runs.map((run, i) => [
          `${run.kind} run ${Math.floor(i / 2) + 1}${run.otherCores > QUIET_CORES ? ' (contended)' : ''}`,
          `${fmt(run.rowsPerS)} rows/s (${(run.ms / 1000).toFixed(2)} s; other processes ${run.otherCores} cores)`,
          '',
        ]),
        [`job rows/s (best${trusted ? ' uncontended' : ''})`, fmt(jobBest), ''],
        [`bulk rows/s (best${trusted ? ' uncontended' : ''})`, fmt(bulkBest), ''],
        ['ratio job / bulk', `${ratio} (of medians ${ratioOfMedians})`, `≥ ${RATIO_GOAL}: ${mark(ratioMet)}`],
        [
          'server RSS peak during the job runs (sampled)',
          `${rssPeakMb} MB (at start ${serverStartMb} MB)`,
          `≤ ${RSS_GOAL_MB} MB: ${mark(rssMet)}`,
        ],
        ...(rt.available
          ? [
              ['real-time p50 / p90: backend directly', `${rt.direct!.p50} / ${rt.direct!.p90} ms`, ''],
              ['real-time p50 / p90: batchlens', `${rt.batchlens!.p50} / ${rt.batchlens!.p90} ms`, ''],
              ['real-time p50 / p90: batchlens, batch header', `${rt.batchlens_batch!.p50} / ${rt.batchlens_batch!.p90} ms`, ''],
              ['(reference) 1-row bulk ingest, no backend', `${rt.ingest_only!.p50} / ${rt.ingest_only!.p90} ms`, ''],
              [
                'real-time overhead p50 (p90)',
                `${rt.overhead_p50_ms} ms (${rt.overhead_p90_ms} ms)`,
                `≤ ${OVERHEAD_GOAL_MS} ms: ${mark(rt.overhead_p50_ms! <= OVERHEAD_GOAL_MS)}`,
              ],
              [
                'real-time overhead p50 (p90), batch header',
                `${rt.overhead_batch_p50_ms} ms (${rt.overhead_batch_p90_ms} ms)`,
                `≤ ${OVERHEAD_GOAL_MS} ms: ${mark(rt.overhead_batch_p50_ms! <= OVERHEAD_GOAL_MS)}`,
              ],
            ]
          : [
              [
                'real-time overhead',
                `not measured (${SKIP_REALTIME ? '--skip-realtime' : 'the route answered 404'})`,
                `≤ ${OVERHEAD_GOAL_MS} ms: not measured`,
              ],
            ]),
      ],
    ),
  );
  console.log();

  printResult({
    rows: ROWS,
    features: FEATURES.length,
    num_concurrent: NUM_CONCURRENT,
    repeat: REPEAT,
    job_rows_per_s: jobBest,
    bulk_rows_per_s: bulkBest,
    ratio,
    ratio_of_medians: ratioOfMedians,
    ratio_goal: RATIO_GOAL,
    runs: runs.map((run) => ({
      kind: run.kind,
      rows_per_s: run.rowsPerS,
      ms: run.ms,
      ...(run.job
        ? {
            upload_s: run.job.uploadS,
            completed_s: run.job.completedS,
            download_s: run.job.downloadS,
            upload_mb: run.job.uploadMb,
            output_mb: run.job.outputMb,
            server_rss_peak_mb: run.job.rssPeakMb,
          }
        : {}),
      cpu_s: run.cpu,
      other_cores: run.otherCores,
    })),
    contended_runs: contended,
    ratio_from_uncontended_runs: trusted,
    server_rss_peak_mb: rssPeakMb,
    server_rss_start_mb: serverStartMb,
    server_hwm_mb: serverHwmMb,
    rss_goal_mb: RSS_GOAL_MB,
    realtime_measured: realtime.available,
    realtime_requests: REALTIME_REQUESTS,
    realtime_warmup: REALTIME_WARMUP,
    realtime,
    overhead_goal_ms: OVERHEAD_GOAL_MS,
    database: db.embedded ? 'embedded' : 'DATABASE_URL',
    server_root: ROOT ?? null,
    // Without the real-time route, goal_met speaks for the ratio and RSS only (realtime_measured: false).
    goal_met: ratioMet && rssMet && overheadMet !== false,
  });
}

await runBenchmark(main, cleanup);
