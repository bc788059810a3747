import { useEffect, useRef, useState } from 'preact/hooks';
import { useMutation, useQuery, useSubscription } from '../api/hooks';
import { formatCount, formatTime } from '../app/format';
import { href } from '../app/router';
import { Confirm, CopyButton, ErrorNote, Loading } from '../app/ui';
import {
  BatchEventsLiveDocument,
  type BatchFilter,
  BatchListDocument,
  BatchLiveDocument,
  type BatchLiveFieldsFragment,
  type BatchOrder,
  type BatchOrderField,
  type BatchRowFragment,
  DeleteBatchDocument,
  LockBatchDocument,
  UnlockBatchDocument,
} from '../generated/graphql';
import { CreateBatchDialog } from './CreateBatchDialog';
import { QuotaBar } from './QuotaBar';
import { failureOf } from './results';
import { fromLocalInput } from './time';

export const PAGE_SIZE = 50;

/** The filters as typed (datetime-local values in the viewer's zone; "" = unset). */
export interface FilterDraft {
  createdBy: string;
  createdAfter: string;
  createdBefore: string;
  startAfter: string;
  endBefore: string;
}

/** What the list shows; kept by the tab while a batch is open, so "back" returns to the same page. */
export interface ListState {
  search: string;
  order: BatchOrder;
  filter: FilterDraft;
  /** Cursors of the pages walked so far (null: the first page); the last is the page shown. */
  pages: (string | null)[];
}

export const EMPTY_FILTER: FilterDraft = { createdBy: '', createdAfter: '', createdBefore: '', startAfter: '', endBefore: '' };
export const INITIAL_LIST: ListState = {
  search: '',
  order: { field: 'CREATED_AT', direction: 'DESC' },
  filter: EMPTY_FILTER,
  pages: [null],
};

const COLUMNS: { field: BatchOrderField; title: string; numeric?: boolean }[] = [
  { field: 'NAME', title: 'Name' },
  { field: 'ID', title: 'ID' },
  { field: 'CREATED_AT', title: 'Created' },
  { field: 'EARLIEST_PREDICTION', title: 'Earliest prediction' },
  { field: 'LATEST_PREDICTION', title: 'Latest prediction' },
  { field: 'CREATED_BY', title: 'Created by' },
  { field: 'PREDICTION_COUNT', title: 'Predictions', numeric: true },
];

function toFilter(draft: FilterDraft): BatchFilter | null {
  const filter: BatchFilter = {};
  if (draft.createdBy) filter.createdBy = draft.createdBy;
  for (const key of ['createdAfter', 'createdBefore', 'startAfter', 'endBefore'] as const) {
    const instant = fromLocalInput(draft[key]);
    if (instant) filter[key] = instant;
  }
  return Object.keys(filter).length ? filter : null;
}

/** Batches created or deleted elsewhere show within this long (events are coalesced into one refetch). */
const REFETCH_DELAY_MS = 100;

