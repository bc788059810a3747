import { createHash, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Config } from '../config.js';
import { bearerToken } from '../modules/organizations/auth.js';
import { metricsExposition } from '../observability/metrics.js';
import { discardBody } from '../rest/body.js';
import { sendJson } from './router.js';

// GET /metrics (Prometheus text format): on the main port only with the metrics token
// (BATCHLENS_METRICS_TOKEN), or without one on a separate listen address (BATCHLENS_METRICS_LISTEN)
// that serves nothing else. The token is compared in constant time and never logged.

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

async function sendMetrics(res: ServerResponse): Promise<void> {
  const { contentType, text } = await metricsExposition();
  res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** /metrics on the main port. */
export async function serveMetrics(config: Config, req: IncomingMessage, res: ServerResponse): Promise<void> {
  discardBody(req);
  if (!config.metricsToken) {
    const elsewhere = config.metricsListen
      ? ` (they are served without a token at http://${formatHost(config.metricsListen.host)}:${config.metricsListen.port}/metrics)`
      : '';
    sendJson(res, 404, {
      message: `Metrics are not served on this address${elsewhere}: set BATCHLENS_METRICS_TOKEN to serve GET /metrics here with \`Authorization: Bearer <that token>\`, or BATCHLENS_METRICS_LISTEN (e.g. 127.0.0.1:9464) to serve them without a token on a separate address.`,
    });
    return;
  }
  const token = bearerToken(req.headers.authorization);
  if (!token || !timingSafeEqual(digest(token), digest(config.metricsToken))) {
    sendJson(
      res,
      401,
      { message: 'GET /metrics needs `Authorization: Bearer <BATCHLENS_METRICS_TOKEN>`' },
      { 'www-authenticate': 'Bearer' },
    );
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(res, 405, { message: `Method ${req.method} is not allowed here; use GET` }, { allow: 'GET' });
    return;
  }
  await sendMetrics(res);
}

const formatHost = (host: string): string => (host.includes(':') ? `[${host}]` : host);

/** The separate metrics address: GET /metrics, nothing else, no token. */
export async function startMetricsServer(address: { host: string; port: number }): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    discardBody(req);
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      sendJson(res, 404, { message: 'Only GET /metrics is served on this address' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { message: `Method ${req.method} is not allowed here; use GET` }, { allow: 'GET' });
      return;
    }
    sendMetrics(res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { message: `Metrics could not be collected: ${(error as Error).message}` });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => resolve());
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : address.port;
  return {
    url: `http://${formatHost(address.host)}:${port}/metrics`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
