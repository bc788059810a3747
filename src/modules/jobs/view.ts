import type { BatchPredictionJob, JobSpec } from '../../db/tables.js';

// How a job is presented, the same over REST (rest.ts jobJson) and GraphQL (schema.ts): its
// progress, its run time and the REST paths of its input upload and output download.

/** Where DataRobot's Batch Prediction API lives: the REST routes and the paths given out below. */
export const JOBS_PATH = '/api/v2/batchPredictions';

export interface JobProgress {
  /** Share of input rows processed (scored or failed), 0–100 with one decimal, rounded down; 100 once COMPLETED. */
  percentageCompleted: number;
  /** Seconds from the start (or creation, before it started) to the end (or now, while it runs). */
  elapsedTimeSec: number;
}

export function jobProgress(job: BatchPredictionJob, now: Date = new Date()): JobProgress {
  const processed = job.scoredRows + job.failedRows;
  const started = job.startedAt ?? job.createdAt;
  const ended = job.finishedAt ?? now;
  return {
    percentageCompleted: job.status === 'COMPLETED' ? 100 : job.inputRows ? Math.floor((processed / job.inputRows) * 1000) / 10 : 0,
    elapsedTimeSec: Math.max(0, Math.round((ended.getTime() - started.getTime()) / 1000)),
  };
}

export interface JobPaths {
  self: string;
  /** PUT the input CSV here: jobs with a localFile intake. */
  csvUpload: string | null;
  /** GET the output CSV (streamed while the job runs): once scoring started, until the results are deleted. */
  download: string | null;
}

/** The REST paths of a job (absolute paths on this server, no host). */
export function jobPaths(job: BatchPredictionJob): JobPaths {
  const self = `${JOBS_PATH}/${job.id}/`;
  // Scoring started (a run that failed before it, e.g. on the quota, has no output to offer).
  const canDownload = job.startedAt !== null && job.inputRows !== null && job.status !== 'INITIALIZING' && !job.resultsDeleted;
  return {
    self,
    csvUpload: job.spec.intakeSettings.type === 'localFile' ? `${self}csvUpload/` : null,
    download: canDownload ? `${self}download/` : null,
  };
}

/**
 * A job spec as DataRobot answers it: the same settings, with `columnNamesRemapping` as its list of
 * `{inputName, outputName}` (clients decode a list there; the request may send either form).
 */
export function wireSpec(spec: JobSpec) {
  return {
    ...spec,
    columnNamesRemapping: Object.entries(spec.columnNamesRemapping).map(([inputName, outputName]) => ({ inputName, outputName })),
  };
}
