/**
 * Issue 11 benchmark: data export (C12) — a batch's predictions streamed by the REST route as CSV
 * or Parquet, and an export written to a file by the server's worker — against PostgreSQL's own
 * `COPY (SELECT …) TO STDOUT` of the same rows in the same run, and the server's memory meanwhile.
 *
 *   npx tsx bench/export.ts [--rows 10000000] [--batches 10] [--repeat 2] [--quiet-wait 120] [--seed 1]
 *                           [--skip-parquet] [--skip-export] [--cpu-prof DIR]
 *
 * 1. Starts PostgreSQL (DATABASE_URL, or an embedded one in a temporary directory) and batchlens as
 *    its own process (`node --import tsx src/main.ts`, BATCHLENS_EXPORT_DIR in a temporary
 *    directory, every other setting default or from this environment, which the server inherits:
 *    Parquet row groups of BATCHLENS_EXPORT_ROW_GROUP_ROWS = 10,000 rows), creates an
 *    organization and a REGRESSION deployment with the 20 features of bench/ingest.ts (15 numeric,
 *    5 categorical), then a 2,000-row check batch and `--batches` batches.
 * 2. Loads the rows fast, not through the server: a raw `copy predictions (…) from stdin` from this
 *    process per batch (bench/lib/predictions-data.ts's rows, with association ids and timestamps,
 *    in the stored layout: keys, features as the float8[] and jsonb array texts, the UUID
 *    association ids as uuid — the rows the bulk route would store),
 *    `--rows` spread evenly over the batches. The ingest path
 *    is bypassed, so the benchmark then sets each batch's `prediction_count` and earliest / latest
 *    prediction timestamps in SQL from the rows copied — the export takes a snapshot's row count
 *    from `monitoring_batches.prediction_count` and skips batches whose count is 0 — and checks them.
 *    Nothing else is filled (aggregates, model history): the export reads none of it. Then VACUUM
 *    ANALYZE (hint bits and visibility map set once, not by the first timed read; the table is read
 *    whole, so the OS cache holds it for every run alike) and a CHECKPOINT.
 * 3. Check (2,000 rows in their own batch): `GET …/monitoringBatches/{id}/predictions/?format=csv`
 *    minus its header line is byte for byte the baseline's COPY output, and the header is the plan's
 *    column names; `?format=parquet` read back with parquet-wasm (not the writer) has 2,000 rows in
 *    its footer, the same column names, and the same values as the CSV, cell by cell (csv-parse,
 *    apache-arrow); and unless --skip-export, `POST …/predictionDataExports/` of that batch gives a
 *    CSV file equal to the streamed body and a Parquet file of 2,000 rows.
 * 4. Timed, `--repeat` rounds, each: COPY baseline, CSV stream, CSV export, Parquet stream, Parquet
 *    export (--skip-parquet / --skip-export leave kinds out). Before each run a CHECKPOINT, then up
 *    to --quiet-wait s of waiting for other processes to use < 0.25 cores; CPU seconds of the server,
 *    the whole PostgreSQL tree, this process and everything else are measured during the run, which
 *    is marked contended when the rest used > 0.25 cores.
 *    - copy: from this process, on a postgres.js connection made as the server makes its own
 *      (src/db/client.ts), one `begin isolation level repeatable read, read only` transaction and, per
 *      batch in creation order, `COPY (SELECT <csvSelectList(plan, batch)> FROM predictions p JOIN
 *      prediction_models m ON m.key = p.model_key WHERE p.batch_key = … ORDER BY p.id) TO STDOUT
 *      WITH (FORMAT csv)` — the
 *      statement ExportSnapshot.csv sends, built from the same src/modules/exports/columns.ts with the
 *      deployment row read from the database; bytes and newlines counted, then discarded.
 *      rows/s = rows / (BEGIN → COMMIT).
 *    - csv_stream / parquet_stream: the batches one after another, `GET …/predictions/?format=…` on
 *      a new connection each, bytes (and CSV newlines) counted and discarded as they arrive.
 *      rows/s = rows / (first request → last body's end). Checked afterwards: CSV newlines = rows +
 *      a header per batch and CSV bytes = COPY bytes + the headers; each Parquet body's footer
 *      (parquet-wasm, read from the body's last bytes) holds its batch's rows.
 *    - csv_export / parquet_export: `POST …/predictionDataExports/` {lastN: batches, format}, then
 *      `GET …/predictionDataExports/{id}/` every 200 ms until SUCCEEDED. rows/s = rows / (POST →
 *      SUCCEEDED seen); the server's own startedAt → finishedAt is reported too. Checked: the export
 *      selected exactly the benchmark's batches, in order; rowCount = rows; sizeBytes = the file's
 *      size (CSV: COPY bytes + one header; Parquet: rows in the footer = rows). The file is deleted
 *      after each run (disk).
 *    ratio = best route rows/s ÷ best COPY rows/s per kind, from uncontended runs when every kind
 *    has one. Goal: csv_stream and csv_export ≥ 0.7; Parquet informative, with its size vs CSV's.
 * 5. Server RSS: each route run starts a fresh batchlens process on the same database (RSS never
 *    shrinks back, so a run's peak would otherwise be an earlier run's); its VmRSS is sampled every 100 ms during the run; the
 *    figure per kind is the highest sample (goal ≤ 300 MB); VmRSS at start and VmHWM at the end too.
 *
 * Only --rows and --batches change the data; --seed changes its values. --cpu-prof DIR writes a CPU
 * profile of the server (node --cpu-prof) over the whole run. The last line is the JSON of the figures.
 */

