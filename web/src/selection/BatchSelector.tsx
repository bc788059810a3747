import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { type ApiError, request } from '../api/client';
import { formatCount, formatTime } from '../app/format';
import { ErrorNote } from '../app/ui';
import { SelectorBatchesDocument, type SelectorBatchFragment } from '../generated/graphql';
import { type BatchEvent, useBatchChanges } from './live';

// The batch selector every analysis tab (and Data Export) shares: two lists, unselected and selected,
// moved with a click, searchable, with "last N" shortcuts. Its value is a BatchSelection as the API
// takes it ({ last: N } or { batchIds: [...] }). Lists load a page of 100 at a time (a deployment
// may have thousands of batches), newest first.

/** The API's BatchSelection input (structurally the generated type of any operation that takes one). */
export interface BatchSelection {
  batchIds?: string[] | null;
  last?: number | null;
  modelId?: string | null;
}

export interface BatchSelectorProps {
  deploymentId: string;
  selection: BatchSelection;
  onChange: (selection: BatchSelection) => void;
  /** The heading (default "Batches"), e.g. for a second selector on a page. */
  title?: string;
}

/** The default selection of a tab: the last 10 batches. */
export const DEFAULT_SELECTION: BatchSelection = { last: 10 };

/** "All": the most batches a selection may hold (the API's limit for `last`). */
export const ALL_BATCHES = 10_000;
const SHORTCUTS = [1, 5, 10, 30];
const PAGE = 100;

type Batch = SelectorBatchFragment;

/** Every batch seen in any list, so picked ids keep their names when a tab is opened again. */
const known = new Map<string, Batch>();

interface Pages {
  items: Batch[];
  totalCount: number | null;
  hasNext: boolean;
  cursor: string | null;
  loading: boolean;
  error?: ApiError;
}

const NO_PAGES: Pages = { items: [], totalCount: null, hasNext: false, cursor: null, loading: true };

async function fetchPage(deploymentId: string, first: number, after: string | null, search: string) {
  const data = await request(SelectorBatchesDocument, { id: deploymentId, first, after, search: search || null });
  const connection = data.deployment?.batches;
  const items = connection?.edges.map((edge) => edge.node) ?? [];
  for (const item of items) known.set(item.id, item);
  return {
    items,
    totalCount: connection?.totalCount ?? 0,
    hasNext: connection?.pageInfo.hasNextPage ?? false,
    cursor: connection?.pageInfo.endCursor ?? null,
  };
}

/** The newest batches matching `search`, `want` at first (at most a page), more on demand. */
function useBatchPages(deploymentId: string, search: string, want: number, generation: number) {
  const [pages, setPages] = useState<Pages>(NO_PAGES);
  const run = useRef(0);
  useEffect(() => {
    const id = ++run.current;
    setPages((previous) => ({ ...previous, loading: true }));
    fetchPage(deploymentId, Math.min(PAGE, Math.max(1, want)), null, search).then(
      (page) => id === run.current && setPages({ ...page, loading: false }),
      (error: ApiError) => id === run.current && setPages((previous) => ({ ...previous, loading: false, error })),
    );
  }, [deploymentId, search, want, generation]);
  const more = async () => {
    const id = run.current;
    if (!pages.hasNext) return;
    setPages((previous) => ({ ...previous, loading: true }));
    try {
      const page = await fetchPage(deploymentId, PAGE, pages.cursor, search);
      if (id === run.current) setPages((previous) => ({ ...page, items: [...previous.items, ...page.items], loading: false }));
    } catch (error) {
      if (id === run.current) setPages((previous) => ({ ...previous, loading: false, error: error as ApiError }));
    }
  };
  return { pages, more };
}

const plural = (n: number, word: string) => `${formatCount(n)} ${word}${n === 1 ? '' : 'es'}`;
const batchesText = (n: number) => plural(n, 'batch');

function matches(batch: Batch, search: string): boolean {
  const needle = search.trim().toLowerCase();
  return !needle || batch.name.toLowerCase().includes(needle) || batch.id === search.trim();
}

/** Moves focus with the arrow keys between the buttons of a list. */
function moveFocus(event: KeyboardEvent) {
  const list = event.currentTarget as HTMLElement;
  const buttons = [...list.querySelectorAll<HTMLButtonElement>('button.batch-item')];
  const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
  const target =
    event.key === 'ArrowDown'
      ? index + 1
      : event.key === 'ArrowUp'
        ? index - 1
        : event.key === 'Home'
          ? 0
          : event.key === 'End'
            ? buttons.length - 1
            : null;
  if (target === null || index === -1) return;
  event.preventDefault();
  buttons[Math.max(0, Math.min(buttons.length - 1, target))]?.focus();
}

