/**
 * Issues 3 and 14 benchmark: bulk ingest throughput against a raw COPY into our own predictions
 * table and against a plain-table COPY of the same rows (what a user measures with psql `\copy`),
 * the bytes a stored row takes, and the server's memory and steadiness over a very large upload.
 *
 *   npx tsx bench/ingest.ts [--rows 1000000] [--rss-rows 10000000] [--skip-rss] [--repeat 2]
 *                           [--max-repeat 4] [--quiet-wait 120] [--seed 1] [--cpu-prof DIR]
 *                           [--keep-request-timeout] [--baseline-root DIR]
 *
 * 1. Starts PostgreSQL (DATABASE_URL, or an embedded one in a temporary directory) and the server
 *    as its own process (`node --import tsx src/main.ts`), creates an organization and a REGRESSION
 *    deployment with 20 features (15 numeric, 5 categorical), and the plain table
 *    `plain_predictions (id bigint identity primary key, features jsonb, probabilities float8[],
 *    association_id text, timestamp timestamptz)` (dropped again at the end).
 * 2. Checks that the bulk route and our COPY store the same rows (a 2,000-row sample each way, the
 *    predictions table's columns compared one by one, association ids aside), and that both read
 *    back as sent through the `prediction_rows` view (features object, prediction, timestamp,
 *    association id, against the generated rows).
 * 3. `--repeat` rounds, each: `--rows` rows through the bulk route (NDJSON over HTTP, every row with
 *    an association id and a timestamp); the same rows by a raw COPY from this process into our
 *    predictions table (another batch of the same deployment; the table's columns, with the keys
 *    read by SQL as the server would: bench/lib/predictions-data.ts); the same rows by a text COPY
 *    from this process into plain_predictions (features JSON, probabilities null, association id,
 *    timestamp). Before every timed run both tables are truncated and a CHECKPOINT taken, so every
 *    run starts from the same state. rows/s = rows / wall time (bulk: first byte sent → response
 *    read; COPY: first byte → COPY confirmed). ratio = best bulk / best COPY into our table
 *    (issue 3); plain_ratio = best bulk / best plain-table COPY (issue 14, goal ≥ 0.8); both also of
 *    medians.
 *    Bytes per stored row: right after each run, pg_total_relation_size (heap, TOAST, free-space
 *    map and every index) of the table it wrote ÷ its rows, without VACUUM or ANALYZE before.
 *    table_bytes_per_row is that of the last bulk run (goal ≤ 400 for these 20-feature rows),
 *    plain_table_bytes_per_row that of the last plain-table run, for reference.
 *    The cores are shared with whatever else runs on the machine: before each run it waits (up to
 *    --quiet-wait s) for other processes to use < 0.25 cores, measures what they used during the
 *    run, and counts only uncontended runs when every kind has one (adding rounds up to
 *    --max-repeat until they do).
 *    With --baseline-root DIR (a checkout of another version, with its node_modules, e.g. the commit
 *    before a change, with the same predictions table), a second server from that checkout on the
 *    same database takes part too: each round gets a bulk run through it as well (the two servers
 *    take turns going first), and `overhead` = 1 − best bulk ÷ best baseline bulk says what the
 *    change costs the route (negative: it got faster).
 * 4. A fresh server process, `--rss-rows` rows in one bulk request, VmRSS sampled every 100 ms;
 *    peak = max(sampled peak, VmHWM) of the server process (its peak since it started).
 *    Steadiness: the client notes when each million rows has been sent (with backpressure, sending
 *    follows the server), giving rows/s per million and the other processes' load during it;
 *    stability = the last full million's rows/s ÷ the first's (goal ≥ 0.85). With --rss-rows under
 *    2M the segments are a tenth of the upload instead (not the goal's measure: not counted). The
 *    table's bytes per row after this upload are printed too.
 *
 * goal_met: every goal measured in this run is met (goals_met: each one; null = not measured).
 * The last line is the JSON of the figures.
 */