export function BatchList({
  deploymentId,
  deploymentLabel,
  state,
  setState,
}: {
  deploymentId: string;
  deploymentLabel: string;
  state: ListState;
  setState: (update: (previous: ListState) => ListState) => void;
}) {
  const [searchInput, setSearchInput] = useState(state.search);
  const [creating, setCreating] = useState(false);
  const [status, setStatus] = useState('');
  const [actionError, setActionError] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<BatchRowFragment | null>(null);
  const after = state.pages[state.pages.length - 1] ?? null;
  const { data, error, loading, refetch } = useQuery(BatchListDocument, {
    deploymentId,
    first: PAGE_SIZE,
    after,
    search: state.search.trim() || null,
    orderBy: state.order,
    filter: toFilter(state.filter),
  });

  // Typing searches after a short pause, not on every key.
  useEffect(() => {
    if (searchInput === state.search) return;
    const timer = setTimeout(() => setState((previous) => ({ ...previous, search: searchInput, pages: [null] })), 250);
    return () => clearTimeout(timer);
  }, [searchInput]);

  // Batches created, renamed or deleted by anyone (REST, jobs, other pages): read the page again.
  const refetchTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(refetchTimer.current), []);
  useSubscription(BatchEventsLiveDocument, { deploymentId }, ({ batchEvents }) => {
    if (batchEvents.kind === 'CREATED' || batchEvents.kind === 'DELETED' || batchEvents.kind === 'UPDATED') {
      clearTimeout(refetchTimer.current);
      refetchTimer.current = setTimeout(refetch, REFETCH_DELAY_MS);
    }
    if (batchEvents.kind === 'CREATED') setStatus(`Batch “${batchEvents.batch.name}” was created.`);
    if (batchEvents.kind === 'DELETED') setStatus(`Batch “${batchEvents.batch.name}” was deleted.`);
  });

  const connection = data?.deployment?.batches;
  // A page emptied by deletions (not the first): step back to the one before.
  useEffect(() => {
    if (connection && connection.edges.length === 0 && state.pages.length > 1) {
      setState((previous) => ({ ...previous, pages: previous.pages.slice(0, -1) }));
    }
  }, [connection]);

  const lock = useMutation(LockBatchDocument);
  const unlock = useMutation(UnlockBatchDocument);
  const remove = useMutation(DeleteBatchDocument);

  const sortBy = (field: BatchOrderField) =>
    setState((previous) => ({
      ...previous,
      order: { field, direction: previous.order.field === field && previous.order.direction === 'ASC' ? 'DESC' : 'ASC' },
      pages: [null],
    }));
  const setFilter = (key: keyof FilterDraft, value: string) =>
    setState((previous) => ({ ...previous, filter: { ...previous.filter, [key]: value }, pages: [null] }));
  const filtered = state.search.trim() !== '' || toFilter(state.filter) !== null;

  const toggleLock = async (batch: BatchRowFragment) => {
    setActionError(null);
    const result = batch.isLocked
      ? (await unlock.run({ id: batch.id }))?.unlockMonitoringBatch
      : (await lock.run({ id: batch.id }))?.lockMonitoringBatch;
    const failure = result && failureOf(result);
    if (failure) setActionError(failure.message);
    else if (result) setStatus(`Batch “${batch.name}” ${batch.isLocked ? 'unlocked' : 'locked'}.`);
  };
  const confirmDelete = async () => {
    const batch = deleting;
    setDeleting(null);
    if (!batch) return;
    setActionError(null);
    const result = (await remove.run({ id: batch.id }))?.deleteMonitoringBatch;
    const failure = result && failureOf(result);
    if (failure) setActionError(failure.message);
    else if (result) {
      setStatus(`Batch “${batch.name}” deleted.`);
      refetch();
    }
  };

  const pageIndex = state.pages.length - 1;
  const first = pageIndex * PAGE_SIZE + 1;
  return (
    <div class="batch-management">
      <div class="batch-head">
        <QuotaBar deploymentId={deploymentId} />
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create batch
        </button>
      </div>
      <CreateBatchDialog
        deploymentId={deploymentId}
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(batch) => {
          setCreating(false);
          setStatus(`Batch “${batch.name}” created.`);
          refetch();
        }}
      />
      <form class="batch-filters" aria-label="Batch filters" onSubmit={(event) => event.preventDefault()}>
        <div class="field">
          <label for="batch-search">Search</label>
          <input
            id="batch-search"
            type="search"
            placeholder="Name or exact id"
            value={searchInput}
            onInput={(event) => setSearchInput(event.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="batch-created-by">Created by</label>
          <select
            id="batch-created-by"
            value={state.filter.createdBy}
            onChange={(event) => setFilter('createdBy', event.currentTarget.value)}
          >
            <option value="">Anyone</option>
            {(data?.deployment?.batchCreators ?? []).map((user) => (
              <option key={user.id} value={user.id}>
                {user.name}
              </option>
            ))}
          </select>
        </div>
        {(
          [
            ['createdAfter', 'Created after'],
            ['createdBefore', 'Created before'],
            ['startAfter', 'Predictions from'],
            ['endBefore', 'Predictions until'],
          ] as const
        ).map(([key, label]) => (
          <div class="field" key={key}>
            <label for={`batch-${key}`}>{label}</label>
            <input
              id={`batch-${key}`}
              type="datetime-local"
              value={state.filter[key]}
              onChange={(event) => setFilter(key, event.currentTarget.value)}
            />
          </div>
        ))}
        <div class="field field-action">
          <button
            type="button"
            disabled={!filtered}
            onClick={() => {
              setSearchInput('');
              setState((previous) => ({ ...previous, search: '', filter: EMPTY_FILTER, pages: [null] }));
            }}
          >
            Clear filters
          </button>
        </div>
      </form>
      <p class="visually-hidden" role="status">
        {status}
      </p>
      <ErrorNote error={actionError ?? error} />
      {!connection && loading ? <Loading label="Loading batches…" /> : null}
      {connection && connection.edges.length > 0 ? (
        <div class="table-scroll">
          <table class="data-table batch-table">
            <caption class="visually-hidden">Batches of {deploymentLabel}</caption>
            <thead>
              <tr>
                {COLUMNS.map((column) => {
                  const sorted = state.order.field === column.field;
                  const direction = sorted ? (state.order.direction === 'ASC' ? 'ascending' : 'descending') : undefined;
                  return (
                    <th key={column.field} scope="col" class={column.numeric ? 'number' : undefined} aria-sort={direction}>
                      <button type="button" class="sort-button" onClick={() => sortBy(column.field)}>
                        {column.title}
                        <span class="sort-mark" aria-hidden="true">
                          {direction === 'ascending' ? '▲' : direction === 'descending' ? '▼' : '↕'}
                        </span>
                      </button>
                    </th>
                  );
                })}
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {connection.edges.map(({ node }) => (
                <BatchTableRow
                  key={node.id}
                  batch={node}
                  deploymentId={deploymentId}
                  onToggleLock={toggleLock}
                  onDelete={setDeleting}
                  busy={lock.pending || unlock.pending || remove.pending}
                />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {connection && connection.edges.length === 0 ? (
        <p class="batch-table-empty">
          {filtered ? 'No batch matches the search and filters.' : 'No batches yet. Create one, or send predictions to this deployment.'}
        </p>
      ) : null}
      <nav class="pager" aria-label="Batch pages">
        <button
          type="button"
          // While a page (a new order, search or filter) loads, the shown page's cursors are stale.
          disabled={loading || state.pages.length < 2}
          onClick={() => setState((previous) => ({ ...previous, pages: previous.pages.slice(0, -1) }))}
        >
          Previous page
        </button>
        <button
          type="button"
          disabled={loading || !connection?.pageInfo.hasNextPage}
          onClick={() => {
            const cursor = connection?.pageInfo.endCursor;
            if (cursor) setState((previous) => ({ ...previous, pages: [...previous.pages, cursor] }));
          }}
        >
          Next page
        </button>
        {connection ? (
          <span class="muted" aria-live="polite">
            {connection.edges.length
              ? `${formatCount(first)}–${formatCount(first + connection.edges.length - 1)} of ${formatCount(connection.totalCount)} batches`
              : `${formatCount(connection.totalCount)} batches`}
          </span>
        ) : null}
      </nav>
      <Confirm
        open={deleting !== null}
        title="Delete batch"
        message={
          <>
            Delete <strong>{deleting?.name}</strong> with all its predictions and statistics? This cannot be undone, and it does not give
            back today’s quota.
          </>
        }
        confirmLabel="Delete batch"
        danger
        onConfirm={confirmDelete}
        onCancel={() => setDeleting(null)}
      />
    </div>
  );
}

/** One batch; its counters, times, name and lock follow the batch live while it is on the page. */
function BatchTableRow({
  batch,
  deploymentId,
  onToggleLock,
  onDelete,
  busy,
}: {
  batch: BatchRowFragment;
  deploymentId: string;
  onToggleLock: (batch: BatchRowFragment) => void;
  onDelete: (batch: BatchRowFragment) => void;
  busy: boolean;
}) {
  const [live, setLive] = useState<BatchLiveFieldsFragment>();
  useSubscription(BatchLiveDocument, { id: batch.id }, (data) => setLive(data.monitoringBatch));
  // The page's query and the live stream race; counts only grow, so the larger one is the newer.
  const shown: BatchRowFragment = live
    ? { ...batch, ...live, predictionCount: Math.max(live.predictionCount, batch.predictionCount) }
    : batch;
  return (
    <tr data-batch-id={batch.id}>
      <th scope="row">
        <a href={href({ page: 'deployment', deploymentId, tab: 'batches', itemId: batch.id })}>{shown.name}</a>
        {shown.isLocked ? (
          <span class="badge badge-locked" title="Locked: accepts no new predictions">
            Locked
          </span>
        ) : null}
      </th>
      <td class="batch-id">
        <code>{batch.id}</code>
        <CopyButton text={batch.id} label={`Copy the id of ${shown.name}`} />
      </td>
      <td>
        <time dateTime={batch.createdAt}>{formatTime(batch.createdAt)}</time>
      </td>
      <td>{formatTime(shown.earliestPredictionAt)}</td>
      <td>{formatTime(shown.latestPredictionAt)}</td>
      <td>{batch.createdBy.name}</td>
      <td class="number prediction-count">{formatCount(shown.predictionCount)}</td>
      <td class="row-actions">
        <button
          type="button"
          disabled={busy}
          onClick={() => onToggleLock(shown)}
          aria-label={`${shown.isLocked ? 'Unlock' : 'Lock'} ${shown.name}`}
        >
          {shown.isLocked ? 'Unlock' : 'Lock'}
        </button>
        <button type="button" class="danger-outline" disabled={busy} onClick={() => onDelete(shown)} aria-label={`Delete ${shown.name}`}>
          Delete
        </button>
      </td>
    </tr>
  );
}
