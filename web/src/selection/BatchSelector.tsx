// The batch selector every analysis tab (and Data Export) shares: two lists, unselected and selected,
// moved with a click, searchable, with "last N" shortcuts. Its value is a BatchSelection as the API
// takes it ({ last: N } or { batchIds: [...] }).

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
}

/** The default selection of a tab: the last 10 batches. */
export const DEFAULT_SELECTION: BatchSelection = { last: 10 };

// Interface first (issue 12): the two-list implementation replaces this.
export function BatchSelector({ selection, onChange }: BatchSelectorProps) {
  return (
    <label>
      Last N batches{' '}
      <input
        type="number"
        min={1}
        value={selection.last ?? 10}
        onInput={(event) => onChange({ last: Number(event.currentTarget.value) || 10 })}
      />
    </label>
  );
}
