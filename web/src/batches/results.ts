import type { BatchMutationErrorFragment } from '../generated/graphql';

// Mutations answer a union of a success and typed errors (each with a `message`): what the page shows of them.

export interface Failure {
  message: string;
  /** Messages by input field (`name`, `externalUrl`, `endTime` …) of a ValidationError. */
  fields: Record<string, string>;
}

/** The failure in a mutation result, or null when it is the success type. */
export function failureOf(result: { __typename: string } | BatchMutationErrorFragment): Failure | null {
  if (!('message' in result)) return null;
  const fields: Record<string, string> = {};
  if (result.__typename === 'ValidationError') for (const error of result.fieldErrors) fields[error.field] = error.message;
  return { message: result.message, fields };
}
