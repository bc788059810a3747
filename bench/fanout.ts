/**
 * Issue 5 benchmark: live-view fan-out. Many graphql-ws subscribers on one server process while a
 * large upload lands in the batch they watch.
 *
 *   npx tsx bench/fanout.ts [--subscribers 1000,10000] [--rows 1000000] [--uploads 1]
 *                           [--baselines 2] [--connect-concurrency 200] [--quiet-wait 60] [--seed 1]
 *                           [--root DIR] [--server-node-args=--max-semi-space-size=64] [--cpu-prof DIR]
 *
 * --root runs the server from another checkout (a copy with a candidate change, to compare);
 * --server-node-args adds node flags to the server process; --cpu-prof writes its CPU profile.
 *
 * 1. PostgreSQL (DATABASE_URL, or an embedded one in a temporary directory); an organization and a
 *    REGRESSION deployment with 20 features (bench/lib/predictions-data.ts, as bench/ingest.ts).
 * 2. Phases, each on a fresh server process (`node --import tsx src/main.ts`, started by
 *    bench/lib/server.ts) and with the predictions table truncated and a CHECKPOINT first:
 *    a baseline without subscribers, then each `--subscribers` count, then (with --baselines 2)
 *    another baseline (--baselines 0: none, and no ingest ratio). In a phase with subscribers:
 *    a. the client load — its own process (bench/lib/fanout-clients.ts) — opens N WebSockets
 *       (graphql-ws `createClient` over `ws`, one connection per subscriber, --connect-concurrency
 *       handshakes at a time) and subscribes each to `batchQuota(deploymentId)`;
 *    b. a batch is created: every quota subscriber must get the new `used` (fan-out latency from
 *       the commit);
 *    c. every subscriber also subscribes to `monitoringBatch(id)` of that batch (2N subscriptions);
 *    d. `--rows` rows go into the batch through the bulk route (NDJSON over HTTP, streamed; in
 *       `--uploads` sequential requests, one transaction each — 1 by default, so one commit);
 *    e. every subscriber must receive the final `predictionCount`.
 *    A baseline phase does d. alone.
 * 3. Figures per phase: ingest rows/s (first byte sent → response read); messages per subscriber
 *    and per subscription, and the most any subscription got within one second during the ingest;
 *    commit-to-receipt latency of the final value (p50/p99/max over subscribers), where "commit" is
 *    when this process, LISTENing on the server's notification channel, heard the batch's
 *    notification (sent at commit; the upload's response comes after it); the server process's
 *    peak RSS (max of VmRSS sampled every 100 ms and VmHWM — the real node process, no wrapper);
 *    CPU seconds of the server, PostgreSQL, the client load and other processes.
 * 4. Goals (issue 5): 10,000 subscribers all served; final value p99 ≤ 500 ms after the commit;
 *    ≤ 10 messages a second per subscription; server RSS ≤ 1 GB; ingest rate with 10,000
 *    subscribers ÷ without ≥ 0.9 (against the mean of the baselines).
 *
 * Open files: each WebSocket is a file descriptor in the server and in the client load (N + ~1,000
 * each). Node raises its soft limit to the hard one by itself at startup, so the hard limit
 * (`ulimit -Hn`) is what must allow it; the benchmark checks it first and says what to do.
 *
 * The last line is the JSON of the figures.
 */
import fs from 'node:fs';
import { CHANNEL } from '../src/events/hub.js';
import { createBatch, createDeployment, createOrganization, graphql } from './lib/api.js';
import { Flags } from './lib/args.js';
import { CpuMeter, postgresPids, waitForQuiet } from './lib/cpu.js';
import { type BenchDatabase, startDatabase } from './lib/database.js';
import { ClientLoad, mean, openFileLimits, percentile } from './lib/fanout-load.js';
import { AsciiChunk, FEATURES, ndjsonFormat, PredictionRowSource } from './lib/predictions-data.js';
import { onShutdown, printResult, progress, round, runBenchmark } from './lib/report.js';
import { mb, RssSampler, readMemory } from './lib/rss.js';
import { type BenchServer, liftRequestTimeout, startServer } from './lib/server.js';
import { postStream } from './lib/upload.js';

