import type { ComponentChildren } from 'preact';
import { FieldError } from '../app/ui';
import { type FieldErrors, fieldId } from './field-errors';

// Labelled form fields whose error is shown under them and tied to them (aria-invalid,
// aria-describedby).

function ErrorOf({ field, errors }: { field: string; errors: FieldErrors }) {
  return <FieldError id={`${fieldId(field)}-error`} message={errors[field]} />;
}

function describedBy(field: string, errors: FieldErrors, hint: ComponentChildren): string | undefined {
  const ids = [hint ? `${fieldId(field)}-hint` : null, errors[field] ? `${fieldId(field)}-error` : null].filter(Boolean);
  return ids.length ? ids.join(' ') : undefined;
}

export function TextField({
  field,
  label,
  value,
  onInput,
  errors,
  hint,
  multiline,
  inputMode,
}: {
  field: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  errors: FieldErrors;
  hint?: ComponentChildren;
  multiline?: boolean;
  /** A number typed as text: the API's message says what is wrong with it (a number input would hide it). */
  inputMode?: 'decimal' | 'numeric';
}) {
  const id = fieldId(field);
  const common = {
    id,
    name: field,
    value,
    'aria-invalid': errors[field] ? ('true' as const) : undefined,
    'aria-describedby': describedBy(field, errors, hint),
  };
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {multiline ? (
        <textarea {...common} rows={3} onInput={(event) => onInput(event.currentTarget.value)} />
      ) : (
        <input
          {...common}
          type="text"
          inputMode={inputMode}
          autocomplete="off"
          spellcheck={false}
          onInput={(event) => onInput(event.currentTarget.value)}
        />
      )}
      {hint ? (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      <ErrorOf field={field} errors={errors} />
    </div>
  );
}

export function SelectField({
  field,
  label,
  value,
  options,
  onChange,
  errors,
  hint,
}: {
  field: string;
  label: string;
  value: string;
  options: { value: string; label: string }[];
  onChange: (value: string) => void;
  errors: FieldErrors;
  hint?: ComponentChildren;
}) {
  const id = fieldId(field);
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select
        id={id}
        name={field}
        value={value}
        aria-invalid={errors[field] ? 'true' : undefined}
        aria-describedby={describedBy(field, errors, hint)}
        onChange={(event) => onChange(event.currentTarget.value)}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
      {hint ? (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      <ErrorOf field={field} errors={errors} />
    </div>
  );
}

export function CheckboxField({
  field,
  label,
  checked,
  onChange,
  errors,
  hint,
}: {
  field: string;
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
  errors: FieldErrors;
  hint?: ComponentChildren;
}) {
  const id = fieldId(field);
  return (
    <div class="field field-checkbox">
      <input
        id={id}
        name={field}
        type="checkbox"
        checked={checked}
        aria-invalid={errors[field] ? 'true' : undefined}
        aria-describedby={describedBy(field, errors, hint)}
        onChange={(event) => onChange(event.currentTarget.checked)}
      />
      <label for={id}>{label}</label>
      {hint ? (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      <ErrorOf field={field} errors={errors} />
    </div>
  );
}

/** A group of checkboxes whose value is the list of checked names (excluded features). */
export function ChecklistField({
  field,
  legend,
  options,
  checked,
  onChange,
  errors,
  hint,
}: {
  field: string;
  legend: string;
  options: { value: string; label: ComponentChildren }[];
  checked: readonly string[];
  onChange: (checked: string[]) => void;
  errors: FieldErrors;
  hint?: ComponentChildren;
}) {
  const id = fieldId(field);
  return (
    <fieldset class="field checklist" id={id} aria-describedby={describedBy(field, errors, hint)}>
      <legend>{legend}</legend>
      {hint ? (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {options.length === 0 ? <p class="muted">The deployment has no features.</p> : null}
      {options.map((option, index) => (
        <label key={option.value} class="checklist-item">
          <input
            type="checkbox"
            name={field}
            value={option.value}
            checked={checked.includes(option.value)}
            aria-invalid={errors[field] && index === 0 ? 'true' : undefined}
            onChange={(event) =>
              onChange(event.currentTarget.checked ? [...checked, option.value] : checked.filter((name) => name !== option.value))
            }
          />{' '}
          {option.label}
        </label>
      ))}
      <ErrorOf field={field} errors={errors} />
    </fieldset>
  );
}
