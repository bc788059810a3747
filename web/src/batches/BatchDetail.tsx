import { useEffect, useRef, useState } from 'preact/hooks';
import { useMutation, useQuery, useSubscription } from '../api/hooks';
import { formatCount, formatTime, viewerTimeZone } from '../app/format';
import { href, navigate } from '../app/router';
import { Confirm, CopyButton, ErrorNote, Loading } from '../app/ui';
import {
  BatchDetailDocument,
  type BatchDetailFragment,
  BatchEventsLiveDocument,
  BatchLiveDocument,
  DeleteBatchDocument,
  LockBatchDocument,
  UnlockBatchDocument,
  UpdateBatchInfoDocument,
  UpdateBatchPeriodDocument,
} from '../generated/graphql';
import { BatchInfoFields } from './BatchInfoFields';

import { type Failure, failureOf } from './results';
import { fromLocalInput, toLocalInput } from './time';

/** One batch of the deployment: its info (editable), model history (editable periods), actions and origin. */
export function BatchDetail({ deploymentId, batchId }: { deploymentId: string; batchId: string }) {
  const { data, error, loading, refetch } = useQuery(BatchDetailDocument, { id: batchId });
  const listHref = href({ page: 'deployment', deploymentId, tab: 'batches' });
  const batch = data?.monitoringBatch;
  // Another deployment's batch (or another organization's, or a deleted one) is simply not here.
  const found = batch && batch.deployment.id === deploymentId ? batch : null;
  if (!data) {
    return loading ? <Loading label="Loading the batch…" /> : <ErrorNote error={error} />;
  }
  if (!found) {
    return (
      <div class="batch-detail">
        <h2>Batch not found</h2>
        <p>
          No batch <code>{batchId}</code> in this deployment. <a href={listHref}>All batches</a>
        </p>
      </div>
    );
  }
  return <FoundBatch key={found.id} batch={found} deploymentId={deploymentId} listHref={listHref} reload={refetch} />;
}

function FoundBatch({
  batch: loaded,
  deploymentId,
  listHref,
  reload,
}: {
  batch: BatchDetailFragment;
  deploymentId: string;
  listHref: string;
  reload: () => void;
}) {
  const [batch, setBatch] = useState(loaded);
  // A reload may answer a moment older than the live stream: counts only grow, so keep the larger.
  useEffect(
    () => setBatch((previous) => ({ ...loaded, predictionCount: Math.max(previous.predictionCount, loaded.predictionCount) })),
    [loaded],
  );
  const [gone, setGone] = useState(false);
  // Counters, times and the lock follow the batch live; the model history (its counts and default
  // periods move with the rows) is read again at most once a second while rows arrive.
  const lastCount = useRef(loaded.predictionCount);
  const reloadTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(reloadTimer.current), []);
  useSubscription(BatchLiveDocument, { id: loaded.id }, ({ monitoringBatch: live }) => {
    setBatch((previous) => ({ ...previous, ...live, predictionCount: Math.max(live.predictionCount, previous.predictionCount) }));
    if (live.predictionCount !== lastCount.current && !reloadTimer.current) {
      reloadTimer.current = setTimeout(() => {
        reloadTimer.current = undefined;
        reload();
      }, 1000);
    }
    lastCount.current = live.predictionCount;
  });
  // Deleted elsewhere (another page, REST): say so instead of offering actions on nothing.
  useSubscription(BatchEventsLiveDocument, { deploymentId }, ({ batchEvents }) => {
    if (batchEvents.kind === 'DELETED' && batchEvents.batch.id === loaded.id) setGone(true);
  });
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const lock = useMutation(LockBatchDocument);
  const unlock = useMutation(UnlockBatchDocument);
  const remove = useMutation(DeleteBatchDocument);

  const toggleLock = async () => {
    setActionError(null);
    const result = batch.isLocked
      ? (await unlock.run({ id: batch.id }))?.unlockMonitoringBatch
      : (await lock.run({ id: batch.id }))?.lockMonitoringBatch;
    if (!result) return;
    const failure = failureOf(result);
    if (failure) setActionError(failure.message);
    else if ('batch' in result) {
      setBatch((previous) => ({ ...previous, ...result.batch }));
      setStatus(result.batch.isLocked ? 'Locked: the batch accepts no new predictions.' : 'Unlocked: the batch accepts predictions again.');
    }
  };
  const deleteBatch = async () => {
    setConfirmDelete(false);
    setActionError(null);
    const result = (await remove.run({ id: batch.id }))?.deleteMonitoringBatch;
    if (!result) return;
    const failure = failureOf(result);
    if (failure) setActionError(failure.message);
    else {
      setGone(true);
      navigate({ page: 'deployment', deploymentId, tab: 'batches' });
    }
  };

  return (
    <div class="batch-detail">
      <p class="back-link">
        <a href={listHref}>← All batches</a>
      </p>
      <header class="batch-detail-head">
        <h2>
          {batch.name}{' '}
          {batch.isLocked ? (
            <span class="badge badge-locked" title="Locked: accepts no new predictions">
              Locked
            </span>
          ) : null}
        </h2>
        <div class="actions batch-actions">
          <button type="button" disabled={gone || lock.pending || unlock.pending} onClick={toggleLock}>
            {batch.isLocked ? 'Unlock batch' : 'Lock batch'}
          </button>
          <button type="button" class="danger" disabled={gone || remove.pending} onClick={() => setConfirmDelete(true)}>
            Delete batch
          </button>
        </div>
      </header>
      <p class="visually-hidden" role="status">
        {status}
      </p>
      {gone ? (
        <p class="error" role="alert">
          This batch was deleted. <a href={listHref}>All batches</a>
        </p>
      ) : null}
      <ErrorNote error={actionError ?? lock.error ?? unlock.error ?? remove.error} />
      <dl class="batch-facts">
        <dt>ID</dt>
        <dd>
          <code>{batch.id}</code> <CopyButton text={batch.id} label="Copy the batch id" />
        </dd>
        <dt>Predictions</dt>
        <dd class="prediction-count">{formatCount(batch.predictionCount)}</dd>
        <dt>Created</dt>
        <dd>
          {formatTime(batch.createdAt)} by {batch.createdBy.name}
        </dd>
        <dt>Earliest prediction</dt>
        <dd>{formatTime(batch.earliestPredictionAt)}</dd>
        <dt>Latest prediction</dt>
        <dd>{formatTime(batch.latestPredictionAt)}</dd>
        <dt>Made by</dt>
        <dd>
          {batch.predictionJob ? (
            <>
              batch prediction job <code>{batch.predictionJob.id}</code> ({batch.predictionJob.status.toLowerCase()}, started{' '}
              {formatTime(batch.predictionJob.createdAt)}) —{' '}
              <a href={href({ page: 'deployment', deploymentId, tab: 'jobs', itemId: batch.predictionJob.id })}>open the job</a>
            </>
          ) : (
            'no batch prediction job (created directly or by an upload)'
          )}
        </dd>
      </dl>
      <InfoForm batch={batch} onSaved={(saved) => setBatch(saved)} />
      <ModelHistory batch={batch} onSaved={(saved) => setBatch(saved)} />
      <Confirm
        open={confirmDelete}
        title="Delete batch"
        message={
          <>
            Delete <strong>{batch.name}</strong> with all its predictions and statistics? This cannot be undone, and it does not give back
            today’s quota.
          </>
        }
        confirmLabel="Delete batch"
        danger
        onConfirm={deleteBatch}
        onCancel={() => setConfirmDelete(false)}
      />
    </div>
  );
}