const flags = new Flags().allow([
  'subscribers',
  'rows',
  'uploads',
  'baselines',
  'connect-concurrency',
  'quiet-wait',
  'seed',
  'root',
  'server-node-args',
  'cpu-prof',
]);
/** Subscriber counts, one phase each (1k, 10_000 … as --rows takes them). */
const SUBSCRIBERS = (flags.string('subscribers') ?? '1000,10000')
  .split(',')
  .map((part) => new Flags([`--n=${part.trim()}`]).int('n', 0, 1));
const ROWS = flags.int('rows', 1_000_000, 1);
const UPLOADS = flags.int('uploads', 1, 1);
const BASELINES = flags.int('baselines', 2, 0);
const CONNECT_CONCURRENCY = flags.int('connect-concurrency', 200, 1);
const QUIET_WAIT_S = flags.int('quiet-wait', 60);
const SEED = flags.int('seed', 1);
const ROOT = flags.string('root');
const CPU_PROF_DIR = flags.string('cpu-prof');
const SERVER_NODE_ARGS = [
  ...(flags.string('server-node-args') ?? '').split(' ').filter(Boolean),
  ...(CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : []),
];
const QUIET_CORES = 0.25;

const GOALS = { subscribers: 10_000, p99Ms: 500, messagesPerSecond: 10, rssMb: 1024, ingestRatio: 0.9 };

// --- Open files: one per WebSocket on each side -------------------------------------------------
// Node raises its own soft limit to the hard limit at startup (so does every node child process),
// so `ulimit -n` in a wrapping shell cannot give more than the hard limit: that is what counts.
const NEEDED_FILES = Math.max(...SUBSCRIBERS) + 1024;
{
  const { hard } = openFileLimits(fs.readFileSync('/proc/self/limits', 'utf8'));
  if (hard < NEEDED_FILES) {
    throw new Error(
      `open files: the hard limit is ${hard}, but ${Math.max(...SUBSCRIBERS).toLocaleString('en')} subscribers need ~${NEEDED_FILES} ` +
        `in the server and in the client load. Raise it (as root: \`ulimit -Hn 65536\` in the shell that starts the benchmark; ` +
        `docker run --ulimit nofile=65536:65536; systemd LimitNOFILE=65536) or use fewer --subscribers.`,
    );
  }
}

/** `rows` NDJSON rows from `source` in Buffers of 1,000 (one source per phase, shared by its uploads: its pool is built once). */
async function* ndjsonChunks(source: PredictionRowSource, rows: number): AsyncGenerator<Buffer> {
  const out = new AsciiChunk();
  for (let done = 0; done < rows; ) {
    const n = Math.min(1000, rows - done);
    for (let i = 0; i < n; i++) ndjsonFormat(source.next(), out);
    done += n;
    yield out.take();
  }
}

interface PhaseResult {
  subscribers: number;
  ingestRowsPerS: number;
  ingestS: number;
  /** Connect + first quota state, and the monitoringBatch subscribe, for every subscriber (s). */
  connectS: number | null;
  subscribeBatchS: number | null;
  connectFailed: number;
  subscribeFailed: number;
  quotaFanout: { reached: number; p50Ms: number; p99Ms: number; maxMs: number } | null;
  final: { reached: number; missing: number; p50Ms: number; p99Ms: number; maxMs: number; minMs: number } | null;
  /** Messages each subscriber got (both subscriptions, from the first state on): mean and max. */
  messagesPerSubscriber: { mean: number; max: number } | null;
  /** Messages each monitoringBatch subscription got during the ingest (from its first byte on), and the most within one second. */
  batchMessagesDuringIngest: { mean: number; max: number; maxInOneSecond: number } | null;
  quotaMessagesDuringIngest: { max: number; maxInOneSecond: number } | null;
  outOfOrder: number;
  clientErrors: number;
  closedSockets: number;
  firstClientError?: string;
  serverRssBeforeIngestMb: number;
  serverPeakRssMb: number;
  serverStartRssMb: number;
  clientRssMb: number | null;
  cpuS: Record<string, number>;
  otherCores: number;
  /** When the batch's notification (the commit) was heard, relative to the upload's response (ms; negative: before). */
  commitBeforeResponseMs: number;
}

