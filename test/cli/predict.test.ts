// `batchlens predict` (bin/batchlens.mjs) as a real child process against a real batchlens server
// and the example model server: the output file row for row with the model's predictions, the
// monitoring batch it made, progress and summary on stderr, refusals, a failing model, and Ctrl-C
// aborting the job on the server. A few checks run the command in-process (a terminal's progress
// bar, usage errors).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { CsvReader } from '../../src/formats/csv.js';
import type { CreateDeploymentInput } from '../generated/graphql.js';
import { createDeployment } from '../helpers/fixtures.js';
import { ROOT } from '../helpers/processes.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { sleep } from '../helpers/time.js';

const BIN = path.join(ROOT, 'bin', 'batchlens.mjs');
const MODEL_SERVER = path.join(ROOT, 'examples', 'model-server', 'server.mjs');

/** The model: price = 1.5 + 2.25·age + city's coefficient (0 for a city it does not know). */
const CITY = { paris: 10, rome: -3, 'new york, ny': 7 } as Record<string, number>;
const price = (age: number, city: string) => 1.5 + 2.25 * age + (CITY[city] ?? 0);
const model = (behaviour?: Record<string, unknown>) => ({
  targetType: 'REGRESSION',
  features: [
    { name: 'age', type: 'NUMERIC' },
    { name: 'city', type: 'CATEGORICAL' },
  ],
  outputs: { value: { intercept: 1.5, coefficients: { age: 2.25, city: CITY } } },
  ...(behaviour ? { behaviour } : {}),
});

let server: TestServer;
let modelServer: ChildProcess;
let dir: string;
const deployments = { fast: '', slow: '', failing: '' };

/** The example model server over `models` (name → model file), as a child process; its URL. */
async function startModelServer(models: Record<string, unknown>): Promise<string> {
  const modelDir = path.join(dir, 'models');
  mkdirSync(modelDir);
  for (const [name, file] of Object.entries(models)) writeFileSync(path.join(modelDir, `${name}.json`), JSON.stringify(file));
  modelServer = spawn(process.execPath, [MODEL_SERVER, '--port', '0', '--models', modelDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`model server not ready in 10 s: ${output}`)), 10_000);
    const read = (chunk: string) => {
      output += chunk;
      const match = /model-server listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    modelServer.stdout!.setEncoding('utf8').on('data', read);
    modelServer.stderr!.setEncoding('utf8').on('data', read);
    modelServer.on('exit', (code) => reject(new Error(`model server exited (${code}): ${output}`)));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'batchlens-cli-'));
  server = await startTestServer({ jobSchedulerIntervalMs: 200 });
  const url = await startModelServer({
    linear: model(),
    slow: model({ delayMs: 300 }),
    failing: model({ failFirst: 1_000_000, failStatus: 400 }),
  });
  for (const name of ['fast', 'slow', 'failing'] as const) {
    const modelName = name === 'fast' ? 'linear' : name;
    // schema.graphql (and so the generated input type) predates the modelBackend setting the server takes.
    const input = { modelBackend: { protocol: 'OPEN_INFERENCE_V2', url, modelName } } as unknown as Partial<CreateDeploymentInput>;
    deployments[name] = (await createDeployment(server, server.adminToken, input)).id;
  }
});

