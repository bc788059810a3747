import { useState } from 'preact/hooks';
import { useMutation } from '../api/hooks';
import { Dialog, ErrorNote, FieldError } from '../app/ui';
import { CreateBatchDocument } from '../generated/graphql';

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
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [externalUrl, setExternalUrl] = useState('');
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
      <label for="create-batch-name">Name</label>
      <div>
        <input
          id="create-batch-name"
          name="name"
          required
          aria-required="true"
          maxLength={512}
          value={name}
          aria-invalid={failure?.fields.name ? true : undefined}
          aria-describedby={failure?.fields.name ? 'create-batch-name-error' : undefined}
          onInput={(event) => setName(event.currentTarget.value)}
        />
        <FieldError id="create-batch-name-error" label="Name" message={failure?.fields.name} />
      </div>
      <label for="create-batch-description">Description</label>
      <div>
        <textarea
          id="create-batch-description"
          name="description"
          rows={3}
          value={description}
          aria-invalid={failure?.fields.description ? true : undefined}
          aria-describedby={failure?.fields.description ? 'create-batch-description-error' : undefined}
          onInput={(event) => setDescription(event.currentTarget.value)}
        />
        <FieldError id="create-batch-description-error" label="Description" message={failure?.fields.description} />
      </div>
      <label for="create-batch-url">External URL</label>
      <div>
        <input
          id="create-batch-url"
          name="externalUrl"
          type="url"
          placeholder="https://…"
          value={externalUrl}
          aria-invalid={failure?.fields.externalUrl ? true : undefined}
          aria-describedby={failure?.fields.externalUrl ? 'create-batch-url-error' : undefined}
          onInput={(event) => setExternalUrl(event.currentTarget.value)}
        />
        <FieldError id="create-batch-url-error" label="External URL" message={failure?.fields.externalUrl} />
      </div>
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
