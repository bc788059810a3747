/**
 * Issue 12 benchmark: the dashboard's Batch Management tab with 1,000 batches — how soon the batches
 * table shows its first row — against the same page on an empty deployment, measured in the same run.
 *
 *   npx tsx bench/dashboard.ts [--batches 1000] [--rows 20] [--loads 10] [--warmup 2] [--quiet-wait 120]
 *                              [--chromium /usr/bin/chromium]
 *
 * 1. Builds the page if its sources changed (scripts/build-web.ts) and reads the bundle's sizes
 *    (raw and gzipped, as the server sends it); starts PostgreSQL (DATABASE_URL, or an embedded one
 *    in a temporary directory) and batchlens as its own process, which serves web/dist at `/`.
 * 2. One organization without a daily limit; a REGRESSION deployment (features age, city) with
 *    --batches batches, each given --rows predictions through the bulk route (`POST
 *    …/monitoringBatches/{id}/predictions/`, NDJSON, 4 uploads at a time) so every count is non-zero;
 *    and an empty deployment (the baseline: the same page, tab and requests, no rows to draw). Then
 *    VACUUM ANALYZE. Check: the API reports --batches batches and --batches × --rows predictions.
 * 3. Timed: --warmup then --loads page loads of each deployment, interleaved (full, empty, full …),
 *    each in a new browser context (no HTTP cache, a new graphql-ws connection) signed in through
 *    session storage, opening `#/deployments/<id>/batches`. An init script (before the page's own)
 *    watches the DOM and records performance.now() — milliseconds since navigation start — when the
 *    table's first row (or, empty, its "no batches" note) is inserted, and again at the next
 *    animation frame (when it can first be painted). Also read: the browser's first-contentful-paint,
 *    the rows shown, the GraphQL requests over HTTP and the subscriptions started over graphql-ws
 *    during the load (50 row subscriptions, the quota's and the batch events' on the full page).
 *    Before the timed loads, up to --quiet-wait s of waiting for other processes to use < 0.25 cores;
 *    CPU of the server, PostgreSQL, Chromium and the rest is measured during them (contended when the
 *    rest used > 0.25 cores).
 *
 * Figures: median and p95 of each over the timed loads, per deployment, and the full page's median
 * first row over the empty page's. The last line is the JSON of the figures.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { type Browser, type BrowserServer, chromium, type Page } from 'playwright-core';
import { bundleSizes, ensureWebBuilt } from '../scripts/build-web.js';
import { createBatch, createDeployment, createOrganization, graphql } from './lib/api.js';
import { Flags } from './lib/args.js';
import { readStat, waitForQuiet } from './lib/cpu.js';
import { type BenchDatabase, startDatabase } from './lib/database.js';
import { postmasterPid, TreeCpuMeter } from './lib/metrics-cpu.js';
import { p50, p95 } from './lib/metrics-stats.js';
import { onShutdown, printResult, progress, round, runBenchmark } from './lib/report.js';
import { type BenchServer, startServer } from './lib/server.js';

const flags = new Flags().allow(['batches', 'rows', 'loads', 'warmup', 'quiet-wait', 'chromium']);
const BATCHES = flags.int('batches', 1000, 1);
const ROWS = flags.int('rows', 20, 1);
const LOADS = flags.int('loads', 10, 1);
const WARMUP = flags.int('warmup', 2, 0);
const QUIET_WAIT_S = flags.int('quiet-wait', 120);
const CHROMIUM = flags.string('chromium', '/usr/bin/chromium');
const QUIET_CORES = 0.25;
const UPLOADS_AT_ONCE = 4;

let db: BenchDatabase | undefined;
let server: BenchServer | undefined;
let browserServer: BrowserServer | undefined;
let browser: Browser | undefined;
const cleanup = onShutdown(async () => {
  await browser?.close().catch(() => {});
  await browserServer?.close().catch(() => {});
  await server?.stop();
  await db?.stop();
});

/**
 * CPU seconds of a process and all its descendants, alive or exited and reaped within the tree
 * (Chromium's renderers come and go with each browser context; its zygote reaps them).
 */
function treeCpuSeconds(root: number): number {
  const childrenOf = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) childrenOf.set(stat.ppid, [...(childrenOf.get(stat.ppid) ?? []), Number(entry)]);
  }
  let total = 0;
  const queue = [root];
  while (queue.length) {
    const pid = queue.pop()!;
    const stat = readStat(pid);
    if (stat) total += stat.own + stat.children;
    queue.push(...(childrenOf.get(pid) ?? []));
  }
  return total;
}

