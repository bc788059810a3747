// A form's errors, keyed by the API's field path (`service.errorRateAtRisk`): the name a
// ValidationError's fieldErrors use.

export type FieldErrors = Record<string, string>;

/** The element id of a field path: `settings-service-errorRateAtRisk`. */
export const fieldId = (field: string) => `settings-${field.replace(/\./g, '-')}`;

/**
 * Sorts the API's field errors under the form's fields: an error on `dataDrift.excludedFeatures.2`
 * belongs to `dataDrift.excludedFeatures`. Errors on no field of the form come back as `rest`.
 */
export function sortFieldErrors(
  fieldErrors: { field: string; message: string }[],
  fields: readonly string[],
): { byField: FieldErrors; rest: string[] } {
  const byField: FieldErrors = {};
  const rest: string[] = [];
  for (const error of fieldErrors) {
    const owner = fields
      .filter((field) => error.field === field || error.field.startsWith(`${field}.`))
      .sort((a, b) => b.length - a.length)[0];
    if (owner) byField[owner] = byField[owner] ? `${byField[owner]}; ${error.message}` : error.message;
    else rest.push(`${error.field}: ${error.message}`);
  }
  return { byField, rest };
}

/** Moves focus to the first field with an error (after the errors are rendered). */
export function focusFirstError(form: HTMLFormElement | null): void {
  requestAnimationFrame(() => form?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
}
