import { useState } from 'preact/hooks';
import { useMutation } from '../api/hooks';
import { Dialog, ErrorNote } from '../app/ui';
import { CreateBatchDocument } from '../generated/graphql';
import { type BatchInfo, BatchInfoFields } from './BatchInfoFields';

import { type Failure, failureOf } from './results';
import { formatTimeWithZone } from './time';

/** The "Create batch" dialog: name (required), description, external URL; typed errors (quota, validation) shown in it. */
export function CreateBatchDialog({
  deploymentId,
  open,
  onClose,
  onCreated,
}: {
  deploymentId: string;
  open: boolean;
  onClose: () => void;
  onCreated: (batch: { id: string; name: string }) => void;
}) {
  return (
    <Dialog title="Create batch" open={open} onClose={onClose}>
      <CreateBatchForm deploymentId={deploymentId} onClose={onClose} onCreated={onCreated} />
    </Dialog>
  );
}

function CreateBatchForm({
  deploymentId,
  onClose,
  onCreated,
}: {
  deploymentId: string;
  onClose: () => void;
  onCreated: (batch: { id: string; name: string }) => void;
}) {
  const [info, setInfo] = useState<BatchInfo>({ name: '', description: '', externalUrl: '' });
  const { name, description, externalUrl } = info;
  const [failure, setFailure] = useState<Failure | null>(null);
  const create = useMutation(CreateBatchDocument);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!name.trim()) {
      setFailure({ message: 'The batch needs a name.', fields: { name: 'is required' } });
      return;
    }
    setFailure(null);
    const data = await create.run({
      input: {
        deploymentId,
        name,
        ...(description.trim() ? { description } : {}),
        ...(externalUrl.trim() ? { externalUrl: externalUrl.trim() } : {}),
      },
    });
    if (!data) return;
    const result = data.createMonitoringBatch;
    if (result.__typename === 'CreateMonitoringBatchSuccess') onCreated(result.batch);
    else if (result.__typename === 'BatchQuotaExceededError') {
      // The server names the reset in UTC; say it in the viewer's zone too.
      setFailure({ message: `${result.message} (${formatTimeWithZone(result.resetsAt)} your time).`, fields: {} });
    } else setFailure(failureOf(result));
  };

  return (
    <form class="form-grid" onSubmit={submit} noValidate>
      <BatchInfoFields idPrefix="create-batch" values={info} onChange={setInfo} errors={failure?.fields} />
      <div class="form-wide">
        <ErrorNote error={failure?.message ?? create.error} />
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={create.pending}>
            {create.pending ? 'Creating…' : 'Create batch'}
          </button>
        </div>
      </div>
    </form>
  );
}