import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { tableFromIPC } from 'apache-arrow';
import { parse } from 'csv-parse/sync';
import { eq } from 'drizzle-orm';
import { ParquetFile, readParquet } from 'parquet-wasm';
import { connect, type Database } from '../src/db/client.js';
import { type Deployment, deployments } from '../src/db/tables.js';
import { csvSelectList, type ExportPlan, exportPlan } from '../src/modules/exports/columns.js';
import { isCanonicalUuid, modelKey, PREDICTION_COPY_COLUMNS } from '../src/modules/rows/storage.js';
import { createBatch, createDeployment, createOrganization } from './lib/api.js';
import { Flags } from './lib/args.js';
import { copyFrom } from './lib/copy.js';
import { waitForQuiet } from './lib/cpu.js';
import { type BenchDatabase, startDatabase } from './lib/database.js';
import { freeBytes, gb } from './lib/disk.js';
import { postmasterPid, TreeCpuMeter } from './lib/metrics-cpu.js';
import { FEATURES, type RowFormat, rowChunks } from './lib/predictions-data.js';
import { median, onShutdown, printResult, progress, round, runBenchmark } from './lib/report.js';
import { mb, RssSampler, type RssSummary, readMemory } from './lib/rss.js';
import { type BenchServer, startServer } from './lib/server.js';

const flags = new Flags().allow(['rows', 'batches', 'repeat', 'quiet-wait', 'seed', 'skip-parquet', 'skip-export', 'cpu-prof']);
const ROWS = flags.int('rows', 10_000_000, 1);
const BATCHES = flags.int('batches', 10, 1);
const REPEAT = flags.int('repeat', 2, 1);
/** Seconds to wait, before each timed run, for other processes to leave the cores alone (0: don't). */
const QUIET_WAIT_S = flags.int('quiet-wait', 120);
const SEED = flags.int('seed', 1);
const SKIP_PARQUET = flags.bool('skip-parquet');
const SKIP_EXPORT = flags.bool('skip-export');
/** Writes a CPU profile of the batchlens server (node --cpu-prof) into this directory. */
const CPU_PROF_DIR = flags.string('cpu-prof');

/** Other processes' load (in cores) above which the machine counts as busy, before and during a run. */
const QUIET_CORES = 0.25;
const CSV_RATIO_GOAL = 0.7;
const RSS_GOAL_MB = 300;
const CHECK_ROWS = 2000;
/** Rows per Parquet row group: the server's BATCHLENS_EXPORT_ROW_GROUP_ROWS (it inherits this environment; default 10,000). */
const ROW_GROUP_ROWS = Number(process.env.BATCHLENS_EXPORT_ROW_GROUP_ROWS || 10_000);
const POLL_MS = 200;
/**
 * Disk per row, generous: the predictions table with its indexes (~930 bytes/row before issue 14),
 * WAL not yet recycled, and one export file at a time (CSV ≈ 400 bytes/row).
 */
const DISK_BYTES_PER_ROW = 2000;
/** Bytes kept from the end of a streamed Parquet body, to read its footer. */
const PARQUET_TAIL_BYTES = 4 << 20;
const COPY_STATEMENT = `copy predictions (${PREDICTION_COPY_COLUMNS}) from stdin`;

type Kind = 'copy' | 'csv_stream' | 'csv_export' | 'parquet_stream' | 'parquet_export';
const ROUTE_KINDS = ['csv_stream', 'csv_export', 'parquet_stream', 'parquet_export'] as const;

