import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type CsvServer, startCsvServer } from '../examples/demo/csv-server.js';
import { fillDemo, MAX_MONTHS, reconnectDemo } from '../examples/demo/seattle-weather.js';
import { readDays } from '../examples/demo/weather-data.js';
import { type RunningApp, startApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { ensureWebBuilt } from './build-web.js';

// `npm run demo`: a batchlens server with something to look at. With no arguments it starts
// everything on this machine — batchlens on an embedded PostgreSQL in .batchlens-demo/ (wiped at
// start unless --keep), the example model server, the server of the monthly CSVs — fills it with
// Seattle's weather (examples/demo), prints where to look and with which token, and runs until
// Ctrl-C. With --url and --token it fills an existing server instead (which must reach this
// machine's 127.0.0.1: the model server and the CSVs are served here).
//
// npm runs it as `node --import tsx`, not through the tsx CLI: the CLI SIGKILLs a child that does not
// acknowledge a relayed Ctrl-C within 30 ms (a busy moment of the fill), which would leave the
// embedded PostgreSQL running without its server.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODEL_SERVER = path.join(ROOT, 'examples', 'model-server', 'server.mjs');
/** Marks a directory the demo made: only such a directory is ever wiped. */
const MARKER = 'BATCHLENS_DEMO';
/** The admin token of the demo's own server (it listens on loopback only). */
const DEMO_TOKEN = 'bl_demo_seattle_weather';

const USAGE = `usage: npm run demo -- [options]

  (no options)        start batchlens (embedded PostgreSQL in .batchlens-demo/), the example model
                      server and the CSV server; fill them; run until Ctrl-C
  --months N          months to replay from 2013-01, 1–${MAX_MONTHS} (default ${MAX_MONTHS})
  --port N            batchlens's port (default: env PORT, else 4000; 0 picks a free one)
  --data-dir DIR      where the demo server keeps its data (default .batchlens-demo)
  --keep              keep the data of an earlier run instead of wiping it (no refill when the
                      demo deployment is there already)
  --url URL           fill this running batchlens server instead of starting one
  --token TOKEN       with --url: an organization admin's API token (required);
                      without: the demo server's admin token (default ${DEMO_TOKEN})
  -h, --help          this text`;

interface Options {
  months: number;
  port: number;
  dataDir: string;
  keep: boolean;
  url: string | undefined;
  token: string;
}

function fail(message: string): never {
  console.error(`demo: ${message}\n\n${USAGE}`);
  process.exit(2);
}

const FLAGS = {
  months: { type: 'string' },
  port: { type: 'string' },
  'data-dir': { type: 'string' },
  keep: { type: 'boolean' },
  url: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function readOptions(argv: string[]): Options {
  let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof FLAGS; strict: true }>>['values'];
  try {
    values = parseArgs({ args: argv, options: FLAGS, strict: true }).values;
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const integer = (name: string, raw: string | undefined, fallback: number, min: number, max: number) => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) fail(`--${name} must be an integer ${min}–${max}, got "${raw}"`);
    return value;
  };
  if (values.url && !values.token) fail('--url needs --token (an organization admin’s API token)');
  if (values.url && (values.keep || values['data-dir'] || values.port))
    fail('--keep, --data-dir and --port are for the demo’s own server, not with --url');
  return {
    months: integer('months', values.months, MAX_MONTHS, 1, MAX_MONTHS),
    port: integer('port', values.port ?? process.env.PORT, 4000, 0, 65535),
    dataDir: path.resolve(values['data-dir'] ?? path.join(ROOT, '.batchlens-demo')),
    keep: values.keep ?? false,
    url: values.url?.replace(/\/+$/, ''),
    token: values.token ?? DEMO_TOKEN,
  };
}

/** A fresh data directory: an earlier demo's is wiped; anything else that is not empty is left alone. */
function prepareDataDir(dir: string, keep: boolean): void {
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    if (!existsSync(path.join(dir, MARKER))) {
      fail(`${dir} is not empty and was not made by the demo: choose another --data-dir (it would be wiped)`);
    }
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, MARKER), 'Made by `npm run demo`, which wipes it at every start unless --keep.\n');
}

/** The example model server on a free port; its URL from its ready line. */
function startModelServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [MODEL_SERVER, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the model server printed no ready line within 10 s:\n${output}`)), 10_000);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const match = /^model-server listening on (http:\/\/\S+) /m.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]! });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the model server exited (${code}) before it was ready:\n${output}`));
    });
  });
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2));
  const stops: (() => Promise<void>)[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const stop of stops.reverse()) {
      await stop().catch((error: unknown) => console.error(`demo: stopping: ${String(error)}`));
    }
    process.exit(code);
  };
  // A Ctrl-C reaches this process more than once (from the terminal and relayed by tsx): stop once.
  const onSignal = () => {
    if (!stopping) console.log('\nstopping the demo…');
    void stopAll(0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    let url = options.url;
    let app: RunningApp | undefined;
    if (!url) {
      prepareDataDir(options.dataDir, options.keep);
      await ensureWebBuilt({ quiet: true });
      // Its own embedded PostgreSQL whatever DATABASE_URL says: the demo never fills a real database by accident.
      const config = {
        ...loadConfig({ ...process.env, BATCHLENS_DATA_DIR: options.dataDir }),
        databaseUrl: undefined,
        host: '127.0.0.1',
        port: options.port,
        bootstrapToken: options.token,
      };
      console.log(`starting batchlens (embedded PostgreSQL in ${path.relative(process.cwd(), options.dataDir) || '.'})…`);
      // Its log lines are for an operator: the demo shows its own progress, and only warnings of the server's.
      const started = await startApp({ ...config, logLevel: 'warn' }, { print: (text) => console.log(text.replace(/^/gm, '  ')) });
      app = started;
      stops.push(() => started.stop());
      url = started.url;
    }

    const modelServer = await startModelServer();
    stops.push(async () => {
      modelServer.child.kill('SIGTERM');
    });
    console.log(`example model server at ${modelServer.url}`);
    const csvServer: CsvServer = await startCsvServer(readDays());
    stops.push(() => csvServer.stop());
    console.log(`monthly CSVs at ${csvServer.url}/seattle-weather/<YYYY-MM>.csv`);

    let deploymentId = options.keep ? await reconnectDemo({ url, token: options.token, modelServerUrl: modelServer.url }) : null;
    if (deploymentId) {
      console.log('the demo deployment is there already (--keep): its model backend now points at this model server');
    } else {
      console.log(`filling ${url} with ${options.months} month${options.months === 1 ? '' : 's'} of Seattle's weather…`);
      const started = Date.now();
      const demo = await fillDemo({
        url,
        token: options.token,
        modelServerUrl: modelServer.url,
        months: options.months,
        csvServer,
        log: (line) => console.log(`  ${line}`),
      });
      deploymentId = demo.deploymentId;
      console.log(`filled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }

    console.log(`
The demo is ready${app ? '' : ` on ${url}`}.

  Dashboard:  ${url}/#/deployments/${deploymentId}/batches
  Sign in with the API token:  ${options.token}
${app ? `  GraphQL:    ${url}/graphql\n` : ''}
Press Ctrl-C to stop${app ? ' everything' : ' the model server and the CSV server'}.`);
  } catch (error) {
    if (stopping) return; // Ctrl-C during the fill: its requests fail as the servers go
    const message = error instanceof Error ? error.message : String(error);
    const busy = (error as { code?: string }).code === 'EADDRINUSE' ? ` (is something else on port ${options.port}? try --port 0)` : '';
    console.error(`demo: ${message}${busy}`);
    await stopAll(1);
  }
}

await main();
