/**
 * Preloaded into a server under test (startServer's `preload`): HTTP servers it creates start with
 * `requestTimeout = 0` instead of Node's default of 300 s, which cuts off (HTTP 408, nothing stored)
 * any request body that takes longer than 5 minutes to arrive — a 10-million-row bulk upload at
 * ~30,000 rows/s. A server that sets requestTimeout itself still wins (it assigns after creation).
 * Changes nothing else.
 */
import http from 'node:http';

const createServer = http.createServer;
http.createServer = function (this: unknown, ...args: unknown[]) {
  const server = (createServer as (...a: unknown[]) => http.Server).apply(this, args);
  server.requestTimeout = 0;
  return server;
} as typeof http.createServer;
