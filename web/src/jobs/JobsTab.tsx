import { useState } from 'preact/hooks';
import type { ApiError } from '../api/client';
import { downloadWithToken } from '../api/download';
import { useMutation, useQuery, useSubscription } from '../api/hooks';
import { formatCount, formatTime } from '../app/format';
import { href } from '../app/router';
import type { TabProps } from '../app/tabs';
import { Confirm, ErrorNote, Loading } from '../app/ui';
import {
  type BatchPredictionJobStatus,
  JobsTabAbortDocument,
  type JobsTabDefinitionFragment,
  JobsTabDefinitionsDocument,
  JobsTabJobDocument,
  type JobsTabJobFragment,
  JobsTabJobProgressDocument,
  JobsTabJobsDocument,
  JobsTabRunDefinitionDocument,
  JobsTabSetDefinitionEnabledDocument,
} from '../generated/graphql';
import { scheduleInWords } from './schedule';

// Jobs (C10, C13): the deployment's batch prediction job runs, live while they run, and its job
// definitions with their schedules and "Run now". `#/deployments/<id>/jobs/<jobId>` opens one run.

const PAGE = 20;
const FINAL = new Set<BatchPredictionJobStatus>(['COMPLETED', 'ABORTED', 'FAILED']);
const STATUS_TEXT: Record<BatchPredictionJobStatus, string> = {
  INITIALIZING: 'Initializing',
  RUNNING: 'Running',
  COMPLETED: 'Completed',
  ABORTED: 'Aborted',
  FAILED: 'Failed',
};

function JobStatus({ status }: { status: BatchPredictionJobStatus }) {
  return <span class={`job-status status-${status.toLowerCase()}`}>{STATUS_TEXT[status]}</span>;
}

/** Follows a job while it is not final; the latest state wins over the list's. */
function useLiveJob(job: JobsTabJobFragment | undefined, onFinal?: () => void): { job: JobsTabJobFragment | undefined; error?: ApiError } {
  const [live, setLive] = useState<JobsTabJobFragment>();
  const error = useSubscription(
    JobsTabJobProgressDocument,
    { id: job?.id ?? '' },
    (data) => {
      setLive(data.batchPredictionJobProgress);
      if (FINAL.has(data.batchPredictionJobProgress.status)) onFinal?.();
    },
    { skip: !job || FINAL.has(job.status) },
  );
  // A refetched list that is already final is newer than the last live message.
  const current = job && live && live.id === job.id && !FINAL.has(job.status) ? live : job;
  return { job: current, error };
}

function JobProgress({ job }: { job: JobsTabJobFragment }) {
  const processed = job.scoredRows + job.failedRows;
  const max = Math.max(job.inputRows ?? 0, 1);
  return (
    <div class="job-progress">
      <progress
        max={max}
        value={job.status === 'COMPLETED' ? max : Math.min(processed, max)}
        aria-label={`Rows processed by job ${job.id}`}
        aria-valuetext={`${processed} of ${job.inputRows ?? 'unknown'} rows`}
      />
      <span class="small">
        {formatCount(job.scoredRows)} / {job.inputRows === null ? '?' : formatCount(job.inputRows)} rows
        {job.failedRows ? ` · ${formatCount(job.failedRows)} failed` : ''}
      </span>
    </div>
  );
}

