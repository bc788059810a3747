import type { IncomingMessage, ServerResponse } from 'node:http';
import { CloseCode } from 'graphql-ws';
import type { WebSocket } from 'ws';
import type { Viewer } from '../context.js';
import type { Db } from '../db/client.js';
import { authenticate, bearerToken, unusableTokens } from '../modules/organizations/auth.js';
import { scopeOf } from '../observability/request-context.js';

export const UNAUTHENTICATED = 'Missing, invalid, revoked or expired API token: send `Authorization: Bearer <token>`';

/** The viewer of a request's `Authorization: Bearer` token, or null; its organization joins the request's log line. */
export async function viewerOf(db: Db, req: IncomingMessage): Promise<Viewer | null> {
  const viewer = await authenticate(db, bearerToken(req.headers.authorization));
  const scope = scopeOf(req);
  if (viewer && scope) scope.organizationId = viewer.organizationId;
  return viewer;
}

const REVOCATION_CHECK_MS = 2000;

/**
 * Long-lived connections (graphql-ws sockets, SSE streams) and the token each was opened with: a
 * token revoked (or expired) meanwhile is noticed within REVOCATION_CHECK_MS and its connections are closed.
 */
export class LiveConnections {
  private readonly sockets = new Map<WebSocket, string>();
  private readonly streams = new Map<ServerResponse, string>();
  private readonly timer: NodeJS.Timeout;

  constructor(db: Db) {
    this.timer = setInterval(() => {
      const tokenIds = [...new Set([...this.sockets.values(), ...this.streams.values()])];
      if (tokenIds.length === 0) return;
      unusableTokens(db, tokenIds)
        .then((unusable) => {
          for (const [socket, tokenId] of this.sockets)
            if (unusable.has(tokenId)) socket.close(CloseCode.Forbidden, 'Forbidden: token revoked or expired');
          for (const [response, tokenId] of this.streams) if (unusable.has(tokenId)) response.destroy();
        })
        .catch(() => {}); // the database may be restarting; the next round checks again
    }, REVOCATION_CHECK_MS).unref();
  }

  trackSocket(socket: WebSocket, tokenId: string): void {
    this.sockets.set(socket, tokenId);
    socket.once('close', () => this.sockets.delete(socket));
  }

  trackStream(response: ServerResponse, tokenId: string): void {
    this.streams.set(response, tokenId);
    response.once('close', () => this.streams.delete(response));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