/** `count` regression rows for the deployment's features, one second apart from `start`. */
function ndjsonRows(count: number, start: number): string {
  let body = '';
  for (let i = 0; i < count; i++) {
    const n = start + i;
    body += `${JSON.stringify({
      features: { age: n % 90, city: `c${n % 7}` },
      prediction: (n % 1000) / 10,
      timestamp: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
    })}\n`;
  }
  return body;
}

async function upload(url: string, token: string, deploymentId: string, batchId: string, body: string): Promise<void> {
  const response = await fetch(`${url}/api/v2/deployments/${deploymentId}/monitoringBatches/${batchId}/predictions/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
    body,
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`upload into ${batchId}: ${response.status} ${text.slice(0, 500)}`);
}

/** Runs `work` over `items`, `limit` at a time. */
async function inParallel<T>(items: T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index]!, index);
      }
    }),
  );
}

interface Load {
  /** performance.now() when the first row (or the empty note) was inserted, and at the next frame. */
  firstRowMs: number;
  firstRowFrameMs: number;
  fcpMs: number | null;
  rows: number;
  graphqlRequests: number;
  subscriptions: number;
}

/** Runs before the page's scripts: records when the table's first row (or its empty note) enters the DOM. */
function watchFirstRow(token: string): void {
  sessionStorage.setItem('batchlens.token', token);
  const state = window as unknown as { benchFirstRow?: number; benchFirstRowFrame?: number };
  const observer = new MutationObserver(() => {
    if (state.benchFirstRow !== undefined) return;
    if (document.querySelector('table.batch-table tbody tr, .batch-table-empty')) {
      state.benchFirstRow = performance.now();
      observer.disconnect();
      requestAnimationFrame(() => {
        state.benchFirstRowFrame = performance.now();
      });
    }
  });
  observer.observe(document, { childList: true, subtree: true });
}

async function loadOnce(url: string, token: string, deploymentId: string): Promise<Load> {
  const context = await browser!.newContext({ viewport: { width: 1400, height: 900 }, timezoneId: 'Europe/Berlin', locale: 'en-US' });
  try {
    await context.addInitScript(watchFirstRow, token);
    const page: Page = await context.newPage();
    let graphqlRequests = 0;
    let subscriptions = 0;
    page.on('request', (request) => {
      if (request.url().endsWith('/graphql') && request.method() === 'POST') graphqlRequests++;
    });
    page.on('websocket', (socket) =>
      socket.on('framesent', (frame) => {
        if (typeof frame.payload === 'string' && frame.payload.includes('"type":"subscribe"')) subscriptions++;
      }),
    );
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${url}/#/deployments/${deploymentId}/batches`);
    await page.waitForFunction(() => (window as unknown as { benchFirstRowFrame?: number }).benchFirstRowFrame !== undefined, null, {
      timeout: 60_000,
    });
    // Everything the page asks for on load: the row subscriptions start once the rows are drawn, the quota's with the tab.
    await page.locator('.quota[data-live="on"]').waitFor({ timeout: 60_000 });
    await page.waitForTimeout(300);
    const figures = await page.evaluate(() => {
      const state = window as unknown as { benchFirstRow: number; benchFirstRowFrame: number };
      const fcp = performance.getEntriesByType('paint').find((entry) => entry.name === 'first-contentful-paint');
      return {
        firstRowMs: state.benchFirstRow,
        firstRowFrameMs: state.benchFirstRowFrame,
        fcpMs: fcp ? fcp.startTime : null,
        rows: document.querySelectorAll('table.batch-table tbody tr').length,
      };
    });
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    return { ...figures, graphqlRequests, subscriptions };
  } finally {
    await context.close();
  }
}

function summarize(loads: Load[]) {
  const of = (pick: (load: Load) => number | null) => loads.map(pick).filter((value): value is number => value !== null);
  const stat = (values: number[]) => ({ p50_ms: round(p50(values), 1), p95_ms: round(p95(values), 1) });
  return {
    first_row: stat(of((load) => load.firstRowMs)),
    first_row_frame: stat(of((load) => load.firstRowFrameMs)),
    first_contentful_paint: stat(of((load) => load.fcpMs)),
    rows_shown: loads[0]?.rows ?? 0,
    graphql_http_requests: p50(of((load) => load.graphqlRequests)),
    ws_subscriptions: p50(of((load) => load.subscriptions)),
  };
}

