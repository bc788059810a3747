import type { AppServices } from '../../context.js';
import type { Logger } from '../../observability/log.js';
import { startDueDefinitions } from './definitions.js';
import { jobsNeedingWork, purgeJobResults } from './service.js';

// What every process does every few seconds for batch prediction jobs: start the job definitions
// whose scheduled time has come (each slot once across all processes), wake runs nobody works on
// (a lost message, a dead worker) and delete input and output past their retention.

export async function tickJobs(app: AppServices, log: Logger): Promise<void> {
  try {
    for (const jobId of await startDueDefinitions(app.db, log)) await app.wakeJob(jobId);
  } catch (error) {
    log.error({ err: error }, 'starting due batch prediction job definitions failed'); // the sweep still runs
  }
  for (const jobId of await jobsNeedingWork(app.db)) await app.wakeJob(jobId);
  const purged = await purgeJobResults(app.db, app.config.jobRetentionHours);
  if (purged) log.info({ jobs: purged }, 'deleted the input and output of batch prediction jobs past their retention');
}