let db: BenchDatabase | undefined;
let server: BenchServer | undefined;
let baselineDb: Database | undefined;
let exportDir: string | undefined;
let scratchDir: string | undefined;
const cleanup = onShutdown(async () => {
  await server?.stop();
  await baselineDb?.close();
  await db?.stop();
  for (const dir of [exportDir, scratchDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (n: number) => Math.round(n).toLocaleString('en');

function countNewlines(data: Buffer): number {
  let lines = 0;
  for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) lines++;
  return lines;
}

/**
 * predictions-data.ts's rows as COPY text for PREDICTION_COPY_COLUMNS, as the bulk route stores
 * them (the row source lays out each pooled feature vector as the float8[] and jsonb array texts once).
 */
function storedCopyFormat(deployment: Pick<Deployment, 'key'>, batchKey: number, model: number): RowFormat {
  const keys = `\t${deployment.key}\t${model}\t`;
  const head = `${batchKey}\t`;
  return (row, out) => {
    out.write(head);
    out.write(row.timestamp);
    out.write('\t');
    out.write(row.prediction);
    out.write(keys);
    out.write(row.numeric);
    out.write('\t');
    out.write(row.categorical);
    out.write('\t\\N\t\\N\t');
    if (!isCanonicalUuid(row.associationId)) throw new Error(`association id ${row.associationId} is not a canonical UUID`);
    out.write(row.associationId);
    out.write('\t\\N\n');
  };
}

/** A batch of the benchmark: its id and name (the export writes both into every row) and its rows. */
interface BenchBatch {
  id: string;
  /** monitoring_batches.key: what its stored rows carry. */
  key: number;
  name: string;
  rows: number;
}

/**
 * postgres.js pauses its socket when a CopyData push finds the stream full and resumes it only from
 * the stream's read(): after the last push, one more read() (as src/modules/exports/snapshot.ts does).
 */
function resumeAfterCopy(stream: Readable): void {
  (stream as unknown as { _read: () => void })._read();
}

interface Streamed {
  status: number;
  bytes: number;
  lines: number;
  /** The whole body, when asked to keep it (or when the answer is not 200). */
  body: Buffer | null;
  /** The body's last bytes (at least `tailBytes` when it is that long). */
  tail: Buffer;
}

/**
 * A GET whose body is counted (bytes, newlines) and discarded as it arrives; rejects when the
 * response is cut off before its end (the server failing mid-stream).
 */
function streamGet(
  url: string,
  token: string,
  options: { keep?: boolean; tailBytes?: number; onData?: (bytes: number, lines: number) => void } = {},
): Promise<Streamed> {
  const tailBytes = options.tailBytes ?? 0;
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const ok = res.statusCode === 200;
      const keep = options.keep || !ok;
      const parts: Buffer[] = [];
      let tail: Buffer[] = [];
      let tailSize = 0;
      let bytes = 0;
      let lines = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        lines += countNewlines(chunk);
        if (keep) parts.push(chunk);
        if (tailBytes > 0) {
          tail.push(chunk);
          tailSize += chunk.length;
          while (tail.length > 1 && tailSize - tail[0]!.length >= tailBytes) tailSize -= tail.shift()!.length;
          if (tail.length > 64) tail = [Buffer.concat(tail)];
        }
        options.onData?.(bytes, lines);
      });
      res.once('error', (error) => reject(new Error(`GET ${url}: the response failed after ${bytes} bytes: ${String(error)}`)));
      res.once('close', () => {
        if (!res.complete) reject(new Error(`GET ${url}: the response was cut off after ${bytes} bytes`));
      });
      res.once('end', () =>
        resolve({ status: res.statusCode ?? 0, bytes, lines, body: keep ? Buffer.concat(parts) : null, tail: Buffer.concat(tail) }),
      );
    });
    req.once('error', reject);
  });
}

/** Rows and row groups in a Parquet file's footer, as parquet-wasm (arrow-rs) reads them. */
async function parquetFooter(file: Blob): Promise<{ rows: number; rowGroups: number }> {
  const parquet = await ParquetFile.fromFile(file);
  try {
    const metadata = parquet.metadata();
    return { rows: Number(metadata.fileMetadata().numRows()), rowGroups: metadata.numRowGroups() };
  } finally {
    parquet.free();
  }
}

/**
 * The footer of a streamed Parquet body of which only the last bytes were kept: they are written at
 * their place in a sparse scratch file (the rest is a hole, no disk used), which parquet-wasm reads
 * as a file-backed Blob — it reads only the footer.
 */
async function parquetFooterFromTail(totalBytes: number, tail: Buffer, dir: string): Promise<{ rows: number; rowGroups: number }> {
  const last8 = tail.subarray(tail.length - 8);
  if (last8.subarray(4).toString('latin1') !== 'PAR1') throw new Error('the body does not end with a Parquet footer (PAR1)');
  const footerLength = last8.readUInt32LE(0);
  if (footerLength + 8 > tail.length) throw new Error(`the footer (${footerLength} bytes) is longer than the ${tail.length} bytes kept`);
  const file = path.join(dir, `tail-${process.pid}.parquet`);
  const fd = fs.openSync(file, 'w');
  try {
    fs.ftruncateSync(fd, totalBytes);
    fs.writeSync(fd, tail, 0, tail.length, totalBytes - tail.length);
  } finally {
    fs.closeSync(fd);
  }
  try {
    return await parquetFooter(await fs.openAsBlob(file));
  } finally {
    fs.rmSync(file, { force: true });
  }
}

