import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { type DocumentNode, type ExecutionArgs, type execute, GraphQLError, getOperationAST, type subscribe } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { type WebSocket, WebSocketServer } from 'ws';
import type { AppServices, Viewer } from '../context.js';
import { SharedMember, SharedSubscriptions } from '../events/shared.js';
import type { GraphQLContext } from '../graphql/context.js';
import { authenticate, bearerToken } from '../modules/organizations/auth.js';
import { countSubscriptionMessage, observeGraphQLOperation, operationLabel, subscriptionOpened } from '../observability/metrics.js';
import { type RequestScope, requestIdFrom, runInRequest } from '../observability/request-context.js';
import type { LiveConnections } from './auth.js';
import type { Yoga } from './yoga.js';

/** What onSubscribe hands graphql-ws as rootValue: yoga's enveloped execute / subscribe, and the operation's scope. */
interface Enveloped {
  execute: (args: ExecutionArgs) => ReturnType<typeof execute>;
  subscribe: (args: ExecutionArgs) => ReturnType<typeof subscribe>;
  operation: Operation;
}

/** One graphql-ws operation: its own request scope (id, organization, name) and when it started. */
interface Operation {
  scope: RequestScope;
  type: string;
  started: number;
  logged: boolean;
}

type SocketExtra = {
  viewer: Viewer;
  token: string;
  /** The connection's id: the upgrade request's sane `X-Request-Id`, else generated. */
  connectionId: string;
};

/** Bytes a subscriber's socket may have unsent before the server stops pulling new states for it. */
const SOCKET_BUFFER_LIMIT = 256 * 1024;
/**
 * The longest a shared group's newest state waits for its turn, counting the time its delivery takes:
 * what is left of the live views' 500 ms after the commit's notification, the state's read and execution.
 */
const FINAL_BUDGET_MS = 350;
/** The most of the server's time one shared group's deliveries may take while its state keeps changing. */
const FAN_OUT_SHARE = 0.25;

/**
 * The subscription's stream, pulled only while the socket drains; counted as an open subscription
 * (and its results as messages) until it ends, then `ended` is called once.
 */
