import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import type { GraphQLError, ValidationContext } from 'graphql';
import { createGraphQLError, createYoga, maskError } from 'graphql-yoga';
import type { AppServices, RequestContext } from '../context.js';
import { databaseFailure } from '../db/errors.js';
import type { GraphQLContext } from '../graphql/context.js';
import { disableIntrospection } from '../graphql/no-introspection.js';
import { observeOperations } from '../graphql/observe.js';
import { costPageSizeVariables } from '../graphql/page-size-cost.js';
import { rateLimitOperations } from '../graphql/rate-limit.js';
import { rejectNulCharacters } from '../graphql/reject-nul.js';
import type { Logger } from '../observability/log.js';
import { schema } from '../schema.js';
import { graphiqlPagePlugin, renderGraphiQLPage } from './graphiql.js';

// The GraphQL engine (graphql-yoga): schema, GraphiQL and the query limits. Transports — HTTP and
// SSE in graphql-http.ts, graphql-ws in websocket.ts — hand it authenticated requests.

export type Yoga = ReturnType<typeof createGraphQL>;

/**
 * graphql-armor throws its refusal out of `validate()` by default. Reported as a validation error
 * instead, it is answered like any invalid document: 400 under GraphQL over HTTP, and an `error`
 * message on graphql-ws (a throw there closes the whole socket with 4500).
 */
const reportRefusal = {
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) => {
      if (!context) throw error;
      context.reportError(error);
    },
  ],
};

/** yoga's logger calls (a message and/or an Error) as one log line. */
function toLogger(log: Logger, level: 'warn' | 'error') {
  return (...args: unknown[]): void => {
    const error = args.find((arg) => arg instanceof Error);
    const message = args.filter((arg) => typeof arg === 'string').join(' ') || (error as Error | undefined)?.message || 'GraphQL engine';
    log[level](error ? { err: error } : {}, message);
  };
}

export function createGraphQL(app: AppServices) {
  const { config } = app;
  const log = app.logger.child({ component: 'graphql' });
  const yoga = createYoga<RequestContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // Unexpected errors (masked for clients) are logged for operators; nothing else.
    logging: { debug: () => {}, info: () => {}, warn: toLogger(log, 'warn'), error: toLogger(log, 'error') },
    // A database that is away or full is not masked as "Unexpected error": its own code and status.
    maskedErrors: {
      maskError: (error, message, isDev) => {
        const failure = databaseFailure(error);
        if (!failure) return maskError(error, message, isDev);
        const headers = failure.retryAfter ? { 'retry-after': String(failure.retryAfter) } : undefined;
        return createGraphQLError(failure.message, { extensions: { code: failure.code, http: { status: failure.status, headers } } });
      },
    },
    graphiql: config.graphiql && {
      title: 'batchlens',
      headers: JSON.stringify({ Authorization: 'Bearer <your API token>' }, null, 2),
    },
    // GraphiQL's files bundled (yoga's default loads them from a CDN), served from /graphiql/ under
    // the page CSP: works offline, no inline script (graphiql.ts).
    renderGraphiQL: renderGraphiQLPage,
    // CORS is the server's (security.ts), the same for GraphQL and REST: yoga's own would allow any origin.
    cors: false,
    context: ({ app: services, viewer }): GraphQLContext => ({ app: services, viewer, loaders: new Map() }),
    plugins: [
      observeOperations(), // first: it times and counts what the others refuse too
      maxDepthPlugin({ n: config.maxQueryDepth, exposeLimits: true, flattenFragments: true, ...reportRefusal }),
      maxAliasesPlugin({ n: config.maxAliases, exposeLimits: true, ...reportRefusal }),
      // Fragments cost what the same fields inline cost (typed operations are written with fragments).
      costLimitPlugin({ maxCost: config.maxQueryCost, exposeLimits: true, flattenFragments: true, ...reportRefusal }),
      // … and page sizes given as variables (`first: $n`) are costed with their values before execution.
      costPageSizeVariables({ maxCost: config.maxQueryCost, flattenFragments: true }),
      rejectNulCharacters(),
      graphiqlPagePlugin(config.graphiql),
      ...(config.introspection ? [] : [disableIntrospection()]),
      // Last: only an operation that passed every check above is charged its cost.
      rateLimitOperations({ flattenFragments: true }),
    ],
  });
  return yoga;
}
