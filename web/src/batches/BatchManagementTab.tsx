import { useState } from 'preact/hooks';
import type { TabProps } from '../app/tabs';
import { BatchDetail } from './BatchDetail';
import { BatchList, INITIAL_LIST, type ListState } from './BatchList';

/** Batch Management: the deployment's batches (live), or one batch when the route names it. */
export function BatchManagementTab({ deployment, itemId: batchId }: TabProps) {
  // Held here, not in the list: opening a batch and coming back returns to the same search, order and page.
  const [list, setList] = useState<ListState>(INITIAL_LIST);
  if (batchId) return <BatchDetail deploymentId={deployment.id} batchId={batchId} />;
  return <BatchList deploymentId={deployment.id} deploymentLabel={deployment.label} state={list} setState={setList} />;
}