let db: BenchDatabase | undefined;
let server: BenchServer | undefined;
let load: ClientLoad | undefined;
const cleanup = onShutdown(async () => {
  await load?.stop();
  await server?.stop();
  await db?.stop();
});

async function main(): Promise<void> {
  const limits = openFileLimits(fs.readFileSync('/proc/self/limits', 'utf8'));
  progress(
    `subscribers ${SUBSCRIBERS.map((n) => n.toLocaleString('en')).join(' then ')}, rows ${ROWS.toLocaleString('en')} in ${UPLOADS} upload(s), baselines ${BASELINES}; open files soft ${limits.soft} / hard ${limits.hard} (need ${NEEDED_FILES})`,
  );
  db = await startDatabase({ log: progress });
  const sql = db.sql;
  progress(`PostgreSQL: ${db.version.split(' ').slice(0, 2).join(' ')}`);

  // This process hears every live notification too: the time a batch's arrives is its commit time.
  const heard = new Map<string, number[]>();
  await sql.listen(CHANNEL, (payload) => {
    const at = Date.now();
    const event = JSON.parse(payload) as { k: string; b?: string; d?: string };
    const key = event.k === 'batch' ? `batch:${event.b}` : event.k === 'quota' ? `quota:${event.d}` : null;
    if (key) heard.set(key, [...(heard.get(key) ?? []), at]);
  });

  let adminToken: string | undefined;
  let org: { id: string; token: string } | undefined;
  let deployment: { id: string } | undefined;

  const phases: number[] = [...(BASELINES >= 1 ? [0] : []), ...SUBSCRIBERS, ...(BASELINES >= 2 ? [0] : [])];
  const results: PhaseResult[] = [];
  for (const [index, subscribers] of phases.entries()) {
    const label = subscribers ? `${subscribers.toLocaleString('en')} subscribers` : 'baseline (no subscribers)';
    progress(`--- phase ${index + 1}/${phases.length}: ${label}`);
    await sql`truncate predictions`;
    await sql`checkpoint`;
    server = await startServer({
      databaseUrl: db.url,
      ...(adminToken ? { adminToken } : {}),
      preload: [liftRequestTimeout],
      nodeArgs: SERVER_NODE_ARGS,
      ...(ROOT ? { root: ROOT } : {}),
    });
    adminToken = server.adminToken;
    const sampler = new RssSampler(server.pid, 100);
    const serverStartRss = readMemory(server.pid)!.rss;
    org ??= await createOrganization(server.url, adminToken);
    deployment ??= await createDeployment(server.url, org.token, { features: FEATURES });
    const token = org.token;
    const deploymentId = deployment.id;

    let connectS: number | null = null;
    let subscribeBatchS: number | null = null;
    let connectFailed = 0;
    let subscribeFailed = 0;
    let quotaFanout: PhaseResult['quotaFanout'] = null;
    if (subscribers) {
      load = ClientLoad.start();
      const started = Date.now();
      const connected = await load.connect(server.url, token, subscribers, CONNECT_CONCURRENCY);
      connectFailed = connected.failed;
      progress(
        `  ${connected.connected} sockets open in ${(connected.ms / 1000).toFixed(1)} s${connected.failed ? `, ${connected.failed} failed (${connected.firstError})` : ''}; server RSS ${mb(readMemory(server.pid)!.rss)} MB`,
      );
      const quota = await load.subscribe('quota', deploymentId, CONNECT_CONCURRENCY);
      subscribeFailed += quota.failed;
      connectS = (Date.now() - started) / 1000;
      progress(
        `  batchQuota: ${quota.initial} current states in ${(quota.ms / 1000).toFixed(1)} s${quota.failed ? `, ${quota.failed} failed (${quota.firstError})` : ''}; server RSS ${mb(readMemory(server.pid)!.rss)} MB`,
      );
    }

    // A new batch: the quota changes for every quota subscriber.
    const beforeCreate = Date.now();
    const batch = await createBatch(server.url, token, deploymentId, `fanout ${index + 1} ${label}`);
    const createdAt = Date.now();
    if (load) {
      const { deployment: d } = await graphql<{ deployment: { batchQuota: { used: number } } }>(
        server.url,
        token,
        'query ($id: ID!) { deployment(id: $id) { batchQuota { used } } }',
        { id: deploymentId },
      );
      const reached = await load.awaitValue('quota', d.batchQuota.used, 30_000);
      const commit = heard.get(`quota:${deploymentId}`)?.find((at) => at >= beforeCreate) ?? createdAt;
      const quotaSummary = await load.summary('quota', beforeCreate, d.batchQuota.used);
      const latencies = quotaSummary.arrivals.filter((at): at is number => at !== null).map((at) => at - commit);
      quotaFanout = {
        reached: reached.reached,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        maxMs: Math.max(...latencies),
      };
      progress(
        `  batch created: ${reached.reached}/${subscribers} quota subscribers got used=${d.batchQuota.used}; from the commit p50 ${quotaFanout.p50Ms} ms, p99 ${quotaFanout.p99Ms} ms, max ${quotaFanout.maxMs} ms`,
      );
      const batchSub = await load.subscribe('batch', batch.id, CONNECT_CONCURRENCY);
      subscribeFailed += batchSub.failed;
      subscribeBatchS = batchSub.ms / 1000;
      progress(
        `  monitoringBatch: ${batchSub.initial} current states in ${subscribeBatchS.toFixed(1)} s${batchSub.failed ? `, ${batchSub.failed} failed (${batchSub.firstError})` : ''}`,
      );
    }

    // The ingest.
    if (QUIET_WAIT_S > 0) {
      const quiet = await waitForQuiet({
        maxCores: QUIET_CORES,
        timeoutMs: QUIET_WAIT_S * 1000,
        onWait: (cores) => progress(`  other processes use ${cores} cores: waiting up to ${QUIET_WAIT_S} s for a quiet machine`),
      });
      if (!quiet.quiet) progress(`  still ${quiet.cores} cores busy elsewhere: measuring anyway (contended)`);
    }
    const serverRssBeforeIngest = readMemory(server.pid)!.rss;
    const source = new PredictionRowSource(SEED, `fanout-${index}`); // its pool is built before the clock starts
    const meter = new CpuMeter({ server: [server.pid], postgres: await postgresPids(sql), clients: load ? [load.pid] : [] });
    const bulkUrl = `${server.url}/api/v2/deployments/${deploymentId}/monitoringBatches/${batch.id}/predictions`;
    let sentRows = 0;
    const ingestStart = Date.now();
    for (let u = 0; u < UPLOADS; u++) {
      const rows = Math.floor(ROWS / UPLOADS) + (u < ROWS % UPLOADS ? 1 : 0);
      const result = await postStream(bulkUrl, {
        token,
        contentType: 'application/x-ndjson',
        body: ndjsonChunks(source, rows),
      });
      const body = result.body as { rowCount?: number };
      if (result.status !== 200 || body.rowCount !== rows)
        throw new Error(`upload failed: HTTP ${result.status} ${JSON.stringify(result.body).slice(0, 1000)}\n${server.output()}`);
      sentRows += rows;
    }
    const respondedAt = Date.now();
    const ingestS = (respondedAt - ingestStart) / 1000;
    const commitAt =
      heard
        .get(`batch:${batch.id}`)
        ?.filter((at) => at >= ingestStart)
        .at(-1) ?? respondedAt;
    const ingestRowsPerS = Math.round(sentRows / ingestS);
    progress(
      `  ingest: ${sentRows.toLocaleString('en')} rows in ${ingestS.toFixed(1)} s = ${ingestRowsPerS.toLocaleString('en')} rows/s; commit heard ${respondedAt - commitAt} ms before the response`,
    );

    let final: PhaseResult['final'] = null;
    let messagesPerSubscriber: PhaseResult['messagesPerSubscriber'] = null;
    let batchMessagesDuringIngest: PhaseResult['batchMessagesDuringIngest'] = null;
    let quotaMessagesDuringIngest: PhaseResult['quotaMessagesDuringIngest'] = null;
    let outOfOrder = 0;
    let clientErrors = 0;
    let closedSockets = 0;
    let firstClientError: string | undefined;
    let clientRssMb: number | null = null;
    if (load) {
      const reached = await load.awaitValue('batch', ROWS, 60_000);
      const batchSummary = await load.summary('batch', ingestStart, ROWS);
      const quotaSummary = await load.summary('quota', ingestStart, -1);
      const latencies = batchSummary.arrivals.filter((at): at is number => at !== null).map((at) => at - commitAt);
      final = {
        reached: reached.reached,
        missing: reached.missing,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        maxMs: Math.max(...latencies),
        minMs: Math.min(...latencies),
      };
      const perSubscriber = batchSummary.messagesTotal.map((n, i) => n + quotaSummary.messagesTotal[i]!);
      messagesPerSubscriber = { mean: round(mean(perSubscriber), 2), max: Math.max(...perSubscriber) };
      batchMessagesDuringIngest = {
        mean: round(mean(batchSummary.messagesSince), 2),
        max: Math.max(...batchSummary.messagesSince),
        maxInOneSecond: Math.max(...batchSummary.maxPerSecond),
      };
      quotaMessagesDuringIngest = { max: Math.max(...quotaSummary.messagesSince), maxInOneSecond: Math.max(...quotaSummary.maxPerSecond) };
      outOfOrder = batchSummary.outOfOrder + quotaSummary.outOfOrder;
      clientErrors = batchSummary.errors;
      closedSockets = batchSummary.closedSockets;
      firstClientError = batchSummary.firstError;
      clientRssMb = batchSummary.hwmMb;
      progress(
        `  final value: ${final.reached}/${subscribers} subscribers got predictionCount=${ROWS.toLocaleString('en')}; from the commit min ${final.minMs} ms, p50 ${final.p50Ms} ms, p99 ${final.p99Ms} ms, max ${final.maxMs} ms` +
          `; messages per subscriber mean ${messagesPerSubscriber.mean}, max ${messagesPerSubscriber.max}; monitoringBatch during the ingest max ${batchMessagesDuringIngest.max} (≤ ${batchMessagesDuringIngest.maxInOneSecond} in any second)` +
          `${clientErrors ? `; ${clientErrors} errors (${firstClientError})` : ''}${closedSockets ? `; ${closedSockets} sockets closed` : ''}`,
      );
    }
    const cpuS = meter.stop();
    const otherCores = round((cpuS.other ?? 0) / ingestS, 2);
    const rss = sampler.stop();
    const serverPeakRssMb = mb(Math.max(rss.peakSampled, rss.hwm));
    progress(
      `  server RSS: at start ${mb(serverStartRss)} MB, before the ingest ${mb(serverRssBeforeIngest)} MB, peak ${serverPeakRssMb} MB; CPU s ${JSON.stringify(cpuS)}; other processes ${otherCores} cores`,
    );
    results.push({
      subscribers,
      ingestRowsPerS,
      ingestS: round(ingestS, 1),
      connectS: connectS === null ? null : round(connectS, 1),
      subscribeBatchS: subscribeBatchS === null ? null : round(subscribeBatchS, 1),
      connectFailed,
      subscribeFailed,
      quotaFanout,
      final,
      messagesPerSubscriber,
      batchMessagesDuringIngest,
      quotaMessagesDuringIngest,
      outOfOrder,
      clientErrors,
      closedSockets,
      ...(firstClientError ? { firstClientError } : {}),
      serverRssBeforeIngestMb: mb(serverRssBeforeIngest),
      serverPeakRssMb,
      serverStartRssMb: mb(serverStartRss),
      clientRssMb,
      cpuS,
      otherCores,
      commitBeforeResponseMs: respondedAt - commitAt,
    });
    await load?.stop();
    load = undefined;
    await server.stop();
    server = undefined;
  }

  // --- Figures and goals --------------------------------------------------------------------------
  const baselines = results.filter((r) => r.subscribers === 0).map((r) => r.ingestRowsPerS);
  const baseline = mean(baselines);
  const largest = results.filter((r) => r.subscribers > 0).sort((a, b) => b.subscribers - a.subscribers)[0];
  const ratio = largest && baselines.length ? round(largest.ingestRowsPerS / baseline, 3) : null;
  const served = (r: PhaseResult) =>
    r.final !== null && r.final.missing === 0 && r.connectFailed === 0 && r.subscribeFailed === 0 && r.clientErrors === 0;
  const withSubscribers = results.filter((r) => r.subscribers > 0);
  const checks = {
    subscribers: !!largest && largest.subscribers >= GOALS.subscribers && served(largest),
    p99: withSubscribers.every((r) => r.final !== null && r.final.p99Ms <= GOALS.p99Ms),
    messagesPerSecond: withSubscribers.every(
      (r) =>
        (r.batchMessagesDuringIngest?.maxInOneSecond ?? Infinity) <= GOALS.messagesPerSecond &&
        (r.quotaMessagesDuringIngest?.maxInOneSecond ?? Infinity) <= GOALS.messagesPerSecond,
    ),
    rss: withSubscribers.every((r) => r.serverPeakRssMb <= GOALS.rssMb),
    ingestRatio: ratio !== null && ratio >= GOALS.ingestRatio,
  };
  for (const r of results) {
    progress(
      `${String(r.subscribers).padStart(6)} subscribers: ingest ${r.ingestRowsPerS.toLocaleString('en')} rows/s` +
        (r.final
          ? `, final value p50 ${r.final.p50Ms} / p99 ${r.final.p99Ms} ms (${r.final.reached}/${r.subscribers}), messages/subscriber ${r.messagesPerSubscriber?.mean} (max ${r.messagesPerSubscriber?.max}), ≤ ${r.batchMessagesDuringIngest?.maxInOneSecond}/s`
          : '') +
        `, server peak RSS ${r.serverPeakRssMb} MB`,
    );
  }
  progress(
    `ingest ratio (${largest?.subscribers ?? 0} subscribers ÷ mean of ${baselines.length} baselines): ${ratio}; goals: ${JSON.stringify(checks)}`,
  );
  printResult({
    rows: ROWS,
    uploads: UPLOADS,
    subscriptions_per_subscriber: 2,
    phases: results.map((r) => ({
      subscribers: r.subscribers,
      ingest_rows_per_s: r.ingestRowsPerS,
      ingest_s: r.ingestS,
      connect_s: r.connectS,
      subscribe_batch_s: r.subscribeBatchS,
      failed: r.connectFailed + r.subscribeFailed,
      quota_fanout_ms: r.quotaFanout,
      final_reached: r.final?.reached ?? null,
      final_p50_ms: r.final?.p50Ms ?? null,
      final_p99_ms: r.final?.p99Ms ?? null,
      final_max_ms: r.final?.maxMs ?? null,
      final_min_ms: r.final?.minMs ?? null,
      messages_per_subscriber_mean: r.messagesPerSubscriber?.mean ?? null,
      messages_per_subscriber_max: r.messagesPerSubscriber?.max ?? null,
      batch_messages_during_ingest_max: r.batchMessagesDuringIngest?.max ?? null,
      max_messages_in_one_second: r.batchMessagesDuringIngest
        ? Math.max(r.batchMessagesDuringIngest.maxInOneSecond, r.quotaMessagesDuringIngest!.maxInOneSecond)
        : null,
      out_of_order: r.outOfOrder,
      client_errors: r.clientErrors,
      closed_sockets: r.closedSockets,
      server_start_rss_mb: r.serverStartRssMb,
      server_rss_before_ingest_mb: r.serverRssBeforeIngestMb,
      server_peak_rss_mb: r.serverPeakRssMb,
      client_peak_rss_mb: r.clientRssMb,
      cpu_s: r.cpuS,
      other_cores: r.otherCores,
    })),
    baseline_rows_per_s: baselines.length ? Math.round(baseline) : null,
    ingest_ratio: ratio,
    goals: {
      subscribers: GOALS.subscribers,
      final_p99_ms: GOALS.p99Ms,
      messages_per_s: GOALS.messagesPerSecond,
      server_rss_mb: GOALS.rssMb,
      ingest_ratio: GOALS.ingestRatio,
    },
    checks,
    open_files: { soft: limits.soft, hard: limits.hard },
    server_root: ROOT ?? null,
    server_node_args: SERVER_NODE_ARGS,
    database: db.embedded ? 'embedded' : 'DATABASE_URL',
    goal_met: Object.values(checks).every(Boolean),
  });
}

await runBenchmark(main, cleanup);