import { createBatch, createDeployment, createOrganization } from './lib/api.js';
import { Flags } from './lib/args.js';
import { copyFrom } from './lib/copy.js';
import { CpuMeter, postgresPids, waitForQuiet } from './lib/cpu.js';
import { type BenchDatabase, startDatabase } from './lib/database.js';
import { freeBytes, gb } from './lib/disk.js';
import {
  copyFormat,
  FEATURES,
  ndjsonFormat,
  PLAIN_COPY_STATEMENT,
  PLAIN_TABLE_DDL,
  PREDICTION_COPY_STATEMENT,
  PredictionRowSource,
  plainCopyFormat,
  predictionCopyPrefix,
  rowChunks,
} from './lib/predictions-data.js';
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
/** More rounds (up to this many in all) while some kind has no uncontended run yet. */
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
/** Issue 3: bulk ÷ COPY into our own table. */
const RATIO_GOAL = 0.6;
const RSS_GOAL_MB = 300;
/** Issue 14: bulk ÷ COPY of the same rows into a plain table. */
const PLAIN_RATIO_GOAL = 0.8;
/** Issue 14: predictions table with its indexes, per row of these 20 features. */
const BYTES_PER_ROW_GOAL = 400;
/** Issue 14: over the large upload, the last million's rows/s ÷ the first million's. */
const STABILITY_GOAL = 0.85;
/** Rows per steadiness segment of the large upload: a million, or a tenth of a smaller upload. */
const SEGMENT_ROWS = RSS_ROWS >= 2_000_000 ? 1_000_000 : Math.max(1000, Math.floor(RSS_ROWS / 10 / 1000) * 1000);
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

/** Counts rows as chunks leave (0 when the first is asked for), for progress lines and segment times. */
async function* counted(chunks: AsyncIterable<Buffer>, rowsPerChunk: number, onChunk: (rows: number) => void): AsyncGenerator<Buffer> {
  let rows = 0;
  onChunk(0);
  for await (const chunk of chunks) {
    yield chunk;
    rows += rowsPerChunk;
    onChunk(rows);
  }
}

/**
 * Times each `segmentRows` rows of an upload as the client sends them, with the CPU other processes
 * used meanwhile (a slow segment on a busy machine is not the server's).
 */
class SegmentClock {
  readonly segments: { rowsPerS: number; otherCores: number }[] = [];
  started = 0;
  /** When the last row was handed to the socket (ms since `started`). */
  sentMs = 0;
  private segmentStart = 0;
  private next: number;
  private meter: CpuMeter | undefined;

  /** `refresh`: the process groups again, looked up at each boundary for the segment after next (backends come and go). */
  constructor(
    private readonly segmentRows: number,
    private readonly totalRows: number,
    private pids: Record<string, number[]>,
    private readonly refresh?: () => Promise<Record<string, number[]>>,
  ) {
    this.next = segmentRows;
  }

