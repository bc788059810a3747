import type { TypedDocumentString } from './generated/graphql.js';

// The demo's way to batchlens: its public GraphQL API over HTTP, with a bearer token, as any client
// sends it. Operations are the typed ones generated from operations.graphql.

export class DemoClient {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  /** Runs an operation; GraphQL errors (never expected here) throw with their messages. */
  async request<R, V>(document: TypedDocumentString<R, V>, variables: V): Promise<R> {
    const response = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        authorization: `Bearer ${this.token}`,
      },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
    const text = await response.text();
    let answer: { data?: R | null; errors?: { message: string }[] };
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      throw new Error(`${this.url}/graphql answered ${response.status}: ${text.slice(0, 200)}`);
    }
    if (answer.errors?.length) throw new Error(`${this.url}/graphql: ${answer.errors.map((e) => e.message).join('; ')}`);
    if (!answer.data) throw new Error(`${this.url}/graphql answered ${response.status} without data`);
    return answer.data;
  }
}

interface Failure {
  __typename: string;
  message: string;
  fieldErrors?: { field: string; message: string }[];
}

/**
 * The success member of a typed result union (the one that has `key`); an error member (an expected
 * failure such as a ValidationError) throws, naming `what` was being done and the fields at fault.
 */
export function ok<T extends object, K extends string>(result: T, key: K, what: string): Extract<T, Record<K, unknown>> {
  if (key in result) return result as Extract<T, Record<K, unknown>>;
  const failure = result as unknown as Failure;
  const fields = failure.fieldErrors?.map((e) => `${e.field}: ${e.message}`).join('; ');
  throw new Error(`${what}: ${failure.__typename}: ${failure.message}${fields ? ` (${fields})` : ''}`);
}
