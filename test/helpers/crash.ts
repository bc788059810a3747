import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/db/embedded.js';
import type { Endpoint } from './graphql.js';
import { connectTo, newToken, ServerProcess } from './processes.js';
import { sleep } from './time.js';

// Crash tests (test/crash/): servers on their own embedded PostgreSQL in a temporary data directory,
// killed with SIGKILL and started again, and looks at what PostgreSQL left in that directory.

/** A fresh data directory Postgres (its own user, as root) can reach. */
export function makeDataDir(name: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `batchlens-${name}-`));
  chmodSync(dir, 0o755);
  return dir;
}

/** A server (`tsx src/main.ts`) on the embedded PostgreSQL of one data directory, on a fixed port. */
export class EmbeddedSite {
  readonly token = newToken();
  server: ServerProcess | undefined;

  private constructor(
    readonly dataDir: string,
    readonly pgPort: number,
  ) {}

  static async create(name: string, dataDir = makeDataDir(name)): Promise<EmbeddedSite> {
    return new EmbeddedSite(dataDir, await freePort());
  }

  get databaseUrl(): string {
    return `postgres://postgres:batchlens@127.0.0.1:${this.pgPort}/batchlens`;
  }

  /** The running server as a GraphQL / REST endpoint with the admin token. */
  get endpoint(): Endpoint & { url: string; adminToken: string } {
    return { url: this.server!.url, adminToken: this.token };
  }

  /** Starts a server (as `npm start` does, without DATABASE_URL) and waits for /healthz 200. */
  async start(env: Record<string, string> = {}): Promise<ServerProcess> {
    this.server = await ServerProcess.spawn({
      databaseUrl: undefined,
      token: this.token,
      env: { BATCHLENS_DATA_DIR: this.dataDir, BATCHLENS_PG_PORT: String(this.pgPort), BATCHLENS_PG_SHARED_BUFFERS: '128MB', ...env },
    });
    return this.server.ready(60_000);
  }

  sql() {
    return connectTo(this.databaseUrl);
  }

  /** The PID in postmaster.pid, or undefined when there is none. */
  postmasterPid(): number | undefined {
    try {
      return Number.parseInt(readFileSync(path.join(this.dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]!, 10);
    } catch {
      return undefined;
    }
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function waitUntilGone(pid: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still alive after ${timeoutMs} ms`);
    await sleep(50);
  }
}

const runningAsRoot = process.getuid?.() === 0;

/** `command` as the user Postgres runs as (postgres when we are root), in its own process group. */
export function spawnAsPostgresUser(command: string, args: string[]): ChildProcess {
  const ids = runningAsRoot
    ? { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) }
    : {};
  const child = spawn(command, args, { ...ids, detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}