  onRows(rows: number): void {
    const now = performance.now();
    if (rows === 0) {
      this.started = this.segmentStart = now;
      this.meter = new CpuMeter(this.pids);
      return;
    }
    if (rows >= this.totalRows) this.sentMs = now - this.started;
    if (rows < this.next) return;
    const seconds = (now - this.segmentStart) / 1000;
    const cpu = this.meter!.stop();
    this.segments.push({ rowsPerS: round(this.segmentRows / seconds), otherCores: round(cpu.other! / seconds, 2) });
    this.segmentStart = now;
    this.meter = new CpuMeter(this.pids);
    this.next += this.segmentRows;
    this.refresh?.().then(
      (pids) => (this.pids = pids),
      () => {},
    );
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
  await sql`drop table if exists plain_predictions`;
  await sql.unsafe(PLAIN_TABLE_DDL);
  const bulkUrl = (batchId: string, through = server!) =>
    `${through.url}/api/v2/deployments/${deployment.id}/monitoringBatches/${batchId}/predictions`;

  /** `batchId`: a batch created beforehand (default: a new one, named after `label` and `idTag`). */
  async function bulk(rows: number, idTag: string, label: string, onRows?: (rows: number) => void, through = server!, batchId?: string) {
    const batch = batchId ? { id: batchId } : await createBatch(through.url, org.token, deployment.id, `${label} ${idTag}`);
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
    const prefix = await predictionCopyPrefix(sql, { deploymentId: deployment.id, batchId: batch.id, modelId: deployment.modelId });
    const result = await copyFrom(sql, PREDICTION_COPY_STATEMENT, rowChunks({ rows, seed: SEED, idTag }, copyFormat(prefix)));
    return { batchId: batch.id, ms: result.ms, bytes: result.bytes };
  }

  /** The same rows into plain_predictions, as psql `\copy` would send them (the table holds nothing else). */
  async function plainCopy(rows: number, idTag: string) {
    const result = await copyFrom(sql, PLAIN_COPY_STATEMENT, rowChunks({ rows, seed: SEED, idTag }, plainCopyFormat));
    return { batchId: null, ms: result.ms, bytes: result.bytes };
  }

  const walLsn = async () => ((await sql`select pg_current_wal_lsn()::text as lsn`) as unknown as [{ lsn: string }])[0].lsn;
  const walBytesSince = async (lsn: string) =>
    Number(
      ((await sql`select pg_wal_lsn_diff(pg_current_wal_lsn(), ${lsn}::pg_lsn)::bigint as bytes`) as unknown as [{ bytes: string }])[0]
        .bytes,
    );

  const countRows = async (batchId: string | null) =>
    Number(
      (
        (batchId === null
          ? await sql`select count(*)::bigint as n from plain_predictions`
          : await sql`select count(*)::bigint as n from predictions
              where batch_key = (select key from monitoring_batches where id = ${batchId})`) as unknown as [{ n: string }]
      )[0].n,
    );
  const bytesPerRow = async (table: 'predictions' | 'plain_predictions', rows: number) =>
    round(
      Number(((await sql`select pg_total_relation_size(${table}::regclass)::bigint as bytes`) as unknown as [{ bytes: string }])[0].bytes) /
        rows,
    );

  // --- Same rows both ways, and as sent? ---------------------------------------------------------
  {
    const sample = 2000;
    const viaBulk = await bulk(sample, 'check-bulk', 'check');
    const viaCopy = await copy(sample, 'check-copy', 'check');
    // The table's columns, association ids aside (they differ by design: ids are unique per deployment).
    const stored = (batchId: string) =>
      sql<
        {
          deployment_key: number;
          model_key: number;
          timestamp: Date;
          prediction: number;
          numeric_features: string;
          categorical_features: string;
          probabilities: null;
          predicted_label: null;
          id_column: string;
          id_length: number;
        }[]
      >`
        select deployment_key, model_key, timestamp, prediction, numeric_features::text as numeric_features,
          categorical_features::text as categorical_features, probabilities, predicted_label,
          case when association_uuid is not null then 'uuid' when association_text is not null then 'text' end as id_column,
          length(coalesce(association_text, association_uuid::text)) as id_length
        from predictions where batch_key = (select key from monitoring_batches where id = ${batchId}) order by id`;
    const a = await stored(viaBulk.batchId);
    const b = await stored(viaCopy.batchId);
    if (a.length !== sample || JSON.stringify(a) !== JSON.stringify(b)) {
      const at = a.findIndex((row, i) => JSON.stringify(row) !== JSON.stringify(b[i]));
      throw new Error(
        `the bulk route and the COPY baseline stored different rows (${a.length} vs ${b.length}); first difference at ${at}: ${JSON.stringify(a[at])} vs ${JSON.stringify(b[at])}`,
      );
    }
    // Read back as sent: the prediction_rows view against the generated rows.
    for (const [batchId, idTag] of [
      [viaBulk.batchId, 'check-bulk'],
      [viaCopy.batchId, 'check-copy'],
    ] as const) {
      const rows = await sql<{ features: string; prediction: number; timestamp: Date; association_id: string }[]>`
        select features::text as features, prediction, timestamp, association_id from prediction_rows where batch_id = ${batchId} order by id`;
      const source = new PredictionRowSource(SEED, idTag);
      rows.forEach((row, i) => {
        const sent = source.next();
        const sentFeatures = JSON.parse(sent.features) as Record<string, unknown>;
        const storedFeatures = JSON.parse(row.features) as Record<string, unknown>;
        const same =
          Object.keys(sentFeatures).length === Object.keys(storedFeatures).length &&
          Object.entries(sentFeatures).every(([name, value]) => storedFeatures[name] === value) &&
          row.prediction === Number(sent.prediction) &&
          row.timestamp.toISOString() === sent.timestamp &&
          row.association_id === sent.associationId;
        if (!same) {
          throw new Error(
            `${idTag} row ${i + 1} does not read back as sent: ${JSON.stringify(row)} vs ${JSON.stringify({ ...sent, features: sentFeatures })}`,
          );
        }
      });
    }
    progress(
      `check: ${sample} rows stored identically by both paths (predictions' columns; association ids differ by design) and read back as sent through prediction_rows`,
    );
  }

  // --- Throughput: bulk vs COPY into our table vs plain-table COPY, alternating ------------------
  const backendPids = async () => postgresPids(sql);
  type Kind = 'bulk' | 'baseline-bulk' | 'copy' | 'plain';
  const runs: {
    kind: Kind;
    rowsPerS: number;
    ms: number;
    mbPerS: number;
    cpu: Record<string, number>;
    otherCores: number;
    walPerRow: number;
    bytesPerRow: number;
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
  const kinds: Kind[] = baselineServer ? ['bulk', 'baseline-bulk', 'copy', 'plain'] : ['bulk', 'copy', 'plain'];
  const everyKindUncontended = () => kinds.every(uncontended);
  for (let r = 1; r <= REPEAT || (r <= MAX_REPEAT && !everyKindUncontended()); r++) {
    if (r > REPEAT)
      progress(
        `  round ${r}: no uncontended ${kinds.filter((kind) => !uncontended(kind)).join(', ')} run yet (--max-repeat ${MAX_REPEAT})`,
      );
    // The two servers take turns going first, so neither always runs right after the COPY.
    const order =
      baselineServer && r % 2 === 0
        ? kinds.map((kind) => (kind === 'bulk' ? 'baseline-bulk' : kind === 'baseline-bulk' ? 'bulk' : kind))
        : kinds;
    for (const kind of order) {
      await sql`truncate predictions, plain_predictions`;
      await sql`checkpoint`;
      const idTag = `${kind}-${r}`;
      await quiet();
      const through = kind === 'baseline-bulk' ? baselineServer! : server;
      const meter = new CpuMeter({ server: [through.pid], postgres: await backendPids() });
      const lsn = await walLsn();
      const result =
        kind === 'copy'
          ? await copy(ROWS, idTag, 'throughput')
          : kind === 'plain'
            ? await plainCopy(ROWS, idTag)
            : await bulk(ROWS, idTag, 'throughput', progressEvery(`${kind} ${r}`, ROWS, 10), through);
      const cpu = meter.stop();
      const walPerRow = round((await walBytesSince(lsn)) / ROWS);
      const stored = await countRows(result.batchId);
      if (stored !== ROWS) throw new Error(`${kind} run ${r}: ${stored} rows stored, expected ${ROWS}`);
      const bytesStored = await bytesPerRow(kind === 'plain' ? 'plain_predictions' : 'predictions', ROWS);
      const otherCores = round(cpu.other! / (result.ms / 1000), 2);
      const run = {
        kind,
        ms: round(result.ms),
        rowsPerS: round((ROWS / result.ms) * 1000),
        mbPerS: round(result.bytes / 1024 ** 2 / (result.ms / 1000), 1),
        cpu,
        otherCores,
        walPerRow,
        bytesPerRow: bytesStored,
      };
      runs.push(run);
      progress(
        `${kind} ${r}: ${ROWS.toLocaleString('en')} rows in ${(result.ms / 1000).toFixed(2)} s = ${run.rowsPerS.toLocaleString('en')} rows/s (${run.mbPerS} MB/s, WAL ${walPerRow} B/row, stored ${bytesStored} B/row); CPU s: ${JSON.stringify(cpu)}; other processes: ${otherCores} cores${otherCores > QUIET_CORES ? ' (CONTENDED)' : ''}`,
      );
    }
  }
  const lastOf = (kind: Kind) => runs.filter((run) => run.kind === kind).at(-1)!;
  const tableBytesPerRow = lastOf('bulk').bytesPerRow;
  const copyTableBytesPerRow = lastOf('copy').bytesPerRow;
  const plainTableBytesPerRow = lastOf('plain').bytesPerRow;
  progress(
    `stored bytes per row with indexes (pg_total_relation_size ÷ rows, right after the run): predictions ${tableBytesPerRow} after bulk, ${copyTableBytesPerRow} after COPY (goal ≤ ${BYTES_PER_ROW_GOAL}); plain_predictions ${plainTableBytesPerRow}`,
  );
  await sql`drop table plain_predictions`;

  // Runs that shared the cores with other processes are slow for reasons outside the benchmark:
  // the figures come from uncontended runs when every kind has one.
  const contended = runs.filter((run) => run.otherCores > QUIET_CORES).length;
  const trusted = everyKindUncontended();
  const countedRuns = trusted ? runs.filter((run) => run.otherCores <= QUIET_CORES) : runs;
  const rates = (kind: string) => countedRuns.filter((run) => run.kind === kind).map((run) => run.rowsPerS);
  const bulkBest = Math.max(...rates('bulk'));
  const copyBest = Math.max(...rates('copy'));
  const ratio = round(bulkBest / copyBest, 3);
  const ratioOfMedians = round(median(rates('bulk')) / median(rates('copy')), 3);
  const plainBest = Math.max(...rates('plain'));
  const plainRatio = round(bulkBest / plainBest, 3);
  const plainRatioOfMedians = round(median(rates('bulk')) / median(rates('plain')), 3);
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
    `ratio bulk/COPY into our table (best ${trusted ? 'uncontended ' : ''}run of each: ${rates('bulk').length} bulk, ${rates('copy').length} COPY): ${ratio}; of medians: ${ratioOfMedians} (goal ≥ ${RATIO_GOAL})`,
  );
  progress(
    `ratio bulk/plain-table COPY (best ${bulkBest.toLocaleString('en')} vs ${plainBest.toLocaleString('en')} rows/s, ${rates('plain').length} plain runs): ${plainRatio}; of medians: ${plainRatioOfMedians} (goal ≥ ${PLAIN_RATIO_GOAL})`,
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
    tableBytesPerRow: number;
    /** ms from the last row sent to the response (the server finishing what was in flight, and committing). */
    tailMs: number;
    segments: { rowsPerS: number; otherCores: number }[];
    stability: number | null;
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
    // The batch first: the fresh server opens its database connections on first use, and backends
    // that start after the snapshot would count as other processes.
    const rssBatch = await createBatch(server.url, org.token, deployment.id, 'rss rss');
    const pids = { server: [server.pid], postgres: await backendPids() };
    const meter = new CpuMeter(pids);
    const lsn = await walLsn();
    const sampler = new RssSampler(server.pid, 100);
    const rssServerPid = server.pid;
    const clock = new SegmentClock(SEGMENT_ROWS, RSS_ROWS, pids, async () => ({ server: [rssServerPid], postgres: await backendPids() }));
    const report = progressEvery('rss', RSS_ROWS, 30, () => `, server RSS peak so far ${mb(sampler.currentPeak)} MB`);
    const result = await bulk(
      RSS_ROWS,
      'rss',
      'rss',
      (rows) => {
        clock.onRows(rows);
        report(rows);
      },
      server,
      rssBatch.id,
    );
    const summary = sampler.stop();
    const cpu = meter.stop();
    const walPerRow = round((await walBytesSince(lsn)) / RSS_ROWS);
    const stored = await countRows(result.batchId);
    if (stored !== RSS_ROWS) throw new Error(`rss run: ${stored} rows stored, expected ${RSS_ROWS}`);
    const segments = clock.segments;
    const first = segments[0];
    const last = segments.at(-1);
    const stability = first && last && segments.length >= 2 ? round(last.rowsPerS / first.rowsPerS, 3) : null;
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
      tableBytesPerRow: await bytesPerRow('predictions', RSS_ROWS),
      tailMs: round(result.ms - clock.sentMs),
      segments,
      stability,
    };
    progress(
      `RSS run: ${RSS_ROWS.toLocaleString('en')} rows in ${rss.seconds} s = ${rss.rowsPerS.toLocaleString('en')} rows/s; peak RSS ${rss.peakMb} MB (sampled ${rss.sampledPeakMb}, VmHWM ${rss.hwmMb}, at start ${rss.idleMb}); WAL ${walPerRow} B/row; stored ${rss.tableBytesPerRow} B/row; CPU s: ${JSON.stringify(cpu)}; other processes: ${rss.otherCores} cores`,
    );
    const segmentLabel =
      SEGMENT_ROWS === 1_000_000 ? 'million' : `${SEGMENT_ROWS.toLocaleString('en')} rows (a tenth: not the goal's measure)`;
    progress(
      `RSS run, rows/s per ${segmentLabel} sent: ${segments.map((segment) => `${segment.rowsPerS.toLocaleString('en')}${segment.otherCores > QUIET_CORES ? ` (CONTENDED ${segment.otherCores})` : ''}`).join(', ')}; last row sent → response ${rss.tailMs} ms`,
    );
    if (first && last) {
      progress(
        `RSS run, stability: first ${segmentLabel} ${first.rowsPerS.toLocaleString('en')} rows/s, last ${last.rowsPerS.toLocaleString('en')} rows/s, last/first ${stability ?? 'n/a (one segment)'} (goal ≥ ${STABILITY_GOAL})`,
      );
    }
    await server.stop();
    server = undefined;
  }

