import type { Config } from './config.js';
import type { AppServices } from './context.js';
import { connect } from './db/client.js';
import { type EmbeddedDatabase, startEmbeddedPostgres } from './db/embedded.js';
import { runMigrations } from './db/migrate.js';
import { LiveHub } from './events/hub.js';
import { createServer } from './http/server.js';
import { RateLimits } from './limits/rate-limits.js';
import { rebinStaleBatches } from './modules/baselines/service.js';
import { purgeDeletedBatches } from './modules/batches/service.js';
import { ExportWorker, expireExports, exportsWaiting } from './modules/exports/service.js';
import { JobQueue } from './modules/jobs/queue.js';
import { tickJobs } from './modules/jobs/scheduler.js';
import { bootstrap } from './modules/organizations/service.js';
import { currentRequest, type RequestScope } from './observability/request-context.js';

export interface RunningApp {
  url: string;
  port: number;
  databaseUrl: string;
  stop(): Promise<void>;
}

const PURGE_INTERVAL_MS = 60_000;

/** config → database → migrations → bootstrap → server. */
export async function startApp(
  config: Config,
  log: (line: string) => void = console.log,
  options: { onQuery?: (query: string, request: RequestScope | undefined) => void } = {},
): Promise<RunningApp> {
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({
      dataDir: config.dataDir,
      port: config.embeddedPgPort,
      sharedBuffers: config.embeddedPgSharedBuffers,
      database: 'batchlens',
    });
    databaseUrl = embedded.url;
    log(`embedded PostgreSQL started (data in ${config.dataDir})`);
  }
  await runMigrations(databaseUrl);
  const { onQuery } = options;
  const database = connect(databaseUrl, {
    max: config.dbPoolSize,
    onQuery: onQuery && ((query) => onQuery(query, currentRequest())),
  });

  const boot = await bootstrap(database.db, config.bootstrapToken);
  if (boot?.generated) {
    log(`Created organization "default" and its admin. Admin API token (shown once, store it now):\n\n    ${boot.token}\n`);
  } else if (boot) {
    log('Created organization "default" and its admin with the token from BATCHLENS_BOOTSTRAP_TOKEN.');
  }

  // Deleted batches vanish from reads at once; their rows go in the background.
  let purgeTimer: NodeJS.Timeout | undefined;
  const purge = () => {
    purgeTimer = undefined;
    purgeDeletedBatches(database.db).catch((error: unknown) => log(`purge of deleted batches failed: ${String(error)}`));
  };
  // Batches binned before the current training baseline are re-binned from their raw rows, one
  // run at a time; a request during a run asks for another.
  let rebinning: Promise<void> | undefined;
  let rebinAgain = false;
  const rebin = (): void => {
    if (rebinning) {
      rebinAgain = true;
      return;
    }
    rebinning = rebinStaleBatches(database.db, database.pg)
      .then(() => undefined)
      .catch((error: unknown) => log(`re-binning batches failed: ${String(error)}`))
      .finally(() => {
        rebinning = undefined;
        if (rebinAgain) {
          rebinAgain = false;
          rebin();
        }
      });
  };
  const live = new LiveHub(database.pg, { maxUpdatesPerSecond: config.liveMaxUpdatesPerSecond, log, redisUrl: config.redisUrl });
  await live.start();
  // Batch prediction jobs: pg-boss on the same database carries "work on job X" to the workers.
  const queue = await JobQueue.start(database.pg, {
    databaseUrl,
    workers: config.jobWorkers,
    leaseSeconds: config.jobLeaseSeconds,
    backendAttempts: config.jobBackendAttempts,
    retryBaseMs: config.jobRetryBaseMs,
    log,
  });
  const limits = await RateLimits.start(config.rateLimits, database.db, config.redisUrl, log);
  // Data exports: written by a worker of whichever process claims them first.
  const exportWorker = new ExportWorker(() => app, config.jobLeaseSeconds, log);
  const app: AppServices = {
    db: database.db,
    pg: database.pg,
    config,
    live,
    schedulePurge: () => {
      purgeTimer ??= setTimeout(purge, 1000).unref();
    },
    scheduleRebin: rebin,
    wakeJob: (jobId) => queue.wake(jobId),
    wakeExports: () => exportWorker.wake(),
    limits,
  };
  await queue.startWorkers(app);
  let ticking = false;
  const jobTicker = setInterval(() => {
    if (ticking) return;
    ticking = true;
    tickJobs(app, log)
      .catch((error: unknown) => log(`batch prediction job tick failed: ${String(error)}`))
      .finally(() => {
        ticking = false;
      });
  }, config.jobSchedulerIntervalMs).unref();
  let exportTicking = false;
  const exportTicker = setInterval(() => {
    if (exportTicking) return;
    exportTicking = true;
    expireExports(app)
      .then(async () => {
        if (await exportsWaiting(app.db)) exportWorker.wake();
      })
      .catch((error: unknown) => log(`data export tick failed: ${String(error)}`))
      .finally(() => {
        exportTicking = false;
      });
  }, config.jobSchedulerIntervalMs).unref();
  exportWorker.wake(); // anything left by a previous run
  const periodic = setInterval(() => {
    purge();
    rebin();
  }, PURGE_INTERVAL_MS).unref();
  rebin(); // anything left stale by a previous run

  const server = createServer(app);
  const port = await server.listen(config.port, config.host);
  const url = `http://${config.host}:${port}`;
  return {
    url,
    port,
    databaseUrl,
    stop: async () => {
      clearInterval(periodic);
      clearInterval(jobTicker);
      clearInterval(exportTicker);
      await exportWorker.stop();
      await queue.stop();
      if (purgeTimer) clearTimeout(purgeTimer);
      await live.stop(); // subscriptions complete, so their sockets and streams can close
      await server.close();
      limits.close();
      await database.close();
      await embedded?.stop();
    },
  };
}
