import type { IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`Request body is larger than the limit of ${limit} bytes (BATCHLENS_MAX_BODY_BYTES)`);
  }
}

/**
 * Drains a body we will not use, so the response can be read by the client; a client that keeps
 * sending (a huge upload refused with 413 or 401) is cut off after a few seconds.
 */
export function discardBody(req: IncomingMessage, graceMs = 5000): void {
  if (req.complete) return;
  // Kept now: once the request is destroyed (a for-await over it that stopped early), req.socket is null.
  const socket = req.socket;
  req.resume();
  const timer = setTimeout(() => {
    if (!req.complete) socket?.destroy();
  }, graceMs).unref();
  req.once('end', () => clearTimeout(timer));
}

/** Reads a whole request body, refusing (before reading, when Content-Length says so) past `limit`. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    discardBody(req);
    throw new BodyTooLargeError(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      discardBody(req);
      throw new BodyTooLargeError(limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * The request body as it streams, refusing (BodyTooLargeError) once it passes `limit` bytes. A
 * reader that stops early (a failure half-way, the database's included) leaves the request open
 * (destroyOnReturn: false): destroying it would cut the socket before the answer saying why.
 */
export async function* limitedBody(req: IncomingMessage, limit: number): AsyncGenerator<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError(limit);
  let size = 0;
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLargeError(limit);
    yield chunk;
  }
}
