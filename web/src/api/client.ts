import { type Client, createClient } from 'graphql-ws';
import type { TypedDocumentString } from '../generated/graphql';
import { currentToken, onSessionChange, signOut } from './session';

// The page's one way to the API: queries and mutations over HTTP (POST /graphql), subscriptions over
// graphql-ws on the same path. Every operation is a generated TypedDocumentString (web/src/**/*.graphql).

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

interface GraphQLAnswer<R> {
  data?: R | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

function authorization(token: string | null = currentToken()): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Runs a query or mutation; throws ApiError for GraphQL errors (a typed error result is data, not this). */
export async function request<R, V>(document: TypedDocumentString<R, V>, variables: V, token?: string): Promise<R> {
  let response: Response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...authorization(token),
      },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
  } catch {
    throw new ApiError('The server cannot be reached.', 'NETWORK');
  }
  let answer: GraphQLAnswer<R>;
  try {
    answer = (await response.json()) as GraphQLAnswer<R>;
  } catch {
    throw new ApiError(`The server answered ${response.status} without a GraphQL result.`, 'HTTP');
  }
  const firstError = answer.errors?.[0];
  if (response.status === 401 || firstError?.extensions?.code === 'UNAUTHENTICATED') {
    // A token revoked while the page is open: back to the sign-in form (not for the sign-in attempt itself).
    if (token === undefined) signOut();
    throw new ApiError(firstError?.message ?? 'Not signed in.', 'UNAUTHENTICATED');
  }
  if (answer.errors?.length) throw new ApiError(answer.errors.map((error) => error.message).join('; '), firstError?.extensions?.code);
  if (!answer.data) throw new ApiError(`The server answered ${response.status} without data.`, 'HTTP');
  return answer.data;
}

let socket: Client | null = null;

function liveClient(): Client {
  if (!socket) {
    const url = new URL('/graphql', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    socket = createClient({
      url: url.toString(),
      lazy: true,
      // The dashboard stays open for hours: reconnect for as long as it is open.
      retryAttempts: Number.POSITIVE_INFINITY,
      shouldRetry: () => true,
      connectionParams: () => authorization(),
    });
  }
  return socket;
}

onSessionChange(() => {
  socket?.dispose();
  socket = null;
});

/** Follows a subscription: `onData` for every result; returns the unsubscribe. */
export function subscribe<R, V>(
  document: TypedDocumentString<R, V>,
  variables: V,
  onData: (data: R) => void,
  onError: (error: ApiError) => void = () => {},
): () => void {
  return liveClient().subscribe<R>(
    { query: document.toString(), variables: variables as Record<string, unknown> },
    {
      next: (result) => {
        if (result.errors?.length) onError(new ApiError(result.errors.map((error) => error.message).join('; ')));
        else if (result.data) onData(result.data as R);
      },
      error: (error) => onError(new ApiError(error instanceof Error ? error.message : 'The live connection failed.')),
      complete: () => {},
    },
  );
}
