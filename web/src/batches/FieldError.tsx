/** The message of one form field ("External URL must be …"), referenced by the field's aria-describedby. */
export function FieldError({ id, label, message }: { id: string; label: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <p id={id} class="field-error">
      {label} {message}
    </p>
  );
}
