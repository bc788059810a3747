import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Plugin } from 'graphql-yoga';
import { PAGE_CONTENT_SECURITY_POLICY } from './security.js';

// GraphiQL at GET /graphql for browsers, under the same strict CSP as the dashboard: no inline
// script, no CDN. @graphql-yoga/render-graphiql ships GraphiQL (with Monaco and its workers) as
// strings it inlines into one page; here they are served as files under /graphiql/ instead (named
// by their hash, cached forever), and a small external script starts GraphiQL with the options
// the page carries in data attributes.

export const GRAPHIQL_PREFIX = '/graphiql/';

/** Starts GraphiQL: Monaco's workers come from /graphiql/ (not blob: URLs), the options from #graphiql. */
const START_SCRIPT = `(function () {
  var root = document.getElementById('graphiql');
  var workers = JSON.parse(root.dataset.workers);
  self.MonacoEnvironment = {
    globalAPI: false,
    getWorkerUrl: function (_moduleId, label) {
      return workers[label];
    },
  };
  // Deferred scripts run in order, this one first: GraphiQL's bundle has run by DOMContentLoaded.
  window.addEventListener('DOMContentLoaded', function () {
    YogaGraphiQL.renderYogaGraphiQL(root, JSON.parse(root.dataset.options));
  });
})();
`;

interface Asset {
  type: string;
  body: Buffer;
  gzipped: Buffer;
}

interface Bundle {
  /** Path under /graphiql/ → file. */
  assets: Map<string, Asset>;
  /** The paths of the files the page names. */
  urls: { css: string; js: string; start: string; favicon: string; workers: Record<string, string> };
}

const gzipAsync = promisify(gzip);

async function asset(type: string, body: Buffer): Promise<Asset> {
  return { type, body, gzipped: await gzipAsync(body) };
}

let loading: Promise<Bundle> | undefined;

/**
 * GraphiQL's files, read once — and only when someone opens GraphiQL: they are ~9 MB of text, ~50 MB
 * of memory a server that only ingests never needs.
 */
function bundle(): Promise<Bundle> {
  loading ??= (async () => {
    const files = await import('@graphql-yoga/render-graphiql/graphiql');
    const assets = new Map<string, Asset>();
    const add = async (name: string, extension: string, type: string, body: Buffer): Promise<string> => {
      const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
      const url = `${GRAPHIQL_PREFIX}${name}-${hash}.${extension}`;
      assets.set(url, await asset(type, body));
      return url;
    };
    const js = 'text/javascript; charset=utf-8';
    const favicon = /^data:([^;,]+);base64,(.*)$/s.exec(files.favicon);
    const urls: Bundle['urls'] = {
      css: await add('graphiql', 'css', 'text/css; charset=utf-8', Buffer.from(files.css)),
      js: await add('graphiql', 'js', js, Buffer.from(files.js)),
      start: await add('start', 'js', js, Buffer.from(START_SCRIPT)),
      favicon: favicon ? await add('favicon', 'ico', favicon[1]!, Buffer.from(favicon[2]!, 'base64')) : '',
      // The labels Monaco asks getWorkerUrl for (as in render-graphiql's own page).
      workers: {
        editorWorkerService: await add('editor.worker', 'js', js, Buffer.from(files.editorWorkerService)),
        json: await add('json.worker', 'js', js, Buffer.from(files.jsonWorker)),
        graphql: await add('graphql.worker', 'js', js, Buffer.from(files.graphqlWorker)),
      },
    };
    return { assets, urls };
  })();
  return loading;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The GraphiQL page (yoga's `renderGraphiQL`): markup and data only, every script a file. */
export async function renderGraphiQLPage(options: { title?: string } & Record<string, unknown>): Promise<string> {
  const { urls } = await bundle();
  const title = escapeHtml(options.title ?? 'GraphiQL');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${title}</title>
    ${urls.favicon ? `<link rel="icon" href="${urls.favicon}" />` : ''}
    <link rel="stylesheet" href="${urls.css}" />
    <script src="${urls.start}" defer></script>
    <script src="${urls.js}" defer></script>
  </head>
  <body class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript. Without it, POST GraphQL requests to /graphql with an API token.</noscript>
    <div id="graphiql" data-options="${escapeHtml(JSON.stringify(options))}" data-workers="${escapeHtml(JSON.stringify(urls.workers))}"></div>
  </body>
</html>
`;
}

/** Does this path belong to GraphiQL's files? */
export function isGraphiQLAsset(pathname: string): boolean {
  return pathname.startsWith(GRAPHIQL_PREFIX);
}

/** Serves one of GraphiQL's files (after the page named it, so the bundle is loaded by then). */
export async function serveGraphiQLAsset(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
    res.end('Method not allowed');
    return;
  }
  const file = (await bundle()).assets.get(pathname);
  if (!file) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`Not found: ${pathname}. GraphiQL is at /graphql.`);
    return;
  }
  const gzipped = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzipped ? file.gzipped : file.body;
  res.writeHead(200, {
    'content-type': file.type,
    'content-length': body.length,
    'cache-control': 'public, max-age=31536000, immutable',
    vary: 'accept-encoding',
    ...(gzipped ? { 'content-encoding': 'gzip' } : {}),
    // Monaco's workers run under the policy their own script is served with.
    'content-security-policy': PAGE_CONTENT_SECURITY_POLICY,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** A browser's request for GraphiQL: GET /graphql asking for HTML, without an operation. */
export function asksForGraphiQL(method: string, accept: string | null | undefined, url: URL): boolean {
  return method === 'GET' && (accept ?? '').includes('text/html') && !url.searchParams.has('query');
}

/**
 * GraphiQL's place in yoga: its page gets the page CSP; when GraphiQL is switched off, a browser
 * asking for it gets a 404 naming the setting (instead of yoga's "must provide a query").
 */
export function graphiqlPagePlugin(enabled: boolean): Plugin {
  return {
    onRequest({ request, url, fetchAPI, endResponse }) {
      if (enabled || !asksForGraphiQL(request.method, request.headers.get('accept'), url)) return;
      endResponse(
        new fetchAPI.Response(
          JSON.stringify({
            errors: [
              {
                message:
                  'GraphiQL is switched off on this server (BATCHLENS_GRAPHIQL=off, or BATCHLENS_MODE=production). Send GraphQL requests to /graphql with an API token.',
                extensions: { code: 'GRAPHIQL_DISABLED' },
              },
            ],
          }),
          { status: 404, headers: { 'content-type': 'application/json; charset=utf-8' } },
        ),
      );
    },
    onResponse({ response }) {
      if ((response.headers.get('content-type') ?? '').startsWith('text/html')) {
        response.headers.set('content-security-policy', PAGE_CONTENT_SECURITY_POLICY);
      }
    },
  };
}
