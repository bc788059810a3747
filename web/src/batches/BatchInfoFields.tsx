import type { ComponentChildren } from 'preact';
import { FieldError } from '../app/ui';

// The name, description and external URL of a batch, as the create dialog and a batch's Info form
// both ask for them: labelled, each field's refusal under it and tied to it (aria-describedby).

export interface BatchInfo {
  name: string;
  description: string;
  externalUrl: string;
}

export function BatchInfoFields({
  idPrefix,
  values,
  onChange,
  errors = {},
  urlHint,
}: {
  /** Unique per form on the page: `create-batch`, `batch-info`. */
  idPrefix: string;
  values: BatchInfo;
  onChange: (values: BatchInfo) => void;
  /** The refusal per field (`name`, `description`, `externalUrl`). */
  errors?: Record<string, string>;
  /** Shown under the URL while it has no error (e.g. a link to open it); its element has id `<idPrefix>-url-hint`. */
  urlHint?: ComponentChildren;
}) {
  const id = (field: string) => `${idPrefix}-${field}`;
  const described = (field: keyof BatchInfo, fallback?: string) => (errors[field] ? `${id(field)}-error` : fallback);
  return (
    <>
      <label for={id('name')}>Name</label>
      <div>
        <input
          id={id('name')}
          name="name"
          required
          aria-required="true"
          maxLength={512}
          value={values.name}
          aria-invalid={errors.name ? true : undefined}
          aria-describedby={described('name')}
          onInput={(event) => onChange({ ...values, name: event.currentTarget.value })}
        />
        <FieldError id={`${id('name')}-error`} label="Name" message={errors.name} />
      </div>
      <label for={id('description')}>Description</label>
      <div>
        <textarea
          id={id('description')}
          name="description"
          rows={3}
          value={values.description}
          aria-invalid={errors.description ? true : undefined}
          aria-describedby={described('description')}
          onInput={(event) => onChange({ ...values, description: event.currentTarget.value })}
        />
        <FieldError id={`${id('description')}-error`} label="Description" message={errors.description} />
      </div>
      <label for={id('externalUrl')}>External URL</label>
      <div>
        <input
          id={id('externalUrl')}
          name="externalUrl"
          type="url"
          placeholder="https://…"
          value={values.externalUrl}
          aria-invalid={errors.externalUrl ? true : undefined}
          aria-describedby={described('externalUrl', urlHint ? `${idPrefix}-url-hint` : undefined)}
          onInput={(event) => onChange({ ...values, externalUrl: event.currentTarget.value })}
        />
        <FieldError id={`${id('externalUrl')}-error`} label="External URL" message={errors.externalUrl} />
        {urlHint && !errors.externalUrl ? (
          <p id={`${idPrefix}-url-hint`} class="hint">
            {urlHint}
          </p>
        ) : null}
      </div>
    </>
  );
}