export function BatchSelector({ deploymentId, selection, onChange, title = 'Batches' }: BatchSelectorProps) {
  const [search, setSearch] = useState('');
  const [generation, setGeneration] = useState(0);
  const [announcement, setAnnouncement] = useState('');
  const [pending, setPending] = useState(false);
  const [moveError, setMoveError] = useState<ApiError>();
  const ids = useId();
  const lists = useRef<HTMLDivElement>(null);
  /** Where the focus goes once a moved batch has left its list (the next batch of that list). */
  const focusAfter = useRef<{ list: 'available' | 'selected'; index: number; batchId: string | null } | null>(null);
  const picked = selection.batchIds ?? null;
  const last = picked === null ? Math.min(ALL_BATCHES, Math.max(1, selection.last ?? 10)) : null;

  // The newest batches: the deployment's total, and in "last N" mode the selected ones.
  const newest = useBatchPages(deploymentId, '', last ?? 1, generation);
  const available = useBatchPages(deploymentId, search.trim(), PAGE, generation);
  const total = newest.pages.totalCount;

  const current = useRef({ selection, onChange });
  current.current = { selection, onChange };
  useBatchChanges(deploymentId, () => setGeneration((value) => value + 1), {
    onEvent: (event: BatchEvent) => {
      known.set(event.batch.id, event.batch);
      // A deleted batch leaves an explicit pick (the API would leave it out anyway).
      const ids = current.current.selection.batchIds;
      if (event.kind === 'DELETED' && ids?.includes(event.batch.id)) {
        current.current.onChange({ ...current.current.selection, batchIds: ids.filter((id) => id !== event.batch.id) });
      }
    },
  });

  const selectedItems: Batch[] =
    picked === null
      ? newest.pages.items.slice(0, last!)
      : picked
          .map((id) => known.get(id) ?? { id, name: id, createdAt: '', predictionCount: 0 })
          .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  const selectedCount = picked === null ? (total === null ? null : Math.min(last!, total)) : picked.length;
  const selectedIds = new Set(selectedItems.map((batch) => batch.id));
  const everything = picked === null && total !== null && last! >= total;
  const availableItems = everything ? [] : available.pages.items.filter((batch) => !selectedIds.has(batch.id));
  const shownSelected = selectedItems.filter((batch) => matches(batch, search));
  const moreSelected = picked === null && newest.pages.hasNext && newest.pages.items.length < last!;

  useEffect(() => {
    const want = focusAfter.current;
    if (!want || !lists.current) return;
    // The selection reaches this list in a later render than the move (through the parent).
    if (want.batchId && (want.list === 'available' ? availableItems : shownSelected).some((batch) => batch.id === want.batchId)) return;
    focusAfter.current = null;
    const list = lists.current.querySelector(`[data-list="${want.list}"]`);
    const buttons = list ? [...list.querySelectorAll<HTMLButtonElement>('button.batch-item')] : [];
    (buttons[Math.min(want.index, buttons.length - 1)] ?? lists.current.querySelector<HTMLInputElement>('input[type="search"]'))?.focus();
  });

  /** The ids of the current selection, fetching the rest of a "last N" selection when only part is loaded. */
  const selectionIds = async (): Promise<string[]> => {
    if (picked !== null) return picked;
    const loaded = newest.pages.items.slice(0, last!);
    if (!newest.pages.hasNext || loaded.length >= last!) return loaded.map((batch) => batch.id);
    const all = [...newest.pages.items];
    let cursor = newest.pages.cursor;
    let hasNext = true;
    while (hasNext && all.length < last!) {
      const page = await fetchPage(deploymentId, Math.min(PAGE, last! - all.length), cursor, '');
      all.push(...page.items);
      cursor = page.cursor;
      hasNext = page.hasNext;
    }
    return all.slice(0, last!).map((batch) => batch.id);
  };

  const pick = (batchIds: string[], message: string, focus: { list: 'available' | 'selected'; index: number; batchId: string | null }) => {
    const { modelId } = current.current.selection;
    focusAfter.current = focus;
    onChange({ batchIds, ...(modelId ? { modelId } : {}) });
    setAnnouncement(`${message} ${batchesText(batchIds.length)} selected.`);
  };

  const move = async (batch: Batch, adding: boolean, index: number) => {
    // Buttons are not disabled while a move is pending: a disabled button would lose the keyboard focus.
    if (pending) return;
    setPending(true);
    setMoveError(undefined);
    try {
      const from = await selectionIds();
      const next = adding ? [...from.filter((id) => id !== batch.id), batch.id] : from.filter((id) => id !== batch.id);
      pick(next, `${adding ? 'Added' : 'Removed'} ${batch.name}.`, { list: adding ? 'available' : 'selected', index, batchId: batch.id });
    } catch (error) {
      setMoveError(error as ApiError);
    } finally {
      setPending(false);
    }
  };

  const shortcut = (n: number) => {
    const { modelId } = current.current.selection;
    onChange({ last: n, ...(modelId ? { modelId } : {}) });
    setAnnouncement(n >= ALL_BATCHES ? 'All batches selected.' : `The last ${batchesText(n)} selected.`);
  };

  const summary =
    selectedCount === null
      ? 'Loading batches…'
      : total === 0
        ? 'This deployment has no batches yet.'
        : picked === null
          ? everything && last === ALL_BATCHES
            ? `All ${batchesText(total!)} selected.`
            : `The last ${batchesText(last!)} selected (${formatCount(selectedCount)} of ${formatCount(total)}).`
          : `${batchesText(selectedCount)} picked${total === null ? '' : ` of ${formatCount(total)}`}.`;

  return (
    <section class="batch-selector" aria-labelledby={`${ids}-title`}>
      <div class="selector-head">
        <h2 id={`${ids}-title`} class="selector-title">
          {title}
        </h2>
        <p class="selector-summary">{summary}</p>
      </div>
      <div class="toolbar">
        <fieldset class="shortcuts">
          <legend>Last</legend>
          {SHORTCUTS.map((n) => (
            <button key={n} type="button" aria-pressed={last === n} onClick={() => shortcut(n)}>
              {n}
              <span class="visually-hidden"> {n === 1 ? 'batch' : 'batches'}</span>
            </button>
          ))}
          <button type="button" aria-pressed={last === ALL_BATCHES} onClick={() => shortcut(ALL_BATCHES)}>
            All<span class="visually-hidden"> batches</span>
          </button>
        </fieldset>
        <button
          type="button"
          disabled={picked !== null && picked.length === 0}
          onClick={() => pick([], 'Selection cleared.', { list: 'available', index: 0, batchId: null })}
        >
          Clear
        </button>
        <label class="selector-search">
          <span>Search batches</span>
          <input type="search" placeholder="Name or id" value={search} onInput={(event) => setSearch(event.currentTarget.value)} />
        </label>
      </div>
      <ErrorNote error={moveError ?? newest.pages.error ?? available.pages.error} />
      <div class="selector-lists" ref={lists} aria-busy={pending}>
        <div class="selector-list">
          <h3 id={`${ids}-available`}>
            Not selected <span class="muted small">({availableItems.length} shown)</span>
          </h3>
          {availableItems.length ? (
            <MoveList
              labelledBy={`${ids}-available`}
              list="available"
              items={availableItems}
              verb="Add"
              icon="+"
              pending={pending}
              onKeyDown={moveFocus}
              onMove={(batch, index) => move(batch, true, index)}
            />
          ) : (
            <p class="muted small">
              {available.pages.loading
                ? 'Loading…'
                : available.pages.hasNext && !everything
                  ? 'Every batch shown is selected.'
                  : everything || (total !== null && total > 0 && !search.trim())
                    ? 'Every batch is selected.'
                    : search.trim()
                      ? `No other batch matches “${search.trim()}”.`
                      : 'No batches.'}
            </p>
          )}
          {available.pages.hasNext && !everything ? (
            <button type="button" class="more" disabled={available.pages.loading} onClick={() => available.more()}>
              Show {PAGE} more
            </button>
          ) : null}
        </div>
        <div class="selector-list">
          <h3 id={`${ids}-selected`}>
            Selected <span class="muted small">({selectedCount === null ? '…' : formatCount(selectedCount)})</span>
          </h3>
          {shownSelected.length ? (
            <MoveList
              labelledBy={`${ids}-selected`}
              list="selected"
              items={shownSelected}
              verb="Remove"
              icon="−"
              pending={pending}
              onKeyDown={moveFocus}
              onMove={(batch, index) => move(batch, false, index)}
            />
          ) : (
            <p class="muted small">
              {newest.pages.loading && picked === null
                ? 'Loading…'
                : search.trim() && selectedItems.length
                  ? `No selected batch matches “${search.trim()}”.`
                  : 'No batch selected.'}
            </p>
          )}
          {moreSelected ? (
            <button type="button" class="more" disabled={newest.pages.loading} onClick={() => newest.more()}>
              Show {PAGE} more
            </button>
          ) : null}
        </div>
      </div>
      <p class="visually-hidden" aria-live="polite">
        {announcement}
      </p>
    </section>
  );
}

