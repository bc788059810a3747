import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppServices, Viewer } from '../context.js';
import { countSubscriptionMessage, subscriptionOpened } from '../observability/metrics.js';
import { scopeOf } from '../observability/request-context.js';
import { BodyTooLargeError, discardBody, readBody } from '../rest/body.js';
import { type LiveConnections, UNAUTHENTICATED, viewerOf } from './auth.js';
import { sendJson } from './router.js';
import type { Yoga } from './yoga.js';

const NEXT_EVENT = Buffer.from('event: next');

/** Whether an SSE chunk from yoga is a result (`event: next`), not a keep-alive or `complete`. */
function isNextEvent(chunk: Uint8Array): boolean {
  return chunk.length >= NEXT_EVENT.length && NEXT_EVENT.equals(chunk.subarray(0, NEXT_EVENT.length));
}

/** GraphQL over HTTP (and SSE for subscriptions) at /graphql; GraphiQL for browsers. */
export async function handleGraphQL(
  app: AppServices,
  yoga: Yoga,
  live: LiveConnections,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  // GraphiQL itself loads without a token, and so does an OPTIONS request (CORS preflights, which
  // browsers send without the Authorization header, are answered before this by security.ts; yoga
  // answers any other OPTIONS with 405 and runs nothing); every operation needs one.
  const wantsGraphiQL = req.method === 'GET' && (req.headers.accept ?? '').includes('text/html') && !url.searchParams.has('query');
  const preflight = req.method === 'OPTIONS';
  let viewer: Viewer | null = null;
  if (!wantsGraphiQL && !preflight) {
    viewer = await viewerOf(app.db, req);
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
      body = await readBody(req, app.config.maxBodyBytes);
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
    { app, viewer: viewer as Viewer, scope: scopeOf(req) },
  );
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (!response.body) {
    res.end();
    return;
  }
  const eventStream = (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
  if (viewer && eventStream) live.trackStream(res, viewer.tokenId);
  // An event stream is a subscription (or @defer) as long as it lasts; its `next` events are counted.
  const closeSubscription = eventStream ? subscriptionOpened('sse') : undefined;
  // Streams SSE (subscriptions, @defer) as it is produced.
  const reader = response.body.getReader();
  res.on('close', () => {
    closeSubscription?.();
    void reader.cancel().catch(() => {});
  });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (eventStream && isNextEvent(value)) countSubscriptionMessage('sse');
    if (!res.write(value)) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}