/** Name, description and external URL, saved together (an empty description or URL clears it). */
function InfoForm({ batch, onSaved }: { batch: BatchDetailFragment; onSaved: (batch: BatchDetailFragment) => void }) {
  const [name, setName] = useState(batch.name);
  const [description, setDescription] = useState(batch.description ?? '');
  const [externalUrl, setExternalUrl] = useState(batch.externalUrl ?? '');
  const [failure, setFailure] = useState<Failure | null>(null);
  const [saved, setSaved] = useState(false);
  const update = useMutation(UpdateBatchInfoDocument);
  const changed = name !== batch.name || description !== (batch.description ?? '') || externalUrl !== (batch.externalUrl ?? '');

  const submit = async (event: Event) => {
    event.preventDefault();
    setSaved(false);
    setFailure(null);
    const data = await update.run({ input: { id: batch.id, name, description, externalUrl: externalUrl.trim() } });
    if (!data) return;
    const result = data.updateMonitoringBatch;
    if (result.__typename === 'UpdateMonitoringBatchSuccess') {
      onSaved(result.batch);
      setName(result.batch.name);
      setDescription(result.batch.description ?? '');
      setExternalUrl(result.batch.externalUrl ?? '');
      setSaved(true);
    } else setFailure(failureOf(result));
  };

  return (
    <section class="batch-section" aria-labelledby="batch-info-title">
      <h3 id="batch-info-title">Info</h3>
      <form class="form-grid" onSubmit={submit} noValidate>
        <BatchInfoFields
          idPrefix="batch-info"
          values={{ name, description, externalUrl }}
          onChange={(values) => {
            setName(values.name);
            setDescription(values.description);
            setExternalUrl(values.externalUrl);
          }}
          errors={failure?.fields}
          urlHint={
            batch.externalUrl ? (
              <a href={batch.externalUrl} target="_blank" rel="noopener noreferrer">
                Open the external link
              </a>
            ) : undefined
          }
        />
        <div class="form-wide">
          <ErrorNote error={failure?.message ?? update.error} />
          <div class="actions">
            {saved && !changed ? (
              <span class="saved" role="status">
                Saved.
              </span>
            ) : null}
            <button type="submit" class="primary" disabled={update.pending || !changed}>
              {update.pending ? 'Saving…' : 'Save info'}
            </button>
          </div>
        </div>
      </form>
    </section>
  );
}

