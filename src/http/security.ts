import type { IncomingMessage, ServerResponse } from 'node:http';

// Security headers on every response, and the one CORS mechanism for /graphql, /api/ and /predApi/.

/**
 * The policy of the pages the server sends (the dashboard, GraphiQL): every script, style, font and
 * worker comes from the server itself; no inline script, no eval, no CDN, never framed. Inline
 * styles are allowed: the chart library and GraphiQL's editor size elements with style attributes.
 * Fonts and images may be data: URLs (GraphiQL's stylesheet embeds its fonts and icons).
 */
export const PAGE_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "worker-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** Everything that is not a page (JSON, text, files) loads nothing and is never framed. */
const RESOURCE_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': RESOURCE_CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // For browsers that predate CSP's frame-ancestors.
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  // Other sites may not embed these responses as images, scripts and the like (no-cors loads);
  // cross-origin fetches are CORS requests and governed by the allowlist instead.
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};

/**
 * Sets the security headers on a response before anything answers it; a page replaces the CSP with
 * PAGE_CONTENT_SECURITY_POLICY (headers given to writeHead win over these).
 */
export function applySecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
}

/** The request headers a browser on an allowed origin may send. */
const CORS_ALLOWED_HEADERS = 'Authorization, Content-Type, X-Request-Id';
const CORS_ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';
/** Response headers its scripts may read (besides the CORS-safelisted ones). */
const CORS_EXPOSED_HEADERS = 'X-Request-Id, Location, Content-Disposition, Retry-After, WWW-Authenticate';
/** How long a browser may reuse a preflight's answer, in seconds (Chromium caps it at 7200). */
const CORS_MAX_AGE_SECONDS = 600;

/** Does CORS apply to this path (the APIs, not the dashboard's or GraphiQL's own files)? */
export function isCorsPath(pathname: string): boolean {
  return pathname === '/graphql' || pathname.startsWith('/api/') || pathname.startsWith('/predApi/');
}

/**
 * CORS for the APIs, from an allowlist of origins (BATCHLENS_CORS_ORIGINS; `*` allows any). A listed
 * origin gets Access-Control-Allow-Origin on its preflights and requests; any other origin gets no
 * CORS header at all, so its browser keeps the answer from it. No credentials: the APIs take bearer
 * tokens, never cookies.
 */
export class Cors {
  private readonly anyOrigin: boolean;
  private readonly origins: Set<string>;

  constructor(origins: readonly string[]) {
    this.anyOrigin = origins.includes('*');
    this.origins = new Set(origins);
  }

  private allows(origin: string): boolean {
    return this.anyOrigin || this.origins.has(origin);
  }

  /**
   * Adds the CORS headers a request to an API path gets. Answers a preflight itself (204 for an
   * allowed origin, 403 naming the setting otherwise) and returns true then; false when the request
   * goes on to its route.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    // The answer depends on Origin once any origin may be allowed: caches must keep them apart.
    if (this.origins.size) res.setHeader('vary', 'Origin');
    const allowed = origin !== undefined && this.allows(origin);
    if (allowed) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-expose-headers', CORS_EXPOSED_HEADERS);
    }
    const preflight = req.method === 'OPTIONS' && origin !== undefined && req.headers['access-control-request-method'] !== undefined;
    if (!preflight) return false;
    req.resume();
    if (!allowed) {
      const body = JSON.stringify({
        // (The allowed origins are not listed: that is the operator's business, not the caller's.)
        message: `Origin ${origin} may not call this server from a browser: it is not in BATCHLENS_CORS_ORIGINS`,
      });
      res.writeHead(403, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return true;
    }
    res.writeHead(204, {
      'access-control-allow-methods': CORS_ALLOWED_METHODS,
      'access-control-allow-headers': CORS_ALLOWED_HEADERS,
      'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
      'content-length': '0',
    });
    res.end();
    return true;
  }
}
