import type { IncomingMessage, ServerResponse } from 'node:http';

/** A plain node:http handler for one extra route (e.g. the dashboard). */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Readiness of the process: per-component details are the caller's to choose. `degraded` names
 * parts that run but do not progress (a stalled connector): still ready (200) — queries are served,
 * from data that stops growing — but the body says `"status": "degraded"` and why.
 */
export type HealthCheck = () => Promise<{
  ready: boolean;
  components: Record<string, unknown>;
  degraded?: Array<{ component: string; reason: string }>;
}>;

/** Options of the gateway's non-GraphQL routes. */
export interface HttpRoutesOptions {
  /** Backs `GET /healthz`: 200 when ready, 503 otherwise (also when it throws). */
  health: HealthCheck;
  /** Backs `GET /status` (JSON). Without it, /status is 404. */
  status?: () => Promise<unknown>;
  /**
   * Extra routes by path; a key matches itself and everything below it ('/dashboard' → '/dashboard/app.js'),
   * except '/', which matches only itself (so it cannot shadow /graphql).
   */
  routes?: Record<string, RouteHandler>;
  log: (line: string) => void;
  /** Wraps the /status handler (authentication and the ops:read scope). Default none. */
  guard?: (handler: RouteHandler) => RouteHandler;
}

/**
 * The routes the gateway serves beside GraphQL, as a function that answers a request it owns and
 * returns true, or returns false to let the GraphQL runtime answer (it owns /graphql, 404 the rest).
 */
export function createHttpRoutes(opts: HttpRoutesOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const extra = Object.entries(opts.routes ?? {}).sort(([a], [b]) => b.length - a.length);
  const guard = opts.guard ?? ((handler: RouteHandler) => handler);
  return (req, res) => {
    const path = pathOf(req.url ?? '/');
    if (path === '/healthz' && isRead(req)) {
      void answer(res, opts.log, 'health', async () => {
        const h = await opts.health();
        const degraded = h.degraded ?? [];
        const status = !h.ready ? 'unavailable' : degraded.length > 0 ? 'degraded' : 'ok';
        return [h.ready ? 200 : 503, { ready: h.ready, status, components: h.components, degraded }];
      });
      return true;
    }
    if (path === '/status' && opts.status && isRead(req)) {
      const status = opts.status;
      guard((_q, r) => void answer(r, opts.log, 'status', async () => [200, await status()]))(req, res);
      return true;
    }
    const route = extra.find(
      ([prefix]) =>
        path === prefix || (prefix !== '/' && path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`)),
    );
    if (route) {
      route[1](req, res);
      return true;
    }
    return false;
  };
}

/** `/a/b` segments of letters, digits, `_` and `-`: a path the URL parser would return as it is. */
const PLAIN_PATH = /^(?:\/[\w-]+)*\/?$/;

/** The request's path as the URL parser normalises it (parsed only when it is not already plain). */
function pathOf(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return path !== '' && PLAIN_PATH.test(path) ? path : new URL(url, 'http://local').pathname;
}

function isRead(req: IncomingMessage): boolean {
  return req.method === 'GET' || req.method === 'HEAD';
}

async function answer(
  res: ServerResponse,
  log: (line: string) => void,
  what: 'health' | 'status',
  fn: () => Promise<[number, unknown]>,
) {
  let status: number;
  let body: unknown;
  try {
    [status, body] = await fn();
  } catch (err) {
    // The details go to the log; a probe only needs to know it failed.
    log(`${what} check failed: ${(err as Error).stack ?? err}`);
    [status, body] =
      what === 'health'
        ? [503, { ready: false, components: {}, error: 'health check failed' }]
        : [500, { error: 'status unavailable' }];
  }
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