/** Per model: its prediction count and the period its data represents, editable in the viewer's time zone. */
function ModelHistory({ batch, onSaved }: { batch: BatchDetailFragment; onSaved: (batch: BatchDetailFragment) => void }) {
  return (
    <section class="batch-section" aria-labelledby="model-history-title">
      <h3 id="model-history-title">Model history</h3>
      <p class="hint">
        The period each model’s predictions represent: charts place the batch there. Times are in your time zone ({viewerTimeZone()}).
      </p>
      {batch.modelHistory.length === 0 ? <p>No model has scored this batch yet.</p> : null}
      {batch.modelHistory.length > 0 ? (
        <table class="data-table model-history">
          <caption class="visually-hidden">Model history of {batch.name}</caption>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col" class="number">
                Predictions
              </th>
              <th scope="col">Start time</th>
              <th scope="col">End time</th>
              <th scope="col">
                <span class="visually-hidden">Save</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {batch.modelHistory.map((entry) => (
              <PeriodRow key={entry.modelId} batchId={batch.id} entry={entry} onSaved={onSaved} />
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

type Entry = BatchDetailFragment['modelHistory'][number];

function PeriodRow({ batchId, entry, onSaved }: { batchId: string; entry: Entry; onSaved: (batch: BatchDetailFragment) => void }) {
  const [start, setStart] = useState(toLocalInput(entry.startTime));
  const [end, setEnd] = useState(toLocalInput(entry.endTime));
  // New values from the server (rows arriving move the default period) replace a field nobody edited.
  const shownEntry = useRef(entry);
  useEffect(() => {
    const previous = shownEntry.current;
    shownEntry.current = entry;
    setStart((value) => (value === toLocalInput(previous.startTime) ? toLocalInput(entry.startTime) : value));
    setEnd((value) => (value === toLocalInput(previous.endTime) ? toLocalInput(entry.endTime) : value));
  }, [entry.startTime, entry.endTime]);
  const [problem, setProblem] = useState<Failure | null>(null);
  const [saved, setSaved] = useState(false);
  const update = useMutation(UpdateBatchPeriodDocument);
  // Inputs hold whole seconds: an untouched field sends the stored instant as it is (milliseconds kept).
  const startIso = start === toLocalInput(entry.startTime) ? entry.startTime : fromLocalInput(start);
  const endIso = end === toLocalInput(entry.endTime) ? entry.endTime : fromLocalInput(end);
  const changed = start !== toLocalInput(entry.startTime) || end !== toLocalInput(entry.endTime);
  const key = entry.modelId.replace(/[^A-Za-z0-9_-]/g, '_');

  const save = async (event: Event) => {
    event.preventDefault();
    setSaved(false);
    if (!startIso || !endIso) {
      setProblem({
        message: 'Give both a start and an end time.',
        fields: startIso ? { endTime: 'is required' } : { startTime: 'is required' },
      });
      return;
    }
    if (Date.parse(startIso) > Date.parse(endIso)) {
      setProblem({ message: 'The start time must not be after the end time.', fields: { endTime: 'must not be before the start time' } });
      return;
    }
    setProblem(null);
    const data = await update.run({ input: { batchId, modelId: entry.modelId, startTime: startIso, endTime: endIso } });
    if (!data) return;
    const result = data.updateBatchModelHistory;
    if (result.__typename === 'UpdateBatchModelHistorySuccess') {
      onSaved(result.batch);
      const savedEntry = result.batch.modelHistory.find((candidate) => candidate.modelId === entry.modelId);
      setStart(toLocalInput(savedEntry?.startTime));
      setEnd(toLocalInput(savedEntry?.endTime));
      setSaved(true);
    } else setProblem(failureOf(result));
  };

  const errorId = `period-${key}-error`;
  return (
    <tr>
      <th scope="row">
        <code>{entry.modelId}</code>
      </th>
      <td class="number">{formatCount(entry.predictionCount)}</td>
      <td>
        <input
          type="datetime-local"
          step={1}
          aria-label={`Start time of model ${entry.modelId}`}
          value={start}
          aria-invalid={problem?.fields.startTime ? true : undefined}
          aria-describedby={problem ? errorId : undefined}
          onInput={(event) => setStart(event.currentTarget.value)}
        />
      </td>
      <td>
        <input
          type="datetime-local"
          step={1}
          aria-label={`End time of model ${entry.modelId}`}
          value={end}
          aria-invalid={problem?.fields.endTime ? true : undefined}
          aria-describedby={problem ? errorId : undefined}
          onInput={(event) => setEnd(event.currentTarget.value)}
        />
      </td>
      <td>
        <form onSubmit={save}>
          <button type="submit" disabled={update.pending || !changed} aria-label={`Save the period of model ${entry.modelId}`}>
            {update.pending ? 'Saving…' : 'Save'}
          </button>
        </form>
        {problem ? (
          <p id={errorId} class="error" role="alert">
            {problem.message}
          </p>
        ) : null}
        <ErrorNote error={update.error} />
        {saved && !changed ? (
          <span class="saved" role="status">
            Saved.
          </span>
        ) : null}
      </td>
    </tr>
  );
}
