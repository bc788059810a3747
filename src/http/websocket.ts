import type http from 'node:http';
import { type DocumentNode, type ExecutionArgs, type execute, GraphQLError, type subscribe } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { type WebSocket, WebSocketServer } from 'ws';
import type { AppServices, Viewer } from '../context.js';
import { SharedSubscriptions } from '../events/shared.js';
import type { GraphQLContext } from '../graphql/context.js';
import { authenticate, bearerToken } from '../modules/organizations/auth.js';
import type { LiveConnections } from './auth.js';
import type { Yoga } from './yoga.js';

/** What onSubscribe hands graphql-ws as rootValue: yoga's enveloped execute / subscribe. */
interface Enveloped {
  execute: (args: ExecutionArgs) => ReturnType<typeof execute>;
  subscribe: (args: ExecutionArgs) => ReturnType<typeof subscribe>;
}

/** Bytes a subscriber's socket may have unsent before the server stops pulling new states for it. */
const SOCKET_BUFFER_LIMIT = 256 * 1024;

function whenDrained<T>(source: AsyncIterableIterator<T>, socket: WebSocket): AsyncIterableIterator<T> {
  const iterator: AsyncIterableIterator<T> = {
    async next() {
      while (socket.bufferedAmount > SOCKET_BUFFER_LIMIT && socket.readyState === socket.OPEN) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return source.next();
    },
    async return(value?: unknown) {
      return (await source.return?.(value)) ?? { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/**
 * graphql-ws on the HTTP server's /graphql path; yoga's plugins (limits) run for every operation.
 * Returns what closes it.
 */
export function attachGraphQLWebSocket(
  httpServer: http.Server,
  app: AppServices,
  yoga: Yoga,
  live: LiveConnections,
): { close(): Promise<void> } {
  const sharedSubscriptions = new SharedSubscriptions((line) => console.error(line));
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: app.config.maxBodyBytes });
  const wsDisposable = useServer<Record<string, unknown>, { viewer: Viewer; token: string }>(
    {
      onConnect: async (ctx) => {
        const header = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        const token = bearerToken(typeof header === 'string' ? header : undefined);
        const viewer = await authenticate(app.db, token);
        if (!viewer || !token) return false; // graphql-ws closes with 4403 Forbidden
        ctx.extra.viewer = viewer;
        ctx.extra.token = token;
        live.trackSocket(ctx.extra.socket, viewer.tokenId);
        return true;
      },
      execute: (args: ExecutionArgs) => (args.rootValue as Enveloped).execute(args),
      // Subscribers of the same operation and variables, as the same user, share one execution.
      subscribe: (args: ExecutionArgs) => {
        const { viewer } = args.contextValue as GraphQLContext;
        const scope = `${viewer.organizationId}/${viewer.userId}/${viewer.role}/${viewer.isServerAdmin}`;
        const key = sharedSubscriptions.key(scope, args.document, args.operationName, args.variableValues);
        return sharedSubscriptions.subscribe(key, () => (args.rootValue as Enveloped).subscribe(args)) as ReturnType<typeof subscribe>;
      },
      // Backpressure: while a client is not reading (its socket's send buffer is full), ask for the
      // next state only once it drains; meanwhile the subscription keeps just the latest state.
      onOperation: (ctx, _id, _payload, _args, result) => {
        if (!(Symbol.asyncIterator in (result as object))) return result;
        return whenDrained(result as AsyncIterableIterator<unknown>, ctx.extra.socket) as typeof result;
      },
      onSubscribe: async (ctx, _id, payload) => {
        // Every operation re-checks the token, like every HTTP request: a token revoked while the
        // socket is open stops working at once.
        const viewer = ctx.extra.token ? await authenticate(app.db, ctx.extra.token) : null;
        if (!viewer) {
          ctx.extra.socket.close(CloseCode.Forbidden, 'Forbidden');
          return [new GraphQLError('Forbidden')];
        }
        const enveloped = yoga.getEnveloped({ app, viewer, req: ctx.extra.request, socket: ctx.extra.socket, params: payload });
        // A parse or validation failure is this operation's `error` message, never a closed socket.
        let document: DocumentNode;
        let errors: readonly GraphQLError[];
        try {
          document = enveloped.parse(payload.query);
          errors = enveloped.validate(enveloped.schema, document);
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError(String(error))];
        }
        if (errors.length) return errors;
        return {
          schema: enveloped.schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await enveloped.contextFactory(),
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
        };
      },
    },
    wsServer,
  );

  return {
    close: async () => {
      await wsDisposable.dispose();
      for (const client of wsServer.clients) client.close(1001, 'Server shutting down');
      wsServer.close();
    },
  };
}