export function JobsTab({ deployment, itemId: jobId }: TabProps) {
  const [pages, setPages] = useState<(string | null)[]>([null]);
  const after = pages[pages.length - 1] ?? null;
  const jobs = useQuery(JobsTabJobsDocument, { deploymentId: deployment.id, first: PAGE, after });
  const definitions = useQuery(JobsTabDefinitionsDocument, { deploymentId: deployment.id });
  const [started, setStarted] = useState<{ jobId: string; message: string }>();
  const [aborting, setAborting] = useState<JobsTabJobFragment>();
  const [actionError, setActionError] = useState<ApiError | string>();
  const abort = useMutation(JobsTabAbortDocument);

  const refresh = () => {
    jobs.refetch();
    definitions.refetch();
  };
  const connection = jobs.data?.deployment?.batchPredictionJobs;

  return (
    <div class="jobs-tab">
      {jobId ? <JobDetail key={jobId} deploymentId={deployment.id} jobId={jobId} onAbort={setAborting} onFinal={refresh} /> : null}
      <Definitions
        definitions={definitions.data?.deployment?.batchPredictionJobDefinitions.edges.map((edge) => edge.node)}
        loading={definitions.loading}
        error={definitions.error}
        onChanged={definitions.refetch}
        onStarted={(job, definition) => {
          setStarted({ jobId: job.id, message: `Started a run of ${definition.name}: job ${job.id}.` });
          setPages([null]);
          refresh();
        }}
      />
      <p role="status" class="status-message">
        {started?.message ?? ''}
      </p>
      <h2>Job runs</h2>
      <ErrorNote error={jobs.error} />
      <ErrorNote error={actionError ?? abort.error} />
      {!connection && jobs.loading ? <Loading /> : null}
      {connection ? (
        connection.edges.length === 0 ? (
          <p>No batch prediction job has run for this deployment yet.</p>
        ) : (
          <table class="data-table jobs-list">
            <caption class="visually-hidden">Batch prediction job runs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">Rows scored / input</th>
                <th scope="col">Batch</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {connection.edges.map(({ node }) => (
                <JobRow
                  key={node.id}
                  job={node}
                  deploymentId={deployment.id}
                  highlighted={node.id === started?.jobId || node.id === jobId}
                  onAbort={setAborting}
                  onFinal={refresh}
                  onError={setActionError}
                />
              ))}
            </tbody>
          </table>
        )
      ) : null}
      {connection && (pages.length > 1 || connection.pageInfo.hasNextPage) ? (
        <div class="pager">
          <button type="button" disabled={pages.length < 2} onClick={() => setPages(pages.slice(0, -1))}>
            Newer
          </button>
          <button
            type="button"
            disabled={!connection.pageInfo.hasNextPage}
            onClick={() => connection.pageInfo.endCursor && setPages([...pages, connection.pageInfo.endCursor])}
          >
            Older
          </button>
          <span class="muted">{connection.totalCount} runs</span>
        </div>
      ) : null}
      <Confirm
        open={aborting !== undefined}
        title="Abort this job?"
        message={
          <>
            Job <code>{aborting?.id}</code> stops now; the chunks it recorded stay in its batch.
          </>
        }
        confirmLabel="Abort job"
        danger
        onCancel={() => setAborting(undefined)}
        onConfirm={async () => {
          const job = aborting;
          setAborting(undefined);
          setActionError(undefined);
          if (!job) return;
          const answer = await abort.run({ id: job.id });
          const result = answer?.abortBatchPredictionJob;
          if (result && result.__typename !== 'AbortBatchPredictionJobSuccess') setActionError(result.message);
          refresh();
        }}
      />
    </div>
  );
}

/** The run's output CSV (streamed while it runs), fetched with the session's token. */
function OutputButton({
  job,
  label,
  onError,
}: {
  job: JobsTabJobFragment;
  label: string;
  onError: (error: ApiError | string | undefined) => void;
}) {
  return (
    <button
      type="button"
      aria-label={`${label} of job ${job.id}`}
      onClick={async () => {
        if (!job.downloadPath) return;
        onError(undefined);
        try {
          await downloadWithToken(job.downloadPath, `job-${job.id}-output.csv`);
        } catch (caught) {
          onError(caught as ApiError);
        }
      }}
    >
      {label}
    </button>
  );
}

function JobRow({
  job: listed,
  deploymentId,
  highlighted,
  onAbort,
  onFinal,
  onError,
}: {
  job: JobsTabJobFragment;
  deploymentId: string;
  highlighted: boolean;
  onAbort: (job: JobsTabJobFragment) => void;
  onFinal: () => void;
  onError: (error: ApiError | string | undefined) => void;
}) {
  const { job = listed } = useLiveJob(listed, onFinal);
  return (
    <tr class={highlighted ? 'highlighted' : undefined} aria-current={highlighted ? 'true' : undefined} data-job-id={job.id}>
      <td>
        <a href={href({ page: 'deployment', deploymentId, tab: 'jobs', itemId: job.id })}>
          <code>{job.id}</code>
        </a>
        <div class="small muted">{job.definition ? `from ${job.definition.name}` : 'one-time job'}</div>
      </td>
      <td>
        <JobStatus status={job.status} />
        {job.status === 'FAILED' || job.status === 'ABORTED' ? <div class="small muted">{job.statusDetails}</div> : null}
      </td>
      <td>{formatTime(job.createdAt)}</td>
      <td>
        <JobProgress job={job} />
      </td>
      <td>
        {job.monitoringBatch ? (
          <a href={href({ page: 'deployment', deploymentId, tab: 'batches', itemId: job.monitoringBatch.id })}>
            {job.monitoringBatch.name}
          </a>
        ) : (
          <span class="muted">—</span>
        )}
      </td>
      <td class="row-actions">
        {FINAL.has(job.status) ? null : (
          <button type="button" class="danger-outline" onClick={() => onAbort(job)} aria-label={`Abort job ${job.id}`}>
            Abort
          </button>
        )}
        {job.downloadPath ? <OutputButton job={job} label="Output" onError={onError} /> : null}
      </td>
    </tr>
  );
}