/** One of the two lists: every batch a button that moves it to the other list. */
function MoveList({
  labelledBy,
  list,
  items,
  verb,
  icon,
  pending,
  onKeyDown,
  onMove,
}: {
  labelledBy: string;
  list: 'available' | 'selected';
  items: Batch[];
  verb: string;
  icon: string;
  pending: boolean;
  onKeyDown: (event: KeyboardEvent) => void;
  onMove: (batch: Batch, index: number) => void;
}) {
  return (
    <ul aria-labelledby={labelledBy} data-list={list} onKeyDown={onKeyDown}>
      {items.map((batch, index) => (
        <li key={batch.id}>
          <button type="button" class="batch-item" aria-disabled={pending} onClick={() => onMove(batch, index)}>
            <span class="visually-hidden">{verb} </span>
            <BatchLabel batch={batch} />
            <span class="move-icon" aria-hidden="true">
              {icon}
            </span>
          </button>
        </li>
      ))}
    </ul>
  );
}

function BatchLabel({ batch }: { batch: Batch }) {
  return (
    <span class="batch-label">
      <span class="batch-name">{batch.name}</span>
      {batch.createdAt ? (
        <span class="muted small">
          {' '}
          · {formatTime(batch.createdAt)} · {formatCount(batch.predictionCount)} predictions
        </span>
      ) : null}
    </span>
  );
}
