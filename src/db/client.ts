import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as tables from './tables.js';

export type Db = PostgresJsDatabase<typeof tables>;
/** A transaction handle: drizzle's transaction object is a Db with rollback(). */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

export interface Database {
  db: Db;
  /** The same pool through postgres.js (COPY, LISTEN, temporary tables). */
  pg: postgres.Sql;
  /** This pool's connections as PostgreSQL sees them (for /metrics). */
  poolUse(): Promise<PoolUse>;
  close(): Promise<void>;
}

export interface PoolUse {
  active: number;
  idle: number;
  idleInTransaction: number;
  max: number;
}

export interface ConnectOptions {
  max?: number;
  /** Called for every statement sent; tests count statements with it. */
  onQuery?: (query: string) => void;
}

/**
 * postgres.js's own sockets keep Nagle's algorithm on. A COPY ends with two small writes (the last
 * CopyData, then CopyDone): the second waits for the server's delayed ACK of the first, ~40 ms on
 * every COPY — most of a one-row report's time. Our sockets send at once. (What postgres.js does
 * with a socket it is given: TLS on top when asked, the rest as usual.)
 */
function noDelaySocket(options: { host: string[]; port: number[]; path?: string | false }): net.Socket {
  const socket = new net.Socket();
  socket.setNoDelay(true);
  if (options.path) socket.connect(options.path);
  else {
    // Several hosts in the URL: each new connection tries the next, as postgres.js itself does.
    const index = nextHost++ % options.host.length;
    const host = options.host[index]!;
    const port = options.port[index] ?? options.port[0]!;
    // postgres.js reads these for TLS (the server name) as it does on its own sockets.
    Object.assign(socket, { host, port });
    socket.connect(port, host);
  }
  return socket;
}
let nextHost = 0;

export function connect(url: string, options: ConnectOptions = {}): Database {
  const max = options.max ?? 10;
  const applicationName = `batchlens ${process.pid} ${randomBytes(4).toString('hex')}`;
  const pg = postgres(url, {
    max,
    onnotice: () => {},
    // Reconnect quickly once the database is back (the default backoff grows to 20 s, so a server
    // would stay unhealthy long after a database restart): ≤ 1 s between attempts.
    backoff: (attempts: number) => Math.min(0.05 * 2 ** attempts, 1),
    transform: { undefined: null },
    debug: options.onQuery ? (_connection, query) => options.onQuery?.(query) : undefined,
    // A name of this pool's own, so pg_stat_activity tells its connections apart (poolUse).
    connection: { application_name: applicationName },
    // Not in postgres.js's types, but in its code (connection.js createSocket).
    ...({ socket: noDelaySocket } as object),
  });
  const db = drizzle(pg, { schema: tables });
  return {
    db,
    pg,
    // postgres.js exposes nothing about its pool, so PostgreSQL is asked: one small statement per
    // scrape, nothing on the request path. The asking connection itself is left out.
    poolUse: async () => {
      const [row] = await pg<{ active: number; idle: number; idleInTransaction: number }[]>`
        select count(*) filter (where state = 'active')::int as active,
               count(*) filter (where state = 'idle')::int as idle,
               count(*) filter (where state like 'idle in transaction%')::int as "idleInTransaction"
          from pg_stat_activity
         where application_name = ${applicationName} and pid <> pg_backend_pid()`;
      return { active: row?.active ?? 0, idle: row?.idle ?? 0, idleInTransaction: row?.idleInTransaction ?? 0, max };
    },
    close: () => pg.end({ timeout: 5 }),
  };
}
