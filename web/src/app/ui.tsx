import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApiError } from '../api/client';

// Small pieces every view uses: errors, loading, the copy button, a confirmation dialog.

/** A failure the user should read: a transport error or a typed error result's message. */
export function ErrorNote({ error }: { error: ApiError | string | null | undefined }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {typeof error === 'string' ? error : error.message}
    </p>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p class="loading" aria-live="polite">
      {label}
    </p>
  );
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      class="icon-button"
      aria-label={label}
      title={label}
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
        } catch {
          // Clipboard refused (no permission, not a secure context): select-and-copy still works.
        }
        setCopied(true);
        setTimeout(() => setCopied(false), 1500);
      }}
    >
      {copied ? (
        '✓'
      ) : (
        // Drawn, not a glyph: fonts without U+29C9 would show a box.
        <svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true" focusable="false">
          <rect x="4.5" y="4.5" width="8" height="8" rx="1.5" fill="none" stroke="currentColor" />
          <path d="M2.5 9.5h-1v-8h8v1" fill="none" stroke="currentColor" />
        </svg>
      )}
    </button>
  );
}

/** A modal dialog (the native <dialog>: focus trapped, Escape closes). */
export function Dialog({
  title,
  open,
  onClose,
  children,
}: {
  title: string;
  open: boolean;
  onClose: () => void;
  children: ComponentChildren;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} aria-label={title} onClose={onClose} onCancel={onClose}>
      <h2>{title}</h2>
      {open ? children : null}
    </dialog>
  );
}

export function Confirm({
  open,
  title,
  message,
  confirmLabel,
  danger,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  message: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <Dialog title={title} open={open} onClose={onCancel}>
      <p>{message}</p>
      <div class="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" class={danger ? 'danger' : 'primary'} onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}

export type HealthStatus = 'PASSING' | 'AT_RISK' | 'FAILING' | 'UNKNOWN';

const STATUS_TEXT: Record<HealthStatus, string> = { PASSING: 'Passing', AT_RISK: 'At risk', FAILING: 'Failing', UNKNOWN: 'Unknown' };

/** One health indicator: a coloured dot with its word, the reason on hover and for screen readers. */
export function HealthBadge({ area, status, reason }: { area: string; status: HealthStatus; reason: string }) {
  return (
    <span class={`health health-${status.toLowerCase()}`} title={`${area}: ${STATUS_TEXT[status]} — ${reason}`}>
      <span class="dot" aria-hidden="true" />
      <span class="visually-hidden">
        {area}: {STATUS_TEXT[status]} — {reason}
      </span>
      <span aria-hidden="true">{STATUS_TEXT[status]}</span>
    </span>
  );
}

/** The message of one form field, referenced by the field's aria-describedby; `label` prefixes it ("Name must be …"). */
export function FieldError({ id, label, message }: { id: string; label?: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <p id={id} class="field-error">
      {label ? `${label} ${message}` : message}
    </p>
  );
}
