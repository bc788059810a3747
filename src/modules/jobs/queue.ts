import PgBoss from 'pg-boss';
import type postgres from 'postgres';
import type { AppServices } from '../../context.js';
import { withJobQueueSetupLock } from '../../db/locks.js';
import { type RunnerSettings, workOnJob } from './runner.js';

// The job queue: pg-boss on the same PostgreSQL (its own `pgboss` schema and a small `pg` pool of
// its own — postgres.js cannot run its multi-statement SQL). A queue message says "work on job X
// for a while"; workers in every process take them. The truth about a job is in our tables, so a
// message may be lost or repeated without harm: a slice that finds nothing to do returns, and the
// sweeper (sweepJobs) re-sends messages for jobs nobody works on — after a crash, once the dead
// worker's chunk claims run out.

const QUEUE = 'batchlens-prediction-job';

export interface JobQueueOptions extends RunnerSettings {
  databaseUrl: string;
  /** Slices one process works on at once; 0 = this process only sends. */
  workers: number;
}

export class JobQueue {
  private readonly active = new Set<string>();
  private stopped = false;

  private constructor(
    private readonly boss: PgBoss,
    private readonly options: JobQueueOptions,
  ) {}

  /** Connects and creates the queue; workers start with startWorkers. */
  static async start(pool: postgres.Sql, options: JobQueueOptions): Promise<JobQueue> {
    const boss = new PgBoss({
      connectionString: options.databaseUrl,
      max: Math.max(2, options.workers + 1),
      application_name: 'batchlens-jobs',
      schedule: false, // schedules are ours (definitions.ts), computed with croner
      supervise: true,
      maintenanceIntervalSeconds: 60,
    });
    boss.on('error', (error: Error) => options.log.error({ err: error }, 'job queue error'));
    await withJobQueueSetupLock(pool, async () => {
      await boss.start();
      await boss.createQueue(QUEUE, { name: QUEUE, policy: 'standard', retryLimit: 0, expireInSeconds: 3600 });
    });
    return new JobQueue(boss, options);
  }

  async startWorkers(app: AppServices): Promise<void> {
    for (let i = 0; i < this.options.workers; i++) {
      await this.boss.work<{ jobId: string }>(QUEUE, { pollingIntervalSeconds: 0.5, batchSize: 1 }, async ([message]) => {
        if (message) await this.work(app, message.data.jobId);
      });
    }
  }

  private async work(app: AppServices, jobId: string): Promise<void> {
    if (this.active.has(jobId) || this.stopped) return; // this process is on it already
    this.active.add(jobId);
    try {
      const outcome = await workOnJob(app, jobId, this.options);
      if (this.stopped) return;
      if (outcome.next === 'again') await this.boss.send(QUEUE, { jobId });
      else if (outcome.next === 'later') await this.boss.send(QUEUE, { jobId }, { startAfter: outcome.seconds });
    } catch (error) {
      this.options.log.error({ err: error, jobId }, 'batch prediction job slice failed');
    } finally {
      this.active.delete(jobId);
    }
  }

  /** Asks any worker to work on the job now; repeats within a second collapse into one message. */
  async wake(jobId: string): Promise<void> {
    await this.boss.sendThrottled(QUEUE, { jobId }, {}, 1, jobId);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.boss.stop({ graceful: true, timeout: 10_000, wait: true });
  }
}
