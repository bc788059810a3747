/**
 * Issue 3 benchmark: bulk ingest throughput against raw COPY, and the server's memory on a very
 * large upload.
 *
 *   npx tsx bench/ingest.ts [--rows 1000000] [--rss-rows 10000000] [--skip-rss] [--repeat 2]
 *                           [--max-repeat 4] [--quiet-wait 120] [--seed 1] [--cpu-prof DIR]
 *                           [--keep-request-timeout] [--baseline-root DIR]
 *
 * 1. Starts PostgreSQL (DATABASE_URL, or an embedded one in a temporary directory) and the server
 *    as its own process (`node --import tsx src/main.ts`), creates an organization and a REGRESSION
 *    deployment with 20 features (15 numeric, 5 categorical).
 * 2. Checks that both paths store the same rows (a 2,000-row sample each way, compared column by
 *    column).
 * 3. `--repeat` times, alternating: `--rows` rows through the bulk route (NDJSON over HTTP, every
 *    row with an association id and a timestamp), then the same rows by a raw COPY from this process
 *    into the same predictions table (another batch of the same deployment). Before every timed run
 *    the predictions table is truncated and a CHECKPOINT taken, so every run starts from the same
 *    state. rows/s = rows / wall time (bulk: first byte sent → response read; COPY: first byte →
 *    COPY confirmed). ratio = best bulk / best COPY.
 *    The cores are shared with whatever else runs on the machine: before each run it waits (up to
 *    --quiet-wait s) for other processes to use < 0.25 cores, measures what they used during the
 *    run, and counts only uncontended runs when both kinds have one (adding pairs up to
 *    --max-repeat until they do).
 *    With --baseline-root DIR (a checkout of another version, with its node_modules, e.g. the commit
 *    before a change), a second server from that checkout on the same database takes part too: each
 *    pair becomes a triple (bulk, bulk through the baseline server — the two take turns going first —,
 *    COPY) and `overhead` = 1 − best
 *    bulk ÷ best baseline bulk says what the change costs the route (negative: it got faster).
 * 4. A fresh server process, `--rss-rows` rows in one bulk request, VmRSS sampled every 100 ms;
 *    peak = max(sampled peak, VmHWM) of the server process (its peak since it started).
 *
 * The last line is the JSON of the figures.
 */

import { createBatch, createDeployment, createOrganization } from './lib/api.js';
import { Flags } from './lib/args.js';
import { copyFrom } from './lib/copy.js';
import { CpuMeter, postgresPids, waitForQuiet } from './lib/cpu.js';
import { type BenchDatabase, startDatabase } from './lib/database.js';
import { freeBytes, gb } from './lib/disk.js';
import { copyFormat, FEATURES, ndjsonFormat, rowChunks } from './lib/predictions-data.js';
import { median, onShutdown, printResult, progress, round, runBenchmark } from './lib/report.js';
import { mb, RssSampler, readMemory } from './lib/rss.js';
import { type BenchServer, liftRequestTimeout, startServer } from './lib/server.js';
import { postStream } from './lib/upload.js';

const flags = new Flags().allow([
  'rows',
  'rss-rows',
  'skip-rss',
  'repeat',
  'seed',
  'cpu-prof',
  'quiet-wait',
  'keep-request-timeout',
  'max-repeat',
  'baseline-root',
]);
const ROWS = flags.int('rows', 1_000_000, 1);
const RSS_ROWS = flags.int('rss-rows', 10_000_000, 1);
const SKIP_RSS = flags.bool('skip-rss');
const REPEAT = flags.int('repeat', 2, 1);
/** More bulk/COPY pairs (up to this many in all) while either kind has no uncontended run yet. */
const MAX_REPEAT = Math.max(REPEAT, flags.int('max-repeat', 4, 1));
const SEED = flags.int('seed', 1);
const CPU_PROF_DIR = flags.string('cpu-prof');
/** Seconds to wait, before each timed run, for other processes to leave the cores alone (0: don't). */
const QUIET_WAIT_S = flags.int('quiet-wait', 120);
/**
 * Node's default requestTimeout (300 s) cuts off a bulk upload that takes longer (batchlens does not
 * set it): for the RSS run the server gets it lifted by a preload, unless this flag is given.
 */