/** One run in full: its state, live while it runs, its batch, input and logs. */
function JobDetail({
  deploymentId,
  jobId,
  onAbort,
  onFinal,
}: {
  deploymentId: string;
  jobId: string;
  onAbort: (job: JobsTabJobFragment) => void;
  onFinal: () => void;
}) {
  const query = useQuery(JobsTabJobDocument, { id: jobId });
  const [downloadError, setDownloadError] = useState<ApiError | string>();
  const stored = query.data?.batchPredictionJob;
  // Another deployment's job is not this tab's: shown as missing, as a foreign one is.
  const found = stored && stored.deployment.id === deploymentId ? stored : undefined;
  const { job, error } = useLiveJob(found, () => {
    query.refetch();
    onFinal();
  });
  if (!query.data) return query.loading ? <Loading /> : <ErrorNote error={query.error} />;
  if (!found || !job) {
    return (
      <section class="job-detail" aria-labelledby="job-detail-title">
        <h2 id="job-detail-title">Job not found</h2>
        <p>
          No batch prediction job <code>{jobId}</code> in this deployment.{' '}
          <a href={href({ page: 'deployment', deploymentId, tab: 'jobs' })}>All jobs</a>
        </p>
      </section>
    );
  }
  return (
    <section class="job-detail" aria-labelledby="job-detail-title">
      <h2 id="job-detail-title">
        Job <code>{job.id}</code>
      </h2>
      <p aria-live="polite">
        <JobStatus status={job.status} /> · {job.statusDetails}
      </p>
      <JobProgress job={job} />
      <dl class="facts">
        <dt>Started by</dt>
        <dd>
          {job.createdBy.name}
          {job.definition ? ` (definition ${job.definition.name})` : ''}
        </dd>
        <dt>Created</dt>
        <dd>{formatTime(job.createdAt)}</dd>
        <dt>Started</dt>
        <dd>{formatTime(job.startedAt)}</dd>
        <dt>Finished</dt>
        <dd>{formatTime(job.finishedAt)}</dd>
        <dt>Input</dt>
        <dd>
          {found.spec.intakeSettings.type === 'URL' ? <code>{found.spec.intakeSettings.url}</code> : 'uploaded CSV'} ·{' '}
          {found.spec.numConcurrent} concurrent chunks
        </dd>
        <dt>Batch</dt>
        <dd>
          {job.monitoringBatch ? (
            <a href={href({ page: 'deployment', deploymentId, tab: 'batches', itemId: job.monitoringBatch.id })}>
              {job.monitoringBatch.name}
            </a>
          ) : (
            '—'
          )}
        </dd>
        <dt>Output</dt>
        <dd>
          {job.resultsDeleted ? (
            'deleted after the retention period'
          ) : job.downloadPath ? (
            <OutputButton job={job} label="Download the output" onError={setDownloadError} />
          ) : (
            '—'
          )}
        </dd>
      </dl>
      {FINAL.has(job.status) ? null : (
        <button type="button" class="danger-outline" onClick={() => onAbort(job)}>
          Abort this job
        </button>
      )}
      {found.logs.length ? (
        <details>
          <summary>Log ({found.logs.length} entries)</summary>
          <ul class="job-log">
            {found.logs.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        </details>
      ) : null}
      <ErrorNote error={error ?? downloadError} />
      <p>
        <a href={href({ page: 'deployment', deploymentId, tab: 'jobs' })}>Close</a>
      </p>
    </section>
  );
}

function Definitions({
  definitions,
  loading,
  error,
  onChanged,
  onStarted,
}: {
  definitions: JobsTabDefinitionFragment[] | undefined;
  loading: boolean;
  error: ApiError | undefined;
  onChanged: () => void;
  onStarted: (job: JobsTabJobFragment, definition: JobsTabDefinitionFragment) => void;
}) {
  const run = useMutation(JobsTabRunDefinitionDocument);
  const setEnabled = useMutation(JobsTabSetDefinitionEnabledDocument);
  const [refusal, setRefusal] = useState<string>();
  return (
    <section aria-labelledby="definitions-title">
      <h2 id="definitions-title">Job definitions</h2>
      <ErrorNote error={error ?? run.error ?? setEnabled.error} />
      <ErrorNote error={refusal} />
      {!definitions && loading ? <Loading /> : null}
      {definitions && definitions.length === 0 ? (
        <p>
          No job definitions. Create one with <code>createBatchPredictionJobDefinition</code> or{' '}
          <code>POST /api/v2/batchPredictionJobDefinitions/</code>.
        </p>
      ) : null}
      {definitions?.length ? (
        <table class="data-table definitions-list">
          <caption class="visually-hidden">Batch prediction job definitions</caption>
          <thead>
            <tr>
              <th scope="col">Definition</th>
              <th scope="col">Schedule (UTC)</th>
              <th scope="col">Enabled</th>
              <th scope="col">Next run</th>
              <th scope="col">Last run</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {definitions.map((definition) => {
              return (
                <tr key={definition.id} data-definition-id={definition.id}>
                  <th scope="row">
                    {definition.name}
                    <div class="small muted">
                      {definition.batchPredictionJob.intakeSettings.type === 'URL' ? (
                        <>
                          reads <code>{definition.batchPredictionJob.intakeSettings.url}</code>
                        </>
                      ) : (
                        'input uploaded per run'
                      )}
                    </div>
                  </th>
                  <td>
                    {definition.schedule ? (
                      <>
                        {scheduleInWords(definition.schedule)}
                        <div>
                          <code>{definition.schedule.cron}</code>
                        </div>
                      </>
                    ) : (
                      <span class="muted">None: runs on request</span>
                    )}
                  </td>
                  <td>
                    <label>
                      <input
                        type="checkbox"
                        checked={definition.enabled}
                        aria-disabled={setEnabled.pending}
                        onChange={async (event) => {
                          const box = event.currentTarget;
                          const enabled = box.checked;
                          // aria-disabled, not disabled, while saving: a disabled box would drop the keyboard focus.
                          if (setEnabled.pending) {
                            box.checked = !enabled;
                            return;
                          }
                          setRefusal(undefined);
                          const answer = await setEnabled.run({ id: definition.id, enabled });
                          const result = answer?.updateBatchPredictionJobDefinition;
                          if (result?.__typename !== 'UpdateBatchPredictionJobDefinitionSuccess') {
                            if (result) setRefusal(`${definition.name}: ${result.message}`);
                            // Refused: the box shows the stored value again (its props did not change).
                            box.checked = !enabled;
                          }
                          onChanged();
                        }}
                      />
                      <span class="visually-hidden">Enabled: {definition.name}</span>
                    </label>
                  </td>
                  <td>{definition.enabled ? formatTime(definition.nextScheduledRunTime) : <span class="muted">—</span>}</td>
                  <td>
                    {definition.lastStartedJobStatus ? (
                      <JobStatus status={definition.lastStartedJobStatus} />
                    ) : (
                      <span class="muted">never</span>
                    )}
                    {definition.lastStartedJobTime ? <div class="small">{formatTime(definition.lastStartedJobTime)}</div> : null}
                    {definition.lastSuccessfulRunTime ? (
                      <div class="small muted">last success {formatTime(definition.lastSuccessfulRunTime)}</div>
                    ) : null}
                    {definition.lastFailedRunTime ? (
                      <div class="small muted">last failure {formatTime(definition.lastFailedRunTime)}</div>
                    ) : null}
                  </td>
                  <td>
                    <button
                      type="button"
                      aria-disabled={run.pending}
                      aria-label={`Run now: ${definition.name}`}
                      onClick={async () => {
                        if (run.pending) return;
                        setRefusal(undefined);
                        const answer = await run.run({ id: definition.id });
                        const result = answer?.runBatchPredictionJobDefinition;
                        if (!result) return;
                        if (result.__typename === 'RunBatchPredictionJobDefinitionSuccess') {
                          onStarted(result.job, result.definition);
                        } else {
                          setRefusal(`${definition.name}: ${result.message}`);
                        }
                      }}
                    >
                      Run now
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