  // With --skip-rss (or a small --rss-rows), goal_met speaks for what was measured (null below).
  const goalsMet = {
    ratio: ratio >= RATIO_GOAL,
    plain_ratio: plainRatio >= PLAIN_RATIO_GOAL,
    table_bytes_per_row: tableBytesPerRow <= BYTES_PER_ROW_GOAL,
    peak_rss: rss ? rss.peakMb <= RSS_GOAL_MB : null,
    stability: rss && rss.stability !== null && SEGMENT_ROWS === 1_000_000 ? rss.stability >= STABILITY_GOAL : null,
  };
  printResult({
    rows: ROWS,
    bulk_rows_per_s: bulkBest,
    copy_rows_per_s: copyBest,
    plain_copy_rows_per_s: plainBest,
    ratio,
    ratio_of_medians: ratioOfMedians,
    ratio_goal: RATIO_GOAL,
    plain_ratio: plainRatio,
    plain_ratio_of_medians: plainRatioOfMedians,
    plain_ratio_goal: PLAIN_RATIO_GOAL,
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
      stored_bytes_per_row: run.bytesPerRow,
    })),
    contended_runs: contended,
    ratio_from_uncontended_runs: trusted,
    throughput_server_hwm_mb: throughputServerHwm,
    table_bytes_per_row: tableBytesPerRow,
    table_bytes_per_row_goal: BYTES_PER_ROW_GOAL,
    copy_table_bytes_per_row: copyTableBytesPerRow,
    plain_table_bytes_per_row: plainTableBytesPerRow,
    rss_measured: rss !== null,
    rss_rows: rss?.rows ?? null,
    rss_rows_per_s: rss?.rowsPerS ?? null,
    peak_rss_mb: rss?.peakMb ?? null,
    rss_goal_mb: RSS_GOAL_MB,
    rss_server_start_mb: rss?.idleMb ?? null,
    rss_other_cores: rss?.otherCores ?? null,
    rss_cpu_s: rss?.cpu ?? null,
    rss_wal_bytes_per_row: rss?.walPerRow ?? null,
    rss_table_bytes_per_row: rss?.tableBytesPerRow ?? null,
    rss_tail_ms: rss?.tailMs ?? null,
    rss_segment_rows: rss ? SEGMENT_ROWS : null,
    rss_segments_rows_per_s: rss?.segments.map((segment) => segment.rowsPerS) ?? null,
    rss_segments_other_cores: rss?.segments.map((segment) => segment.otherCores) ?? null,
    rss_first_segment_rows_per_s: rss?.segments[0]?.rowsPerS ?? null,
    rss_last_segment_rows_per_s: rss?.segments.at(-1)?.rowsPerS ?? null,
    stability: rss?.stability ?? null,
    stability_goal: STABILITY_GOAL,
    database: db.embedded ? 'embedded' : 'DATABASE_URL',
    goals_met: goalsMet,
    goal_met: Object.values(goalsMet).every((met) => met !== false),
  });
}

await runBenchmark(main, cleanup);
