import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { PAGE_CONTENT_SECURITY_POLICY } from './security.js';

// The dashboard (web/, built by `npm run web:build` into web/dist): `/` is its page, `/assets/*`
// its hashed bundle files. The page talks to /graphql like any client; nothing here knows GraphQL.

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

// Everything the page loads is its own: no CDN, no inline script (security.ts has the policy).
const SECURITY_HEADERS = { 'content-security-policy': PAGE_CONTENT_SECURITY_POLICY };

interface CachedFile {
  mtimeMs: number;
  body: Buffer;
  gzipped: Buffer;
}

export class Dashboard {
  private cache = new Map<string, CachedFile>();

  constructor(private readonly directory: string) {}

  /** Does this request belong to the dashboard? */
  handles(pathname: string): boolean {
    return pathname === '/' || pathname === '/index.html' || pathname.startsWith('/assets/');
  }

  async serve(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('Method not allowed');
      return;
    }
    const isPage = pathname === '/' || pathname === '/index.html';
    const name = isPage ? 'index.html' : pathname.slice(1);
    // Only plain file names under assets/: no "..", no encoded separators.
    if (!isPage && !/^assets\/[A-Za-z0-9._-]+$/.test(name)) return notFound(res, pathname);
    const file = await this.read(path.join(this.directory, name));
    if (!file) {
      if (!isPage) return notFound(res, pathname);
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(
        `The dashboard is not built (no ${path.join(this.directory, 'index.html')}): run \`npm run web:build\`. GraphQL is at /graphql, REST under /api/v2/.`,
      );
      return;
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? file.gzipped : file.body;
    res.writeHead(200, {
      'content-type': TYPES[path.extname(name)] ?? 'application/octet-stream',
      'content-length': body.length,
      // The page is small and names its hashed assets: always revalidate it, keep the assets forever.
      'cache-control': isPage ? 'no-cache' : 'public, max-age=31536000, immutable',
      vary: 'accept-encoding',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      ...SECURITY_HEADERS,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private async read(file: string): Promise<CachedFile | null> {
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(file)).mtimeMs;
    } catch {
      return null;
    }
    const cached = this.cache.get(file);
    if (cached && cached.mtimeMs === mtimeMs) return cached;
    const body = await readFile(file);
    const entry = { mtimeMs, body, gzipped: gzipSync(body) };
    this.cache.set(file, entry);
    return entry;
  }
}

function notFound(res: ServerResponse, pathname: string): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`Not found: ${pathname}`);
}
