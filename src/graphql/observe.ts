import { type DocumentNode, getOperationAST, type OperationTypeNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { countGraphQLErrors, type OperationOutcome, observeGraphQLOperation, operationLabel } from '../observability/metrics.js';
import type { RequestScope } from '../observability/request-context.js';

// Every GraphQL operation, whatever its transport (HTTP, SSE, graphql-ws), is timed by name and
// outcome and its errors are counted by code; its name joins the request scope for the log line.
// First in yoga's plugin list, so it sees operations other plugins refuse.

/** Longest operation name kept in a request's log line. */
const MAX_LOGGED_NAME = 200;

interface Named {
  name: string | undefined;
  type: OperationTypeNode | 'unknown';
}

function operationOf(document: DocumentNode | undefined, operationName: string | null | undefined): Named {
  const operation = document ? getOperationAST(document, operationName) : null;
  return { name: operation?.name?.value ?? operationName ?? undefined, type: operation?.operation ?? 'unknown' };
}

/** The operation's name joins its request's log line (the scope the transports put in the context). */
function remember(context: unknown, name: string | undefined): void {
  const scope = (context as { scope?: RequestScope } | undefined)?.scope;
  if (scope && name) scope.operation = name.length > MAX_LOGGED_NAME ? name.slice(0, MAX_LOGGED_NAME) : name;
}

const seconds = (started: number): number => (performance.now() - started) / 1000;

type ResultLike = { errors?: readonly { extensions?: { code?: unknown } }[] } | AsyncIterable<unknown>;

function settle(named: Named, started: number, result: ResultLike): void {
  const errors = Symbol.asyncIterator in (result as object) ? undefined : (result as { errors?: readonly [] }).errors;
  const outcome: OperationOutcome = errors?.length ? 'error' : 'ok';
  observeGraphQLOperation(operationLabel(named.name), named.type, outcome, seconds(started));
  countGraphQLErrors(errors);
}

/** The name a request asked for (yoga's `params`, also given by graphql-ws' onSubscribe). */
const askedName = (context: unknown): string | undefined =>
  (context as { params?: { operationName?: string | null } } | undefined)?.params?.operationName ?? undefined;

export function observeOperations(): Plugin {
  return {
    onParse({ context }) {
      const started = performance.now();
      const name = askedName(context);
      remember(context, name);
      return ({ result }) => {
        if (!(result instanceof Error)) return;
        observeGraphQLOperation(operationLabel(name), 'unknown', 'invalid', seconds(started));
        countGraphQLErrors([{ extensions: { code: 'GRAPHQL_PARSE_FAILED' } }]);
      };
    },
    onValidate({ context, params }) {
      const started = performance.now();
      return ({ valid, result }) => {
        if (valid) return;
        const named = operationOf(params.documentAST, askedName(context));
        remember(context, named.name);
        observeGraphQLOperation(operationLabel(named.name), named.type, 'invalid', seconds(started));
        countGraphQLErrors(result.map((error) => ({ extensions: { code: error.extensions?.code ?? 'GRAPHQL_VALIDATION_FAILED' } })));
      };
    },
    onExecute({ args }) {
      const started = performance.now();
      const named = operationOf(args.document, args.operationName);
      remember(args.contextValue, named.name);
      return { onExecuteDone: ({ result }) => settle(named, started, result as ResultLike) };
    },
    onSubscribe({ args }) {
      const started = performance.now();
      const named = operationOf(args.document, args.operationName);
      remember(args.contextValue, named.name);
      return { onSubscribeResult: ({ result }) => settle(named, started, result as ResultLike) };
    },
  };
}
