/**
 * Issue 15 benchmark: what the probability histogram of a binary deployment's predictions (one more
 * packed 1,000-bin numeric added to the prediction row's batch_column_stats upsert, per batch and
 * model, per request) costs ingest, measured against a checkout without it on the same database.
 *
 *   npx tsx bench/probability-histogram.ts --baseline-root DIR [--rows 200000] [--requests 300]
 *                                          [--request-rows 10] [--repeat 2] [--quiet-wait 60] [--seed 1]
 *
 * DIR: a checkout of the version before (with its node_modules), e.g.
 *   git archive <commit before migration 0015> | tar -x -C DIR && ln -s $PWD/node_modules DIR/
 * It must use the same predictions table: this checkout's server starts first and migrates (0015
 * only adds a nullable column, which the older server never writes).
 *
 * A BINARY deployment with bench/ingest.ts's 20 features (bench/lib/predictions-data.ts), each
 * row's probability a logistic of that generator's prediction. Each round, both servers take turns
 * (alternating who goes first):
 * - bulk: `--rows` rows in one NDJSON upload to the bulk route, into a new batch (rows/s, first
 *   byte → response); predictions truncated and a CHECKPOINT before each;
 * - small: `--requests` sequential uploads of `--request-rows` rows each into one new batch (so the
 *   batch's histogram is read, added to and written again every request, its worst case); p50 and
 *   mean latency per request.
 * ratio = this checkout ÷ baseline (rows/s for bulk; requests/s = 1 / mean latency for small), best
 * and median of the rounds; overhead = 1 − ratio. Other processes' CPU during each run is printed
 * (the cores are shared). The last line is the JSON of the figures.
 */

import { createBatch, createDeployment, createOrganization } from './lib/api.js';
import { Flags } from './lib/args.js';
import { CpuMeter, postgresPids, waitForQuiet } from './lib/cpu.js';
import { type BenchDatabase, startDatabase } from './lib/database.js';
import { FEATURES, type RowFormat, rowChunks } from './lib/predictions-data.js';
import { median, onShutdown, printResult, progress, round, runBenchmark } from './lib/report.js';
import { type BenchServer, startServer } from './lib/server.js';
import { postStream } from './lib/upload.js';

const flags = new Flags().allow(['baseline-root', 'rows', 'requests', 'request-rows', 'repeat', 'quiet-wait', 'seed']);
const BASELINE_ROOT = flags.string('baseline-root');
const ROWS = flags.int('rows', 200_000, 1);
const REQUESTS = flags.int('requests', 300, 1);
const REQUEST_ROWS = flags.int('request-rows', 10, 1);
const REPEAT = flags.int('repeat', 2, 1);
const QUIET_WAIT_S = flags.int('quiet-wait', 60);
const SEED = flags.int('seed', 1);

let db: BenchDatabase | undefined;
let server: BenchServer | undefined;
let baseline: BenchServer | undefined;
const cleanup = onShutdown(async () => {
  await server?.stop();
  await baseline?.stop();
  await db?.stop();
});

/** The bulk route's NDJSON line with a probability instead of bench/ingest.ts's regression value. */
const binaryNdjson: RowFormat = (row, out) => {
  const p = 1 / (1 + Math.exp(-(Number(row.prediction) - 100) / 25));
  out.write('{"features":');
  out.write(row.features);
  out.write(',"prediction":');
  out.write(String(p));
  out.write(',"associationId":"');
  out.write(row.associationId);
  out.write('","timestamp":"');
  out.write(row.timestamp);
  out.write('"}\n');
};

