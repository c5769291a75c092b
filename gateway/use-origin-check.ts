import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';

/** Options of `useOriginCheck`. */
export interface OriginCheckOptions {
  /** Origins besides the gateway's own that browsers may call from, e.g. `https://ops.example.com`. Default none. */
  allowedOrigins?: string[];
}

export const ORIGIN_CODE = 'FORBIDDEN_ORIGIN';

/**
 * Whether a browser request from `origin` may be served: no Origin (not a browser, or a same-origin
 * GET), the gateway's own origin (scheme + the request's Host), or one of `allowed`. `null`
 * origins (sandboxed frames, file://) are refused.
 */
export function originAllowed(
  origin: string | null | undefined,
  host: string | null | undefined,
  allowed: readonly string[],
): boolean {
  if (origin === undefined || origin === null || origin === '') return true;
  if (allowed.includes(origin)) return true;
  if (!host) return false;
  return origin === `http://${host}` || origin === `https://${host}`;
}

/**
 * Refuses, before anything else runs, a request whose Origin is neither the gateway's own nor
 * allowed (403 FORBIDDEN_ORIGIN): CORS alone only stops the browser from reading an answer, after
 * the operation ran. CORS headers themselves come from the runtime's `cors` option, built from
 * the same allow-list (see `corsOptions`), and never echo an origin that is not on it.
 */
export function useOriginCheck(opts: OriginCheckOptions = {}): GatewayPlugin {
  const allowed = opts.allowedOrigins ?? [];
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      if (originAllowed(request.headers.get('origin'), request.headers.get('host'), allowed)) return;
      const body = { errors: [{ message: 'this origin may not call the API', extensions: { code: ORIGIN_CODE } }] };
      endResponse(
        new fetchAPI.Response(JSON.stringify(body), {
          status: 403,
          headers: { 'content-type': 'application/json; charset=utf-8', vary: 'Origin' },
        }),
      );
    },
  } as GatewayPlugin;
}

/** The runtime's CORS setting for an allow-list: none at all (same origin only) when it is empty. */
export function corsOptions(allowedOrigins: readonly string[] = []) {
  if (allowedOrigins.length === 0) return false as const;
  return {
    origin: [...allowedOrigins],
    credentials: true,
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['content-type', 'authorization', 'x-api-key', 'x-graphql-csrf'],
    maxAge: 600,
  };
}
