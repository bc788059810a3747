import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { defaultSharedBuffers } from '../../src/config.js';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { runMigrations } from '../../src/db/migrate.js';

export interface BenchDatabase {
  url: string;
  /** true: an embedded PostgreSQL in a temporary directory, removed by stop(). */
  embedded: boolean;
  /** A small pool for the benchmark's own queries (setup, checks, baselines). */
  sql: postgres.Sql;
  /** The server's version string, for the report. */
  version: string;
  stop(): Promise<void>;
}

/**
 * DATABASE_URL if set (migrated, nothing removed), otherwise a fresh embedded PostgreSQL in a
 * temporary data directory that stop() deletes. Migrations are applied either way.
 */
export async function startDatabase(options: { log?: (line: string) => void; tmpRoot?: string } = {}): Promise<BenchDatabase> {
  const log = options.log ?? (() => {});
  let url = process.env.DATABASE_URL || undefined;
  let stopEmbedded: (() => Promise<void>) | undefined;
  let dataDir: string | undefined;
  if (!url) {
    dataDir = fs.mkdtempSync(path.join(options.tmpRoot ?? os.tmpdir(), 'batchlens-bench-'));
    const started = Date.now();
    // shared_buffers as `npm start` sets it (a quarter of the memory, 128MB–1GB), not PostgreSQL's 128MB.
    const embedded = await startEmbeddedPostgres({ dataDir, database: 'batchlens_bench', sharedBuffers: defaultSharedBuffers() });
    url = embedded.url;
    stopEmbedded = () => embedded.stop();
    log(`embedded PostgreSQL started in ${dataDir} (${Date.now() - started} ms)`);
  } else {
    log('using DATABASE_URL');
  }
  const removeDataDir = () => {
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  };
  // If the benchmark dies, at least the files go (embedded.ts already kills Postgres on exit).
  process.once('exit', removeDataDir);
  await runMigrations(url);
  const sql = postgres(url, { max: 4, onnotice: () => {} });
  const [{ version }] = (await sql`select version()`) as unknown as [{ version: string }];
  return {
    url,
    embedded: stopEmbedded !== undefined,
    sql,
    version,
    stop: async () => {
      await sql.end({ timeout: 5 });
      await stopEmbedded?.();
      removeDataDir();
      process.off('exit', removeDataDir);
    },
  };
}