async function main() {
  if (!BASELINE_ROOT) throw new Error('--baseline-root DIR is required (a checkout of the version before, see the header)');
  db = await startDatabase({ log: progress });
  const sql = db.sql;
  server = await startServer({ databaseUrl: db.url });
  baseline = await startServer({ databaseUrl: db.url, root: BASELINE_ROOT, adminToken: server.adminToken });
  progress(`server pid ${server.pid}, baseline (${BASELINE_ROOT}) pid ${baseline.pid}`);
  const org = await createOrganization(server.url, server.adminToken);
  const deployment = await createDeployment(server.url, org.token, {
    features: FEATURES,
    targetType: 'BINARY',
    classNames: ['no', 'yes'],
    positiveClass: 'yes',
  });
  const bulkUrl = (through: BenchServer, batchId: string) =>
    `${through.url}/api/v2/deployments/${deployment.id}/monitoringBatches/${batchId}/predictions`;

  async function upload(through: BenchServer, batchId: string, rows: number, idTag: string, chunkRows: number) {
    const result = await postStream(bulkUrl(through, batchId), {
      token: org.token,
      contentType: 'application/x-ndjson',
      body: rowChunks({ rows, seed: SEED, idTag, chunkRows }, binaryNdjson),
    });
    if (result.status !== 200 || (result.body as { rowCount?: number }).rowCount !== rows)
      throw new Error(`upload failed: HTTP ${result.status} ${JSON.stringify(result.body).slice(0, 1000)}`);
    return result.ms;
  }

  const quiet = async () => {
    if (QUIET_WAIT_S === 0) return;
    const load = await waitForQuiet({ maxCores: 0.25, timeoutMs: QUIET_WAIT_S * 1000 });
    if (!load.quiet) progress(`  ${load.cores} cores busy elsewhere: measuring anyway`);
  };
  const meter = async (through: BenchServer) => new CpuMeter({ server: [through.pid], postgres: await postgresPids(sql) });

  type Who = 'this' | 'baseline';
  const bulk: Record<Who, number[]> = { this: [], baseline: [] };
  const small: Record<Who, { p50: number; mean: number }[]> = { this: [], baseline: [] };
  for (let r = 1; r <= REPEAT; r++) {
    const order: Who[] = r % 2 ? ['this', 'baseline'] : ['baseline', 'this'];
    for (const who of order) {
      const through = who === 'this' ? server : baseline;
      await sql`truncate predictions`;
      await sql`checkpoint`;
      await quiet();
      const batch = await createBatch(server.url, org.token, deployment.id, `bulk ${who} ${r}`);
      const cpu = await meter(through);
      const ms = await upload(through, batch.id, ROWS, `bulk-${who}-${r}`, 1000);
      const seconds = ms / 1000;
      bulk[who].push(round(ROWS / seconds));
      progress(`round ${r} bulk ${who}: ${round(ROWS / seconds)} rows/s (others ${round(cpu.stop().other! / seconds, 2)} cores)`);
    }
    for (const who of order) {
      const through = who === 'this' ? server : baseline;
      await quiet();
      const batch = await createBatch(server.url, org.token, deployment.id, `small ${who} ${r}`);
      const cpu = await meter(through);
      const latencies: number[] = [];
      const started = performance.now();
      for (let i = 0; i < REQUESTS; i++)
        latencies.push(await upload(through, batch.id, REQUEST_ROWS, `small-${who}-${r}-${i}`, REQUEST_ROWS));
      const seconds = (performance.now() - started) / 1000;
      const figures = { p50: round(median(latencies), 2), mean: round(latencies.reduce((a, b) => a + b, 0) / latencies.length, 2) };
      small[who].push(figures);
      progress(
        `round ${r} small ${who}: ${REQUESTS} × ${REQUEST_ROWS} rows, p50 ${figures.p50} ms, mean ${figures.mean} ms (others ${round(cpu.stop().other! / seconds, 2)} cores)`,
      );
    }
  }
  const [stored] = await sql<{ n: string }[]>`
    select count(*) as n from batch_column_stats where deployment_id = ${deployment.id} and probability_bins is not null`;
  const ratio = (a: number, b: number) => round(a / b, 3);
  const bulkBest = ratio(Math.max(...bulk.this), Math.max(...bulk.baseline));
  const bulkMedian = ratio(median(bulk.this), median(bulk.baseline));
  // Requests/s ratio = baseline mean latency ÷ this mean latency.
  const smallBest = ratio(Math.min(...small.baseline.map((s) => s.mean)), Math.min(...small.this.map((s) => s.mean)));
  const smallMedian = ratio(median(small.baseline.map((s) => s.mean)), median(small.this.map((s) => s.mean)));
  progress(`bulk ${ROWS} rows: ratio ${bulkBest} (best), ${bulkMedian} (median); overhead ${round((1 - bulkBest) * 100, 1)}%`);
  progress(
    `small ${REQUESTS} × ${REQUEST_ROWS} rows: ratio ${smallBest} (best), ${smallMedian} (median); overhead ${round((1 - smallBest) * 100, 1)}%`,
  );
  progress(`histograms written by this checkout: ${stored!.n} prediction rows with probability_bins`);
  printResult({
    rows: ROWS,
    requests: REQUESTS,
    request_rows: REQUEST_ROWS,
    bulk_rows_per_s: bulk,
    small_latency_ms: small,
    bulk_ratio_best: bulkBest,
    bulk_ratio_median: bulkMedian,
    small_ratio_best: smallBest,
    small_ratio_median: smallMedian,
  });
}

void runBenchmark(main, cleanup);
