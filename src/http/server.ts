import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { sql } from 'drizzle-orm';
import { type DocumentNode, type ExecutionArgs, type execute, GraphQLError, type subscribe, type ValidationContext } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga } from 'graphql-yoga';
import { type WebSocket, WebSocketServer } from 'ws';
import type { AppServices, RequestContext } from '../context.js';
import { SharedSubscriptions } from '../events/shared.js';
import type { GraphQLContext } from '../graphql/context.js';
import { costPageSizeVariables } from '../graphql/page-size-cost.js';
import { rejectNulCharacters } from '../graphql/reject-nul.js';
import { schema } from '../graphql/schema.js';
import { actualRoutes } from '../modules/actuals/rest.js';
import { baselineRoutes } from '../modules/baselines/rest.js';
import { batchRoutes } from '../modules/batches/rest.js';
import { deploymentRoutes } from '../modules/deployments/rest.js';
import { authenticate, bearerToken, revokedTokens, type Viewer } from '../modules/organizations/auth.js';
import { predictionRoutes } from '../modules/predictions/rest.js';
import { BodyTooLargeError, discardBody, readBody } from '../rest/body.js';
import { HttpError, RestRouter, readJson, sendJson } from '../rest/kit.js';

const REVOCATION_CHECK_MS = 2000;

const UNAUTHENTICATED = 'Missing, invalid or revoked API token: send `Authorization: Bearer <token>`';

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

export interface BatchlensServer {
  httpServer: http.Server;
  listen(port: number, host: string): Promise<number>;
  /** Stops accepting, lets requests in flight finish (up to `graceMs`), closes sockets. */
  close(graceMs?: number): Promise<void>;
}

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

