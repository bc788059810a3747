import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { useQuery } from '../api/hooks';
import type { ChartX } from '../charts/Chart';
import type { TypedDocumentString } from '../generated/graphql';
import { type BatchSelection, DEFAULT_SELECTION } from '../selection/BatchSelector';
import { useBatchChanges } from '../selection/live';

// What the four analysis tabs share: a selection kept per tab while the page is open, the query
// over it (refetched when the deployment's batches change), tiles, and empty-state notes.

/** Each tab's selection, per deployment, for as long as the page is open. */
const kept = new Map<string, BatchSelection>();

export function useKeptSelection(deploymentId: string, tab: string): [BatchSelection, (selection: BatchSelection) => void] {
  const key = `${deploymentId}/${tab}`;
  const [selection, setSelection] = useState<BatchSelection>(() => kept.get(key) ?? DEFAULT_SELECTION);
  return [
    selection,
    (next) => {
      kept.set(key, next);
      setSelection(next);
    },
  ];
}

/** A tab's query over the selection; refetched (debounced) when the deployment's batches change. */
export function useAnalysis<R, V>(
  deploymentId: string,
  document: TypedDocumentString<R, V>,
  variables: V,
  options: { skip?: boolean } = {},
) {
  const state = useQuery(document, variables, options);
  useBatchChanges(deploymentId, state.refetch);
  return state;
}

/** Batches on the x axis by their order in the selection (oldest first), named. */
export function batchAxis(rows: readonly { batch: { name: string } }[]): ChartX {
  return { kind: 'categories', label: 'Batch', labels: rows.map((row) => row.batch.name) };
}

export interface Tile {
  label: string;
  value: string;
  hint?: string;
}

export function Tiles({ label, tiles }: { label: string; tiles: readonly Tile[] }) {
  return (
    <>
      <h2 class="visually-hidden">{label}</h2>
      <dl class="tiles">
        {tiles.map((tile) => (
          <div class="tile" key={tile.label}>
            <dt>{tile.label}</dt>
            <dd>
              <span class="tile-value">{tile.value}</span>
              {tile.hint ? <span class="tile-hint">{tile.hint}</span> : null}
            </dd>
          </div>
        ))}
      </dl>
    </>
  );
}

/** A note in place of charts: nothing to show yet, and why. */
export function EmptyState({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty-state" role="status">
      <p class="empty-title">{title}</p>
      {children ? <p class="muted">{children}</p> : null}
    </div>
  );
}

/** No batch in the selection: none picked, or none in the deployment. */
export function NoBatches({ selection }: { selection: BatchSelection }) {
  return selection.batchIds ? (
    <EmptyState title="No batch selected.">Pick batches in the list above, or use one of the “Last” shortcuts.</EmptyState>
  ) : (
    <EmptyState title="No batches yet.">
      This deployment has no monitoring batches: create one in Batch Management, or report predictions into a new batch.
    </EmptyState>
  );
}
