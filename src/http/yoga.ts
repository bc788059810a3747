import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import type { GraphQLError, ValidationContext } from 'graphql';
import { createYoga } from 'graphql-yoga';
import type { AppServices, RequestContext } from '../context.js';
import type { GraphQLContext } from '../graphql/context.js';
import { costPageSizeVariables } from '../graphql/page-size-cost.js';
import { rateLimitOperations } from '../graphql/rate-limit.js';
import { rejectNulCharacters } from '../graphql/reject-nul.js';
import { schema } from '../schema.js';

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

export function createGraphQL(app: AppServices) {
  const { config } = app;
  let graphiqlPage: string | undefined;
  const yoga = createYoga<RequestContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // Unexpected errors (masked for clients) are logged for operators; nothing else.
    logging: { debug: () => {}, info: () => {}, warn: (...args) => console.warn(...args), error: (...args) => console.error(...args) },
    graphiql: {
      title: 'batchlens',
      headers: JSON.stringify({ Authorization: 'Bearer <your API token>' }, null, 2),
    },
    // GraphiQL with its assets bundled (yoga's default loads them from a CDN): works offline.
    // The page is ~9 MB of text and the same every time, so it is built once — and only when someone
    // opens it: importing the bundle costs ~50 MB of memory a server that only ingests never needs.
    renderGraphiQL: async (options) => (graphiqlPage ??= (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options)),
    context: ({ app: services, viewer }): GraphQLContext => ({ app: services, viewer, loaders: new Map() }),
    plugins: [
      maxDepthPlugin({ n: config.maxQueryDepth, exposeLimits: true, flattenFragments: true, ...reportRefusal }),
      maxAliasesPlugin({ n: config.maxAliases, exposeLimits: true, ...reportRefusal }),
      // Fragments cost what the same fields inline cost (typed operations are written with fragments).
      costLimitPlugin({ maxCost: config.maxQueryCost, exposeLimits: true, flattenFragments: true, ...reportRefusal }),
      // … and page sizes given as variables (`first: $n`) are costed with their values before execution.
      costPageSizeVariables({ maxCost: config.maxQueryCost, flattenFragments: true }),
      rejectNulCharacters(),
      // Last: only an operation that passed every check above is charged its cost.
      rateLimitOperations({ flattenFragments: true }),
    ],
  });
  return yoga;
}
