import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { ensureWebBuilt } from '../../scripts/build-web.js';
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../../src/db/embedded.js';
import { runMigrations } from '../../src/db/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A URL to the `postgres` maintenance database of the server the tests use. */
    adminDatabaseUrl: string;
    /** A migrated, empty database that each test file clones. */
    templateDatabase: string;
    /** Test files name their databases with this prefix, so teardown finds them. */
    databasePrefix: string;
  }
}

/** The database tests run against: DATABASE_URL's server, or an embedded one made for this run. */
export default async function setup(project: TestProject) {
  // The server the tests start serves web/dist: build it now if its sources changed (never a stale page).
  await ensureWebBuilt({ quiet: true });
  let embedded: EmbeddedDatabase | undefined;
  let dataDir: string | undefined;
  let baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'batchlens-test-pg-'));
    chmodSync(dataDir, 0o755); // Postgres runs as its own user and must reach its data directory.
    embedded = await startEmbeddedPostgres({ dataDir, database: 'postgres' });
    baseUrl = embedded.url;
  }
  const adminUrl = new URL(baseUrl);
  adminUrl.pathname = '/postgres';
  const templateDatabase = `batchlens_template_${process.pid}`;
  const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${templateDatabase}`);
  await admin.unsafe(`create database ${templateDatabase}`);
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${templateDatabase}`;
  await runMigrations(templateUrl.toString());

  project.provide('adminDatabaseUrl', adminUrl.toString());
  project.provide('templateDatabase', templateDatabase);
  project.provide('databasePrefix', `bl_test_${process.pid}_`);

  return async () => {
    // Drop what this run made on a shared server; an embedded one goes away whole.
    if (!embedded) {
      const databases = await admin<
        { datname: string }[]
      >`select datname from pg_database where datname like ${`bl_test_${process.pid}_%`} or datname = ${templateDatabase}`;
      for (const { datname } of databases) await admin.unsafe(`drop database if exists ${datname} with (force)`);
    }
    await admin.end();
    await embedded?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
}