function whenDrained<T>(source: AsyncIterableIterator<T>, socket: WebSocket, ended: () => void): AsyncIterableIterator<T> {
  const close = subscriptionOpened('ws');
  const end = () => {
    close();
    ended();
  };
  const iterator: AsyncIterableIterator<T> = {
    async next() {
      while (socket.bufferedAmount > SOCKET_BUFFER_LIMIT && socket.readyState === socket.OPEN) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      try {
        const next = await source.next();
        if (next.done) end();
        else countSubscriptionMessage('ws');
        return next;
      } catch (error) {
        end();
        throw error;
      }
    },
    async return(value?: unknown) {
      end();
      return (await source.return?.(value)) ?? { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/**
 * A shared subscription's states written by the group itself (issue 14): each state's `next` message
 * is encoded once for every member — all of it but the member's own subscription id, which is put in
 * front — and written straight to the socket, with no promise chain per member and state. A socket
 * whose client is behind takes only the latest state, once it drained. Counted as an open
 * subscription until it ends, then `ended` is called once.
 */
function writtenByGroup(member: SharedMember, id: string, socket: WebSocket, ended: () => void): AsyncIterableIterator<never> {
  const close = subscriptionOpened('ws');
  // What graphql-ws's stringifyMessage would write before the payload ({ id, type, payload }).
  const head = Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
  member.attach({
    // A closed socket takes (and drops) everything: graphql-ws ends its subscriptions.
    ready: () => socket.readyState !== socket.OPEN || socket.bufferedAmount <= SOCKET_BUFFER_LIMIT,
    write: (state) => {
      if (socket.readyState !== socket.OPEN) return;
      const tail = state.encoded;
      socket.send(Buffer.concat([head, tail], head.length + tail.length), { binary: false });
      countSubscriptionMessage('ws');
    },
  });
  const end = () => {
    close();
    ended();
  };
  const iterator: AsyncIterableIterator<never> = {
    async next() {
      const result = await member.next();
      end();
      return result as IteratorResult<never>;
    },
    async return() {
      end();
      return member.return() as Promise<IteratorResult<never>>;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/** A state's `next` message from its payload on: what every member's message shares (graphql-ws's encoding). */
function encodeNextTail(value: unknown): Buffer {
  const { errors, ...result } = value as { errors?: readonly (GraphQLError | object)[] };
  const payload = errors ? { ...result, errors: errors.map((error) => (error instanceof GraphQLError ? error.toJSON() : error)) } : result;
  return Buffer.from(`${JSON.stringify(payload)}}`);
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
  const log = app.logger.child({ component: 'graphql-ws' });
  const logOperations = log.isLevelEnabled('info');
  const sharedSubscriptions = new SharedSubscriptions({
    log,
    encode: encodeNextTail,
    fanOutShare: FAN_OUT_SHARE,
    finalBudgetMs: FINAL_BUDGET_MS,
  });
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: app.config.maxBodyBytes });

  /** The operation's one log line (at its end: a result, a refusal, or the end of a subscription). */
  const operationEnded = (extra: { connectionId?: string | undefined }, operation: Operation, outcome: string): void => {
    if (operation.logged) return;
    operation.logged = true;
    if (!logOperations) return;
    const { scope } = operation;
    log.info(
      {
        requestId: scope.id,
        connectionId: extra.connectionId,
        organizationId: scope.organizationId,
        operation: scope.operation,
        type: operation.type,
        outcome,
        durationMs: Math.round((performance.now() - operation.started) * 10) / 10,
      },
      'graphql-ws operation',
    );
  };

  const wsDisposable = useServer<Record<string, unknown>, SocketExtra>(
    {
      onConnect: async (ctx) => {
        ctx.extra.connectionId = requestIdFrom(ctx.extra.request.headers['x-request-id']);
        const header = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        const token = bearerToken(typeof header === 'string' ? header : undefined);
        const viewer = await authenticate(app.db, token);
        if (!viewer || !token) return false; // graphql-ws closes with 4403 Forbidden
        ctx.extra.viewer = viewer;
        ctx.extra.token = token;
        live.trackSocket(ctx.extra.socket, viewer.tokenId);
        log.debug({ connectionId: ctx.extra.connectionId, organizationId: viewer.organizationId }, 'graphql-ws connection opened');
        return true;
      },
      onClose: (ctx, code) => {
        log.debug(
          { connectionId: ctx.extra.connectionId, organizationId: ctx.extra.viewer?.organizationId, code },
          'graphql-ws connection closed',
        );
      },
      execute: (args: ExecutionArgs) => {
        const root = args.rootValue as Enveloped;
        return runInRequest(root.operation.scope, () => root.execute(args));
      },
      // Subscribers of the same operation and variables, as the same user, share one execution.
      subscribe: (args: ExecutionArgs) => {
        const { viewer } = args.contextValue as GraphQLContext;
        const scope = `${viewer.organizationId}/${viewer.userId}/${viewer.role}/${viewer.isServerAdmin}`;
        const key = sharedSubscriptions.key(scope, args.document, args.operationName, args.variableValues);
        const root = args.rootValue as Enveloped;
        let executed = false;
        const joined = sharedSubscriptions.subscribe(key, () => {
          executed = true;
          return root.subscribe(args);
        }) as ReturnType<typeof subscribe>;
        // Not run inside the operation's request scope (as execute is): the shared execution outlives
        // this subscriber, and inside the scope a stalled subscriber's final state never arrived
        // (test/live-resilience.test.ts, backpressure).
        // A subscriber that joined a running execution is timed here (yoga's plugins saw only the first).
        void Promise.resolve(joined).then(
          (result) => {
            if (executed) return;
            const failed = !(Symbol.asyncIterator in (result as object)) && Boolean((result as { errors?: unknown[] }).errors?.length);
            const seconds = (performance.now() - root.operation.started) / 1000;
            observeGraphQLOperation(operationLabel(root.operation.scope.operation), 'subscription', failed ? 'error' : 'ok', seconds);
          },
          () => {},
        );
        return joined;
      },
      // Backpressure: while a client is not reading (its socket's send buffer is full), ask for the
      // next state only once it drains; meanwhile the subscription keeps just the latest state.
      onOperation: (ctx, id, _payload, args, result) => {
        const { operation } = args.rootValue as Enveloped;
        if (!(Symbol.asyncIterator in (result as object))) {
          operationEnded(ctx.extra, operation, (result as { errors?: unknown[] }).errors?.length ? 'error' : 'ok');
          return result;
        }
        const ended = () => operationEnded(ctx.extra, operation, 'ended');
        if (result instanceof SharedMember) return writtenByGroup(result, id, ctx.extra.socket, ended) as typeof result;
        return whenDrained(result as AsyncIterableIterator<unknown>, ctx.extra.socket, ended) as typeof result;
      },
      onSubscribe: async (ctx, _id, payload) => {
        // Each operation is a request of its own: its own id, organization and name for its log line and SQL.
        const operation: Operation = {
          scope: { id: randomUUID(), operation: payload.operationName ?? undefined },
          type: 'unknown',
          started: performance.now(),
          logged: false,
        };
        // Every operation re-checks the token, like every HTTP request: a token revoked while the
        // socket is open stops working at once.
        const viewer = ctx.extra.token ? await authenticate(app.db, ctx.extra.token) : null;
        if (!viewer) {
          operationEnded(ctx.extra, operation, 'forbidden');
          ctx.extra.socket.close(CloseCode.Forbidden, 'Forbidden');
          return [new GraphQLError('Forbidden')];
        }
        operation.scope.organizationId = viewer.organizationId;
        const enveloped = yoga.getEnveloped({
          app,
          viewer,
          scope: operation.scope,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
        });
        // A parse or validation failure is this operation's `error` message, never a closed socket.
        let document: DocumentNode;
        let errors: readonly GraphQLError[];
        try {
          [document, errors] = runInRequest(operation.scope, () => {
            const parsed = enveloped.parse(payload.query);
            return [parsed, enveloped.validate(enveloped.schema, parsed)] as const;
          });
        } catch (error) {
          operationEnded(ctx.extra, operation, 'invalid');
          return [error instanceof GraphQLError ? error : new GraphQLError(String(error))];
        }
        if (errors.length) {
          operationEnded(ctx.extra, operation, 'invalid');
          return errors;
        }
        const definition = getOperationAST(document, payload.operationName);
        operation.type = definition?.operation ?? 'unknown';
        operation.scope.operation ??= definition?.name?.value;
        return {
          schema: enveloped.schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await enveloped.contextFactory(),
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe, operation } satisfies Enveloped,
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
