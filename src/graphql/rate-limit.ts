import { type ExecutionArgs, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { RateLimitedError } from '../limits/rate-limits.js';
import type { GraphQLContext } from './context.js';
import { operationCost } from './page-size-cost.js';

// GraphQL's rate limit: every operation that is about to run (query, mutation, subscription; over
// HTTP, SSE or graphql-ws) is charged its query cost — graphql-armor's, the one BATCHLENS_MAX_QUERY_COST
// limits — to the viewer's token and organization. Refused, it does not run: its result is one
// RATE_LIMITED error (HTTP 429 with Retry-After over HTTP). Subscribers of a graphql-ws subscription
// shared with an identical one (src/events/shared.ts) join its one execution and are not charged again.

/** The error an operation refused by a rate limit answers with. */
export function rateLimitedError(refusal: RateLimitedError): GraphQLError {
  return new GraphQLError(refusal.message, {
    extensions: {
      code: 'RATE_LIMITED',
      limit: refusal.limit,
      allowed: refusal.allowed,
      windowSeconds: refusal.windowSeconds,
      retryAfterSeconds: refusal.retryAfterSeconds,
      resetAt: refusal.resetsAt.toISOString(),
      http: { status: 429, headers: { 'Retry-After': String(refusal.retryAfterSeconds) } },
    },
  });
}

export function rateLimitOperations(options: { flattenFragments: boolean }): Plugin {
  const charge = async (args: ExecutionArgs): Promise<GraphQLError | null> => {
    const { app, viewer } = args.contextValue as GraphQLContext;
    if (!app.limits.enabled) return null;
    const refusal = await app.limits.consume(viewer, 'graphqlCost', operationCost(args, options));
    return refusal && rateLimitedError(refusal);
  };
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const refused = await charge(args);
      if (refused) setResultAndStopExecution({ errors: [refused] });
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      const refused = await charge(args);
      if (refused) setResultAndStopExecution({ errors: [refused] });
    },
  };
}
