import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RouteHandler } from './http-routes.ts';

/** Options of the dashboard routes. */
export interface DashboardRoutesOptions {
  /** The Vite build output. Default dashboard/dist of this checkout. */
  distDir?: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

export const DEFAULT_DASHBOARD_DIST = fileURLToPath(new URL('../dashboard/dist', import.meta.url));

/**
 * The dashboard at `/`: index.html (never cached: it names the current assets), `/assets/*`
 * (content-hashed by Vite: cached for a year, immutable). GraphQL stays at /graphql; the alert
 * thresholds come with the `alerts` subscription. Without a build, `/` says how to make one.
 */
export function createDashboardRoutes(opts: DashboardRoutesOptions = {}): Record<string, RouteHandler> {
  const dist = resolve(opts.distDir ?? DEFAULT_DASHBOARD_DIST);

  const sendFile = (
    req: Parameters<RouteHandler>[0],
    res: Parameters<RouteHandler>[1],
    file: string,
    cache: string,
  ) => {
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': size,
      'cache-control': cache,
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).pipe(res);
  };

  const onlyReads =
    (handler: RouteHandler): RouteHandler =>
    (req, res) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
        res.end('method not allowed');
        return;
      }
      handler(req, res);
    };

  return {
    '/': onlyReads((req, res) => {
      const index = join(dist, 'index.html');
      if (!existsSync(index)) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
        res.end('The dashboard is not built: run `npm run build:dashboard`. GraphQL is at /graphql.\n');
        return;
      }
      sendFile(req, res, index, 'no-cache');
    }),
    '/assets': onlyReads((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://local').pathname);
      const file = normalize(join(dist, path));
      // Never outside dist/assets (../ in the path).
      if (!file.startsWith(join(dist, 'assets') + sep)) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('not found');
        return;
      }
      sendFile(req, res, file, 'public, max-age=31536000, immutable');
    }),
  };
}