afterAll(async () => {
  modelServer?.kill();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Row {
  id: string;
  age: number;
  city: string;
  note: string;
}

/** `n` rows; notes with commas, quotes and line breaks (one output line is not one row). */
function rows(n: number): Row[] {
  const cities = ['paris', 'rome', 'new york, ny', 'lima'];
  return Array.from({ length: n }, (_, i) => ({
    id: `r${i}`,
    age: (i * 7) % 90,
    city: cities[i % cities.length]!,
    note: i % 10 === 0 ? `note ${i}, "quoted"\nsecond line` : `note ${i}`,
  }));
}

const cell = (value: string | number) => (/[",\n]/.test(String(value)) ? `"${String(value).replaceAll('"', '""')}"` : String(value));

function writeInput(name: string, data: Row[]): string {
  const file = path.join(dir, name);
  const lines = data.map((r) => [r.id, r.age, r.city, r.note].map(cell).join(','));
  writeFileSync(file, `id,age,city,note\n${lines.join('\n')}\n`);
  return file;
}

function readCsv(file: string): (string | null)[][] {
  const reader = new CsvReader(Number.MAX_SAFE_INTEGER);
  reader.feed(readFileSync(file));
  const records: (string | null)[][] = [];
  for (let record = reader.next(); record; record = reader.next()) if ('cells' in record) records.push(record.cells);
  const last = reader.finish();
  if (last && 'cells' in last) records.push(last.cells);
  return records;
}

interface Run {
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `node bin/batchlens.mjs …args` from the repository root, with only `env`'s BATCHLENS_* variables. */
function runCli(args: string[], env: Record<string, string> = {}): Run {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(childEnv)) if (name.startsWith('BATCHLENS_')) delete childEnv[name];
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...childEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stderr: () => stderr, stdout: () => stdout, exited };
}

const connection = () => ['--url', server.url, '--token', server.adminToken];

async function jobsOf(deploymentId: string) {
  const answer = await server.rest('GET', `/api/v2/batchPredictions/?deploymentId=${deploymentId}`);
  return (answer.json as unknown as { data: { id: string; status: string; monitoringBatchId: string | null; statusDetails: string }[] })
    .data;
}

describe('batchlens predict', () => {
  it('scores a CSV file: the output row for row, in a monitoring batch named after the prefix, with progress and a summary', async () => {
    const data = rows(3000);
    const input = writeInput('in.csv', data);
    const output = path.join(dir, 'out.csv');
    // Small chunks: the output streams down while later chunks are scored.
    const run = runCli([
      'predict',
      input,
      output,
      '--deployment',
      deployments.fast,
      '--monitoring-batch-prefix',
      'cli nightly',
      '--passthrough-all',
      '--chunk-size',
      '8000',
      '--concurrency',
      '2',
      ...connection(),
    ]);
    const { code } = await run.exited;
    expect(run.stderr()).toContain('COMPLETED');
    expect(code).toBe(0);

    const [header, ...out] = readCsv(output);
    expect(header).toEqual(['id', 'age', 'city', 'note', 'price_PREDICTION']);
    expect(out).toHaveLength(data.length);
    out.forEach((cells, i) => {
      const row = data[i]!;
      expect(cells.slice(0, 4)).toEqual([row.id, String(row.age), row.city, row.note]);
      expect(Number(cells[4])).toBeCloseTo(price(row.age, row.city), 9);
    });
    expect(existsSync(`${output}.partial`)).toBe(false);

    const [job] = await jobsOf(deployments.fast);
    expect(job).toMatchObject({ status: 'COMPLETED' });
    const batch = await server.rest('GET', `/api/v2/deployments/${deployments.fast}/monitoringBatches/${job!.monitoringBatchId}/`);
    expect(batch.json.batchName).toMatch(/^cli nightly - \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(batch.json.predictionsCount).toBe(data.length);

    const stderr = run.stderr();
    expect(stderr).toContain(`Job ${job!.id} created`);
    expect(stderr).toMatch(/^uploading \d+(\.\d)?% /m);
    expect(stderr).toMatch(/Uploaded .*in\.csv: 3000 rows/);
    expect(stderr).toMatch(/^(RUNNING|COMPLETED) \d+(\.\d)?% \d+\/3000 rows scored/m);
    expect(stderr).toMatch(/rows scored: +3000/);
    expect(stderr).toMatch(/rows failed: +0/);
    expect(stderr).toContain(`monitoring batch: ${job!.monitoringBatchId} "cli nightly - `);
    expect(stderr).toMatch(/elapsed: +\d+\.\d s/);
  });

  it('takes the server and token from BATCHLENS_URL / BATCHLENS_TOKEN, and passes through only the named columns', async () => {
    const data = rows(50);
    const input = writeInput('env.csv', data);
    const output = path.join(dir, 'env-out.csv');
    const run = runCli(['predict', input, output, '-d', deployments.fast, '--passthrough', 'id'], {
      BATCHLENS_URL: `${server.url}/api/v2/`,
      BATCHLENS_TOKEN: server.adminToken,
    });
    expect((await run.exited).code).toBe(0);
    const [header, ...out] = readCsv(output);
    expect(header).toEqual(['id', 'price_PREDICTION']);
    expect(out.map((cells) => cells[0])).toEqual(data.map((r) => r.id));
  });

  it('an unknown deployment: the server’s message and exit 1, no job, no output', async () => {
    const input = writeInput('small.csv', rows(10));
    const output = path.join(dir, 'none.csv');
    const run = runCli(['predict', input, output, '--deployment', 'dep_000000000000000000000000', ...connection()]);
    expect((await run.exited).code).toBe(1);
    expect(run.stderr()).toContain('error: Invalid input: deploymentId: Deployment not found (HTTP 422)');
    expect(existsSync(output)).toBe(false);
    expect(existsSync(`${output}.partial`)).toBe(false);
  });

  it('a bad token: the server’s message and exit 1', async () => {
    const input = writeInput('small.csv', rows(10));
    const run = runCli(['predict', input, path.join(dir, 'none.csv'), '-d', deployments.fast, '--url', server.url, '--token', 'bl_nope']);
    expect((await run.exited).code).toBe(1);
    expect(run.stderr()).toMatch(/error: Missing, invalid, revoked or expired API token.*\(HTTP 401\)/);
  });

  it('an input the server refuses (a feature column missing): its message, exit 1, and the job aborted rather than left waiting', async () => {
    const input = path.join(dir, 'nocity.csv');
    writeFileSync(input, 'id,age\n1,2\n');
    const output = path.join(dir, 'nocity-out.csv');
    const before = (await jobsOf(deployments.fast)).length;
    const run = runCli(['predict', input, output, '-d', deployments.fast, ...connection()]);
    expect((await run.exited).code).toBe(1);
    expect(run.stderr()).toMatch(/error: Invalid input: line 1: misses the feature columns "city".*\(HTTP 422\)/);
    const jobs = await jobsOf(deployments.fast);
    expect(jobs).toHaveLength(before + 1);
    expect(jobs[0]).toMatchObject({ status: 'ABORTED' });
    expect(existsSync(output)).toBe(false);
    expect(existsSync(`${output}.partial`)).toBe(false);
  });

  it('a job that fails (the model refuses every request): statusDetails in the summary, exit 1, no output', async () => {
    const input = writeInput('failing.csv', rows(100));
    const output = path.join(dir, 'failing-out.csv');
    const run = runCli(['predict', input, output, '-d', deployments.failing, ...connection()]);
    expect((await run.exited).code).toBe(1);
    expect(run.stderr()).toMatch(/^FAILED: Model backend failed on chunk 0/m);
    expect(run.stderr()).toMatch(/rows scored: +0/);
    const [job] = await jobsOf(deployments.failing);
    expect(job).toMatchObject({ status: 'FAILED' });
    expect(existsSync(output)).toBe(false);
    expect(existsSync(`${output}.partial`)).toBe(false);
  });

  it('Ctrl-C mid-run aborts the job on the server, leaves no output file and exits 130', async () => {
    const input = writeInput('slow.csv', rows(2000));
    const output = path.join(dir, 'slow-out.csv');
    // ~50 chunks of 300 ms each, one at a time: 15 s if nobody stopped it.
    const run = runCli(['predict', input, output, '-d', deployments.slow, '--chunk-size', '1000', '--concurrency', '1', ...connection()]);
    const deadline = Date.now() + 30_000;
    // Running, some output already downloaded into the partial file.
    while (!/^RUNNING .*; [1-9]\d* rows downloaded/m.test(run.stderr())) {
      if (Date.now() > deadline) throw new Error(`never saw the job running:\n${run.stderr()}`);
      await sleep(50);
    }
    expect(statSync(`${output}.partial`).size).toBeGreaterThan(0);
    run.child.kill('SIGINT');
    const { code } = await run.exited;
    expect(code).toBe(130);
    const [job] = await jobsOf(deployments.slow);
    expect(run.stderr()).toContain(`Job ${job!.id} aborted on the server`);
    expect(job).toMatchObject({ status: 'ABORTED', statusDetails: 'Aborted by the user' });
    expect(existsSync(output)).toBe(false);
    expect(existsSync(`${output}.partial`)).toBe(false);
  });
});

/** A writable that says it is a terminal (cli-progress draws only there), keeping what is written. */
function fakeTerminal() {
  const stream = {
    text: '',
    isTTY: true,
    columns: 120,
    write(chunk: string) {
      stream.text += chunk;
      return true;
    },
  };
  return stream;
}

describe('in-process', () => {
  it('draws a progress bar in a terminal', async () => {
    const input = writeInput('tty.csv', rows(500));
    const output = path.join(dir, 'tty-out.csv');
    const stderr = fakeTerminal();
    const stdout = fakeTerminal();
    // The slow model (300 ms a chunk) over ~4 chunks: the job is RUNNING for several polls (with the
    // fast one it could go from INITIALIZING to COMPLETED between two polls).
    const code = await main(['predict', input, output, '--deployment', deployments.slow, '--chunk-size', '4000'], {
      env: { BATCHLENS_URL: server.url, BATCHLENS_TOKEN: server.adminToken },
      stdout,
      stderr,
      pollIntervalMs: 100,
    });
    expect(code).toBe(0);
    expect(stderr.text).toMatch(/uploading +\|[█░]+\| 100% \|/);
    expect(stderr.text).toMatch(/RUNNING +\|[█░]+\| \d+% \| \d+\/500 rows scored/);
    expect(stderr.text).toMatch(/(COMPLETED|downloading) +\|█+\| 100% \| 500\/500 rows/);
    expect(readCsv(output)).toHaveLength(501);
  });

  it('SIGTERM before the upload aborts the waiting job and exits 143', async () => {
    const input = writeInput('term.csv', rows(100));
    const output = path.join(dir, 'term-out.csv');
    const controller = new AbortController();
    const stderr = fakeTerminal();
    stderr.isTTY = false;
    const write = stderr.write;
    stderr.write = (chunk: string) => {
      if (chunk.includes(' created for deployment')) controller.abort('SIGTERM');
      return write(chunk);
    };
    const code = await main(['predict', input, output, '-d', deployments.fast, ...connection()], {
      env: {},
      stdout: fakeTerminal(),
      stderr,
      interrupt: controller.signal,
    });
    expect(code).toBe(143);
    const [job] = await jobsOf(deployments.fast);
    expect(stderr.text).toContain(`Job ${job!.id} aborted on the server`);
    expect(job).toMatchObject({ status: 'ABORTED' });
    expect(existsSync(`${output}.partial`)).toBe(false);
  });

  it('usage errors exit 2 before anything is sent', async () => {
    const io = () => ({ env: {}, stdout: fakeTerminal(), stderr: fakeTerminal() });
    const missing = io();
    expect(await main(['predict', 'a.csv', 'b.csv'], missing)).toBe(2);
    expect(missing.stderr.text).toContain('--deployment <id> is required');
    const noToken = io();
    expect(await main(['predict', 'a.csv', 'b.csv', '-d', 'dep_x'], noToken)).toBe(2);
    expect(noToken.stderr.text).toContain('no API token: pass --token TOKEN or set BATCHLENS_TOKEN');
    const unknown = io();
    expect(await main(['predict', 'a.csv', 'b.csv', '--nope'], unknown)).toBe(2);
    expect(unknown.stderr.text).toContain("Unknown option '--nope'");
    const help = io();
    expect(await main(['predict', '--help'], help)).toBe(0);
    expect(help.stdout.text).toContain('Usage: batchlens predict <input.csv> <output.csv> --deployment <id>');
    const missingInput = io();
    expect(await main(['predict', path.join(dir, 'absent.csv'), 'b.csv', '-d', 'dep_x', '--token', 't'], missingInput)).toBe(1);
    expect(missingInput.stderr.text).toContain('absent.csv: no such file');
  });
});
