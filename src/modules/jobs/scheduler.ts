import type { AppServices } from '../../context.js';
import { jobsNeedingWork, purgeJobResults } from './service.js';

// What every process does every few seconds for batch prediction jobs: wake runs nobody works on
// (a lost message, a dead worker) and delete input and output past their retention.

export async function tickJobs(app: AppServices, log: (line: string) => void): Promise<void> {
  for (const jobId of await jobsNeedingWork(app.db)) await app.wakeJob(jobId);
  const purged = await purgeJobResults(app.db, app.config.jobRetentionHours);
  if (purged) log(`deleted the input and output of ${purged} batch prediction jobs past their retention`);
}
