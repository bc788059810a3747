import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { freePort } from '../../src/db/embedded.js';
import { sleep } from './time.js';

// Real server processes (`tsx src/main.ts`) for the tests that need them, and direct database
// connections to check what they stored. stopProcesses() (for afterAll) kills what is left.

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

/** A new bootstrap token, shaped like the ones the server makes. */
export const newToken = () => `bl_proc_${randomBytes(16).toString('hex')}`;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A batchlens server in its own process (`tsx src/main.ts`), as an operator runs it. */
export class ServerProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  exit: Exit | undefined;
  private terminating = false;

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  /**
   * Spawns `tsx src/main.ts`; `token: undefined` leaves BATCHLENS_BOOTSTRAP_TOKEN unset. The test
   * runner's BATCHLENS_* variables are not passed on; `env` sets variables of its own.
   * `databaseUrl: undefined` leaves DATABASE_URL unset: the server starts its embedded PostgreSQL
   * (in BATCHLENS_DATA_DIR, which `env` should then give).
   */
  static async spawn(options: {
    databaseUrl: string | undefined;
    token: string | undefined;
    env?: Record<string, string>;
    /** Another checkout to run (its `src/main.ts`, with its own or a linked node_modules); default this one. */
    root?: string;
  }): Promise<ServerProcess> {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1' };
    if (options.databaseUrl === undefined) delete env.DATABASE_URL;
    else env.DATABASE_URL = options.databaseUrl;
    for (const name of Object.keys(env)) {
      if (name.startsWith('BATCHLENS_')) delete env[name];
    }
    if (options.token !== undefined) env.BATCHLENS_BOOTSTRAP_TOKEN = options.token;
    Object.assign(env, options.env);
    // Its own process group, so a failed test can kill tsx and the node it runs together.
    const child = spawn(TSX, ['src/main.ts'], { cwd: options.root ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const server = new ServerProcess(child, `http://127.0.0.1:${port}`);
    running.add(server);
    return server;
  }

  /** Resolves once /healthz answers 200; rejects if the process exits first or takes too long. */
  async ready(timeoutMs = 90_000): Promise<this> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exit) throw new Error(`server exited (${JSON.stringify(this.exit)}) before /healthz answered:\n${this.output()}`);
      try {
        const response = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(2000) });
        if (response.status === 200) return this;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`/healthz did not answer 200 within ${timeoutMs} ms:\n${this.output()}`);
      await sleep(50);
    }
  }

  output(): string {
    return `--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`;
  }

  /** SIGTERM once (a second one makes tsx kill the server outright), then waits for the exit. */
  sigterm(): void {
    if (!this.exit && !this.terminating) this.child.kill('SIGTERM');
    this.terminating = true;
  }

  async terminate(timeoutMs = 15_000): Promise<Exit> {
    this.sigterm();
    const exit = await Promise.race([this.exited, sleep(timeoutMs).then(() => null)]);
    if (!exit) {
      this.kill();
      throw new Error(`server did not exit within ${timeoutMs} ms of SIGTERM:\n${this.output()}`);
    }
    running.delete(this);
    return exit;
  }

  /** SIGKILL to the whole process group (tsx and node). */
  kill(): void {
    if (this.exit || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

const running = new Set<ServerProcess>();
const connections: postgres.Sql[] = [];

/** A connection to a test database, closed by stopProcesses(). */
export function connectTo(databaseUrl: string): postgres.Sql {
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  connections.push(sql);
  return sql;
}

/** Kills the server processes still running (a failed test's) and closes the connections. */
export async function stopProcesses(): Promise<void> {
  for (const server of running) server.kill();
  await Promise.all([...running].map((server) => Promise.race([server.exited, sleep(5000)])));
  for (const sql of connections.splice(0)) await sql.end({ timeout: 5 });
}