async function main() {
  const built = await ensureWebBuilt({ quiet: true });
  const sizes = bundleSizes();
  progress(`dashboard bundle ${built === 'built' ? 'built' : 'current'}: ${sizes.map((s) => `${s.file} ${s.gzipBytes} B gz`).join(', ')}`);
  // (Debian's wrapper script prints a shell warning on stderr for --version: not ours to show.)
  const chromiumVersion = execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();

  db = await startDatabase({ log: progress });
  server = await startServer({ databaseUrl: db.url });
  const org = await createOrganization(server.url, server.adminToken);
  const features = [
    { name: 'age', type: 'NUMERIC' as const },
    { name: 'city', type: 'CATEGORICAL' as const },
  ];
  const full = await createDeployment(server.url, org.token, { features, label: 'bench: 1,000 batches' });
  const empty = await createDeployment(server.url, org.token, { features, label: 'bench: no batches' });
  progress(`creating ${BATCHES} batches with ${ROWS} predictions each`);
  const batchIds: string[] = [];
  for (let b = 0; b < BATCHES; b++)
    batchIds.push((await createBatch(server.url, org.token, full.id, `nightly ${String(b).padStart(4, '0')}`)).id);
  await inParallel(batchIds, UPLOADS_AT_ONCE, (batchId, index) =>
    upload(server!.url, org.token, full.id, batchId, ndjsonRows(ROWS, index * ROWS)),
  );
  await db.sql`vacuum analyze`;

  const check = await graphql<{ deployment: { batches: { totalCount: number } } }>(
    server.url,
    org.token,
    'query ($id: ID!) { deployment(id: $id) { batches(first: 1) { totalCount } } }',
    { id: full.id },
  );
  const [{ rows }] =
    (await db.sql`select coalesce(sum(prediction_count), 0)::int as rows from monitoring_batches where deployment_id = ${full.id}`) as unknown as [
      { rows: number },
    ];
  if (check.deployment.batches.totalCount !== BATCHES || rows !== BATCHES * ROWS) {
    throw new Error(
      `setup: ${check.deployment.batches.totalCount} batches and ${rows} predictions, expected ${BATCHES} and ${BATCHES * ROWS}`,
    );
  }
  progress(`check passed: ${BATCHES} batches, ${rows.toLocaleString('en')} predictions`);

  // A browser server, so that its process (and the tree under it) can be measured.
  browserServer = await chromium.launchServer({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  browser = await chromium.connect(browserServer.wsEndpoint());
  const chromiumPid = browserServer.process().pid!;
  for (let i = 0; i < WARMUP; i++) {
    await loadOnce(server.url, org.token, full.id);
    await loadOnce(server.url, org.token, empty.id);
  }
  const quiet = await waitForQuiet({
    maxCores: QUIET_CORES,
    timeoutMs: QUIET_WAIT_S * 1000,
    onWait: (cores) => progress(`waiting for other processes to calm down (${cores} cores busy)`),
  });
  const meter = new TreeCpuMeter(await postmasterPid(db.sql), { server: server.pid });
  const chromiumBefore = treeCpuSeconds(chromiumPid);
  const started = performance.now();
  const loads = { full: [] as Load[], empty: [] as Load[] };
  for (let i = 0; i < LOADS; i++) {
    loads.full.push(await loadOnce(server.url, org.token, full.id));
    loads.empty.push(await loadOnce(server.url, org.token, empty.id));
    progress(
      `load ${i + 1}/${LOADS}: first row ${round(loads.full.at(-1)!.firstRowMs)} ms (empty page ${round(loads.empty.at(-1)!.firstRowMs)} ms)`,
    );
  }
  const cpu = meter.stop();
  cpu.chromium = round(treeCpuSeconds(chromiumPid) - chromiumBefore, 2);
  const wallSeconds = (performance.now() - started) / 1000;
  // TreeCpuMeter counted Chromium as "other": it is part of the benchmark.
  cpu.other = round(Math.max(0, cpu.other! - cpu.chromium), 2);
  delete cpu.other_cores;
  const fullFigures = summarize(loads.full);
  const emptyFigures = summarize(loads.empty);
  if (fullFigures.rows_shown !== Math.min(50, BATCHES)) throw new Error(`the page showed ${fullFigures.rows_shown} rows`);
  printResult({
    batches: BATCHES,
    predictions_per_batch: ROWS,
    loads: LOADS,
    chromium: chromiumVersion,
    postgres: db.version.split(' ').slice(0, 2).join(' '),
    bundle: sizes.map((s) => ({ file: s.file, bytes: s.bytes, gzip_bytes: s.gzipBytes })),
    bundle_gzip_bytes: sizes.reduce((sum, s) => sum + s.gzipBytes, 0),
    full: fullFigures,
    empty_baseline: emptyFigures,
    first_row_over_baseline: round(fullFigures.first_row.p50_ms / emptyFigures.first_row.p50_ms, 2),
    first_row_minus_baseline_ms: round(fullFigures.first_row.p50_ms - emptyFigures.first_row.p50_ms, 1),
    quiet_before: quiet,
    cpu_seconds: cpu,
    other_cores_during: round(cpu.other! / wallSeconds, 2),
    contended: cpu.other! / wallSeconds > QUIET_CORES,
  });
}

void runBenchmark(main, cleanup);
