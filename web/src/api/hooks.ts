import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { TypedDocumentString } from '../generated/graphql';
import { ApiError, request, subscribe } from './client';

export interface QueryState<R> {
  data: R | undefined;
  error: ApiError | undefined;
  loading: boolean;
  /** Runs the query again (keeps showing the previous data meanwhile). */
  refetch: () => void;
}

function asApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(error instanceof Error ? error.message : String(error));
}

/** Runs the query whenever its variables change; `skip` holds it back. */
export function useQuery<R, V>(document: TypedDocumentString<R, V>, variables: V, options: { skip?: boolean } = {}): QueryState<R> {
  const key = JSON.stringify(variables);
  const [state, setState] = useState<{ data?: R; error?: ApiError; loading: boolean }>({ loading: !options.skip });
  const [generation, setGeneration] = useState(0);
  const latest = useRef(0);
  // The variables' JSON is the key: a new object with the same values does not re-run it.
  useEffect(() => {
    if (options.skip) return;
    const run = ++latest.current;
    setState((previous) => ({ ...previous, loading: true }));
    request(document, variables).then(
      (data) => run === latest.current && setState({ data, loading: false }),
      (error: unknown) =>
        run === latest.current && setState((previous) => ({ data: previous.data, error: asApiError(error), loading: false })),
    );
  }, [document, key, generation, options.skip]);
  const refetch = useCallback(() => setGeneration((value) => value + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, refetch };
}

/** Follows a subscription while mounted and while its variables stay the same. */
export function useSubscription<R, V>(
  document: TypedDocumentString<R, V>,
  variables: V,
  onData: (data: R) => void,
  options: { skip?: boolean } = {},
): ApiError | undefined {
  const key = JSON.stringify(variables);
  const handler = useRef(onData);
  handler.current = onData;
  const [error, setError] = useState<ApiError>();
  // The variables' JSON is the key: a new object with the same values does not re-run it.
  useEffect(() => {
    if (options.skip) return;
    setError(undefined);
    return subscribe(document, variables, (data) => handler.current(data), setError);
  }, [document, key, options.skip]);
  return error;
}

/** A mutation with its pending flag and last transport error (typed error results are in the data). */
export function useMutation<R, V>(
  document: TypedDocumentString<R, V>,
): {
  run: (variables: V) => Promise<R | undefined>;
  pending: boolean;
  error: ApiError | undefined;
} {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<ApiError>();
  const run = useCallback(
    async (variables: V) => {
      setPending(true);
      setError(undefined);
      try {
        return await request(document, variables);
      } catch (caught) {
        setError(asApiError(caught));
        return undefined;
      } finally {
        setPending(false);
      }
    },
    [document],
  );
  return { run, pending, error };
}
