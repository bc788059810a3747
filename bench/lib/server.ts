import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/db/embedded.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Preload this (StartServerOptions.preload) to get `memory-probe` lines from the server; see memory-probe.ts. */
export const memoryProbe = path.join(repoRoot, 'bench/lib/memory-probe.ts');
/** Preload this to lift Node's 300 s requestTimeout in the server (see lift-request-timeout.ts). */
export const liftRequestTimeout = path.join(repoRoot, 'bench/lib/lift-request-timeout.ts');

export interface BenchServer {
  url: string;
  /** The node process serving requests (no tsx wrapper in between): read its /proc/<pid>/status. */
  pid: number;
  /**
   * The bootstrap admin's token (BATCHLENS_BOOTSTRAP_TOKEN). Bootstrap happens once per database: a
   * later server on the same database must be given the first one's token (options.adminToken).
   */
  adminToken: string;
  /** The server's recent output, for error messages. */
  output(): string;
  /** SIGTERM (graceful: drains, exits, writes a --cpu-prof profile), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartServerOptions {
  databaseUrl: string;
  /** BATCHLENS_BOOTSTRAP_TOKEN; default: a new one (right for a fresh database only, see BenchServer.adminToken). */
  adminToken?: string;
  /** The checkout to run (default: this one), e.g. a copy with a candidate change, to compare. */
  root?: string;
  /** Extra environment, e.g. BATCHLENS_DB_POOL_SIZE. */
  env?: Record<string, string>;
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] or ['--max-old-space-size=256']. */
  nodeArgs?: string[];
  /** Modules loaded before the server (after tsx), e.g. [memoryProbe] from ./memory-probe path. */
  preload?: string[];
  /** Server output lines, as they come (default: kept, shown only on failure). */
  log?: (line: string) => void;
  startTimeoutMs?: number;
}

/**
 * Starts `node --import tsx src/main.ts` as a separate process on a free port, against an existing
 * database, with a generated bootstrap token and a very large upload limit. Resolves once it logs
 * that it is listening.
 */
export async function startServer(options: StartServerOptions): Promise<BenchServer> {
  const port = await freePort();
  const adminToken = options.adminToken ?? `bl_bench_${randomBytes(16).toString('hex')}`;
  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), '--import', 'tsx', ...(options.preload ?? []).flatMap((m) => ['--import', m]), 'src/main.ts'],
    {
      cwd: options.root ?? repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATABASE_URL: options.databaseUrl,
        BATCHLENS_BOOTSTRAP_TOKEN: adminToken,
        BATCHLENS_MAX_UPLOAD_BYTES: String(1024 ** 4),
        ...options.env,
      },
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const { match, recent } = await awaitListening(
    child,
    'server',
    /listening on (http:\/\/\S+)/,
    options.startTimeoutMs ?? 60_000,
    options.log,
  );
  const url = match[1]!;

  return {
    url,
    pid: child.pid!,
    adminToken,
    output: () => recent.join('\n'),
    stop: async (graceMs = 30_000) => {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Waits for a child process to print a line matching `ready` (stdout or stderr), keeping its last 50
 * lines for error messages; rejects when it exits first or takes longer than `timeoutMs`.
 */
export function awaitListening(
  child: ChildProcess,
  name: string,
  ready: RegExp,
  timeoutMs: number,
  log?: (line: string) => void,
): Promise<{ match: RegExpExecArray; recent: string[] }> {
  const recent: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs} ms:\n${recent.join('\n')}`)), timeoutMs);
    const onLine = (line: string) => {
      recent.push(line);
      if (recent.length > 50) recent.shift();
      log?.(line);
      const match = ready.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve({ match, recent });
      }
    };
    for (const stream of [child.stdout!, child.stderr!]) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => {
        const lines = (partial + text).split('\n');
        partial = lines.pop()!;
        for (const line of lines) onLine(line);
      });
    }
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${signal ?? code}) before listening:\n${recent.join('\n')}`));
    });
  });
}
