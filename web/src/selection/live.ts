import { useEffect, useRef } from 'preact/hooks';
import { useSubscription } from '../api/hooks';
import { SelectorBatchEventsDocument, type SelectorBatchEventsSubscription } from '../generated/graphql';

export type BatchEvent = SelectorBatchEventsSubscription['batchEvents'];

/**
 * Calls `onChange` once the deployment's batches stop changing for `delayMs` (created, renamed,
 * locked, deleted …): a burst of events (a job creating batches) costs one refetch. `onEvent`, if
 * given, sees every event at once.
 */
export function useBatchChanges(
  deploymentId: string,
  onChange: () => void,
  options: { delayMs?: number; onEvent?: (event: BatchEvent) => void } = {},
): void {
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const latest = useRef({ onChange, onEvent: options.onEvent });
  latest.current = { onChange, onEvent: options.onEvent };
  const delayMs = options.delayMs ?? 1000;
  // A failed live connection only means no automatic refresh (graphql-ws keeps retrying).
  useSubscription(SelectorBatchEventsDocument, { deploymentId }, (data) => {
    latest.current.onEvent?.(data.batchEvents);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => latest.current.onChange(), delayMs);
  });
  useEffect(() => () => clearTimeout(timer.current), []);
}