export function createServer(app: AppServices): BatchlensServer {
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
    ],
  });

  const router = new RestRouter([...batchRoutes, ...deploymentRoutes, ...predictionRoutes, ...actualRoutes, ...baselineRoutes]);

  async function viewerOf(req: IncomingMessage): Promise<Viewer | null> {
    return authenticate(app.db, bearerToken(req.headers.authorization));
  }

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    // GraphiQL itself loads without a token, and so does a CORS preflight (browsers send it without
    // the Authorization header; yoga answers it and runs nothing); every operation needs one.
    const wantsGraphiQL = req.method === 'GET' && (req.headers.accept ?? '').includes('text/html') && !url.searchParams.has('query');
    const preflight = req.method === 'OPTIONS';
    let viewer: Viewer | null = null;
    if (!wantsGraphiQL && !preflight) {
      viewer = await viewerOf(req);
      if (!viewer) {
        discardBody(req);
        sendJson(
          res,
          401,
          { errors: [{ message: UNAUTHENTICATED, extensions: { code: 'UNAUTHENTICATED' } }] },
          { 'www-authenticate': 'Bearer' },
        );
        return;
      }
    }
    let body: Buffer | undefined;
    if (req.method === 'POST') {
      try {
        body = await readBody(req, config.maxBodyBytes);
      } catch (error) {
        if (!(error instanceof BodyTooLargeError)) throw error;
        sendJson(res, 413, { errors: [{ message: error.message, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
        return;
      }
    }
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string') headers.set(name, value);
      else if (Array.isArray(value)) headers.set(name, value.join(', '));
    }
    const response = await yoga.fetch(
      url,
      { method: req.method, headers, body: body?.length ? body.toString('utf8') : undefined, signal: abort.signal },
      { app, viewer: viewer as Viewer },
    );
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (!response.body) {
      res.end();
      return;
    }
    if (viewer && (response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      liveStreams.set(res, viewer.tokenId);
      res.once('close', () => liveStreams.delete(res));
    }
    // Streams SSE (subscriptions, @defer) as it is produced.
    const reader = response.body.getReader();
    res.on('close', () => void reader.cancel().catch(() => {}));
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise((resolve) => res.once('drain', resolve));
    }
    res.end();
  }

  async function handleRest(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const found = router.match(req.method ?? 'GET', url.pathname);
    if (!found) {
      discardBody(req);
      sendJson(res, 404, { message: `No route ${req.method} ${url.pathname}` });
      return;
    }
    if ('allowed' in found) {
      discardBody(req);
      sendJson(
        res,
        405,
        { message: `Method ${req.method} is not allowed here; use ${found.allowed.join(', ')}` },
        { allow: found.allowed.join(', ') },
      );
      return;
    }
    const viewer = await viewerOf(req);
    if (!viewer) {
      discardBody(req);
      sendJson(res, 401, { message: UNAUTHENTICATED }, { 'www-authenticate': 'Bearer' });
      return;
    }
    try {
      const answer = await found.route.handler({
        params: found.params,
        query: url.searchParams,
        url,
        json: () => readJson(req, config.maxBodyBytes),
        ctx: { app, viewer },
        raw: req,
      });
      // A handler may answer before reading the whole body (a bad row early in a large upload).
      discardBody(req);
      sendJson(res, answer.status, answer.body, answer.headers);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        discardBody(req);
        sendJson(res, 413, { message: error.message });
        return;
      }
      if (!(error instanceof HttpError)) throw error;
      discardBody(req);
      sendJson(res, error.status, { message: error.message, ...error.extra });
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://${req.headers.host || `${config.host}:${config.port}`}`);
    } catch {
      discardBody(req);
      sendJson(res, 400, { message: 'Malformed Host header or request target' }, { connection: 'close' });
      return;
    }
    if (url.pathname === '/healthz') {
      try {
        await app.db.execute(sql`select 1`);
        sendJson(res, 200, { status: 'ok' });
      } catch (error) {
        sendJson(res, 503, { status: 'unavailable', message: `database unreachable: ${(error as Error).message}` });
      }
      return;
    }
    if (url.pathname === '/graphql') return handleGraphQL(req, res, url);
    if (url.pathname.startsWith('/api/')) return handleRest(req, res, url);
    discardBody(req);
    sendJson(res, 404, { message: `Not found: ${url.pathname}. GraphQL is at /graphql, REST under /api/v2/.` });
  }

  const httpServer = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A client that hung up mid-request is not a server fault.
      const code = (error as { code?: string }).code;
      // (req.destroyed alone is also true once a body was read in full.)
      if (
        (req.destroyed && !req.complete) ||
        res.destroyed ||
        code === 'ECONNRESET' ||
        code === 'ERR_STREAM_PREMATURE_CLOSE' ||
        (error as Error).message === 'aborted'
      ) {
        res.destroy();
        return;
      }
      console.error('unexpected error', req.method, req.url, error);
      if (!res.headersSent) sendJson(res, 500, { message: 'Internal server error' });
      else res.destroy();
    });
  });
  // Streamed uploads of millions of rows take minutes: no overall request deadline (Node's default is 5 min).
  httpServer.requestTimeout = 0;

  // Long-lived connections (graphql-ws sockets, SSE streams) and the token each was opened with:
  // a token revoked meanwhile is noticed within REVOCATION_CHECK_MS and its connections closed.
  const liveSockets = new Map<WebSocket, string>();
  const liveStreams = new Map<ServerResponse, string>();
  const revocationCheck = setInterval(() => {
    const tokenIds = [...new Set([...liveSockets.values(), ...liveStreams.values()])];
    if (tokenIds.length === 0) return;
    revokedTokens(app.db, tokenIds)
      .then((revoked) => {
        for (const [socket, tokenId] of liveSockets)
          if (revoked.has(tokenId)) socket.close(CloseCode.Forbidden, 'Forbidden: token revoked');
        for (const [response, tokenId] of liveStreams) if (revoked.has(tokenId)) response.destroy();
      })
      .catch(() => {}); // the database may be restarting; the next round checks again
  }, REVOCATION_CHECK_MS).unref();

  // graphql-ws on the same path; yoga's plugins (limits) run for every operation.
  const sharedSubscriptions = new SharedSubscriptions((line) => console.error(line));
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: config.maxBodyBytes });
  const wsDisposable = useServer<Record<string, unknown>, { viewer: Viewer; token: string }>(
    {
      onConnect: async (ctx) => {
        const header = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        const token = bearerToken(typeof header === 'string' ? header : undefined);
        const viewer = await authenticate(app.db, token);
        if (!viewer || !token) return false; // graphql-ws closes with 4403 Forbidden
        ctx.extra.viewer = viewer;
        ctx.extra.token = token;
        liveSockets.set(ctx.extra.socket, viewer.tokenId);
        ctx.extra.socket.once('close', () => liveSockets.delete(ctx.extra.socket));
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
    httpServer,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          const address = httpServer.address();
          resolve(typeof address === 'object' && address ? address.port : port);
        });
      }),
    close: async (graceMs = 10_000) => {
      clearInterval(revocationCheck);
      await wsDisposable.dispose();
      for (const client of wsServer.clients) client.close(1001, 'Server shutting down');
      wsServer.close();
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      httpServer.closeIdleConnections();
      const timer = setTimeout(() => httpServer.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}