const KEEP_REQUEST_TIMEOUT = flags.bool('keep-request-timeout');
/** Another checkout whose server is measured beside this one's (see 3. above). */
const BASELINE_ROOT = flags.string('baseline-root');
/** Other processes' load (in cores) above which the machine counts as busy, before and during a run. */
const QUIET_CORES = 0.25;
const RATIO_GOAL = 0.6;
const RSS_GOAL_MB = 300;
/** Disk per row, generous: the table with its indexes (table_bytes_per_row in the output) plus WAL not yet recycled. */
const DISK_BYTES_PER_ROW = 1500;

let db: BenchDatabase | undefined;
let server: BenchServer | undefined;
let baselineServer: BenchServer | undefined;
const cleanup = onShutdown(async () => {
  await server?.stop();
  await baselineServer?.stop();
  await db?.stop();
});

/** Counts rows as chunks leave, for progress lines. */
async function* counted(chunks: AsyncIterable<Buffer>, rowsPerChunk: number, onChunk: (rows: number) => void): AsyncGenerator<Buffer> {
  let rows = 0;
  for await (const chunk of chunks) {
    yield chunk;
    rows += rowsPerChunk;
    onChunk(rows);
  }
}

function progressEvery(label: string, total: number, seconds: number, extra: () => string = () => '') {
  const started = performance.now();
  let last = started;
  return (rows: number) => {
    const now = performance.now();
    if (now - last < seconds * 1000) return;
    last = now;
    const rate = rows / ((now - started) / 1000);
    const eta = (total - rows) / rate;
    progress(
      `  ${label}: ${Math.min(rows, total).toLocaleString('en')} rows sent, ${Math.round(rate).toLocaleString('en')} rows/s, ~${Math.round(eta)} s left${extra()}`,
    );
  };
}