interface ExportJson {
  id: string;
  status: 'CREATED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  error: { message: string } | null;
  batches: { batchIds: string[] };
  rowCount: number | null;
  rowsWritten: number;
  sizeBytes: number | null;
  downloadUrl: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

async function main() {
  const tmpFree = freeBytes();
  const needed = (ROWS + CHECK_ROWS) * DISK_BYTES_PER_ROW;
  progress(
    `rows ${fmt(ROWS)} × ${FEATURES.length} features in ${BATCHES} batches, repeat ${REPEAT}${SKIP_PARQUET ? ', no Parquet' : ''}${SKIP_EXPORT ? ', no createDataExport' : ''}; free disk ${gb(tmpFree)} GB (need ~${gb(needed)} GB)`,
  );
  if (!process.env.DATABASE_URL && tmpFree < needed) {
    throw new Error(`not enough free disk in ${process.env.TMPDIR ?? '/tmp'}: ${gb(tmpFree)} GB free, ~${gb(needed)} GB needed`);
  }

  db = await startDatabase({ log: progress });
  const sql = db.sql;
  progress(`PostgreSQL: ${db.version.split(' ').slice(0, 2).join(' ')}`);
  const postmaster = await postmasterPid(sql);
  // The baseline's connection, made as the server makes its own (no Nagle delay, same options).
  baselineDb = connect(db.url, { max: 1 });

  exportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'batchlens-bench-exports-'));
  scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), 'batchlens-bench-scratch-'));
  const serverOptions = {
    databaseUrl: db.url,
    env: { BATCHLENS_EXPORT_DIR: exportDir },
    nodeArgs: CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : [],
  };
  server = await startServer(serverOptions);
  const serverStartMb = mb(readMemory(server.pid)!.rss);
  progress(`server pid ${server.pid} at ${server.url}, RSS ${serverStartMb} MB; exports written to ${exportDir}`);
  let url = server.url;
  /**
   * A fresh server process on the same database before each timed route run: a process's RSS never
   * shrinks back, so a peak measured after another kind's run would be that run's peak.
   */
  const restartServer = async () => {
    const adminToken = server!.adminToken;
    await server!.stop();
    server = await startServer({ ...serverOptions, adminToken });
    url = server.url;
  };

  const org = await createOrganization(url, server.adminToken);
  const token = org.token;
  const created = await createDeployment(url, token, { features: FEATURES });
  const [deploymentRow] = await baselineDb.db.select().from(deployments).where(eq(deployments.id, created.id));
  if (!deploymentRow) throw new Error(`deployment ${created.id} not found in the database`);
  const plan: ExportPlan = exportPlan(deploymentRow, false);
  // The model's key, made as the first upload would make it.
  const model = await modelKey(baselineDb.db, created.id, created.modelId);
  const header = `${plan.columns.map((c) => c.name).join(',')}\n`;
  const headerBytes = Buffer.byteLength(header);

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

  // --- Data: the check batch first (so that lastN = --batches selects the others), then the batches --
  const load = async (name: string, rows: number, idTag: string): Promise<BenchBatch> => {
    const batch = await createBatch(url, token, created.id, name);
    const [{ key }] = (await sql`select key from monitoring_batches where id = ${batch.id}`) as unknown as [{ key: string }];
    const format = storedCopyFormat(deploymentRow, Number(key), model);
    await copyFrom(sql, COPY_STATEMENT, rowChunks({ rows, seed: SEED, idTag, chunkRows: 2000 }, format));
    return { id: batch.id, key: Number(key), name: batch.name, rows };
  };
  const loadStarted = performance.now();
  const checkBatch = await load('export check', CHECK_ROWS, 'check');
  const batches: BenchBatch[] = [];
  for (let i = 0; i < BATCHES; i++) {
    const rows = Math.floor(ROWS / BATCHES) + (i < ROWS % BATCHES ? 1 : 0);
    const batchStarted = performance.now();
    batches.push(await load(`export ${i + 1}`, rows, `batch-${i + 1}`));
    progress(
      `  loaded batch ${i + 1}/${BATCHES}: ${fmt(rows)} rows by COPY in ${((performance.now() - batchStarted) / 1000).toFixed(1)} s`,
    );
  }
  // The ingest path keeps these per batch; the COPY above does not: set them from the rows.
  await sql`
    update monitoring_batches b
    set prediction_count = s.n, earliest_prediction_at = s.earliest, latest_prediction_at = s.latest
    from (select batch_key, count(*) as n, min(timestamp) as earliest, max(timestamp) as latest
          from predictions where deployment_key = ${deploymentRow.key} group by batch_key) s
    where b.key = s.batch_key and b.deployment_id = ${created.id}`;
  const counts = await sql<{ id: string; prediction_count: string }[]>`
    select id, prediction_count::text from monitoring_batches where deployment_id = ${created.id}`;
  const countOf = new Map(counts.map((row) => [row.id, Number(row.prediction_count)]));
  for (const batch of [checkBatch, ...batches]) {
    if (countOf.get(batch.id) !== batch.rows)
      throw new Error(`batch ${batch.id}: prediction_count ${countOf.get(batch.id)}, copied ${batch.rows}`);
  }
  await sql.unsafe('vacuum analyze predictions');
  await sql.unsafe('vacuum analyze monitoring_batches');
  await sql`checkpoint`;
  const tableBytes = Number(
    ((await sql`select pg_total_relation_size('predictions')::bigint as bytes`) as unknown as [{ bytes: string }])[0].bytes,
  );
  progress(
    `loaded ${fmt(ROWS + CHECK_ROWS)} rows in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s (with counts, VACUUM ANALYZE, CHECKPOINT); predictions table with its indexes ${mb(tableBytes)} MB`,
  );

  // --- The baseline and the routes -----------------------------------------------------------------
  /** The statement ExportSnapshot.csv sends for a batch (no model filter, no actuals). */
  const copySql = (batch: BenchBatch) =>
    `copy (select ${csvSelectList(plan, batch)} from predictions p join prediction_models m on m.key = p.model_key where p.batch_key = ${batch.key} order by p.id) to stdout with (format csv)`;

  async function copyBaseline(list: BenchBatch[], options: { keep?: boolean } = {}) {
    const conn = await baselineDb!.pg.reserve();
    const started = performance.now();
    let bytes = 0;
    let lines = 0;
    const parts: Buffer[] = [];
    try {
      await conn.unsafe('begin isolation level repeatable read, read only');
      await conn.unsafe('set local standard_conforming_strings = on');
      for (const batch of list) {
        const stream = (await conn.unsafe(copySql(batch)).readable()) as Readable;
        try {
          for await (const data of stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
            bytes += data.length;
            lines += countNewlines(data);
            if (options.keep) parts.push(data);
          }
        } finally {
          resumeAfterCopy(stream);
        }
      }
      await conn.unsafe('commit');
    } catch (error) {
      await conn.unsafe('rollback').catch(() => {});
      throw error;
    } finally {
      conn.release();
    }
    return { ms: performance.now() - started, bytes, lines, body: options.keep ? Buffer.concat(parts) : null };
  }

  const batchUrl = (batch: BenchBatch, format: 'csv' | 'parquet') =>
    `${url}/api/v2/deployments/${created.id}/monitoringBatches/${batch.id}/predictions/?format=${format}`;

  /** Runs `createDataExport` to SUCCEEDED; the export JSON, the client-seen time and the file's path. */
  async function runExport(
    selection: { lastN: number } | { batchIds: string[] },
    format: 'csv' | 'parquet',
    onTick?: (exp: ExportJson) => void,
  ) {
    const started = performance.now();
    const answer = await rest<ExportJson>('POST', `/api/v2/deployments/${created.id}/predictionDataExports/`, { ...selection, format });
    if (answer.status !== 202) throw new Error(`POST predictionDataExports: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
    const id = answer.body.id;
    const selected = answer.body.batches.batchIds;
    // Generous: far slower than any run seen means something is stuck.
    const deadline = Date.now() + 600_000 + ROWS;
    let lastTick = performance.now();
    for (;;) {
      const { status, body: exp } = await rest<ExportJson>('GET', `/api/v2/deployments/${created.id}/predictionDataExports/${id}/`);
      if (status !== 200) throw new Error(`GET export ${id}: HTTP ${status} ${JSON.stringify(exp)}`);
      if (exp.status === 'SUCCEEDED') {
        const ms = performance.now() - started;
        const file = path.join(exportDir!, `${id}.${format}`);
        const serverMs = exp.startedAt && exp.finishedAt ? Date.parse(exp.finishedAt) - Date.parse(exp.startedAt) : NaN;
        return { exp, ms, serverMs, file, selected };
      }
      if (exp.status === 'FAILED') throw new Error(`export ${id} FAILED: ${exp.error?.message}\n${server!.output()}`);
      if (Date.now() > deadline) throw new Error(`export ${id} still ${exp.status} (${exp.rowsWritten} rows written) at the deadline`);
      if (onTick && performance.now() - lastTick >= 10_000) {
        lastTick = performance.now();
        onTick(exp);
      }
      await sleep(POLL_MS);
    }
  }

  // --- Check: the route's bytes against the baseline's (2,000 rows in their own batch) -------------
  {
    const baseline = await copyBaseline([checkBatch], { keep: true });
    const csv = await streamGet(batchUrl(checkBatch, 'csv'), token, { keep: true });
    if (csv.status !== 200) throw new Error(`check: GET ?format=csv: HTTP ${csv.status} ${csv.body!.toString('utf8').slice(0, 2000)}`);
    const body = csv.body!;
    const firstLine = body.subarray(0, body.indexOf(10) + 1).toString('utf8');
    if (firstLine !== header) throw new Error(`check: the CSV header is ${JSON.stringify(firstLine)}, expected ${JSON.stringify(header)}`);
    if (baseline.lines !== CHECK_ROWS) throw new Error(`check: the baseline COPY gave ${baseline.lines} lines, expected ${CHECK_ROWS}`);
    if (!body.subarray(headerBytes).equals(baseline.body!)) {
      const rest = body.subarray(headerBytes);
      let at = 0;
      while (at < rest.length && rest[at] === baseline.body![at]) at++;
      throw new Error(
        `check: the route's CSV (${rest.length} bytes after the header) differs from the baseline COPY's (${baseline.body!.length} bytes) at byte ${at}: ${JSON.stringify(rest.subarray(at, at + 80).toString('utf8'))} vs ${JSON.stringify(baseline.body!.subarray(at, at + 80).toString('utf8'))}`,
      );
    }
    progress(`check: the CSV route's ${CHECK_ROWS} rows (${fmt(body.length)} bytes) = header + the baseline COPY's output, byte for byte`);

    if (!SKIP_PARQUET) {
      const parquet = await streamGet(batchUrl(checkBatch, 'parquet'), token, { keep: true });
      if (parquet.status !== 200) {
        throw new Error(`check: GET ?format=parquet: HTTP ${parquet.status} ${parquet.body!.toString('utf8').slice(0, 2000)}`);
      }
      const footer = await parquetFooter(new Blob([new Uint8Array(parquet.body!)]));
      const groups = Math.ceil(CHECK_ROWS / ROW_GROUP_ROWS);
      if (footer.rows !== CHECK_ROWS || footer.rowGroups !== groups) {
        throw new Error(
          `check: the Parquet footer says ${footer.rows} rows in ${footer.rowGroups} row groups, expected ${CHECK_ROWS} in ${groups}`,
        );
      }
      // Cell by cell against the CSV: an empty unquoted CSV cell is NULL.
      const records = parse(body, { cast: (value, context) => (value === '' && !context.quoting ? null : value) }) as (string | null)[][];
      const table = tableFromIPC(readParquet(new Uint8Array(parquet.body!)).intoIPCStream());
      const names = plan.columns.map((c) => c.name);
      const columns = table.schema.fields.map((f) => f.name);
      if (JSON.stringify(columns) !== JSON.stringify(names) || table.numRows !== CHECK_ROWS) {
        throw new Error(
          `check: the Parquet table has ${table.numRows} rows and the columns ${columns.join(',')}; expected ${names.join(',')}`,
        );
      }
      const vectors = names.map((name) => table.getChild(name)!);
      for (let r = 0; r < CHECK_ROWS; r++) {
        const text = records[r + 1]!;
        plan.columns.forEach((column, c) => {
          const raw = vectors[c]!.get(r) as unknown;
          const value = raw instanceof Date ? raw.getTime() : typeof raw === 'bigint' ? Number(raw) : raw;
          const cell = text[c] ?? null;
          const expected =
            cell === null ? null : column.type === 'DOUBLE' ? Number(cell) : column.type === 'TIMESTAMP' ? Date.parse(cell) : cell;
          if (value !== expected) {
            throw new Error(
              `check: Parquet row ${r + 1}, column ${column.name}: ${JSON.stringify(value)}; the CSV has ${JSON.stringify(cell)}`,
            );
          }
        });
      }
      progress(
        `check: the Parquet route's file (${fmt(parquet.bytes)} bytes) read by parquet-wasm: ${footer.rows} rows, ${names.length} columns, every cell equal to the CSV's`,
      );
    }

    if (!SKIP_EXPORT) {
      const csvExport = await runExport({ batchIds: [checkBatch.id] }, 'csv');
      const file = fs.readFileSync(csvExport.file);
      if (!file.equals(body) || csvExport.exp.rowCount !== CHECK_ROWS || csvExport.exp.sizeBytes !== file.length) {
        throw new Error(
          `check: the CSV export (rowCount ${csvExport.exp.rowCount}, sizeBytes ${csvExport.exp.sizeBytes}, file ${file.length} bytes) is not the streamed CSV (${body.length} bytes)`,
        );
      }
      fs.rmSync(csvExport.file);
      let parquetNote = '';
      if (!SKIP_PARQUET) {
        const parquetExport = await runExport({ batchIds: [checkBatch.id] }, 'parquet');
        const footer = await parquetFooter(await fs.openAsBlob(parquetExport.file));
        if (footer.rows !== CHECK_ROWS || parquetExport.exp.rowCount !== CHECK_ROWS) {
          throw new Error(`check: the Parquet export has ${footer.rows} rows in its footer, rowCount ${parquetExport.exp.rowCount}`);
        }
        fs.rmSync(parquetExport.file);
        parquetNote = `, the Parquet export ${footer.rows} rows`;
      }
      progress(`check: createDataExport of that batch: the CSV file = the streamed CSV, byte for byte${parquetNote}`);
    }
  }

  // --- Timed runs -----------------------------------------------------------------------------------
  const kinds: Kind[] = ['copy', 'csv_stream'];
  if (!SKIP_EXPORT) kinds.push('csv_export');
  if (!SKIP_PARQUET) kinds.push('parquet_stream');
  if (!SKIP_PARQUET && !SKIP_EXPORT) kinds.push('parquet_export');

  interface Run {
    kind: Kind;
    round: number;
    ms: number;
    rowsPerS: number;
    bytes: number;
    /** Exports: the server's startedAt → finishedAt. */
    serverMs: number | null;
    rssStartMb: number | null;
    rssPeakMb: number | null;
    cpu: Record<string, number>;
    otherCores: number;
  }
  const runs: Run[] = [];
  const quiet = async () => {
    if (QUIET_WAIT_S === 0) return;
    const load = await waitForQuiet({
      maxCores: QUIET_CORES,
      timeoutMs: QUIET_WAIT_S * 1000,
      onWait: (cores) => progress(`  other processes use ${cores} cores: waiting up to ${QUIET_WAIT_S} s for a quiet machine`),
    });
    if (!load.quiet) progress(`  still ${load.cores} cores busy elsewhere: measuring anyway (this run is contended)`);
  };
  /** Bytes of the COPY baseline's output (the same every run): the CSV routes' bytes are checked against it. */
  let copyBytes: number | undefined;

  for (let r = 1; r <= REPEAT; r++) {
    for (const kind of kinds) {
      if (kind !== 'copy') await restartServer();
      await sql`checkpoint`;
      await quiet();
      const label = `${kind} ${r}`;
      const meter = new TreeCpuMeter(postmaster, { server: server.pid });
      const sampler = kind === 'copy' ? null : new RssSampler(server.pid, 100);
      const rssSoFar = () => (sampler ? `, server RSS peak so far ${mb(sampler.currentPeak)} MB` : '');
      /** Stops the meters when the clock stops, before the run's checks. */
      let measured: { rss: RssSummary | undefined; cpu: Record<string, number> } | undefined;
      const stopMeters = () => {
        measured = { rss: sampler?.stop(), cpu: meter.stop() };
      };
      let ms: number;
      let bytes: number;
      let serverMs: number | null = null;
      if (kind === 'copy') {
        const result = await copyBaseline(batches);
        stopMeters();
        if (result.lines !== ROWS) throw new Error(`${label}: ${result.lines} lines, expected ${ROWS}`);
        if (copyBytes !== undefined && result.bytes !== copyBytes)
          throw new Error(`${label}: ${result.bytes} bytes, the first run had ${copyBytes}`);
        copyBytes = result.bytes;
        ms = result.ms;
        bytes = result.bytes;
      } else if (kind === 'csv_stream' || kind === 'parquet_stream') {
        const format = kind === 'csv_stream' ? 'csv' : 'parquet';
        const started = performance.now();
        let lastTick = started;
        let doneBytes = 0;
        let doneLines = 0;
        const bodies: { batch: BenchBatch; bytes: number; lines: number; tail: Buffer }[] = [];
        for (const batch of batches) {
          const result = await streamGet(batchUrl(batch, format), token, {
            tailBytes: format === 'parquet' ? PARQUET_TAIL_BYTES : 0,
            onData: (b, l) => {
              const now = performance.now();
              if (now - lastTick < 10_000) return;
              lastTick = now;
              const rowsNote = format === 'csv' ? `${fmt(doneLines + l - bodies.length - 1)} rows, ` : '';
              progress(
                `  ${label}: batch ${bodies.length + 1}/${batches.length}, ${rowsNote}${mb(doneBytes + b)} MB so far, ${((now - started) / 1000).toFixed(0)} s${rssSoFar()}`,
              );
            },
          });
          if (result.status !== 200)
            throw new Error(`${label}: GET batch ${batch.id}: HTTP ${result.status} ${result.body!.toString('utf8').slice(0, 2000)}`);
          doneBytes += result.bytes;
          doneLines += result.lines;
          bodies.push({ batch, bytes: result.bytes, lines: result.lines, tail: result.tail });
        }
        ms = performance.now() - started;
        stopMeters();
        bytes = doneBytes;
        // Checks, outside the timed part.
        if (format === 'csv') {
          if (doneLines !== ROWS + batches.length)
            throw new Error(`${label}: ${doneLines} lines, expected ${ROWS} rows and ${batches.length} headers`);
          if (copyBytes !== undefined && doneBytes !== copyBytes + batches.length * headerBytes) {
            throw new Error(
              `${label}: ${doneBytes} bytes; the COPY baseline's ${copyBytes} and ${batches.length} headers make ${copyBytes + batches.length * headerBytes}`,
            );
          }
        } else {
          for (const body of bodies) {
            const footer = await parquetFooterFromTail(body.bytes, body.tail, scratchDir!);
            if (footer.rows !== body.batch.rows || footer.rowGroups !== Math.ceil(body.batch.rows / ROW_GROUP_ROWS)) {
              throw new Error(
                `${label}: batch ${body.batch.id}'s Parquet has ${footer.rows} rows in ${footer.rowGroups} row groups, expected ${body.batch.rows}`,
              );
            }
          }
        }
      } else {
        const format = kind === 'csv_export' ? 'csv' : 'parquet';
        const result = await runExport({ lastN: BATCHES }, format, (exp) =>
          progress(`  ${label}: ${exp.status}, ${fmt(exp.rowsWritten)} of ${fmt(exp.rowCount ?? 0)} rows written${rssSoFar()}`),
        );
        stopMeters();
        ms = result.ms;
        serverMs = round(result.serverMs);
        const { exp } = result;
        if (JSON.stringify(result.selected) !== JSON.stringify(batches.map((b) => b.id))) {
          throw new Error(`${label}: lastN ${BATCHES} selected ${JSON.stringify(result.selected)}, not the benchmark's batches in order`);
        }
        const size = fs.statSync(result.file).size;
        if (exp.rowCount !== ROWS || exp.sizeBytes !== size) {
          throw new Error(`${label}: rowCount ${exp.rowCount} (expected ${ROWS}), sizeBytes ${exp.sizeBytes}, file ${size} bytes`);
        }
        if (format === 'csv') {
          if (copyBytes !== undefined && size !== copyBytes + headerBytes) {
            throw new Error(
              `${label}: the file has ${size} bytes; the COPY baseline's ${copyBytes} and a header make ${copyBytes + headerBytes}`,
            );
          }
        } else {
          const footer = await parquetFooter(await fs.openAsBlob(result.file));
          if (footer.rows !== ROWS) throw new Error(`${label}: the file's footer says ${footer.rows} rows, expected ${ROWS}`);
        }
        fs.rmSync(result.file);
        bytes = size;
      }
      const { rss, cpu } = measured!;
      const run: Run = {
        kind,
        round: r,
        ms: round(ms),
        rowsPerS: round((ROWS / ms) * 1000),
        bytes,
        serverMs,
        rssStartMb: rss ? mb(rss.first) : null,
        rssPeakMb: rss ? mb(rss.peakSampled) : null,
        cpu,
        otherCores: cpu.other_cores!,
      };
      runs.push(run);
      progress(
        `${label}: ${fmt(ROWS)} rows in ${(ms / 1000).toFixed(2)} s = ${fmt(run.rowsPerS)} rows/s, ${fmt(bytes)} bytes${serverMs !== null ? ` (server startedAt → finishedAt ${(serverMs / 1000).toFixed(2)} s)` : ''}${rss ? `; server RSS ${run.rssStartMb} → peak ${run.rssPeakMb} MB` : ''}; CPU s: ${JSON.stringify(cpu)}${run.otherCores > QUIET_CORES ? ' (CONTENDED)' : ''}`,
      );
    }
  }
  const serverHwmMb = mb(readMemory(server.pid)!.hwm);
  await server.stop();
  server = undefined;
  if (CPU_PROF_DIR) progress(`server CPU profile written to ${CPU_PROF_DIR}`);

  // --- Figures --------------------------------------------------------------------------------------
  const uncontended = (kind: Kind) => runs.some((run) => run.kind === kind && run.otherCores <= QUIET_CORES);
  const trusted = kinds.every(uncontended);
  const counted = trusted ? runs.filter((run) => run.otherCores <= QUIET_CORES) : runs;
  const contended = runs.filter((run) => run.otherCores > QUIET_CORES).length;
  const rates = (kind: Kind) => counted.filter((run) => run.kind === kind).map((run) => run.rowsPerS);
  const best = (kind: Kind) => (kinds.includes(kind) ? Math.max(...rates(kind)) : null);
  const copyBest = best('copy')!;
  const ratioOf = (kind: Kind) => (kinds.includes(kind) ? round(best(kind)! / copyBest, 3) : null);
  const ratioOfMedians = (kind: Kind) => (kinds.includes(kind) ? round(median(rates(kind)) / median(rates('copy')), 3) : null);
  const bytesOf = (kind: Kind) => runs.find((run) => run.kind === kind)?.bytes ?? null;
  const rssPeak = (kind: Kind) => {
    const peaks = runs.filter((run) => run.kind === kind).map((run) => run.rssPeakMb!);
    return peaks.length ? Math.max(...peaks) : null;
  };
  const perKind = <T>(f: (kind: Kind) => T) => Object.fromEntries(kinds.map((kind) => [kind, f(kind)])) as Record<Kind, T>;
  const routeKinds = ROUTE_KINDS.filter((kind) => kinds.includes(kind));
  const sizeRatio = (parquet: Kind, csv: Kind) => {
    const p = bytesOf(parquet);
    const c = bytesOf(csv);
    return p !== null && c !== null ? round(p / c, 3) : null;
  };

  const csvRatio = ratioOf('csv_stream')!;
  const csvExportRatio = ratioOf('csv_export');
  const met = {
    csv_stream_ratio: csvRatio >= CSV_RATIO_GOAL,
    csv_export_ratio: csvExportRatio === null ? null : csvExportRatio >= CSV_RATIO_GOAL,
    rss: Object.fromEntries(routeKinds.map((kind) => [kind, rssPeak(kind)! <= RSS_GOAL_MB])),
  };
  const goalMet = met.csv_stream_ratio && met.csv_export_ratio !== false && Object.values(met.rss).every(Boolean);

  progress(`best rows/s${trusted ? ' (uncontended runs)' : ''}: ${kinds.map((kind) => `${kind} ${fmt(best(kind)!)}`).join(', ')}`);
  progress(
    `ratio to COPY: ${routeKinds.map((kind) => `${kind} ${ratioOf(kind)}`).join(', ')} (CSV goal ≥ ${CSV_RATIO_GOAL}); server RSS peak: ${routeKinds.map((kind) => `${kind} ${rssPeak(kind)} MB`).join(', ')} (goal ≤ ${RSS_GOAL_MB} MB; at start ${serverStartMb} MB)`,
  );
  if (!SKIP_PARQUET) progress(`Parquet size ÷ CSV size: ${sizeRatio('parquet_stream', 'csv_stream')} (streamed, per batch)`);
  if (!trusted) {
    progress(
      `WARNING: ${contended} of ${runs.length} runs shared the cores with other processes (> ${QUIET_CORES} cores) and some kind has no other run: the ratios are not trustworthy`,
    );
  }

  printResult({
    rows: ROWS,
    batches: BATCHES,
    features: FEATURES.length,
    repeat: REPEAT,
    row_group_rows: ROW_GROUP_ROWS,
    bytes: perKind(bytesOf),
    csv_header_bytes: headerBytes,
    parquet_csv_size_ratio: sizeRatio('parquet_stream', 'csv_stream'),
    parquet_csv_export_size_ratio: sizeRatio('parquet_export', 'csv_export'),
    rows_per_s: perKind(best),
    rows_per_s_runs: perKind((kind) => runs.filter((run) => run.kind === kind).map((run) => run.rowsPerS)),
    ratio_to_copy: Object.fromEntries(routeKinds.map((kind) => [kind, ratioOf(kind)])),
    ratio_of_medians: Object.fromEntries(routeKinds.map((kind) => [kind, ratioOfMedians(kind)])),
    csv_ratio: csvRatio,
    csv_export_ratio: csvExportRatio,
    server_rss_peak_mb: Object.fromEntries(routeKinds.map((kind) => [kind, rssPeak(kind)])),
    server_rss_start_mb: serverStartMb,
    server_hwm_mb: serverHwmMb,
    runs: runs.map((run) => ({
      kind: run.kind,
      round: run.round,
      rows_per_s: run.rowsPerS,
      ms: run.ms,
      bytes: run.bytes,
      ...(run.serverMs !== null ? { server_ms: run.serverMs } : {}),
      ...(run.rssPeakMb !== null ? { server_rss_start_mb: run.rssStartMb, server_rss_peak_mb: run.rssPeakMb } : {}),
      cpu_s: run.cpu,
      other_cores: run.otherCores,
      contended: run.otherCores > QUIET_CORES,
    })),
    contended_runs: contended,
    ratio_from_uncontended_runs: trusted,
    table_bytes: tableBytes,
    database: db.embedded ? 'embedded' : 'DATABASE_URL',
    csv_ratio_goal: CSV_RATIO_GOAL,
    rss_goal_mb: RSS_GOAL_MB,
    met,
    goal_met: goalMet,
  });
}

await runBenchmark(main, cleanup);
