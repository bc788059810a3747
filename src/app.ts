import type { Config } from './config.js';
import type { AppServices } from './context.js';
import { connect } from './db/client.js';
import { type EmbeddedDatabase, startEmbeddedPostgres } from './db/embedded.js';
import { runMigrations } from './db/migrate.js';
import { LiveHub } from './events/hub.js';
import { startMetricsServer } from './http/metrics.js';
import { createServer } from './http/server.js';
import { RateLimits } from './limits/rate-limits.js';
import { rebinStaleBatches } from './modules/baselines/service.js';
import { purgeDeletedBatches } from './modules/batches/service.js';
import { ExportWorker, expireExports, exportsWaiting } from './modules/exports/service.js';
import { JobQueue } from './modules/jobs/queue.js';
import { tickJobs } from './modules/jobs/scheduler.js';
import { jobCountsByState } from './modules/jobs/service.js';
import { bootstrap } from './modules/organizations/service.js';
import { createLogger, type DestinationStream, type Logger } from './observability/log.js';
import { registerScrapeSources } from './observability/metrics.js';
import { currentRequest, type RequestScope, trackRequestsAcrossAwaits } from './observability/request-context.js';

export interface RunningApp {
  url: string;
  port: number;
  /** The separate metrics address (BATCHLENS_METRICS_LISTEN), when there is one: `http://host:port/metrics`. */
  metricsUrl: string | undefined;
  databaseUrl: string;
  logger: Logger;
  stop(): Promise<void>;
}

const PURGE_INTERVAL_MS = 60_000;

export interface StartOptions {
  /** Where log lines go (JSON, one a line); stdout when absent. */
  logDestination?: DestinationStream;
  /**
   * Where the generated bootstrap token is shown (once, for a person to copy; never through the
   * logger, so it is not kept by log collectors); stdout when absent.
   */
  print?: (text: string) => void;
  /** Called for every SQL statement sent, with the request it serves (tests count statements). */
  onQuery?: (query: string, request: RequestScope | undefined) => void;
}

/** config → database → migrations → bootstrap → server. */
export async function startApp(config: Config, options: StartOptions = {}): Promise<RunningApp> {
  const logger: Logger = createLogger({ level: config.logLevel, destination: options.logDestination });
  const log = logger.child({ component: 'app' });
  const print = options.print ?? ((text: string) => void process.stdout.write(text));
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({
      dataDir: config.dataDir,
      port: config.embeddedPgPort,
      sharedBuffers: config.embeddedPgSharedBuffers,
      database: 'batchlens',
      notice: (line) => log.warn(line),
    });
    databaseUrl = embedded.url;
    log.info({ dataDir: config.dataDir }, 'embedded PostgreSQL started');
  }
  await runMigrations(databaseUrl);
  const { onQuery } = options;
  // Statements attributed to their request (tests count them) need the costly tracking; nothing else does.
  if (onQuery) trackRequestsAcrossAwaits();
  const database = connect(databaseUrl, {
    max: config.dbPoolSize,
    onQuery: onQuery && ((query) => onQuery(query, currentRequest())),
  });

  const boot = await bootstrap(database.db, config.bootstrapToken);
  if (boot?.generated) {
    log.info('Created organization "default" and its admin; the admin API token is printed below (not logged)');
    print(`Created organization "default" and its admin. Admin API token (shown once, store it now):\n\n    ${boot.token}\n\n`);
  } else if (boot) {
    log.info('Created organization "default" and its admin with the token from BATCHLENS_BOOTSTRAP_TOKEN');
  }

  // Deleted batches vanish from reads at once; their rows go in the background.
  let purgeTimer: NodeJS.Timeout | undefined;
  const purge = () => {
    purgeTimer = undefined;
    purgeDeletedBatches(database.db).catch((error: unknown) => log.error({ err: error }, 'purge of deleted batches failed'));
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
      .catch((error: unknown) => log.error({ err: error }, 're-binning batches failed'))
      .finally(() => {
        rebinning = undefined;
        if (rebinAgain) {
          rebinAgain = false;
          rebin();
        }
      });
  };
  const live = new LiveHub(database.pg, {
    maxUpdatesPerSecond: config.liveMaxUpdatesPerSecond,
    log: logger.child({ component: 'live' }),
    redisUrl: config.redisUrl,
  });
  await live.start();
  // Batch prediction jobs: pg-boss on the same database carries "work on job X" to the workers.
  const queue = await JobQueue.start(database.pg, {
    databaseUrl,
    workers: config.jobWorkers,
    leaseSeconds: config.jobLeaseSeconds,
    backendAttempts: config.jobBackendAttempts,
    retryBaseMs: config.jobRetryBaseMs,
    log: logger.child({ component: 'jobs' }),
  });
  const limitsLog = logger.child({ component: 'limits' });
  const limits = await RateLimits.start(config.rateLimits, database.db, config.redisUrl, (line) => limitsLog.warn(line));
  // Data exports: written by a worker of whichever process claims them first.
  const exportWorker = new ExportWorker(() => app, config.jobLeaseSeconds, logger.child({ component: 'exports' }));
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
    logger,
    limits,
  };
  await queue.startWorkers(app);
  const jobsLog = logger.child({ component: 'jobs' });
  let ticking = false;
  const jobTicker = setInterval(() => {
    if (ticking) return;
    ticking = true;
    tickJobs(app, jobsLog)
      .catch((error: unknown) => jobsLog.error({ err: error }, 'batch prediction job tick failed'))
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
      .catch((error: unknown) => log.error({ err: error }, 'data export tick failed'))
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

  const unregisterMetrics = registerScrapeSources({ jobs: () => jobCountsByState(database.db), pool: () => database.poolUse() });
  const server = createServer(app);
  const port = await server.listen(config.port, config.host);
  const url = `http://${config.host}:${port}`;
  const metricsServer = config.metricsListen ? await startMetricsServer(config.metricsListen) : undefined;
  if (metricsServer) log.info({ url: metricsServer.url }, 'metrics served on their own address');
  return {
    url,
    port,
    metricsUrl: metricsServer?.url,
    databaseUrl,
    logger,
    stop: async () => {
      unregisterMetrics();
      await metricsServer?.close();
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