async function main() {
  const tmpFree = freeBytes();
  const needed = (ROWS + (SKIP_RSS ? 0 : RSS_ROWS)) * DISK_BYTES_PER_ROW;
  progress(
    `rows ${ROWS.toLocaleString('en')}, repeat ${REPEAT}, rss rows ${SKIP_RSS ? 'skipped' : RSS_ROWS.toLocaleString('en')}; free disk ${gb(tmpFree)} GB (need ~${gb(needed)} GB)`,
  );
  if (!process.env.DATABASE_URL && tmpFree < needed) {
    throw new Error(`not enough free disk in ${process.env.TMPDIR ?? '/tmp'}: ${gb(tmpFree)} GB free, ~${gb(needed)} GB needed`);
  }

  db = await startDatabase({ log: progress });
  const sql = db.sql;
  progress(`PostgreSQL: ${db.version.split(' ').slice(0, 2).join(' ')}`);
  const serverOptions = { databaseUrl: db.url, nodeArgs: CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : [] };
  server = await startServer(serverOptions);
  progress(`server pid ${server.pid} at ${server.url}, RSS ${mb(readMemory(server.pid)!.rss)} MB`);
  if (BASELINE_ROOT) {
    // Started second: this checkout's server has migrated the database; the baseline shares its admin.
    baselineServer = await startServer({ ...serverOptions, root: BASELINE_ROOT, adminToken: server.adminToken });
    progress(`baseline server (${BASELINE_ROOT}) pid ${baselineServer.pid} at ${baselineServer.url}`);
  }

  const org = await createOrganization(server.url, server.adminToken);
  const deployment = await createDeployment(server.url, org.token, { features: FEATURES });
  const copyPrefix = (batchId: string) => `${deployment.id}\t${batchId}\t${deployment.modelId}\t`;
  const copyStatement =
    'copy predictions (deployment_id, batch_id, model_id, timestamp, features, prediction, probabilities, predicted_label, association_id) from stdin';
  const bulkUrl = (batchId: string, through = server!) =>
    `${through.url}/api/v2/deployments/${deployment.id}/monitoringBatches/${batchId}/predictions`;

  async function bulk(rows: number, idTag: string, label: string, onRows?: (rows: number) => void, through = server!) {
    const batch = await createBatch(through.url, org.token, deployment.id, `${label} ${idTag}`);
    const chunkRows = 1000;
    const chunks = rowChunks({ rows, seed: SEED, idTag, chunkRows }, ndjsonFormat);
    const result = await postStream(bulkUrl(batch.id, through), {
      token: org.token,
      contentType: 'application/x-ndjson',
      body: onRows ? counted(chunks, chunkRows, onRows) : chunks,
    });
    const body = result.body as { rowCount?: number };
    if (result.status !== 200 || body.rowCount !== rows) {
      throw new Error(`bulk upload failed: HTTP ${result.status} ${JSON.stringify(result.body).slice(0, 2000)}\n${server!.output()}`);
    }
    return { batchId: batch.id, ms: result.ms, bytes: result.bytes };
  }

  async function copy(rows: number, idTag: string, label: string) {
    const batch = await createBatch(server!.url, org.token, deployment.id, `${label} ${idTag}`);
    const result = await copyFrom(sql, copyStatement, rowChunks({ rows, seed: SEED, idTag }, copyFormat(copyPrefix(batch.id))));
    return { batchId: batch.id, ms: result.ms, bytes: result.bytes };
  }

  const walLsn = async () => ((await sql`select pg_current_wal_lsn()::text as lsn`) as unknown as [{ lsn: string }])[0].lsn;
  const walBytesSince = async (lsn: string) =>
    Number(
      ((await sql`select pg_wal_lsn_diff(pg_current_wal_lsn(), ${lsn}::pg_lsn)::bigint as bytes`) as unknown as [{ bytes: string }])[0]
        .bytes,
    );

  const countRows = async (batchId: string) =>
    Number(((await sql`select count(*)::bigint as n from predictions where batch_id = ${batchId}`) as unknown as [{ n: string }])[0].n);

  // --- Same rows both ways? ---------------------------------------------------------------------
  {
    const sample = 2000;
    const viaBulk = await bulk(sample, 'check-bulk', 'check');
    const viaCopy = await copy(sample, 'check-copy', 'check');
    const stored = (batchId: string) =>
      sql<
        {
          model_id: string;
          timestamp: Date;
          features: string;
          prediction: number;
          probabilities: null;
          predicted_label: null;
          id_length: number;
        }[]
      >`
        select model_id, timestamp, features::text as features, prediction, probabilities, predicted_label, length(association_id) as id_length
        from predictions where batch_id = ${batchId} order by id`;
    const a = await stored(viaBulk.batchId);
    const b = await stored(viaCopy.batchId);
    if (a.length !== sample || JSON.stringify(a) !== JSON.stringify(b)) {
      throw new Error(
        `the bulk route and the COPY baseline stored different rows (${a.length} vs ${b.length}); first: ${JSON.stringify(a[0])} vs ${JSON.stringify(b[0])}`,
      );
    }
    progress(
      `check: ${sample} rows stored identically by both paths (model, timestamp, features, prediction; association ids differ by design)`,
    );
  }

  // --- Throughput: bulk vs COPY, alternating -----------------------------------------------------
  const backendPids = async () => postgresPids(sql);
  type Kind = 'bulk' | 'baseline-bulk' | 'copy';
  const runs: {
    kind: Kind;
    rowsPerS: number;
    ms: number;
    mbPerS: number;
    cpu: Record<string, number>;
    otherCores: number;
    walPerRow: number;
  }[] = [];
  const quiet = async () => {
    if (QUIET_WAIT_S === 0) return;
    const load = await waitForQuiet({
      maxCores: QUIET_CORES,
      timeoutMs: QUIET_WAIT_S * 1000,
      onWait: (cores) => progress(`  other processes use ${cores} cores: waiting up to ${QUIET_WAIT_S} s for a quiet machine`),
    });
    if (!load.quiet) progress(`  still ${load.cores} cores busy elsewhere: measuring anyway (this run is contended)`);
  };
  const uncontended = (kind: string) => runs.some((run) => run.kind === kind && run.otherCores <= QUIET_CORES);
  const kinds: Kind[] = baselineServer ? ['bulk', 'baseline-bulk', 'copy'] : ['bulk', 'copy'];
  const everyKindUncontended = () => kinds.every(uncontended);
  for (let r = 1; r <= REPEAT || (r <= MAX_REPEAT && !everyKindUncontended()); r++) {
    if (r > REPEAT)
      progress(
        `  round ${r}: no uncontended ${kinds.filter((kind) => !uncontended(kind)).join(', ')} run yet (--max-repeat ${MAX_REPEAT})`,
      );
    // The two servers take turns going first, so neither always runs right after the COPY.
    const order = r % 2 === 0 ? kinds.map((kind) => (kind === 'bulk' ? 'baseline-bulk' : kind === 'baseline-bulk' ? 'bulk' : kind)) : kinds;
    for (const kind of order) {
      await sql`truncate predictions`;
      await sql`checkpoint`;
      const idTag = `${kind}-${r}`;
      await quiet();
      const through = kind === 'baseline-bulk' ? baselineServer! : server;
      const meter = new CpuMeter({ server: [through.pid], postgres: await backendPids() });
      const lsn = await walLsn();
      const result =
        kind === 'copy'
          ? await copy(ROWS, idTag, 'throughput')
          : await bulk(ROWS, idTag, 'throughput', progressEvery(`${kind} ${r}`, ROWS, 10), through);
      const cpu = meter.stop();
      const walPerRow = round((await walBytesSince(lsn)) / ROWS);
      const stored = await countRows(result.batchId);
      if (stored !== ROWS) throw new Error(`${kind} run ${r}: ${stored} rows stored, expected ${ROWS}`);
      const otherCores = round(cpu.other! / (result.ms / 1000), 2);
      const run = {
        kind,
        ms: round(result.ms),
        rowsPerS: round((ROWS / result.ms) * 1000),
        mbPerS: round(result.bytes / 1024 ** 2 / (result.ms / 1000), 1),
        cpu,
        otherCores,
        walPerRow,
      };
      runs.push(run);
      progress(
        `${kind} ${r}: ${ROWS.toLocaleString('en')} rows in ${(result.ms / 1000).toFixed(2)} s = ${run.rowsPerS.toLocaleString('en')} rows/s (${run.mbPerS} MB/s, WAL ${walPerRow} B/row); CPU s: ${JSON.stringify(cpu)}; other processes: ${otherCores} cores${otherCores > QUIET_CORES ? ' (CONTENDED)' : ''}`,
      );
    }
  }
  // The last run's rows are the only ones in the table now.
  const tableBytesPerRow = round(
    Number(((await sql`select pg_total_relation_size('predictions')::bigint as bytes`) as unknown as [{ bytes: string }])[0].bytes) / ROWS,
  );
  progress(`predictions table with its indexes: ${tableBytesPerRow} bytes/row`);

  // Runs that shared the cores with other processes are slow for reasons outside the benchmark:
  // the figures come from uncontended runs when both kinds have one.
  const contended = runs.filter((run) => run.otherCores > QUIET_CORES).length;
  const trusted = everyKindUncontended();
  const countedRuns = trusted ? runs.filter((run) => run.otherCores <= QUIET_CORES) : runs;
  const rates = (kind: string) => countedRuns.filter((run) => run.kind === kind).map((run) => run.rowsPerS);
  const bulkBest = Math.max(...rates('bulk'));
  const copyBest = Math.max(...rates('copy'));
  const ratio = round(bulkBest / copyBest, 3);
  const ratioOfMedians = round(median(rates('bulk')) / median(rates('copy')), 3);
  const baselineBest = baselineServer ? Math.max(...rates('baseline-bulk')) : null;
  const overhead = baselineBest ? round(1 - bulkBest / baselineBest, 4) : null;
  const overheadOfMedians = baselineBest ? round(1 - median(rates('bulk')) / median(rates('baseline-bulk')), 4) : null;
  if (baselineBest) {
    progress(
      `this checkout vs the baseline (${BASELINE_ROOT}): best bulk ${bulkBest.toLocaleString('en')} vs ${baselineBest.toLocaleString('en')} rows/s, overhead ${(overhead! * 100).toFixed(1)}% (of medians ${(overheadOfMedians! * 100).toFixed(1)}%)`,
    );
    await baselineServer!.stop();
    baselineServer = undefined;
  }
  progress(
    `ratio bulk/COPY (best ${trusted ? 'uncontended ' : ''}run of each: ${rates('bulk').length} bulk, ${rates('copy').length} COPY): ${ratio}; of medians: ${ratioOfMedians}`,
  );
  if (!trusted) {
    progress(
      `WARNING: ${contended} of ${runs.length} runs shared the cores with other processes (> ${QUIET_CORES} cores) and some kind has no other run: the ratio is not trustworthy`,
    );
  }
  const throughputServerHwm = mb(readMemory(server.pid)!.hwm);
  const adminToken = server.adminToken;
  await server.stop();
  server = undefined;
  if (CPU_PROF_DIR) progress(`server CPU profile written to ${CPU_PROF_DIR}`);

  // --- Peak RSS on a very large upload, in a fresh server process -------------------------------
  let rss: {
    rows: number;
    rowsPerS: number;
    peakMb: number;
    sampledPeakMb: number;
    hwmMb: number;
    idleMb: number;
    seconds: number;
    cpu: Record<string, number>;
    otherCores: number;
    walPerRow: number;
  } | null = null;
  if (!SKIP_RSS) {
    await sql`truncate predictions`;
    await sql`checkpoint`;
    server = await startServer({ databaseUrl: db.url, adminToken, preload: KEEP_REQUEST_TIMEOUT ? [] : [liftRequestTimeout] });
    if (!KEEP_REQUEST_TIMEOUT)
      progress(`RSS run: Node's 300 s requestTimeout lifted in the server process (a longer upload would get HTTP 408)`);
    const idle = readMemory(server.pid)!;
    progress(`RSS run: fresh server pid ${server.pid}, RSS at start ${mb(idle.rss)} MB; streaming ${RSS_ROWS.toLocaleString('en')} rows`);
    await quiet();
    const meter = new CpuMeter({ server: [server.pid], postgres: await backendPids() });
    const lsn = await walLsn();
    const sampler = new RssSampler(server.pid, 100);
    const result = await bulk(
      RSS_ROWS,
      'rss',
      'rss',
      progressEvery('rss', RSS_ROWS, 30, () => `, server RSS peak so far ${mb(sampler.currentPeak)} MB`),
    );
    const summary = sampler.stop();
    const cpu = meter.stop();
    const walPerRow = round((await walBytesSince(lsn)) / RSS_ROWS);
    const stored = await countRows(result.batchId);
    if (stored !== RSS_ROWS) throw new Error(`rss run: ${stored} rows stored, expected ${RSS_ROWS}`);
    rss = {
      rows: RSS_ROWS,
      rowsPerS: round((RSS_ROWS / result.ms) * 1000),
      peakMb: mb(Math.max(summary.peakSampled, summary.hwm)),
      sampledPeakMb: mb(summary.peakSampled),
      hwmMb: mb(summary.hwm),
      idleMb: mb(idle.rss),
      seconds: round(result.ms / 1000, 1),
      cpu,
      otherCores: round(cpu.other! / (result.ms / 1000), 2),
      walPerRow,
    };
    progress(
      `RSS run: ${RSS_ROWS.toLocaleString('en')} rows in ${rss.seconds} s = ${rss.rowsPerS.toLocaleString('en')} rows/s; peak RSS ${rss.peakMb} MB (sampled ${rss.sampledPeakMb}, VmHWM ${rss.hwmMb}, at start ${rss.idleMb}); WAL ${walPerRow} B/row; CPU s: ${JSON.stringify(cpu)}; other processes: ${rss.otherCores} cores`,
    );
    await server.stop();
    server = undefined;
  }

  const ratioMet = ratio >= RATIO_GOAL;
  // With --skip-rss, goal_met speaks for the ratio only (rss_measured: false).
  const rssMet = rss ? rss.peakMb <= RSS_GOAL_MB : null;
  printResult({
    rows: ROWS,
    bulk_rows_per_s: bulkBest,
    copy_rows_per_s: copyBest,
    ratio,
    ratio_of_medians: ratioOfMedians,
    ratio_goal: RATIO_GOAL,
    baseline_root: BASELINE_ROOT ?? null,
    baseline_bulk_rows_per_s: baselineBest,
    overhead_vs_baseline: overhead,
    overhead_vs_baseline_of_medians: overheadOfMedians,
    runs: runs.map((run) => ({
      kind: run.kind,
      rows_per_s: run.rowsPerS,
      ms: run.ms,
      cpu_s: run.cpu,
      other_cores: run.otherCores,
      wal_bytes_per_row: run.walPerRow,
    })),
    contended_runs: contended,
    ratio_from_uncontended_runs: trusted,
    throughput_server_hwm_mb: throughputServerHwm,
    table_bytes_per_row: tableBytesPerRow,
    rss_measured: rss !== null,
    rss_rows: rss?.rows ?? null,
    rss_rows_per_s: rss?.rowsPerS ?? null,
    peak_rss_mb: rss?.peakMb ?? null,
    rss_goal_mb: RSS_GOAL_MB,
    rss_server_start_mb: rss?.idleMb ?? null,
    rss_other_cores: rss?.otherCores ?? null,
    rss_cpu_s: rss?.cpu ?? null,
    rss_wal_bytes_per_row: rss?.walPerRow ?? null,
    database: db.embedded ? 'embedded' : 'DATABASE_URL',
    goal_met: ratioMet && rssMet !== false,
  });
}

await runBenchmark(main, cleanup);
